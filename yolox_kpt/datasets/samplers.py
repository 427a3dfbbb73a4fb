"""A shuffling sampler whose indices carry a per-sample seed.

mmengine seeds a dataloader worker by its id only: non-persistent workers replay the same
random stream every epoch, persistent ones start theirs over on ``--resume``. With
:class:`SeededSampler`, ``CocoKptDataset`` reseeds the generators from each index's seed,
so a sample's augmentation (and the partners ``MultiImageMixDataset`` draws for it right
after loading it) depends on (sampler seed, epoch, position) only: not on the worker
count, worker persistence, the loading process, or a resume.
"""
import random
from typing import Iterator

import numpy as np
import torch
from mmdet.registry import DATA_SAMPLERS
from mmengine.dataset import DefaultSampler


class SeededIndex(int):
    """An ``int`` dataset index carrying its sample's seed (< 2**64); pickles as
    (index, seed) through the DataLoader's index queues to the workers."""

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self):
        return SeededIndex, (int(self), self.seed)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, seed={self.seed})'


def derive_seed(seed: int, *keys: int) -> int:
    """A 64-bit seed from a run's seed and non-negative integer keys, through numpy's
    ``SeedSequence``: well mixed, so neighbouring keys get unrelated streams."""
    return int(np.random.SeedSequence([seed % (1 << 64), *keys])
               .generate_state(1, np.uint64)[0])


def sample_seed(seed: int, epoch: int, position: int) -> int:
    """The seed of the sample at ``position`` of epoch ``epoch``'s order (all ranks
    together)."""
    return derive_seed(seed, 0, epoch, position)


def seed_rngs(seed: int, cuda: bool = False) -> None:
    """Reseed Python's ``random``, numpy's global generator and torch's CPU generator (and
    every CUDA device's when ``cuda``) from one seed."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    if cuda:
        torch.manual_seed(seed)  # CPU and all CUDA devices
    else:
        torch.random.default_generator.manual_seed(seed)


def apply_sample_seed(index) -> int:
    """Reseed the process's generators from a :class:`SeededIndex` (nothing for a plain
    int) and return the plain index."""
    seed = getattr(index, 'seed', None)
    if seed is not None:
        seed_rngs(seed)
    return int(index)


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (same order) yielding :class:`SeededIndex` values
    seeded by (``seed``, epoch, position). Positions count over all ranks (rank r's k-th
    index is r + k * world size), so the number of processes does not change a position's
    seed. ``ExactResumeHook`` saves and restores ``seed``; ``DistSamplerSeedHook`` sets the
    epoch."""

    def __iter__(self) -> Iterator[SeededIndex]:
        for k, index in enumerate(super().__iter__()):
            position = self.rank + k * self.world_size
            yield SeededIndex(index, sample_seed(self.seed, self.epoch, position))
