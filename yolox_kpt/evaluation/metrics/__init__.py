from .coco_kpt_metric import CocoKptMetric

__all__ = ['CocoKptMetric']
