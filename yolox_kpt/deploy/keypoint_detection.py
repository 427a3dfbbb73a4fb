"""MMDeploy task for keypoint detection with mmdet models, and its backend model.

mmdeploy's ``Task`` enum is closed, so the task is registered in mmdet's task registry
under ``PoseDetection`` (the enum value mmdeploy uses for keypoint models; mmdet's own
codebase has no task of that name). Deploy configs say
``codebase_config=dict(type='mmdet', task='PoseDetection', module=['yolox_kpt.deploy'])``.
"""
from copy import deepcopy
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from mmdeploy.codebase.mmdet.deploy.object_detection import MMDET_TASK, ObjectDetection
from mmdeploy.codebase.mmdet.deploy.object_detection_model import End2EndModel
from mmdeploy.utils import Task, get_backend, get_input_shape
from mmengine.structures import BaseDataElement, InstanceData
from torch import Tensor

from ..runtime.contract import OUTPUT_NAMES, REQUIRED_OUTPUTS, RuntimeMeta, unpack_outputs
from .pipeline import static_test_pipeline


@MMDET_TASK.register_module(Task.POSE_DETECTION.value)
class KeypointDetection(ObjectDetection):
    """``ObjectDetection`` whose backend model also returns ``pred_instances.keypoints``,
    ``keypoint_scores`` and (models that output it) ``keypoint_visibility``, so mmdeploy's
    test/visualise paths and ``CocoKptMetric`` work on an exported model."""

    def build_backend_model(self,
                            model_files: Optional[Sequence[str]] = None,
                            data_preprocessor_updater: Optional[Callable] = None,
                            **kwargs) -> torch.nn.Module:
        data_preprocessor = deepcopy(self.model_cfg.model.get('data_preprocessor', {}))
        if data_preprocessor_updater is not None:
            data_preprocessor = data_preprocessor_updater(data_preprocessor)
        data_preprocessor.setdefault('type', 'mmdet.DetDataPreprocessor')
        model = End2EndKptModel(get_backend(self.deploy_cfg), model_files, self.device,
                                self.deploy_cfg, model_cfg=self.model_cfg,
                                data_preprocessor=data_preprocessor)
        return model.to(self.device).eval()

    def create_input(self, imgs: Union[str, np.ndarray, Sequence],
                     input_shape: Optional[Sequence[int]] = None,
                     data_preprocessor: Optional[torch.nn.Module] = None):
        """As ``ObjectDetection.create_input``, except that a static shape letterboxes.

        mmdeploy resizes to a static shape without keeping the aspect ratio; here the
        config's keep-ratio ``Resize`` and a ``Pad`` to the shape run instead
        (:func:`~yolox_kpt.deploy.pipeline.static_test_pipeline`, which the runtime's
        preprocessing reproduces). A static deploy config's shape is used when
        ``input_shape`` is None: the exported graph takes no other.
        """
        if input_shape is None:
            input_shape = get_input_shape(self.deploy_cfg)
        if input_shape is None:
            return super().create_input(imgs, None, data_preprocessor)
        model_cfg = self.model_cfg
        self.model_cfg = static_model_config(model_cfg, input_shape)
        try:
            # with no shape, mmdeploy leaves the (already static) pipeline as it is
            return super().create_input(imgs, None, data_preprocessor)
        finally:
            self.model_cfg = model_cfg

    def get_visualizer(self, name: str, save_dir: str):
        """The config's visualizer, told the classes and keypoint layout of the config
        (mmdeploy would look them up in the dataset class, which has none of its own)."""
        from ..apis.layout import config_layout
        visualizer = super(ObjectDetection, self).get_visualizer(name, save_dir)
        layout = config_layout(self.model_cfg)
        visualizer.dataset_meta = dict(classes=layout.classes,
                                       keypoint_layout=layout.to_config())
        return visualizer


def static_model_config(model_cfg, input_shape: Sequence[int]):
    """A copy of ``model_cfg`` whose test pipelines (``test_pipeline`` and the test and
    val dataloaders') letterbox to the static ``input_shape`` (w, h)."""
    cfg = deepcopy(model_cfg)
    cfg.test_pipeline = static_test_pipeline(cfg.test_pipeline, input_shape)
    for name in ('test_dataloader', 'val_dataloader'):
        dataset = cfg.get(name, {}).get('dataset', {})
        if 'pipeline' in dataset:
            dataset.pipeline = static_test_pipeline(dataset.pipeline, input_shape)
    return cfg


class End2EndKptModel(End2EndModel):
    """Backend model for graphs with the export contract's ``OUTPUT_NAMES`` (or its first
    three: a model exported before ``keypoint_visibility``, or without it)."""

    def _init_wrapper(self, backend, backend_files: Sequence[str], device: str) -> None:
        """mmdeploy's wrapper, reading the outputs the model has: those of its runtime meta
        (ONNX metadata or the sidecar beside it), not the deploy config's, which name
        ``keypoint_visibility`` also for a model exported before it."""
        try:
            self.output_names = list(RuntimeMeta.read(backend_files[0]).outputs)
        except FileNotFoundError:  # no meta anywhere: the deploy config's names
            pass
        super()._init_wrapper(backend, backend_files, device)

    def forward(self,
                inputs: Tensor,
                data_samples: List[BaseDataElement],
                mode: str = 'predict',
                **kwargs) -> List[BaseDataElement]:
        """Run the backend and fill ``pred_instances`` in original-image pixels.

        Args:
            inputs (Tensor): (B, 3, H, W) preprocessed batch.
            data_samples (list): One per image, with ``scale_factor`` in the metainfo.

        Returns:
            list: ``data_samples`` with ``pred_instances`` (``bboxes``, ``scores``,
            ``labels``, ``keypoints``, ``keypoint_scores`` and, when the model outputs it,
            ``keypoint_visibility`` (N, K, 3) float32).
        """
        if mode != 'predict':
            raise ValueError(f'a deployed model only predicts, mode={mode!r}')
        outputs = self.predict(inputs.contiguous())
        if len(outputs) not in (len(REQUIRED_OUTPUTS), len(OUTPUT_NAMES)):
            raise ValueError(f'the backend model returned {len(outputs)} outputs, expected '
                             f'{OUTPUT_NAMES}: was it exported with a yolox-kpt deploy config?')
        out = unpack_outputs(*(torch.as_tensor(o) for o in outputs))
        for i, sample in enumerate(data_samples):
            keep = out['scores'][i] > 0
            scale = _scale_factor(sample.metainfo).to(out['bboxes'].device,
                                                      out['bboxes'].dtype)
            fields = {k: v[i][keep] for k, v in out.items()}
            # coordinates back to the original image; scores and probabilities have no unit
            fields['bboxes'] = fields['bboxes'] / scale.repeat(2)
            fields['keypoints'] = fields['keypoints'] / scale
            fields['labels'] = fields['labels'].long()
            if 'keypoint_visibility' in fields:  # fp16 engines: float32, as in PyTorch
                fields['keypoint_visibility'] = fields['keypoint_visibility'].float()
            sample.pred_instances = InstanceData(**fields)
        return data_samples


def _scale_factor(metainfo: dict) -> Tensor:
    """(2,) w, h scale from the test pipeline's Resize (ones when absent)."""
    scale = metainfo.get('scale_factor', (1.0, 1.0))
    return torch.as_tensor(np.asarray(scale, dtype=np.float32).reshape(-1)[:2])
