"""``KeypointDetector``: image in, boxes/labels/scores/keypoints in original pixels out."""
import json
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .backends import build_backend
from .preprocess import Preprocess

META_FILE = 'yolox_kpt_runtime.json'


@dataclass
class Detections:
    """One image's detections, in original-image pixels.

    Attributes:
        boxes: (N, 4) x1 y1 x2 y2. scores: (N,). labels: (N,) int.
        keypoints: (N, K_total, 3) x, y, score; slots the class does not own are 0.
        class_names: names by label. keypoint_names: names by slot.
    """
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    class_names: Tuple[str, ...]
    keypoint_names: Tuple[str, ...]

    def __len__(self) -> int:
        return len(self.scores)


class KeypointDetector:
    """An exported model (``end2end.onnx`` or a TensorRT engine) with its preprocessing.

    Args:
        model (str): ``.onnx`` (ONNX Runtime) or ``.engine``/``.plan`` (TensorRT).
        meta (str, optional): ``yolox_kpt_runtime.json``; default: beside the model.
        device (str): 'cpu' or 'cuda' (ONNX Runtime's CUDA provider; TensorRT is CUDA).
        plugin (str, optional): mmdeploy's TensorRT op library, for engines of the
            TensorRT 8 configs (TRTBatchedNMS); found automatically when mmdeploy is
            installed.
    """

    def __init__(self, model: str, meta: Optional[str] = None, device: str = 'cpu',
                 plugin: Optional[str] = None) -> None:
        meta = meta or osp.join(osp.dirname(osp.abspath(model)), META_FILE)
        if not osp.isfile(meta):
            raise FileNotFoundError(f'{meta}: not found; tools/deploy.py writes it beside '
                                    'the exported model')
        with open(meta) as f:
            self.meta = json.load(f)
        self.preprocess = Preprocess.from_meta(self.meta['preprocess'])
        self.class_names = tuple(self.meta['keypoint_layout']['classes'])
        self.keypoint_names = tuple(self.meta['keypoint_names'])
        self.backend = build_backend(model, device, plugin)
        self.static_shape = self.meta.get('static_input_shape')

    def infer(self, inputs: np.ndarray) -> List[np.ndarray]:
        """Raw outputs (dets, labels, keypoints) for a (B, 3, H, W) float32 input."""
        if inputs.ndim != 4 or inputs.shape[1] != 3:
            raise ValueError(f'input must be (B, 3, H, W), got {inputs.shape}')
        if self.static_shape and list(inputs.shape[2:]) != self.static_shape[::-1]:
            raise ValueError(f'this model was exported for a fixed {self.static_shape[0]}x'
                             f'{self.static_shape[1]} input, got {inputs.shape[3]}x'
                             f'{inputs.shape[2]}')
        return self.backend(inputs.astype(np.float32, copy=False))

    def __call__(self, image: np.ndarray, score_thr: float = 0.3) -> Detections:
        """Detect on one BGR uint8 image (H, W, 3)."""
        inputs, scale = self.preprocess(image)
        dets, labels, keypoints = self.infer(inputs)
        keep = dets[0, :, 4] > max(score_thr, 0.0)
        kpts = keypoints[0][keep].astype(np.float32)
        kpts[..., :2] /= scale
        return Detections(boxes=dets[0, keep, :4] / np.tile(scale, 2),
                          scores=dets[0, keep, 4], labels=labels[0][keep].astype(np.int64),
                          keypoints=kpts, class_names=self.class_names,
                          keypoint_names=self.keypoint_names)
