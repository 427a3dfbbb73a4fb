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
So :class:`SafeCheckpointHook` saves them as Python numbers and dicts of lists (they load
under plain ``weights_only=True``), and :func:`safe_torch_load` reads any other checkpoint
(mmengine's stock Runner, mmdet 2.x/3.x) with an unpickler whose globals come from an
allow-list of pure-data constructors (torch's, numpy arrays/dtypes/scalars,
``HistoryBuffer``) and whose ``getattr`` only reaches a ``HistoryBuffer``'s statistics
methods; anything else (os.system, eval, importlib, an unknown callable) is refused with
:class:`UnsafeCheckpointError` naming the global.

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
import io
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


def _numpy_globals() -> dict:
    """numpy's pure-data constructors: arrays, dtypes and scalars (numpy 1 and 2 names)."""
    out = {'numpy.ndarray': np.ndarray, 'numpy.dtype': np.dtype}
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        out[f'{module}._reconstruct'] = np.core.multiarray._reconstruct
        out[f'{module}.scalar'] = np.core.multiarray.scalar
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25
    for name in dir(dtypes) if dtypes is not None else ():
        value = getattr(dtypes, name)
        if isinstance(value, type) and issubclass(value, np.dtype):
            out[f'numpy.dtypes.{name}'] = value
    return out


def _history_buffer_getattr(obj: Any, name: Any) -> Any:
    """The one use of ``getattr`` a stock checkpoint makes: a ``HistoryBuffer`` statistics
    method (``min``, ``max``, ``current``, ``mean``), pickled by its qualified name.
    Anything else is refused."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if ((obj is HistoryBuffer or isinstance(obj, HistoryBuffer))
            and name in ('min', 'max', 'current', 'mean')):
        return getattr(obj, name)
    raise UnsafeCheckpointError(
        f'the checkpoint calls builtins.getattr({type(obj).__name__}, {name!r}); only '
        'HistoryBuffer statistics methods are allowed')


def _allowed_globals() -> dict:
    """``module.name`` -> object for every global a checkpoint may name.

    torch's own weights-only allow-list (tensors, storages, dtypes, ``OrderedDict``...), plus
    the pure-data types mmengine 0.10's Runner pickles: numpy arrays / dtypes / scalars, and
    ``HistoryBuffer`` (a plain class rebuilt from its state; its ``__setstate__`` only
    restores statistics methods, which come through :func:`_history_buffer_getattr`).
    Nothing here can run a command, import a module, open a file or evaluate code.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    from torch import _weights_only_unpickler
    allowed = dict(_weights_only_unpickler._get_allowed_globals())
    for obj in torch.serialization.get_safe_globals():
        if not isinstance(obj, tuple):
            allowed[f'{obj.__module__}.{obj.__qualname__}'] = obj
    allowed.update(_numpy_globals())
    allowed['mmengine.logging.history_buffer.HistoryBuffer'] = HistoryBuffer
    allowed['builtins.getattr'] = _history_buffer_getattr
    return allowed


class _AllowListUnpickler(pickle.Unpickler):
    """An unpickler that resolves globals from :func:`_allowed_globals` only."""

    def find_class(self, module: str, name: str) -> Any:
        import _compat_pickle
        # Protocol-2 pickles (torch.save's) may name Python 2 modules (__builtin__).
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = _allowed_globals().get(f'{module}.{name}')
        if found is None:
            raise UnsafeCheckpointError(
                f'the checkpoint names {module}.{name}, which is not a data type this '
                'loader allows (loading it could run code)')
        return found


def _allow_list_pickle_module():
    """A ``pickle_module`` for ``torch.load`` whose unpickler is :class:`_AllowListUnpickler`."""
    import types
    module = types.ModuleType('yolox_kpt_allow_list_pickle')
    module.Unpickler = _AllowListUnpickler
    module.load = lambda f, **kwargs: _AllowListUnpickler(f, **kwargs).load()
    module.loads = lambda data, **kwargs: _AllowListUnpickler(io.BytesIO(data), **kwargs).load()
    module.UnpicklingError = pickle.UnpicklingError
    return module


def safe_torch_load(filename: Any, map_location: Any = None) -> Any:
    """``torch.load`` that runs no code from the file.

    First ``weights_only=True`` (torch's allow-list: what :class:`SafeCheckpointHook`
    writes). A checkpoint as mmengine's stock Runner writes it (``HistoryBuffer`` and numpy
    values in ``message_hub`` / ``meta``) fails that, so it is read again by an unpickler
    whose every global comes from :func:`_allowed_globals`: pure-data constructors, and
    ``getattr`` only for a ``HistoryBuffer``'s statistics methods.

    Raises:
        UnsafeCheckpointError: naming the first global outside the allow-list (``os.system``,
            ``builtins.eval``, ``importlib.import_module``, any unknown callable...).
    """
    try:
        checkpoint = torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        if hasattr(filename, 'seek'):
            filename.seek(0)
        try:
            checkpoint = torch.load(filename, map_location=map_location, weights_only=False,
                                    pickle_module=_allow_list_pickle_module())
        except UnsafeCheckpointError as err:
            raise UnsafeCheckpointError(
                f'Refused to load {filename}: {err}. A checkpoint that mmengine or mmdet '
                'wrote needs none of that; do not load this file with weights_only=False '
                'unless you know who made it and why.') from None
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
        leaves no best file at all). Without ``save_best`` there is nothing to do (mmengine
        returns early too, and never sets ``best_ckpt_path``)."""
        if not self.save_best:
            return
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
