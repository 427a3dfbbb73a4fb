"""Loading keypoint annotations into boxes that carry them."""
import numpy as np
from mmdet.datasets.transforms import LoadAnnotations
from mmdet.registry import TRANSFORMS

from ...structures import KeypointBoxes


@TRANSFORMS.register_module()
class LoadKptAnnotations(LoadAnnotations):
    """``LoadAnnotations`` whose ``gt_bboxes`` are :class:`KeypointBoxes`.

    Needs ``instance['keypoints']`` (K_total, 3) from :class:`CocoKptDataset`. Because the
    keypoints live inside ``gt_bboxes``, mmdet's stock Mosaic, RandomAffine, MixUp,
    RandomFlip, Resize, Pad and FilterAnnotations move and filter them with their boxes.

    Added key: ``gt_bboxes`` is a ``KeypointBoxes`` with ``keypoints`` (N, K_total, 2),
    ``keypoints_visible`` (N, K_total) and the dataset's ``flip_indices``.
    """

    def _load_bboxes(self, results: dict) -> None:
        super()._load_bboxes(results)
        instances = results.get('instances', [])
        flip_indices = results.get('flip_indices')
        num_kpts = len(flip_indices) if flip_indices is not None else 0
        kpts = np.array([inst['keypoints'] for inst in instances],
                        dtype=np.float32).reshape(len(instances), num_kpts, 3)
        boxes = results['gt_bboxes']
        box_tensor = boxes.tensor if hasattr(boxes, 'tensor') else boxes
        results['gt_bboxes'] = KeypointBoxes(
            box_tensor, kpts[..., :2], kpts[..., 2], flip_indices=flip_indices)
