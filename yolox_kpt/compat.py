"""The shims that mmdet's stock tools need on this stack, listed once in :data:`SHIMS`.

Each row names the upstream bug it works around and why the stack needs it, and says
who applies it: ``import yolox_kpt`` applies the ``'import'`` rows (:func:`apply_all`);
the ``'export'`` row is applied only where ONNX export runs (``yolox_kpt.deploy``). A shim
is applied once per process, and logged once when it is (mmengine's current logger, at
DEBUG: ``log_level='DEBUG'`` shows them). Checkpoint safety itself lives in
``yolox_kpt.checkpoint``; here it is only wired into mmengine.
"""
import atexit
import gc
import importlib
import logging
import sys
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import torch
from mmengine.logging import print_log

from .checkpoint import atomic_write_bytes, load_http_checkpoint, load_local_checkpoint


def patch_checkpoint_loading() -> None:
    """mmengine's loaders of local and http(s) checkpoints become the safe ones."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                     loader=load_http_checkpoint, force=True)


def shutdown_process_groups() -> None:
    """Destroy every process group and let gloo join its worker threads before the
    interpreter starts finalizing (the ``cpu_distributed`` shim registers it with ``atexit``).

    A gloo worker thread releases each finished collective *after* the caller's ``wait``
    has returned, and releasing it decrefs tensors that have Python objects, which takes
    the GIL. If that happens once ``Py_FinalizeEx`` has begun, the GIL take ends the thread
    (``pthread_exit``) inside a ``noexcept`` destructor: ``std::terminate``, "terminate
    called without an active exception", SIGABRT after a successful run. Only destroying
    the ``ProcessGroupGloo`` joins its workers; ``destroy_process_group`` alone does not
    (gloo has no ``shutdown``), and the finished Runner's DDP wrapper and Reducer still hold
    the group. So: destroy, collect the Runner, then drop the last reference here, where
    torch's holder releases the GIL so the workers can finish before the join.

    After an uncaught exception the group is only destroyed, not joined: a worker still
    inside a collective with a peer that went on would block the exit until gloo's timeout.
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    from torch.distributed.distributed_c10d import _world
    groups = list(_world.pg_map)
    torch.distributed.destroy_process_group()
    if getattr(sys, 'last_value', None) is not None:
        return
    gc.collect()
    del groups


def patch_cpu_distributed() -> None:
    """Without CUDA: gloo for nccl, no ``set_device``, no ``device_ids`` for CPU modules,
    and the process groups destroyed, gloo's threads joined, at exit
    (:func:`shutdown_process_groups`). With CUDA nothing changes."""
    import mmengine.dist.utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    original_init_dist = dist_utils._init_dist_pytorch

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original_init_dist(backend, init_backend=init_backend, **kwargs)
        backend = 'gloo' if backend == 'nccl' else backend
        # Imported before the group exists: its functions' ``group=group.WORLD`` defaults
        # are evaluated at import (DDP imports it lazily), and bound after init they would
        # keep the group alive past shutdown_process_groups, so its threads not joined.
        importlib.import_module('torch.distributed.nn.functional')
        torch.distributed.init_process_group(backend=backend, **kwargs)
        atexit.register(shutdown_process_groups)

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


