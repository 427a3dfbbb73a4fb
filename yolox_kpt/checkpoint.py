"""Checkpoint safety, in one module: a loader that runs no code, checkpoints it can load,
and writes that a killed process never leaves half-done.

Loading. torch 2.6 made ``torch.load`` default to ``weights_only=True``; mmengine 0.10.7's
``load_from_local`` (mmengine/runner/checkpoint.py) calls ``torch.load(filename,
map_location)`` and so fails on the checkpoints its own Runner writes ("UnpicklingError:
Weights only load failed": ``HistoryBuffer`` and numpy arrays in ``message_hub``, numpy
scalars in ``meta``). mmengine has no release with a fix (open-mmlab/mmengine issue 1655;
its PR 1650 only sets ``weights_only=False``, which would run any code in a downloaded
file). A pickled HistoryBuffer, numpy array or numpy scalar needs ``builtins.getattr``
(numpy 2, and HistoryBuffer's bound ``statistics_methods``), which must not be allowed.
So :class:`SafeCheckpointHook` saves them as Python numbers and dicts of lists, and
:func:`safe_torch_load` loads under plain ``weights_only=True`` (torch's allow-list,
nothing added) and rebuilds the buffers; anything that calls code (os.system, eval, ...)
is refused with :class:`UnsafeCheckpointError`. Checkpoints written without the hook (e.g.
by stock mmdet configs) still need their trusted producer to strip them to a state dict.

Writing. mmengine 0.10.7's ``LocalBackend.put`` opens the destination with 'wb' and writes
into it, and its ``CheckpointHook`` deletes the oldest checkpoint before writing the new
one: a run killed in between keeps a truncated ``epoch_N.pth`` or none at all.
:func:`atomic_write_bytes` writes to a temporary file and renames it over the destination;
:class:`AtomicCheckpointHook` writes, then points ``last_checkpoint`` at the new file, and
only then deletes old ones.

``yolox_kpt.compat`` wires the loaders and the atomic writes into mmengine (its
``safe_checkpoint_loading`` and ``atomic_local_writes`` shims); this module changes no
upstream object by itself.
"""
import os
import os.path as osp
import pickle
from typing import Any

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook


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


def to_python_scalars(obj: Any) -> Any:
    """Numpy scalars to Python numbers, recursively through dicts, lists and tuples."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {k: to_python_scalars(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, '_fields'):  # not namedtuples
        return type(obj)(to_python_scalars(v) for v in obj)
    return obj


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


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """mmengine's ``load_from_local`` (same arguments, same error) through
    :func:`safe_torch_load`."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location)


def load_http_checkpoint(filename: str, map_location: Any = None, model_dir: str = None,
                         progress: bool = False) -> Any:
    """mmengine's ``load_from_http``: download once into torch's hub cache, then load it
    with :func:`safe_torch_load`."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = osp.join(model_dir, osp.basename(filename.split('?')[0]))
    if not osp.exists(cached):
        torch.hub.download_url_to_file(filename, cached, progress=progress)
    return safe_torch_load(cached, map_location)


def atomic_write_bytes(data: bytes, filepath: str) -> None:
    """Write ``data`` to ``filepath`` so that it is never seen half-written.

    The bytes go to a temporary file in the same folder, are flushed to disk, and are
    renamed over the destination (``os.replace`` is atomic on POSIX): a reader, or a run
    resumed after a kill, sees the old file or the whole new one.
    """
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(filepath)}.tmp{os.getpid()}')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Save checkpoints with no numpy object in them, so :func:`safe_torch_load` loads them.

    mmengine's Runner saves numpy scalars in ``meta`` / ``message_hub`` and numpy arrays in
    its log buffers; unpickling those needs ``builtins.getattr``, which a safe loader must
    not allow. Python numbers and lists need nothing.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'meta' in checkpoint:
            checkpoint['meta'] = to_python_scalars(checkpoint['meta'])
        hub = checkpoint.get('message_hub')
        if isinstance(hub, dict):
            if 'runtime_info' in hub:
                hub['runtime_info'] = to_python_scalars(hub['runtime_info'])
            if 'log_scalars' in hub:
                hub['log_scalars'] = history_buffers_to_lists(hub['log_scalars'])


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with a crash-safe order of work.

    mmengine 0.10.7 deletes the oldest checkpoint (``max_keep_ckpts``) *before* writing the
    new one and rewrites ``last_checkpoint`` in place; a run killed in between keeps neither
    a complete new checkpoint nor the old one that ``last_checkpoint`` names, and ``--resume``
    silently starts from scratch. Here: write the checkpoint (atomically once
    ``yolox_kpt.compat`` has wired :func:`atomic_write_bytes` into mmengine's local
    backend), then point ``last_checkpoint`` at it (atomically), and only then delete what
    ``max_keep_ckpts`` drops. Arguments are ``CheckpointHook``'s.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(self.last_ckpt.encode(), osp.join(runner.work_dir,
                                                             'last_checkpoint'))
        for old in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's best-checkpoint logic, with the previous best removed only after the
        new best is on disk (mmengine 0.10.7 removes it first, so a kill during the save
        leaves no best file at all)."""
        backend, deferred = self.file_backend, []
        self.file_backend = _DeferredRemoval(backend, deferred)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        if not is_main_process():
            return
        current = {self.best_ckpt_path, *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in deferred:
            if path in current:
                continue
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` only note the path (for
    :meth:`AtomicCheckpointHook._save_best_checkpoint`); everything else is the backend's."""

    def __init__(self, backend, removed: list) -> None:
        self._backend, self._removed = backend, removed

    def remove(self, path) -> None:
        self._removed.append(path)

    rmtree = remove

    def __getattr__(self, name):
        return getattr(self._backend, name)
