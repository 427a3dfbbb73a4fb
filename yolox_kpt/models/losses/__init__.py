from .oks_loss import OKSLoss, keypoint_oks

__all__ = ['OKSLoss', 'keypoint_oks']
