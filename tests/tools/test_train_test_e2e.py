"""Short real runs: mmdet's own shipped train.py and our tools, resume, test --out."""
import os.path as osp
import pickle
import subprocess
import sys

import mmdet
import pytest
import torch

from yolox_kpt.compat import safe_torch_load

from small_run import CONFIG, REPO, small_run_options  # tests/tools/small_run.py

STOCK_TRAIN = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')


def options(root, epochs):
    return ['--cfg-options', *small_run_options(root, epochs, batch_size=4),
            'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=5']


def run(args, cwd):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def data(synthetic_data):
    return synthetic_data(num_train=8, num_val=3, seed=5)


def test_stock_train_resume_and_test_out(data, tmp_path):
    work = tmp_path / 'work'
    # 1. mmdet's own shipped train.py, unchanged: the config's custom_imports do the rest.
    run([STOCK_TRAIN, CONFIG, '--work-dir', str(work), *options(data, 1)], cwd=REPO)
    ckpt1 = safe_torch_load(str(work / 'epoch_1.pth'))
    iters_per_epoch = 2  # 8 images, batch 4
    assert ckpt1['meta']['epoch'] == 1 and ckpt1['meta']['iter'] == iters_per_epoch

    # 2. our tools/train.py --resume continues from the saved iteration, not from zero.
    log = run(['tools/train.py', CONFIG, '--work-dir', str(work), '--resume',
               *options(data, 2)], cwd=REPO)
    assert 'resumed epoch: 1, iter: 2' in log.replace('\n', ' ')
    ckpt2 = safe_torch_load(str(work / 'epoch_2.pth'))
    assert ckpt2['meta']['epoch'] == 2 and ckpt2['meta']['iter'] == 2 * iters_per_epoch
    assert not torch.equal(ckpt1['state_dict']['bbox_head.multi_level_conv_kpt.0.weight'],
                           ckpt2['state_dict']['bbox_head.multi_level_conv_kpt.0.weight'])

    # 3. tools/test.py --out: results.pkl holds keypoints per instance, in original pixels.
    out = tmp_path / 'results.pkl'
    run(['tools/test.py', CONFIG, str(work / 'epoch_2.pth'), '--work-dir', str(work),
         '--out', str(out), *options(data, 2)], cwd=REPO)
    with open(out, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == 3
    for res in results:
        pred = res['pred_instances']
        n = len(pred['bboxes'])
        assert pred['keypoints'].shape == (n, 6, 2)
        assert pred['keypoint_scores'].shape == (n, 6)
        assert res['ori_shape'] == (256, 320)
