from .batch_resize import KptBatchSyncRandomResize

__all__ = ['KptBatchSyncRandomResize']
