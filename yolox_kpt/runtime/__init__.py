"""Run an exported yolox-kpt model without mmdet: ONNX Runtime or a TensorRT engine.

Needs numpy, opencv and the backend's package only (onnxruntime, or tensorrt + cuda-python
for device buffers; no torch). An exported ``.onnx`` carries its :class:`RuntimeMeta`
(preprocessing and keypoint layout) in its metadata; ``tools/deploy.py`` also writes it beside the model as
``yolox_kpt_runtime.json``, which engines need (see :mod:`yolox_kpt.runtime.contract`).

Example:
    >>> from yolox_kpt.runtime import KeypointDetector
    >>> detector = KeypointDetector('work_dirs/deploy/end2end.onnx')
    >>> dets = detector(cv2.imread('frame.jpg'), score_thr=0.3)  # original pixels
    >>> dets.bboxes, dets.labels, dets.scores, dets.keypoints, dets.keypoint_scores

With a camera calibration (:mod:`yolox_kpt.runtime.calibration`), tyre and wheel contact
points become positions on the road in metres (:mod:`yolox_kpt.runtime.geometry`):

    >>> calib = load_calibration('configs/calibration/example_1280x720.json')
    >>> ground_estimates(dets, calib)[0]['estimate'].distance_m
"""
from .calibration import CalibrationError, CameraCalibration, load_calibration
from .contract import (ONNX_METADATA_KEY, OUTPUT_NAMES, SIDECAR_FILE, RuntimeMeta,
                       RuntimeMetaError, unpack_outputs)
from .detections import Detections
from .detector import KeypointDetector
from .geometry import (DEFAULT_PRIORS, GroundEstimate, SizePrior, box_bottom_estimate,
                       estimate_labels, estimates_json, ground_estimates,
                       vehicle_ground_estimate)
from .mining_signals import (Ranking, Signal, flip_disagreement, frame_fingerprint,
                             geometry_implausibility, keypoint_uncertainty, low_margin,
                             near_duplicates, rank_frames, temporal_flicker, unflip_detections)
from .preprocess import Preprocess
from .tracking import KeypointTracker, TrackedDetections, track_labels

__all__ = ['KeypointDetector', 'Detections', 'Preprocess', 'RuntimeMeta', 'RuntimeMetaError',
           'OUTPUT_NAMES', 'SIDECAR_FILE', 'ONNX_METADATA_KEY', 'unpack_outputs',
           'CameraCalibration', 'CalibrationError', 'load_calibration', 'GroundEstimate',
           'SizePrior', 'DEFAULT_PRIORS', 'box_bottom_estimate', 'vehicle_ground_estimate',
           'ground_estimates', 'estimates_json', 'estimate_labels', 'KeypointTracker',
           'TrackedDetections', 'track_labels', 'Ranking', 'Signal', 'flip_disagreement',
           'frame_fingerprint', 'geometry_implausibility', 'keypoint_uncertainty', 'low_margin',
           'near_duplicates', 'rank_frames', 'temporal_flicker', 'unflip_detections']
