"""SIGKILL a training run and lose nothing: mid-epoch, and in the middle of a save."""
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time

import torch

from yolox_kpt.checkpoint import safe_torch_load
from yolox_kpt.testing import train_runs
from yolox_kpt.testing.train_runs import finish, kill_when

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HERE = osp.dirname(osp.abspath(__file__))
CPU_CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                      'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def write_config(tmp_path, root, extra=''):
    """The CPU recipe on ``root`` without random augmentation (so that a resumed run can
    equal an uninterrupted one), 3 epochs, a checkpoint every epoch, a log line per iter."""
    path = tmp_path / 'kill_cfg.py'
    path.write_text(textwrap.dedent(f'''
        _base_ = {CPU_CONFIG!r}
        data_root = {str(root) + '/'!r}
        train_dataloader = dict(
            batch_size=4, num_workers=0, persistent_workers=False,
            dataset=dict(dataset=dict(data_root=data_root), pipeline=[
                dict(type='Resize', scale=(320, 320), keep_ratio=True),
                dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
                dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
                dict(type='PackKptDetInputs')]))
    ''') + train_runs.THREE_EPOCHS_NO_EVAL + textwrap.dedent(extra))
    return str(path)


def start(cfg, work, *args):
    return train_runs.start(cfg, work, *args, pythonpath=[HERE])


def test_resume_after_sigkill_mid_epoch_equals_uninterrupted(synthetic_data, tmp_path):
    root = synthetic_data(num_train=16, num_val=1, seed=4)
    cfg = write_config(tmp_path, root)
    finish(start(cfg, tmp_path / 'whole'))

    killed = tmp_path / 'killed'
    kill_when(start(cfg, killed), 'Epoch(train) [2][2/4]')
    assert not osp.exists(killed / 'epoch_2.pth')
    log = finish(start(cfg, killed, '--resume'))
    assert 'resumed epoch: 1, iter: 4' in log.replace('\n', ' ')

    whole = safe_torch_load(str(tmp_path / 'whole' / 'epoch_3.pth'))
    resumed = safe_torch_load(str(killed / 'epoch_3.pth'))
    assert whole['meta']['iter'] == resumed['meta']['iter'] == 12
    for key, value in whole['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][key], value, rtol=1e-5, atol=1e-6,
                                   msg=key)


def test_sigkill_during_checkpoint_save_keeps_the_last_one(synthetic_data, tmp_path):
    root = synthetic_data(num_train=8, num_val=1, seed=6)
    cfg = write_config(tmp_path, root, '''
        custom_imports = dict(imports=['yolox_kpt', 'slow_save_hook'],
                              allow_failed_imports=False)
        custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                        dict(type='SlowSaveHook', epoch=2)]
    ''')
    work = tmp_path / 'work'
    kill_when(start(cfg, work), 'SAVING epoch 2')
    # max_keep_ckpts=1: stock mmengine would have deleted epoch_1.pth by now
    latest = (work / 'last_checkpoint').read_text().strip()
    assert latest == str(work / 'epoch_1.pth')
    assert safe_torch_load(latest)['meta']['epoch'] == 1
    assert not osp.exists(work / 'epoch_2.pth')
    log = finish(start(cfg, work, '--resume', '--cfg-options',
                       'custom_hooks.2.epoch=99'))
    assert 'resumed epoch: 1, iter: 2' in log.replace('\n', ' ')
    assert safe_torch_load(str(work / 'epoch_3.pth'))['meta']['epoch'] == 3
    assert not osp.exists(work / 'epoch_1.pth')  # dropped once epoch_2 was complete


def test_sigkill_during_a_write_never_leaves_a_truncated_file(tmp_path):
    """mmengine's LocalBackend.put (what save_checkpoint uses) with yolox_kpt's shim: a
    400 MB write killed halfway leaves the previous file whole under its name."""
    target = tmp_path / 'epoch_1.pth'
    script = textwrap.dedent(f'''
        import yolox_kpt
        from mmengine.fileio.backends.local_backend import LocalBackend
        LocalBackend().put(b'old checkpoint', {str(target)!r})
        print('ready', flush=True)
        LocalBackend().put(b'x' * (400 << 20), {str(target)!r})
        print('done', flush=True)
    ''')
    proc = subprocess.Popen([sys.executable, '-c', script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'ready'
    tmp_name = f'.{target.name}.tmp{proc.pid}'
    deadline = time.time() + 60
    while not (tmp_path / tmp_name).exists() or (tmp_path / tmp_name).stat().st_size == 0:
        assert time.time() < deadline and proc.poll() is None, 'the write was never seen'
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_bytes() == b'old checkpoint'
