"""``--resume`` after a SIGKILL continues a Mosaic/RandomAffine/MixUp run exactly: with
dataloader workers, persistent ones, random batch sizes and EMA."""
import os.path as osp
import random
import textwrap
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler, worker_init_fn
from torch.utils.data import DataLoader

from yolox_kpt.datasets import SeededSampler
from yolox_kpt.datasets.samplers import apply_sample_seed
from yolox_kpt.testing.train_runs import (REPO, THREE_EPOCHS_NO_EVAL, assert_same_weights,
                                          finish, kill_when, scaled_pipeline, start)

RECIPE = osp.join(REPO, 'configs', 'yolox-kpt', 'yolox-kpt_nano_8xb8-300e_synthetic-driving.py')
DATASET_BASE = osp.join(REPO, 'configs', '_base_', 'datasets',
                        'synthetic_driving_keypoints.py')
SIZE = 128


def small_pipeline():
    """The dataset base's training pipeline (Mosaic, RandomAffine, MixUp, HSV, flip, resize,
    pad) at SIZE x SIZE."""
    steps = scaled_pipeline(Config.fromfile(DATASET_BASE).train_pipeline, SIZE)
    assert {'Mosaic', 'RandomAffine', 'MixUp'} <= {s['type'] for s in steps}
    return steps


def write_config(tmp_path, root, stock=False):
    """The nano recipe on ``root`` with the base pipeline at 128 px, 2 persistent workers,
    batch sizes drawn from 64-160 every 3 iterations, 3 epochs of 2 iterations, a
    checkpoint every epoch. ``stock``: mmengine's DefaultSampler and no ExactResumeHook."""
    path = tmp_path / ('stock_cfg.py' if stock else 'exact_cfg.py')
    path.write_text(textwrap.dedent(f'''
        _base_ = {RECIPE!r}
        data_root = {str(root) + '/'!r}
        model = dict(data_preprocessor=dict(batch_augments=[
            dict(type='KptBatchSyncRandomResize', random_size_range=(64, 160),
                 size_divisor=32, interval=3)]))
        train_dataloader = dict(
            batch_size=4, num_workers=2, persistent_workers=True,
            sampler=dict(type={'DefaultSampler' if stock else 'SeededSampler'!r}),
            dataset=dict(dataset=dict(data_root=data_root), pipeline={small_pipeline()!r}))
        # no mode switch: Mosaic and MixUp stay on in the resumed epoch
        custom_hooks = [h for h in _base_.custom_hooks
                        if h['type'] not in ('YOLOXModeSwitchHook', {'ExactResumeHook' if stock
                                                                    else ''!r})]
    ''') + THREE_EPOCHS_NO_EVAL)
    return str(path)


def whole_and_resumed(cfg, tmp_path):
    """Two runs of ``cfg`` side by side: one uninterrupted; one SIGKILLed in epoch 3 (after
    epoch 2's checkpoint) and resumed with ``--resume``. Their final checkpoints and the
    resumed run's log."""
    # one thread each: the two runs share the cores instead of spinning for them
    run = partial(start, cfg, env=dict(OMP_NUM_THREADS='1'))
    with ThreadPoolExecutor(1) as pool:  # drains the whole run's output meanwhile
        whole = pool.submit(finish, run(tmp_path / 'whole'))
        killed = tmp_path / 'killed'
        kill_when(run(killed), 'Epoch(train) [3][1/2]')
        assert not osp.exists(killed / 'epoch_3.pth')
        log = finish(run(killed, '--resume'))
        whole.result()
    assert 'resumed epoch: 2, iter: 4' in log.replace('\n', ' ')
    return str(tmp_path / 'whole' / 'epoch_3.pth'), str(killed / 'epoch_3.pth'), log


def test_resume_with_mosaic_mixup_and_workers_equals_uninterrupted(synthetic_data, tmp_path):
    root = synthetic_data(num_train=8, num_val=1, seed=11)
    whole, resumed, log = whole_and_resumed(write_config(tmp_path, root), tmp_path)
    assert 'ExactResumeHook: restored' in log
    checkpoint = assert_same_weights(whole, resumed)
    assert checkpoint['meta']['iter'] == 6
    saved = checkpoint['meta']['exact_resume']
    assert set(saved['rng']) >= {'python', 'numpy', 'torch'}
    assert saved['sampler']['epoch'] == 2 and saved['batch_resize'] != [None]


@pytest.mark.slow
def test_stock_sampler_resume_differs(synthetic_data, tmp_path):
    """The same kill and resume with mmengine's sampler and without ExactResumeHook (what
    the recipes trained with before): the resumed weights differ."""
    root = synthetic_data(num_train=8, num_val=1, seed=11)
    whole, resumed, _ = whole_and_resumed(write_config(tmp_path, root, stock=True), tmp_path)
    with pytest.raises(AssertionError):
        assert_same_weights(whole, resumed)


class Draws:
    """A dataset whose sample is a draw of each generator the pipeline uses, reseeded as
    CocoKptDataset reseeds."""

    def __len__(self):
        return 6

    def __getitem__(self, idx):
        apply_sample_seed(idx)
        return (int(idx), random.random(), float(np.random.rand()), float(torch.rand(())))


def epochs(sampler, num_workers, persistent, num_epochs=2):
    """{index: draws} per epoch, through a DataLoader seeded as mmengine seeds workers."""
    init = partial(worker_init_fn, num_workers=num_workers, rank=0, seed=0)
    loader = DataLoader(Draws(), sampler=sampler, batch_size=None, num_workers=num_workers,
                        persistent_workers=persistent, worker_init_fn=init)
    out = []
    for epoch in range(num_epochs):
        sampler.set_epoch(epoch)
        out.append({int(draw[0]): tuple(map(float, draw[1:])) for draw in loader})
    return out


def test_stock_workers_repeat_their_stream_every_epoch():
    """Why: mmengine seeds a worker by its id only, so non-persistent workers draw the same
    numbers each epoch (shuffled onto other samples)."""
    first, second = epochs(DefaultSampler(Draws(), seed=0), 1, persistent=False)
    assert sorted(first.values()) == sorted(second.values())


def test_seeded_samples_draw_the_same_whatever_the_workers():
    reference = epochs(SeededSampler(Draws(), seed=0), 0, persistent=False)
    assert epochs(SeededSampler(Draws(), seed=0), 2, persistent=True) == reference
    assert epochs(SeededSampler(Draws(), seed=0), 1, persistent=False) == reference
    first, second = reference
    assert set(first.values()).isdisjoint(second.values())  # new draws every epoch
    assert epochs(SeededSampler(Draws(), seed=1), 0, persistent=False) != reference
