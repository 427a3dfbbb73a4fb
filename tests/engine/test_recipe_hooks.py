"""The recipes' last-epochs mode switch and EMA work with the keypoint head and dataset: a
real run of the tiny synthetic config (Mosaic, RandomAffine, multi-scale batches)."""
import os.path as osp
import re
import subprocess
import sys

import torch

from yolox_kpt.checkpoint import safe_torch_load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'tools'))
from small_run import small_run_options  # noqa: E402  (tests/tools/small_run.py)

CONFIG = osp.join(REPO, 'configs', 'yolox-kpt', 'yolox-kpt_tiny_8xb8-300e_synthetic-driving.py')


def test_mode_switch_turns_mosaic_off_and_l1_on_and_ema_is_saved(synthetic_data, tmp_path):
    data = synthetic_data(num_train=4, num_val=2, seed=51)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path),
         '--cfg-options', *small_run_options(data, epochs=3, batch_size=4),
         # no validation: after 3 iterations at the recipe's rate the boxes of some runs
         # overflow (exp of the size logits), which the metric rightly refuses
         'custom_hooks.0.num_last_epochs=1', 'train_cfg.val_interval=100',
         'train_cfg.val_begin=100',
         'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
         'default_hooks.checkpoint.save_best=None'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    # mmdet's hook switches when epoch + 1 == max_epochs - num_last_epochs (0-based epoch):
    # here from the second of three epochs on
    by_epoch = {e: re.findall(rf'Epoch\(train\) +\[{e}\]\[\d/\d\].*', log) for e in (1, 2, 3)}
    assert all(by_epoch.values())
    assert not any('loss_l1' in ln for ln in by_epoch[1])
    assert all('loss_l1' in ln for ln in by_epoch[2] + by_epoch[3])
    assert 'No mosaic and mixup aug now!' in log
    ckpt = safe_torch_load(str(tmp_path / 'epoch_3.pth'))
    ema = ckpt['ema_state_dict']
    key = next(k for k in ema if k.endswith('bbox_head.multi_level_conv_kpt.0.weight'))
    # mmengine saves the averaged weights as the model's and the live ones beside them
    assert not torch.equal(ema[key], ckpt['state_dict']['bbox_head.multi_level_conv_kpt.0.weight'])
