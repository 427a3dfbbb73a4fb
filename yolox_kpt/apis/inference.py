"""One inference call over a PyTorch checkpoint or an exported model."""
import os.path as osp
from typing import Optional

import numpy as np

from ..keypoint_layout import KeypointLayoutError
from ..runtime import Detections
from .layout import resolve_layout


class KptInferencer:
    """BGR image in, :class:`~yolox_kpt.runtime.Detections` in original pixels out.

    ``model`` is either a config (``.py``, then ``checkpoint`` is its weights; the config's
    test pipeline without its annotation loading is the preprocessing) or an exported model
    (``end2end.onnx``, or a TensorRT engine with ``yolox_kpt_runtime.json`` beside it), so
    demos and tools treat PyTorch and deployed models alike.

    A config whose classes or keypoints differ from the layout the checkpoint was trained
    with is refused before the model is built; otherwise the checkpoint's layout (with the
    annotation file's skeletons) is the one used and returned.

    Args:
        model (str): config file or exported model file.
        checkpoint (str, optional): weights, for a config.
        device (str): 'cpu' or 'cuda' ('cuda:0' ...).
        threads (int, optional): an exported model's ONNX Runtime intra-op threads (None:
            its default, one a core).

    Attributes:
        layout (KeypointLayout): the model's classes and keypoint slots.

    Raises:
        KeypointLayoutError: the config's and the checkpoint's layouts differ.
    """

    def __init__(self, model: str, checkpoint: Optional[str] = None,
                 device: str = 'cpu', threads: Optional[int] = None) -> None:
        if not osp.isfile(model):
            raise FileNotFoundError(f'{model}: no such config or exported model')
        self.is_pytorch = model.endswith('.py')
        if self.is_pytorch:
            if checkpoint is None:
                raise ValueError(f'{model} is a config: give its checkpoint too')
            self._init_pytorch(model, checkpoint, device)
        else:
            from ..runtime import KeypointDetector
            self.detector = KeypointDetector(model, device=device.split(':')[0], threads=threads)
            self.layout = self.detector.layout

    def _init_pytorch(self, config: str, checkpoint: str, device: str) -> None:
        from mmcv.transforms import Compose
        from mmdet.apis import init_detector
        from mmengine.config import Config

        from .. import compat, datasets, models  # noqa: F401  (register head, transforms)
        compat.apply_all()  # init_detector loads the checkpoint: the safe loader
        cfg = Config.fromfile(config)
        self.layout = resolve_layout(cfg, checkpoint, config, checkpoint)
        self.model = init_detector(cfg, checkpoint, device=device)
        self.model.bbox_head.layout = self.layout
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
        return Detections.from_instances(pred[pred.scores > score_thr], self.layout)


def tool_inferencer(args, tool: str) -> KptInferencer:
    """The inferencer of a command-line tool's ``MODEL [CHECKPOINT] --device`` arguments.

    Args:
        args (argparse.Namespace): with ``model``, ``checkpoint`` and ``device``.
        tool (str): the tool's path, e.g. ``'tools/demo/image_demo.py'``.

    Raises:
        SystemExit: with the layout error's message (a config the checkpoint was not
            trained with is the user's mistake, not a crash: no traceback).
    """
    try:
        return KptInferencer(args.model, args.checkpoint, device=args.device,
                             threads=getattr(args, 'threads', None))
    except KeypointLayoutError as e:
        raise SystemExit(f'{tool}: {e}') from None
