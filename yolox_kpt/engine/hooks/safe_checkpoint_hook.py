"""Checkpoints that load under ``torch.load(weights_only=True)`` without ``getattr``."""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from ...compat import to_python_scalars


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Store ``meta`` and ``message_hub`` runtime scalars as Python numbers.

    mmengine's Runner saves numpy scalars there (e.g. the seed, loop counters); unpickling
    a numpy scalar needs ``builtins.getattr``, which a safe loader must not allow. Python
    numbers need nothing. See ``yolox_kpt.compat`` (shim 1).
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'meta' in checkpoint:
            checkpoint['meta'] = to_python_scalars(checkpoint['meta'])
        hub = checkpoint.get('message_hub')
        if isinstance(hub, dict) and 'runtime_info' in hub:
            hub['runtime_info'] = to_python_scalars(hub['runtime_info'])
