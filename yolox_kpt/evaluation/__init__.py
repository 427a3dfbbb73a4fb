from .metrics import CocoKptMetric

__all__ = ['CocoKptMetric']
