from .hooks import ChannelsLastHook, KeypointLayoutCheckHook
from .optimizers import CPUAutocastOptimWrapper

__all__ = ['ChannelsLastHook', 'CPUAutocastOptimWrapper', 'KeypointLayoutCheckHook']
