"""Run an exported yolox-kpt model without mmdet: ONNX Runtime or a TensorRT engine.

Needs numpy, opencv and the backend's package only (onnxruntime, or tensorrt + torch for
CUDA buffers). An exported ``.onnx`` carries its :class:`RuntimeMeta` (preprocessing and
keypoint layout) in its metadata; ``tools/deploy.py`` also writes it beside the model as
``yolox_kpt_runtime.json``, which engines need (see :mod:`yolox_kpt.runtime.contract`).

Example:
    >>> from yolox_kpt.runtime import KeypointDetector
    >>> detector = KeypointDetector('work_dirs/deploy/end2end.onnx')
    >>> dets = detector(cv2.imread('frame.jpg'), score_thr=0.3)  # original pixels
    >>> dets.bboxes, dets.labels, dets.scores, dets.keypoints, dets.keypoint_scores
"""
from .contract import (ONNX_METADATA_KEY, OUTPUT_NAMES, SIDECAR_FILE, RuntimeMeta,
                       RuntimeMetaError, unpack_outputs)
from .detections import Detections
from .detector import KeypointDetector
from .preprocess import Preprocess

__all__ = ['KeypointDetector', 'Detections', 'Preprocess', 'RuntimeMeta', 'RuntimeMetaError',
           'OUTPUT_NAMES', 'SIDECAR_FILE', 'ONNX_METADATA_KEY', 'unpack_outputs']
