"""tools/dist_train.sh and dist_test.sh: 2 processes on PyTorch's distributed engine (gloo
on CPU) train and test like 1 process with the same total batch."""
import json
import os
import subprocess
import sys
import textwrap

from yolox_kpt.checkpoint import safe_torch_load

from small_run import CONFIG, REPO  # tests/tools/small_run.py


def parity_config(tmp_path, root, batch_size):
    """The CPU recipe on ``root``, deterministic: no random augmentation, GroupNorm instead
    of BatchNorm (BN statistics depend on the per-process batch, which is the one thing
    that legitimately differs), SGD (Adam would hide a wrongly scaled loss), 2 epochs."""
    gn = "dict(_delete_=True, type='GN', num_groups=4, requires_grad=True)"
    path = tmp_path / f'parity_b{batch_size}.py'
    path.write_text(textwrap.dedent(f'''
        _base_ = {CONFIG!r}
        data_root = {str(root) + '/'!r}
        model = dict(backbone=dict(norm_cfg={gn}), neck=dict(norm_cfg={gn}),
                     bbox_head=dict(norm_cfg={gn}))
        train_dataloader = dict(
            batch_size={batch_size}, num_workers=0, persistent_workers=False,
            dataset=dict(dataset=dict(data_root=data_root), pipeline=[
                dict(type='Resize', scale=(320, 320), keep_ratio=True),
                dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
                dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
                dict(type='PackKptDetInputs')]))
        val_dataloader = dict(num_workers=0, persistent_workers=False, batch_size=2,
                              dataset=dict(data_root=data_root))
        test_dataloader = val_dataloader
        val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
        test_evaluator = val_evaluator
        train_cfg = dict(max_epochs=2, val_interval=100)
        optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                             optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
        param_scheduler = []
        default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
        randomness = dict(seed=0, deterministic=True)
    '''))
    return str(path)


def run(cmd, port, log_path):
    """Run ``cmd``; its whole output goes to ``log_path`` (a crash's Python thread dumps,
    from ``PYTHONFAULTHANDLER``, come before the long extension-module list pytest would
    show)."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port), PYTHONFAULTHANDLER='1')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    log_path.write_text(out)
    assert proc.returncode == 0, f'whole output in {log_path}\n{out[-4000:]}'
    return out


# In `make test`: a gloo worker thread used to abort at interpreter exit after a successful
# run (SIGABRT, "terminate called without an active exception", 3 in 33 runs), fixed by the
# cpu_distributed shim's teardown (yolox_kpt/compat.py); tests/tools/repeat_dist.sh reruns
# the 2-process train to measure such rare failures. On failure the whole output of each
# command is in the test's tmp_path (*.log).
def test_two_processes_train_and_test_like_one(synthetic_data, tmp_path):
    root = synthetic_data(num_train=8, num_val=4, seed=2)
    one, two = tmp_path / 'one', tmp_path / 'two'
    run([sys.executable, 'tools/train.py', parity_config(tmp_path, root, 4), '--work-dir',
         str(one)], 29516, tmp_path / 'train_one.log')
    out = run(['bash', 'tools/dist_train.sh', parity_config(tmp_path, root, 2), '2',
               '--work-dir', str(two)], 29517, tmp_path / 'train_two.log')
    assert 'Distributed training: True' in out
    # 8 images over 2 processes x batch 2: each process runs 2 iterations per epoch, not 4.
    assert 'Epoch(train) [2][2/2]' in out
    # The second epoch's update, 1 process vs 2: equal up to float summation order
    # (measured 8.5e-5 relative; 0.43 when keypoint losses were normalised per process).
    a = safe_torch_load(str(one / 'epoch_2.pth'))['state_dict']
    b = safe_torch_load(str(two / 'epoch_2.pth'))['state_dict']
    start = safe_torch_load(str(one / 'epoch_1.pth'))['state_dict']
    keys = [k for k in a if a[k].is_floating_point()]
    diff = sum(((b[k] - a[k]).double()**2).sum() for k in keys).sqrt()
    update = sum(((a[k] - start[k]).double()**2).sum() for k in keys).sqrt()
    assert update > 0 and diff / update < 1e-3, float(diff / update)

    # dist_test.sh with 2 processes gives the metrics of 1 process
    metrics = {}
    for name, cmd, port in (
            ('one', [sys.executable, 'tools/test.py'], 29518),
            ('two', ['bash', 'tools/dist_test.sh'], 29519)):
        cfg = parity_config(tmp_path, root, 2)
        args = [cfg, str(one / 'epoch_2.pth')] + (['2'] if name == 'two' else [])
        work = tmp_path / f'test_{name}'
        run(cmd + args + ['--work-dir', str(work)], port, tmp_path / f'test_{name}.log')
        found = sorted(work.glob('*/*.json'))
        metrics[name] = {k: v for k, v in json.loads(found[-1].read_text()).items()
                         if k.startswith('coco/')}
    assert metrics['one'] == metrics['two']
    # every validation object counted once: no image dropped or doubled by sharding
    gt = json.loads((root / 'annotations' / 'val.json').read_text())['annotations']
    assert metrics['two']['coco/TP'] + metrics['two']['coco/FN'] == len(gt)
