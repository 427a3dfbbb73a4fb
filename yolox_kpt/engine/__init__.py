from .hooks import (ChannelsLastHook, CorruptImageLogHook, ExactResumeHook,
                    KeypointLayoutCheckHook, ScheduleCheckHook)
from .optimizers import CPUAutocastOptimWrapper

__all__ = ['ChannelsLastHook', 'CorruptImageLogHook', 'CPUAutocastOptimWrapper',
           'ExactResumeHook', 'KeypointLayoutCheckHook', 'ScheduleCheckHook']