def patch_atomic_local_writes() -> None:
    """mmengine's local ``put`` / ``put_text`` write through ``atomic_write_bytes``."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), str(filepath))

    LocalBackend.put = put
    LocalBackend.put_text = put_text


def _torchscript_default(export: Callable) -> Callable:
    def torchscript_export(*args, **kwargs):
        kwargs.setdefault('dynamo', False)
        return export(*args, **kwargs)

    torchscript_export.__wrapped_onnx_export__ = export
    return torchscript_export


class torchscript_onnx_export:
    """Context manager: ``torch.onnx.export`` defaults to ``dynamo=False`` inside (the
    ``torchscript_onnx_export`` shim, for one export instead of the whole process)."""

    def __enter__(self) -> 'torchscript_onnx_export':
        self._orig: Callable = torch.onnx.export
        torch.onnx.export = _torchscript_default(self._orig)
        return self

    def __exit__(self, *exc) -> None:
        torch.onnx.export = self._orig


def _patch_onnx_export_default() -> None:
    if not hasattr(torch.onnx.export, '__wrapped_onnx_export__'):
        torch.onnx.export = _torchscript_default(torch.onnx.export)


@dataclass(frozen=True)
class Shim:
    """One workaround: its name, the upstream bug, why this stack needs it, who applies it
    (``'import'``: ``import yolox_kpt``; ``'export'``: ``yolox_kpt.deploy``), and how."""
    name: str
    upstream: str
    why: str
    applied_by: str
    apply: Callable[[], None]


SHIMS: Tuple[Shim, ...] = (
    Shim('safe_checkpoint_loading',
         'torch >= 2.6 defaults torch.load to weights_only=True; mmengine 0.10.7 '
         'load_from_local calls torch.load(filename, map_location) (open-mmlab/mmengine '
         'issue 1655, no release with a fix)',
         "load_from, --resume and tools/test.py fail on the Runner's own checkpoints; "
         'loading with weights_only=False would run any code in a downloaded file '
         '(yolox_kpt.checkpoint loads with an allow-list of pure-data globals instead)',
         'import', patch_checkpoint_loading),
    Shim('cpu_distributed',
         'mmengine 0.10.7 _init_dist_pytorch calls torch.cuda.set_device unconditionally '
         'and its Runner passes device_ids=[LOCAL_RANK], which DistributedDataParallel '
         "rejects for a CPU module; mmdet's configs default to the nccl backend. mmengine "
         'never destroys the process group; torch 2.13 ProcessGroupGloo workers release a '
         "finished collective (its tensors' Python objects, under the GIL) after the "
         "caller's wait returned, and a GIL take once interpreter finalization began ends "
         'the thread inside a noexcept destructor (std::terminate; the mechanism of '
         'pytorch/pytorch pull 179291, closed unmerged); destroy_process_group does not join '
         "gloo's workers, which only the group's destructor does",
         'tools/dist_train.sh fails on a machine without CUDA; 2-process CPU runs aborted '
         'after succeeding (SIGABRT, "terminate called without an active exception", 3 in '
         '33 runs of the 2-process train)',
         'import', patch_cpu_distributed),
    Shim('atomic_local_writes',
         "mmengine 0.10.7 LocalBackend.put / put_text open the destination with 'wb'/'w' "
         'and write into it; LoggerHook dumps the metrics JSON on every rank to one path',
         'a run killed while saving leaves a truncated epoch_N.pth under its final name; '
         'two ranks writing the metrics JSON at once leave a corrupt file ("Extra data")',
         'import', patch_atomic_local_writes),
    Shim('torchscript_onnx_export',
         'torch >= 2.9 defaults torch.onnx.export to dynamo=True; mmdeploy 1.3.1 (2023-12, '
         'no later release) has rewriters and symbolics for the TorchScript exporter only',
         "mmdeploy's tools/deploy.py and our export_onnx fail to export",
         'export', _patch_onnx_export_default),
)

_APPLIED: Dict[str, bool] = {}


def apply(name: str) -> None:
    """Apply the shim ``name`` of :data:`SHIMS` unless this process already has; log it
    once when applied."""
    if _APPLIED.get(name):
        return
    shim = next((s for s in SHIMS if s.name == name), None)
    if shim is None:
        raise KeyError(f'no shim {name!r}: one of {[s.name for s in SHIMS]}')
    shim.apply()
    _APPLIED[name] = True
    print_log(f'yolox_kpt.compat: applied {shim.name} (works around: {shim.upstream})',
              logger='current', level=logging.DEBUG)


def apply_all() -> None:
    """Apply the shims ``import yolox_kpt`` owns (those applied by ``'import'``)."""
    for shim in SHIMS:
        if shim.applied_by == 'import':
            apply(shim.name)


def default_to_torchscript_onnx_export() -> None:
    """Make ``dynamo=False`` the default for the rest of this process.

    Only ``yolox_kpt.deploy`` calls it, which deploy configs import (through
    ``codebase_config.module``) in the processes where mmdeploy's own ``tools/deploy.py``
    exports: there our ``export_onnx`` and its context manager are not in the call chain.
    """
    apply('torchscript_onnx_export')
