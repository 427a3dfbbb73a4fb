from .channels_last_hook import ChannelsLastHook
from .keypoint_layout_check_hook import KeypointLayoutCheckHook

__all__ = ['ChannelsLastHook', 'KeypointLayoutCheckHook']
