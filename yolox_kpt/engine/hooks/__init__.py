from .channels_last_hook import ChannelsLastHook
from .corrupt_image_log_hook import CorruptImageLogHook
from .exact_resume_hook import ExactResumeHook
from .keypoint_layout_check_hook import KeypointLayoutCheckHook
from .schedule_check_hook import ScheduleCheckHook

__all__ = ['ChannelsLastHook', 'CorruptImageLogHook', 'ExactResumeHook',
           'KeypointLayoutCheckHook', 'ScheduleCheckHook']
