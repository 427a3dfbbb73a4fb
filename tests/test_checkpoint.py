"""Checkpoint safety: Runner checkpoints load under weights_only, hostile pickles don't."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from yolox_kpt.checkpoint import (UnsafeCheckpointError, history_buffers_to_lists,
                                  safe_torch_load, to_python_scalars)


class _RunsACommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_hostile_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _RunsACommand(marker)}, path)
    with pytest.raises(UnsafeCheckpointError, match=r'Refused to load .*posix.system'):
        _load_checkpoint(str(path))  # mmengine's loader, as load_from/--resume use it
    assert not marker.exists()


def test_runner_style_checkpoint_loads(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    ckpt = dict(
        meta=to_python_scalars(dict(epoch=np.int64(3), seed=np.int64(7), lr=np.float64(0.1))),
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars=history_buffers_to_lists({'train/loss': buffer}),
                         runtime_info=to_python_scalars(dict(iter=np.int64(30)))),
    )
    path = tmp_path / 'ok.pth'
    torch.save(ckpt, path)
    loaded = safe_torch_load(str(path))
    assert loaded['meta'] == dict(epoch=3, seed=7, lr=0.1)
    assert type(loaded['meta']['epoch']) is int
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert restored.current() == 1.5
    assert isinstance(restored._log_history, np.ndarray)
    assert isinstance(buffer._log_history, np.ndarray)  # the live buffer is untouched
    torch.testing.assert_close(loaded['state_dict']['w'], torch.ones(2))


def test_numpy_scalars_load_as_numpy(tmp_path):
    """A raw numpy scalar fails torch's weights-only list (it needs getattr under numpy 2)
    and is rebuilt by the allow-list unpickler instead."""
    path = tmp_path / 'np.pth'
    torch.save(dict(meta=dict(seed=np.int64(7), arr=np.arange(3.0))), path)
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)
    loaded = safe_torch_load(str(path))
    assert loaded['meta']['seed'] == 7 and type(loaded['meta']['seed']) is np.int64
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3.0))


def test_safe_checkpoint_hook_makes_a_runner_checkpoint_loadable(tmp_path):
    """What the Runner hands to ``before_save_checkpoint`` (numpy scalars, live buffers)
    comes out loadable by the safe loader, with the same numbers."""
    from yolox_kpt.checkpoint import SafeCheckpointHook
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.25))
    ckpt = dict(meta=dict(epoch=np.int64(2), hist=[np.float32(1.5)]),
                state_dict={'w': torch.zeros(1)},
                message_hub=dict(log_scalars={'loss': buffer},
                                 runtime_info=dict(iter=np.int64(9))))
    path = tmp_path / 'hooked.pth'
    torch.save(ckpt, path)
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)
    SafeCheckpointHook().before_save_checkpoint(None, ckpt)
    torch.save(ckpt, path)
    loaded = safe_torch_load(str(path))
    assert loaded['meta'] == dict(epoch=2, hist=[1.5])
    assert loaded['message_hub']['runtime_info'] == dict(iter=9)
    assert loaded['message_hub']['log_scalars']['loss'].current() == 0.25


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    from yolox_kpt.checkpoint import atomic_write_bytes
    target = tmp_path / 'sub' / 'last_checkpoint'
    atomic_write_bytes(b'first', str(target))
    atomic_write_bytes(b'second, longer', str(target))
    assert target.read_bytes() == b'second, longer'
    assert [p.name for p in target.parent.iterdir()] == ['last_checkpoint']
