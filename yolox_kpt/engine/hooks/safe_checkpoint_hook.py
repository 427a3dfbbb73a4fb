"""Checkpoints that load under ``torch.load(weights_only=True)`` without ``getattr``."""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from ...compat import history_buffers_to_lists, to_python_scalars


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Save checkpoints with no numpy object in them.

    mmengine's Runner saves numpy scalars in ``meta`` / ``message_hub`` and numpy arrays in
    its log buffers; unpickling those needs ``builtins.getattr``, which a safe loader must
    not allow. Python numbers and lists need nothing. See ``yolox_kpt.compat`` (shim 1).
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
