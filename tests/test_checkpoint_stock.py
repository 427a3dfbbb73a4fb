"""Stock checkpoints load without running code; hostile pickles are refused, naming the
global, and leave no trace.

A checkpoint exactly as mmengine 0.10's stock Runner writes it (``HistoryBuffer`` and numpy
values in ``message_hub`` / ``meta``, no yolox-kpt hook) must load for ``load_from`` and
``--resume``; mmdet 2.x's published form (a ``meta`` of plain values and a ``state_dict``)
too. The gadgets below are the usual pickle payload families: command execution, code
evaluation, imports, file writes, nested unpickling, and attribute walks through
``getattr``.
"""
import builtins
import importlib
import os
import pickle
import runpy
import shutil
import subprocess

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from yolox_kpt.checkpoint import UnsafeCheckpointError
from yolox_kpt.testing.runner import toy_runner


class _CountIters(Hook):
    def __init__(self):
        self.iters = 0

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.iters += 1


def _stock_runner(work_dir, max_epochs, counter=None):
    return toy_runner(work_dir, max_epochs, hooks=[counter] if counter else None,
                      checkpoint_hook=dict(type=CheckpointHook, interval=1),
                      name=f'stock_{work_dir.name}_{max_epochs}')


def test_stock_runner_checkpoint_loads_and_resumes(tmp_path):
    work = tmp_path / 'work'
    _stock_runner(work, 1).train()
    path = work / 'epoch_1.pth'
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # why a loader of our own is needed
    ckpt = _load_checkpoint(str(path))  # mmengine's loader, as load_from / --resume use it
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and np.isfinite(buffer.current())
    assert ckpt['meta']['epoch'] == 1
    # --resume from it: the second epoch starts where the first ended.
    counter = _CountIters()
    runner = _stock_runner(work, 2, counter)
    runner._resume = True
    runner._load_from = str(path)
    runner.train()
    assert runner.epoch == 2 and (work / 'epoch_2.pth').is_file()
    assert counter.iters == 2  # only epoch 2's two iterations: it resumed


def test_mmdet2_published_checkpoint_loads(tmp_path):
    path = tmp_path / 'yolox_s_mmdet2.pth'
    torch.save(dict(meta=dict(mmdet_version='2.25.0', mmcv_version='1.6.0', epoch=300,
                              iter=444000, CLASSES=('person', 'car'), config='model = ...',
                              env_info='sys.platform: linux'),
                    state_dict={'backbone.stem.conv.weight': torch.ones(2, 3, 1, 1)}), path)
    ckpt = _load_checkpoint(str(path))
    assert ckpt['meta']['CLASSES'] == ('person', 'car')


class _Gadget:
    """Pickles as ``call(*args)``: what an attacker's checkpoint does on load."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


class _Nested:
    def __init__(self, inner: bytes):
        self.inner = inner

    def __reduce__(self):
        return pickle.loads, (self.inner, )


def _gadgets(marker):
    touch = f'touch {marker}'
    write = f'open({str(marker)!r}, "w").write("x")'
    inner = pickle.dumps(_Gadget(os.system, touch))
    return {
        'os.system': _Gadget(os.system, touch),
        'subprocess.Popen': _Gadget(subprocess.Popen, ['touch', str(marker)]),
        'subprocess.check_output': _Gadget(subprocess.check_output, ['touch', str(marker)]),
        'builtins.eval': _Gadget(builtins.eval, write),
        'builtins.exec': _Gadget(builtins.exec, write),
        'builtins.open': _Gadget(builtins.open, str(marker), 'w'),
        'builtins.__import__': _Gadget(builtins.__import__, 'os'),
        'importlib.import_module': _Gadget(importlib.import_module, 'os'),
        'runpy.run_path': _Gadget(runpy.run_path, str(marker)),
        'shutil.copyfile': _Gadget(shutil.copyfile, __file__, str(marker)),
        'pickle.loads': _Nested(inner),
        'os.makedirs': _Gadget(os.makedirs, str(marker)),
        'getattr(str, ...)': _Gadget(getattr, 'x', 'format'),
        'getattr(HistoryBuffer, update)': _Gadget(getattr, HistoryBuffer, 'update'),
        'torch.load': _Gadget(torch.load, str(marker)),
        'numpy.load': _Gadget(np.load, str(marker)),
    }


@pytest.mark.parametrize('family', sorted(_gadgets('m')))
@pytest.mark.parametrize('where', ['meta', 'message_hub'])
def test_hostile_pickle_is_refused_naming_the_global(tmp_path, family, where):
    marker = tmp_path / 'pwned'
    gadget = _gadgets(marker)[family]
    path = tmp_path / 'evil.pth'
    ckpt = dict(state_dict={'w': torch.ones(1)}, meta=dict(epoch=np.int64(1)),
                message_hub=dict(log_scalars={'loss': HistoryBuffer([1.0], [1])}))
    ckpt[where] = dict(payload=gadget, **ckpt[where])
    torch.save(ckpt, path)
    with pytest.raises(UnsafeCheckpointError) as err:
        _load_checkpoint(str(path))
    name = family.split('(')[0]
    assert name.split('.')[-1] in str(err.value), str(err.value)
    assert 'Refused to load' in str(err.value)
    assert not marker.exists()
