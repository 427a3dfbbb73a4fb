"""yolox-kpt: keypoints for MMDetection's YOLOX, as a plugin.

``custom_imports = dict(imports=['yolox_kpt'], allow_failed_imports=False)`` in a config
registers everything into mmdet's registries and applies the compatibility shims that
mmdet's stock tools need on this stack (listed in ``yolox_kpt.compat.SHIMS``). Where mmdet
is not installed (a deployment target running ``yolox_kpt.runtime``), nothing is
registered and the runtime still imports.
"""
import importlib.util

from .keypoint_layout import KeypointLayout

__version__ = '0.1.0'
__all__ = ['KeypointLayout', '__version__']

if importlib.util.find_spec('mmdet') is not None:
    from . import compat

    compat.apply_all()

    from . import (checkpoint, datasets, engine, evaluation, models,  # noqa: E402,F401
                   structures, visualization)
