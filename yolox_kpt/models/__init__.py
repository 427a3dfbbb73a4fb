from .data_preprocessors import KptBatchSyncRandomResize
from .dense_heads import YOLOXKptHead
from .losses import OKSLoss
from .task_modules import KptSimOTAAssigner

__all__ = ['KptBatchSyncRandomResize', 'KptSimOTAAssigner', 'OKSLoss', 'YOLOXKptHead']
