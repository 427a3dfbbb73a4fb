from .hooks import (AtomicCheckpointHook, ChannelsLastHook, KeypointLayoutCheckHook,
                    SafeCheckpointHook)
from .optimizers import CPUAutocastOptimWrapper

__all__ = ['AtomicCheckpointHook', 'ChannelsLastHook', 'CPUAutocastOptimWrapper',
           'KeypointLayoutCheckHook', 'SafeCheckpointHook']
