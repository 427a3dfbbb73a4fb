"""Run an exported yolox-kpt model without mmdet: ONNX Runtime or a TensorRT engine.

Needs numpy, opencv and the backend's package only (onnxruntime, or tensorrt + torch for
CUDA buffers). ``tools/deploy.py`` writes ``yolox_kpt_runtime.json`` beside the model: the
preprocessing, class names and keypoint layout this module needs.

Example:
    >>> from yolox_kpt.runtime import KeypointDetector
    >>> detector = KeypointDetector('work_dirs/deploy/end2end.onnx')
    >>> result = detector(cv2.imread('frame.jpg'), score_thr=0.3)
    >>> result.boxes, result.labels, result.scores, result.keypoints  # original pixels
"""
from .detector import Detections, KeypointDetector
from .preprocess import Preprocess

__all__ = ['KeypointDetector', 'Detections', 'Preprocess']
