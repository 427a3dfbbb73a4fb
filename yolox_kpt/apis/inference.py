"""One inference call over a PyTorch checkpoint or an exported model."""
import os.path as osp
from typing import Optional

import numpy as np

from ..keypoint_layout import KeypointLayout
from ..runtime import Detections


class KptInferencer:
    """BGR image in, :class:`~yolox_kpt.runtime.Detections` in original pixels out.

    ``model`` is either a config (``.py``, then ``checkpoint`` is its weights; the config's
    test pipeline without its annotation loading is the preprocessing) or an exported model
    (``end2end.onnx`` / a TensorRT engine, with ``yolox_kpt_runtime.json`` beside it), so
    demos and tools treat PyTorch and deployed models alike.

    Args:
        model (str): config file or exported model file.
        checkpoint (str, optional): weights, for a config.
        device (str): 'cpu' or 'cuda' ('cuda:0' ...).
    """

    def __init__(self, model: str, checkpoint: Optional[str] = None,
                 device: str = 'cpu') -> None:
        if not osp.isfile(model):
            raise FileNotFoundError(f'{model}: no such config or exported model')
        self.is_pytorch = model.endswith('.py')
        if self.is_pytorch:
            if checkpoint is None:
                raise ValueError(f'{model} is a config: give its checkpoint too')
            self._init_pytorch(model, checkpoint, device)
        else:
            from ..runtime import KeypointDetector
            self.detector = KeypointDetector(model, device=device.split(':')[0])
            self.layout = KeypointLayout.from_config(self.detector.meta['keypoint_layout'])

    def _init_pytorch(self, config: str, checkpoint: str, device: str) -> None:
        from mmcv.transforms import Compose
        from mmdet.apis import init_detector
        from mmengine.config import Config

        import yolox_kpt  # noqa: F401  (registers the head and transforms)
        cfg = Config.fromfile(config)
        self.model = init_detector(cfg, checkpoint, device=device)
        self.layout = KeypointLayout.from_config(cfg.keypoint_layout)
        steps = [dict(s) for s in cfg.test_dataloader.dataset.pipeline
                 if 'Annotations' not in s['type']]
        steps[0] = dict(type='mmdet.LoadImageFromNDArray')
        self.pipeline = Compose(steps)

    @property
    def class_names(self):
        return self.layout.classes

    def __call__(self, image: np.ndarray, score_thr: float = 0.3) -> Detections:
        """Detections with score > ``score_thr`` on one BGR uint8 image (H, W, 3)."""
        if not self.is_pytorch:
            return self.detector(image, score_thr=score_thr)
        import torch
        data = self.pipeline(dict(img=image, img_id=0))
        data = dict(inputs=[data['inputs']], data_samples=[data['data_samples']])
        with torch.no_grad():
            pred = self.model.test_step(data)[0].pred_instances
        keep = pred.scores > score_thr
        kpts = torch.cat([pred.keypoints[keep], pred.keypoint_scores[keep][..., None]], -1)
        return Detections(boxes=pred.bboxes[keep].cpu().numpy(),
                          scores=pred.scores[keep].cpu().numpy(),
                          labels=pred.labels[keep].cpu().numpy().astype(np.int64),
                          keypoints=kpts.cpu().numpy(), class_names=self.layout.classes,
                          keypoint_names=self.layout.keypoint_names)
