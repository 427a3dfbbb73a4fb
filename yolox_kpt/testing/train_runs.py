"""Run ``tools/train.py`` in a subprocess, kill it at a line of its log, and finish it: what
the kill-and-resume tests share."""
import os
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time
from typing import Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Config lines for the kill tests: 3 epochs, no validation or test, a checkpoint every
# epoch, a log line every iteration, deterministic kernels.
THREE_EPOCHS_NO_EVAL = textwrap.dedent('''
    val_dataloader = None
    val_evaluator = None
    val_cfg = None
    test_dataloader = None
    test_evaluator = None
    test_cfg = None
    train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3, _delete_=True)
    default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None),
                         logger=dict(interval=1))
    randomness = dict(seed=0, deterministic=True)
''')


def start(cfg: str, work, *args: str, pythonpath: Sequence[str] = (),
          env: Optional[dict] = None) -> subprocess.Popen:
    """``python tools/train.py cfg --work-dir work *args`` with stdout and stderr on one
    text pipe; ``pythonpath`` is prepended to ``PYTHONPATH`` (for test-only modules a
    config's ``custom_imports`` names), ``env`` is added to the environment."""
    env = dict(os.environ, **(env or {}), PYTHONPATH=os.pathsep.join(
        [*pythonpath, os.environ.get('PYTHONPATH', '')]))
    return subprocess.Popen([sys.executable, 'tools/train.py', cfg, '--work-dir', str(work),
                             *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def kill_when(proc: subprocess.Popen, marker: str, timeout: float = 300) -> str:
    """SIGKILL ``proc`` as soon as ``marker`` appears in its output; the output so far."""
    lines, deadline = [], time.time() + timeout
    for line in proc.stdout:
        lines.append(line)
        if marker in line:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return ''.join(lines)
        assert time.time() < deadline, 'marker never came:\n' + ''.join(lines[-30:])
    raise AssertionError(f'run ended before {marker!r}:\n' + ''.join(lines[-30:]))


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    """Wait for ``proc``, assert it succeeded, and return its output."""
    out = proc.communicate(timeout=timeout)[0]
    assert proc.returncode == 0, out[-4000:]
    return out


def assert_same_weights(expected: str, actual: str, rtol: float = 1e-5,
                        atol: float = 1e-6) -> dict:
    """Assert that two checkpoints hold the same ``state_dict`` (and ``ema_state_dict``,
    where saved) within ``rtol``/``atol``; return the first one."""
    import torch

    from ..checkpoint import safe_torch_load
    want, got = safe_torch_load(expected), safe_torch_load(actual)
    for part in ('state_dict', 'ema_state_dict'):
        assert (part in want) == (part in got), part
        for key, value in want.get(part, {}).items():
            torch.testing.assert_close(got[part][key], value, rtol=rtol, atol=atol,
                                       msg=f'{part}.{key}')
    return want


def scaled_pipeline(steps: Sequence[dict], size: int) -> list:
    """A YOLOX training pipeline (Mosaic, RandomAffine, MixUp, Resize...) at ``size`` x
    ``size``: the image-size arguments replaced, everything else as given."""
    out = []
    for step in steps:
        step = dict(step)
        for key, value in (('img_scale', (size, size)), ('scale', (size, size)),
                           ('border', (-size // 2, -size // 2))):
            if key in step:
                step[key] = value
        out.append(step)
    return out
