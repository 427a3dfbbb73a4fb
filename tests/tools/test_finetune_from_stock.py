"""Fine-tuning from a stock mmdet YOLOX COCO checkpoint: ``load_from`` takes every layer the
two models share, re-initialises only the classification convs (80 -> 4 classes) and the
keypoint layers, and training runs from there."""
import os.path as osp
import subprocess
import sys

import mmdet
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from yolox_kpt.checkpoint import safe_torch_load

from small_run import REPO, small_run_options  # tests/tools/small_run.py

CONFIG = osp.join(REPO, 'configs', 'yolox-kpt', 'ablations',
                  'yolox-kpt_tiny_1xb8-6e_synthetic-driving-cpu.py')


def stock_coco_checkpoint(path):
    """A randomly initialised mmdet YOLOX-tiny (80 COCO classes), saved the way mmdet 2.x's
    released YOLOX checkpoints are: ``state_dict`` plus a ``meta`` of plain Python values."""
    cfg = Config.fromfile(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'yolox',
                                   'yolox_tiny_8xb8-300e_coco.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    meta = dict(mmdet_version='2.19.0', epoch=300, iter=555000,
                CLASSES=tuple(f'coco_class_{i}' for i in range(80)))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(dict(meta=meta, state_dict=state), path)
    return state


def test_load_from_stock_yolox_then_train(synthetic_data, tmp_path):
    data = synthetic_data(num_train=8, num_val=2, seed=11)
    stock = stock_coco_checkpoint(tmp_path / 'yolox_tiny_coco.pth')
    work = tmp_path / 'work'
    # lr 0: one real epoch leaves the weights as loaded, so the saved checkpoint shows
    # exactly what load_from took (BN running statistics still move: buffers are skipped)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work), '--cfg-options',
         f'load_from={tmp_path / "yolox_tiny_coco.pth"}', 'optim_wrapper.optimizer.lr=0',
         'train_cfg.val_begin=100', *small_run_options(data, epochs=1, batch_size=4)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'size mismatch for bbox_head.multi_level_conv_cls.0.weight' in proc.stdout + \
        proc.stderr
    tuned = safe_torch_load(str(work / 'epoch_1.pth'))['state_dict']

    buffers = ('running_mean', 'running_var', 'num_batches_tracked')
    shared = [k for k in stock if k in tuned and stock[k].shape == tuned[k].shape]
    reshaped = sorted(k for k in stock if k in tuned and stock[k].shape != tuned[k].shape)
    new = sorted(k for k in tuned if k not in stock)
    assert reshaped == [f'bbox_head.multi_level_conv_cls.{i}.{p}' for i in range(3)
                        for p in ('bias', 'weight')]
    assert new and all('kpt' in k for k in new)
    assert len(shared) == len(stock) - len(reshaped)
    for key in shared:
        if not key.endswith(buffers):
            assert torch.equal(stock[key], tuned[key]), key
