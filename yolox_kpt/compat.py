"""Every workaround for an upstream bug, in one place.

Each shim names the bug it works around. ``apply_all()`` runs once on ``import yolox_kpt``
and is idempotent.
"""
import atexit
import os
import pickle
from typing import Any, Callable, Dict

import numpy as np
import torch

# ---------------------------------------------------------------------------------------
# 1. Checkpoint loading under torch >= 2.6.
#
# Upstream: torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine 0.10.7's
# ``load_from_local`` (mmengine/runner/checkpoint.py) calls ``torch.load(filename,
# map_location)`` and so fails on the checkpoints its own Runner writes
# ("UnpicklingError: Weights only load failed": ``HistoryBuffer`` and numpy arrays in
# ``message_hub``; numpy scalars in ``meta``). That breaks ``load_from`` and ``--resume``.
# mmengine has no release with a fix (open-mmlab/mmengine issue 1655; its PR 1650 only sets
# weights_only=False, which would run any code in a downloaded file).
#
# Fix, with nothing added to torch's allow-list: a pickled HistoryBuffer, numpy array or
# numpy scalar needs ``builtins.getattr`` (numpy 2, and HistoryBuffer's bound
# ``statistics_methods``), which must not be allowed. So ``SafeCheckpointHook`` saves
# ``meta`` / ``message_hub`` scalars as Python numbers and each HistoryBuffer as a dict of
# lists, and the loader rebuilds the buffers. Checkpoints then load under plain
# ``weights_only=True``; anything that calls code (os.system, eval, ...) is refused with
# ``UnsafeCheckpointError``. Checkpoints written without the hook (e.g. by stock mmdet
# configs) still need their trusted producer to strip them to a state dict.
# ---------------------------------------------------------------------------------------


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that needs code outside the allow-list to load."""


_BUFFER_TAG = '__mmengine_history_buffer__'


def history_buffers_to_lists(log_scalars: dict) -> dict:
    """mmengine ``HistoryBuffer`` objects as plain dicts of lists.

    A pickled ``HistoryBuffer`` carries its numpy histories and its ``statistics_methods``
    (bound through ``builtins.getattr``); a safe loader must allow neither. A dict of lists
    of Python numbers needs no global at all. The live buffers are left untouched.
    """
    out = {}
    for key, buf in log_scalars.items():
        if hasattr(buf, '_log_history'):
            buf = {_BUFFER_TAG: True, 'max_length': int(buf.max_length),
                   'log_history': np.asarray(buf._log_history).tolist(),
                   'count_history': np.asarray(buf._count_history).tolist()}
        out[key] = buf
    return out


def _history_lists_to_buffers(checkpoint: Any) -> Any:
    """Undo :func:`history_buffers_to_lists` after loading (mmengine expects buffers)."""
    hub = checkpoint.get('message_hub') if isinstance(checkpoint, dict) else None
    if isinstance(hub, dict) and isinstance(hub.get('log_scalars'), dict):
        from mmengine.logging.history_buffer import HistoryBuffer
        for key, value in hub['log_scalars'].items():
            if isinstance(value, dict) and value.get(_BUFFER_TAG):
                hub['log_scalars'][key] = HistoryBuffer(
                    value['log_history'], value['count_history'], value['max_length'])
    return checkpoint


def safe_torch_load(filename: Any, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True``: torch's own allow-list, nothing added.

    Raises:
        UnsafeCheckpointError: if the file needs any other global (it may run code).
    """
    try:
        checkpoint = torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        lines = str(err).splitlines()
        # torch names the offending global on the line that says GLOBAL.
        reason = next((ln.strip() for ln in lines if 'GLOBAL' in ln), lines[0] if lines else '')
        raise UnsafeCheckpointError(
            f'Refused to load {filename}: it needs Python objects outside torch\'s '
            f'weights-only allow-list, so loading it could run arbitrary code. ({reason}) '
            'If you trust the file, convert it to a plain state dict in a separate, trusted '
            'step, e.g. torch.save({"state_dict": torch.load(f, weights_only=False)'
            '["state_dict"]}, "clean.pth").') from err
    return _history_lists_to_buffers(checkpoint)


def _load_from_local(filename: str, map_location: Any = None) -> Any:
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location)


def _load_from_http(filename: str, map_location: Any = None, model_dir: str = None,
                    progress: bool = False) -> Any:
    model_dir = model_dir or os.path.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = os.path.join(model_dir, os.path.basename(filename.split('?')[0]))
    if not os.path.exists(cached):
        torch.hub.download_url_to_file(filename, cached, progress=progress)
    return safe_torch_load(cached, map_location)


