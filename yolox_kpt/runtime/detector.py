"""``KeypointDetector``: image in, :class:`Detections` in original pixels out."""
import os.path as osp
from typing import List, Optional

import numpy as np

from .backends import build_backend
from .contract import RuntimeMeta, unpack_outputs
from .detections import Detections


class KeypointDetector:
    """An exported model (``end2end.onnx`` or a TensorRT engine) with its preprocessing.

    Args:
        model (str): ``.onnx`` (ONNX Runtime) or ``.engine``/``.plan`` (TensorRT).
        meta (str, optional): a ``yolox_kpt_runtime.json`` to use. Default: an ``.onnx``'s
            own metadata, else the ``yolox_kpt_runtime.json`` beside the model (engines).
        device (str): 'cpu', 'cuda' or 'cuda:N' (ONNX Runtime's CUDA provider; an engine
            runs on CUDA device N, 0 unless given).
        plugin (str, optional): mmdeploy's ``libmmdeploy_tensorrt_ops.so``, for engines of
            the TensorRT < 8.5 deploy configs (TRTBatchedNMS); where mmdeploy is installed,
            its library is tried when an engine does not load without it. Engines of the
            TensorRT >= 8.5 configs need none.
        threads (int, optional): ONNX Runtime's intra-op threads (None: its default, one a
            core); engines ignore it.

    Attributes:
        meta (RuntimeMeta): layout, preprocessing and input shape of the export.
        layout (KeypointLayout): ``meta.layout``.
    """

    def __init__(self, model: str, meta: Optional[str] = None, device: str = 'cpu',
                 plugin: Optional[str] = None, threads: Optional[int] = None) -> None:
        if not osp.isfile(model):
            raise FileNotFoundError(f'{model}: no such model file')
        self.meta = RuntimeMeta.read(model, meta)
        self.layout = self.meta.layout
        self.preprocess = self.meta.preprocess
        self.class_names = self.layout.classes
        self.keypoint_names = self.layout.keypoint_names
        # the meta says which outputs the model has (no keypoint_visibility in older exports)
        self.backend = build_backend(model, device, plugin, threads=threads,
                                     outputs=self.meta.outputs)
        self.static_shape = self.meta.static_input_shape

    def infer(self, inputs: np.ndarray) -> List[np.ndarray]:
        """Raw outputs (``meta.outputs``: ``OUTPUT_NAMES``, or its first three for a model
        without ``keypoint_visibility``) for a (B, 3, H, W) float32 input."""
        if inputs.ndim != 4 or inputs.shape[1] != 3:
            raise ValueError(f'input must be (B, 3, H, W), got {inputs.shape}')
        if self.static_shape and tuple(inputs.shape[2:]) != tuple(self.static_shape[::-1]):
            raise ValueError(f'this model was exported for a fixed {self.static_shape[0]}x'
                             f'{self.static_shape[1]} input, got {inputs.shape[3]}x'
                             f'{inputs.shape[2]}')
        return self.backend(inputs.astype(np.float32, copy=False))

    def __call__(self, image: np.ndarray, score_thr: float = 0.3) -> Detections:
        """Detect on one BGR uint8 image (H, W, 3); detections with score > ``score_thr``.
        ``keypoint_visibility`` is None when the model does not output it."""
        inputs, scale = self.preprocess(image)
        out = {k: v[0] for k, v in unpack_outputs(*self.infer(inputs)).items()}
        keep = out['scores'] > max(score_thr, 0.0)
        # coordinates back to original pixels; scores and probabilities have no unit
        out['bboxes'] = out['bboxes'] / np.tile(scale, 2)
        out['keypoints'] = out['keypoints'] / scale
        return Detections(**{k: v[keep] for k, v in out.items()}, layout=self.layout)
