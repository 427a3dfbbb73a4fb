from .data_preprocessors import KptBatchSyncRandomResize
from .dense_heads import YOLOXKptHead
from .losses import OKSLoss

__all__ = ['KptBatchSyncRandomResize', 'OKSLoss', 'YOLOXKptHead']
