"""YOLOX's multi-scale batch resize, with keypoints."""
from typing import List, Tuple

from mmdet.models.data_preprocessors import BatchSyncRandomResize
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from torch import Tensor


@MODELS.register_module()
class KptBatchSyncRandomResize(BatchSyncRandomResize):
    """``BatchSyncRandomResize`` that scales ``gt_instances.keypoints`` like the boxes.

    The stock one rescales boxes only, which would leave keypoints at the old scale.
    """

    def forward(self, inputs: Tensor,
                data_samples: List[DetDataSample]) -> Tuple[Tensor, List[DetDataSample]]:
        h, w = inputs.shape[-2:]
        # Read the size this batch is resized to before super() draws the next one.
        target_h, target_w = self._input_size if self._input_size is not None else (h, w)
        inputs, data_samples = super().forward(inputs, data_samples)
        scale_x, scale_y = target_w / w, target_h / h
        if scale_x != 1 or scale_y != 1:
            for sample in data_samples:
                for field in ('gt_instances', 'ignored_instances'):
                    instances = sample.get(field)
                    if instances is not None and 'keypoints' in instances:
                        instances.keypoints = instances.keypoints * instances.keypoints.new_tensor(
                            [scale_x, scale_y])
        return inputs, data_samples
