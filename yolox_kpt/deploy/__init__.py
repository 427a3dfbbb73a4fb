"""MMDeploy support: the YOLOXKptHead rewriter and the keypoint-detection task.

Imported by deploy configs (``codebase_config.module=['yolox_kpt.deploy']``), never by
``yolox_kpt`` itself, so training needs no mmdeploy.
"""
try:
    import mmdeploy  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        'yolox_kpt.deploy needs mmdeploy: `make install` installs it, or '
        '`pip install -e ".[train,deploy]" && pip install --no-deps mmdeploy==1.3.1` '
        '(see docs/install.md)') from e

from ..compat import default_to_torchscript_onnx_export  # noqa: E402
from .keypoint_detection import End2EndKptModel, KeypointDetection  # noqa: E402
from .models import dense_heads  # noqa: E402,F401

# mmdeploy's own tools/deploy.py calls torch2onnx in this process after importing us.
default_to_torchscript_onnx_export()

__all__ = ['KeypointDetection', 'End2EndKptModel']
