"""Resume a run with random augmentation exactly where it stopped."""
import random
from typing import Optional

import numpy as np
import torch
from mmdet.models.data_preprocessors import BatchSyncRandomResize
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...datasets.samplers import derive_seed, seed_rngs

_META_KEY = 'exact_resume'


def rng_states() -> dict:
    """Python's, numpy's and torch's global generator states (CUDA's where initialised),
    as types ``torch.load(weights_only=True)`` reads: tuples, lists, ints and tensors."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = dict(python=random.getstate(),
                  numpy=[kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
                  torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Undo :func:`rng_states` (a CUDA state is restored where CUDA is available)."""
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, gauss = states['numpy']
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(states['torch'].cpu())
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states['cuda']])


def train_sampler(runner):
    """The train dataloader's sampler (the one ``DistSamplerSeedHook`` sets the epoch of)."""
    loader = runner.train_loop.dataloader
    sampler = getattr(loader, 'sampler', None)
    if not hasattr(sampler, 'set_epoch'):
        sampler = getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)
    return sampler


def batch_resizers(runner) -> list:
    """The model's ``BatchSyncRandomResize`` batch augments (they keep the size drawn for
    the next batches between iterations)."""
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    augments = getattr(getattr(model, 'data_preprocessor', None), 'batch_augments', None)
    return [a for a in augments or () if isinstance(a, BatchSyncRandomResize)]


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make ``--resume`` continue a run with random augmentation as if it had never stopped.

    With :class:`~yolox_kpt.datasets.SeededSampler` (the recipes' train sampler), every
    sample's augmentation is a function of (sampler seed, epoch, position). This hook adds
    what the main process needs:

    * checkpoints carry (``meta['exact_resume']``) the Python, numpy, torch CPU and CUDA
      generator states, the sampler's seed and epoch, and the size each
      ``BatchSyncRandomResize`` drew for the next batches; a resumed run restores them before
      its first epoch. mmengine saves none of these, and the sampler's seed would otherwise
      be drawn again (``sync_random_seed``) when ``randomness.seed`` is unset;
    * before every training iteration the generators are reseeded from (run seed, iteration):
      what the model and data preprocessor draw (YOLOX's random batch size) does not depend
      on what happened before the iteration: how many dataloader iterators were created
      (a resumed run creates its persistent workers again), validation, or samples loaded
      in the main process (``num_workers=0``).

    A checkpoint that is only loaded (``load_from`` without ``--resume``) starts a new run:
    nothing is restored.
    """

    priority = 'VERY_HIGH'  # reseed before any other hook of the iteration draws

    def __init__(self) -> None:
        self._loaded: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        sampler = train_sampler(runner)
        checkpoint.setdefault('meta', {})[_META_KEY] = dict(
            rng=rng_states(),
            sampler=dict(seed=getattr(sampler, 'seed', None),
                         epoch=getattr(sampler, 'epoch', None)),
            batch_resize=[list(a._input_size) if a._input_size is not None else None
                          for a in batch_resizers(runner)])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._loaded = checkpoint.get('meta', {}).get(_META_KEY)

    def before_train(self, runner) -> None:
        state, self._loaded = self._loaded, None
        if state is None or runner.iter == 0:  # nothing saved, or not a resume
            return
        sampler = train_sampler(runner)
        if state['sampler']['seed'] is not None and hasattr(sampler, 'seed'):
            sampler.seed = state['sampler']['seed']
        for augment, size in zip(batch_resizers(runner), state['batch_resize']):
            augment._input_size = tuple(size) if size is not None else None
        set_rng_states(state['rng'])
        runner.logger.info(f'ExactResumeHook: restored the generator states, sampler seed '
                           f'{getattr(sampler, "seed", None)} and batch sizes of iteration '
                           f'{runner.iter}')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        # key 1: a stream apart from the samples' (derive_seed(seed, 0, ...))
        seed_rngs(derive_seed(runner.seed, 1, runner.iter), cuda=True)
