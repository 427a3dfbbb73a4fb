"""Short real runs: mmdet's own shipped train.py and our tools, resume, test --out; and
tools/test.py refusing a checkpoint trained with another keypoint layout than the config's."""
import os.path as osp
import pickle
import subprocess
import sys

import mmdet
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

from yolox_kpt.apis.layout import config_layout
from yolox_kpt.checkpoint import safe_torch_load
from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.utils.stock_tools import mmdet_tool_args

from small_run import CONFIG, REPO, small_run_options  # tests/tools/small_run.py

STOCK_TRAIN = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', 'train.py')


def options(root, epochs):
    return ['--cfg-options', *small_run_options(root, epochs, batch_size=4),
            'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=5']


def completed(args, cwd):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def run(args, cwd):
    proc = completed(args, cwd)
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
    # the checkpoint carries the layout it was trained with: what tools/test.py compares
    trained = KeypointLayout.from_config(ckpt2['meta']['dataset_meta']['keypoint_layout'])
    configured = config_layout(Config.fromfile(CONFIG))
    for field in ('classes', 'keypoint_names', 'class_slots', 'flip_indices'):
        assert getattr(trained, field) == getattr(configured, field), field
    assert trained.skeletons  # completed from the annotation file, which has them
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


def test_stock_test_arguments_are_read_by_mmdets_own_parser():
    """The layout check reads config, checkpoint and --cfg-options as mmdet's script will
    (its DictAction turns values into numbers, lists and None), options in any order."""
    args = mmdet_tool_args('test.py', ['--work-dir', 'w', 'a.py', 'b.pth', '--out', 'r.pkl',
                                       '--cfg-options', 'x.y=2', 'z=[1,2]', 'n=None'])
    assert (args.config, args.checkpoint, args.work_dir, args.out) == ('a.py', 'b.pth', 'w',
                                                                       'r.pkl')
    assert args.cfg_options == {'x.y': 2, 'z': [1, 2], 'n': None}


def layout_checkpoint(path, layout=None):
    """A checkpoint of the demo config's network as tools/train.py writes it: weights for
    ``layout`` (default: the config's) and, when given, ``layout`` in
    ``meta.dataset_meta``; without one it is a stock mmdet checkpoint's meta."""
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    if layout is None:
        meta = dict(mmdet_version='2.19.0', epoch=300)
    else:
        cfg.model.bbox_head.update(keypoint_layout=layout.to_config(),
                                   num_classes=layout.num_classes)
        meta = dict(dataset_meta=dict(classes=layout.classes,
                                      keypoint_layout=layout.to_config()))
    torch.save(dict(meta=meta, state_dict=MODELS.build(cfg.model).state_dict()), path)
    return path


def driving_layout(classes=None, extra_cyclist_point=False):
    base = config_layout(Config.fromfile(CONFIG))
    keypoints = {c: base.class_keypoint_names(i) for i, c in enumerate(base.classes)}
    sigmas = dict(zip(base.keypoint_names, base.sigmas.tolist()))
    if extra_cyclist_point:
        keypoints['cyclist'] += ('handlebar', )
        sigmas['handlebar'] = 0.05
    return KeypointLayout.build(classes or base.classes, keypoints, sigmas)


@pytest.mark.parametrize('case', ['classes_reordered', 'one_more_keypoint'])
def test_test_refuses_a_checkpoint_of_another_layout(case, data, tmp_path):
    layout = driving_layout(
        classes=('vehicle_face', 'vehicle', 'pedestrian', 'cyclist')
        if case == 'classes_reordered' else None,
        extra_cyclist_point=case == 'one_more_keypoint')
    ckpt = layout_checkpoint(tmp_path / f'{case}.pth', layout)
    # valid data and work dir: without the refusal mmdet's script would test and exit 0
    proc = completed(['tools/test.py', CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'work'),
                      '--cfg-options', *small_run_options(data, 1, batch_size=2)], cwd=REPO)
    err = proc.stderr
    assert proc.returncode != 0
    assert 'refuses to run' in err and str(ckpt) in err and CONFIG in err, err[-3000:]
    # both layouts, each in its order
    assert str(list(layout.classes)) in err
    assert str(list(config_layout(Config.fromfile(CONFIG)).classes)) in err
    if case == 'one_more_keypoint':
        assert 'handlebar' in err
    assert 'Epoch(test)' not in proc.stdout + err  # refused before any work
    assert not (tmp_path / 'work').exists()


def test_test_accepts_a_stock_checkpoint_without_layout(data, tmp_path):
    ckpt = layout_checkpoint(tmp_path / 'stock.pth')
    log = run(['tools/test.py', CONFIG, str(ckpt), '--work-dir', str(tmp_path / 'work'),
               '--cfg-options', *small_run_options(data, 1, batch_size=2)], cwd=REPO)
    assert 'Epoch(test) [1/1]' in log and 'coco/kpt_AP' in log  # 3 images, one batch