def to_python_scalars(obj: Any) -> Any:
    """Numpy scalars to Python numbers, recursively through dicts, lists and tuples."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_python_scalars(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, '_fields'):  # not namedtuples
        return type(obj)(to_python_scalars(v) for v in obj)
    return obj


def patch_checkpoint_loading() -> None:
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=_load_from_http,
                                     force=True)


# ---------------------------------------------------------------------------------------
# 2. ONNX export under torch >= 2.9.
#
# Upstream: torch 2.9 made ``torch.onnx.export`` default to ``dynamo=True``; mmdeploy 1.3.1's
# rewriters and symbolic functions need the TorchScript exporter (mmdeploy 1.3.1 was released
# in 2023-12, before the change, and has had no release since). Applied only for export:
# around our ``export_onnx``, and in processes that import ``yolox_kpt.deploy`` (which only
# deploy configs do), never by ``import yolox_kpt``.
# ---------------------------------------------------------------------------------------


def _torchscript_default(export: Callable) -> Callable:
    def torchscript_export(*args, **kwargs):
        kwargs.setdefault('dynamo', False)
        return export(*args, **kwargs)

    torchscript_export.__wrapped_onnx_export__ = export
    return torchscript_export


class torchscript_onnx_export:
    """Context manager: ``torch.onnx.export`` defaults to ``dynamo=False`` inside."""

    def __enter__(self) -> 'torchscript_onnx_export':
        self._orig: Callable = torch.onnx.export
        torch.onnx.export = _torchscript_default(self._orig)
        return self

    def __exit__(self, *exc) -> None:
        torch.onnx.export = self._orig


def default_to_torchscript_onnx_export() -> None:
    """Make ``dynamo=False`` the default for the rest of this process.

    Only ``yolox_kpt.deploy`` calls it, which deploy configs import (through
    ``codebase_config.module``) in the processes where mmdeploy's own ``tools/deploy.py``
    exports: there our ``export_onnx`` and its context manager are not in the call chain.
    """
    if not hasattr(torch.onnx.export, '__wrapped_onnx_export__'):
        torch.onnx.export = _torchscript_default(torch.onnx.export)


# ---------------------------------------------------------------------------------------
# 3. Multi-process training on CPU (gloo).
#
# Upstream: mmengine 0.10.7's ``_init_dist_pytorch`` (mmengine/dist/utils.py) calls
# ``torch.cuda.set_device`` unconditionally, and its Runner wraps the model with
# ``device_ids=[LOCAL_RANK]``, which DistributedDataParallel rejects for a CPU module; mmdet's
# configs also default to the nccl backend, which needs GPUs. So ``tools/dist_train.sh`` fails
# on a machine without CUDA. Only where CUDA is unavailable, these shims pick gloo for nccl,
# skip ``set_device`` and drop ``device_ids`` for CPU modules, and destroy the gloo group at
# exit (mmengine never does; see ``_init_dist_pytorch``); with CUDA nothing changes.
# ---------------------------------------------------------------------------------------


def _destroy_process_group() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def patch_cpu_distributed() -> None:
    import mmengine.dist.utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    original_init_dist = dist_utils._init_dist_pytorch

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original_init_dist(backend, init_backend=init_backend, **kwargs)
        backend = 'gloo' if backend == 'nccl' else backend
        torch.distributed.init_process_group(backend=backend, **kwargs)
        # mmengine never destroys the group; a gloo worker left with live threads at
        # interpreter exit can abort ("terminate called without an active exception",
        # SIGABRT) after the run itself succeeded (seen once in 6 runs of the 2-process test).
        atexit.register(_destroy_process_group)

    dist_utils._init_dist_pytorch = _init_dist_pytorch

    original_ddp_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu and not torch.cuda.is_available():
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        original_ddp_init(self, module, detect_anomalous_params=detect_anomalous_params,
                          **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init


# ---------------------------------------------------------------------------------------
# 4. Atomic local writes.
#
# Upstream: mmengine 0.10.7's ``LocalBackend.put`` (mmengine/fileio/backends/local_backend.py)
# opens the destination with 'wb' and writes into it, so a process killed while saving a
# checkpoint leaves a truncated ``epoch_N.pth`` under its final name. Here the bytes go to a
# temporary file in the same folder, are flushed to disk, and are renamed over the
# destination (``os.replace`` is atomic on POSIX): a reader sees the old file or the whole
# new one, never half of it. (The hook side, deleting old checkpoints only after the new one
# is complete, is ``AtomicCheckpointHook``.)
# ``LocalBackend.put_text`` gets the same treatment for a second upstream bug: mmengine's
# ``LoggerHook.after_val_epoch``/``after_test_epoch`` dump the metrics JSON on *every* rank to
# the same path (``fileio.dump`` -> ``put_text``, 'w' mode); two ranks truncating and writing
# different-length records at once left a file with trailing bytes ("Extra data", seen once
# in tests/tools/test_dist_train.py). Whole-file renames leave one complete record.
# ---------------------------------------------------------------------------------------


def atomic_write_bytes(data: bytes, filepath: str) -> None:
    """Write ``data`` to ``filepath`` so that it is never seen half-written."""
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f'.{os.path.basename(filepath)}.tmp{os.getpid()}')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def patch_atomic_local_writes() -> None:
    from mmengine.fileio.backends.local_backend import LocalBackend

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), str(filepath))

    LocalBackend.put = put
    LocalBackend.put_text = put_text


_APPLIED: Dict[str, bool] = {}


def apply_all() -> None:
    """Apply the import-time shims once."""
    if not _APPLIED.get('checkpoint'):
        patch_checkpoint_loading()
        _APPLIED['checkpoint'] = True
    if not _APPLIED.get('cpu_distributed'):
        patch_cpu_distributed()
        _APPLIED['cpu_distributed'] = True
    if not _APPLIED.get('atomic_writes'):
        patch_atomic_local_writes()
        _APPLIED['atomic_writes'] = True
