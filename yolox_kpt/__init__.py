"""yolox-kpt: keypoints for MMDetection's YOLOX, as a plugin.

``custom_imports = dict(imports=['yolox_kpt'], allow_failed_imports=False)`` in a config
registers everything into mmdet's registries.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, evaluation, models, structures  # noqa: E402,F401
from .keypoint_layout import KeypointLayout  # noqa: E402

__version__ = '0.1.0'
__all__ = ['KeypointLayout', '__version__']
