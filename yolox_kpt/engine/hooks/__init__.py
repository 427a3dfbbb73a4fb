from .atomic_checkpoint_hook import AtomicCheckpointHook
from .channels_last_hook import ChannelsLastHook
from .keypoint_layout_check_hook import KeypointLayoutCheckHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['AtomicCheckpointHook', 'ChannelsLastHook', 'KeypointLayoutCheckHook',
           'SafeCheckpointHook']
