import importlib.util

from . import functional  # numpy + pycocotools: imports on a runtime-only install too

__all__ = ['functional']

# CocoKptMetric is an mmengine metric in mmdet's registry: only where mmdet is installed
if importlib.util.find_spec('mmdet') is not None:
    from .metrics import CocoKptMetric

    __all__ += ['CocoKptMetric']
