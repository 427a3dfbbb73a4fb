"""Safe checkpoint loading: Runner checkpoints load under weights_only, hostile pickles don't."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from yolox_kpt.compat import (UnsafeCheckpointError, history_buffers_to_lists, safe_torch_load,
                              to_python_scalars)


class _RunsACommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_hostile_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _RunsACommand(marker)}, path)
    with pytest.raises(UnsafeCheckpointError, match=r'Refused to load .*GLOBAL posix.system'):
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


def test_numpy_scalars_would_need_getattr(tmp_path):
    """Why SafeCheckpointHook converts scalars: a raw numpy scalar is refused."""
    path = tmp_path / 'np.pth'
    torch.save(dict(meta=dict(seed=np.int64(7))), path)
    with pytest.raises(UnsafeCheckpointError):
        safe_torch_load(str(path))


def test_concurrent_metric_dumps_are_never_seen_half_written(tmp_path):
    """mmengine's LoggerHook dumps the test metrics JSON on every rank to one path. With the
    put_text shim, a reader polling the file while two processes race on it only ever sees
    whole records (plain 'w' writes show truncated or mixed files within a few hundred
    writes), and the last record is complete."""
    import json
    import subprocess
    import sys
    target = tmp_path / 'metrics.json'
    script = (
        'import sys, yolox_kpt\n'
        'from mmengine.fileio import dump\n'
        'n = int(sys.argv[2])\n'
        'for i in range(400):\n'
        '    dump({"rank": n, "i": i, "pad": "x" * (n * 9973 + i)}, sys.argv[1])\n')
    procs = [subprocess.Popen([sys.executable, '-c', script, str(target), str(n)])
             for n in (1, 2)]
    reads, broken = 0, 0
    while any(p.poll() is None for p in procs):
        if target.exists():
            reads += 1
            try:
                json.loads(target.read_text())
            except ValueError:
                broken += 1
    assert all(p.returncode == 0 for p in procs)
    assert reads > 10 and broken == 0, (reads, broken)
    record = json.loads(target.read_text())
    assert record['i'] == 399 and len(record['pad']) == record['rank'] * 9973 + 399
    assert not list(tmp_path.glob('.*tmp*'))  # no temporary files left behind
