"""Packing keypoints into ``DetDataSample.gt_instances``."""
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes

from ...structures import KeypointBoxes
from .checked_loading import SKIPPED_KEY, take_skipped


@TRANSFORMS.register_module()
class PackKptDetInputs(PackDetInputs):
    """``PackDetInputs`` that also packs keypoints.

    ``gt_instances.keypoints`` (N, K_total, 2) float32 in the input image's pixels and
    ``gt_instances.keypoints_visible`` (N, K_total) float32, COCO's v in {0, 1, 2}.
    Keypoints outside the final image become v = 0 (a transform may have moved them out
    without clipping, e.g. ``RandomAffine(bbox_clip_border=False)``). ``gt_instances.bboxes``
    is a plain ``HorizontalBoxes`` again. Corrupt image files skipped in this process
    since the last packed sample (``LoadImageFromFileChecked(on_corrupt='skip')``) ride in
    the metainfo as ``skipped_corrupt_images`` (dict(count, names)) to the main process.
    """

    mapping_table = dict(PackDetInputs.mapping_table,
                         gt_keypoints='keypoints',
                         gt_keypoints_visible='keypoints_visible')

    def transform(self, results: dict) -> dict:
        boxes = results.get('gt_bboxes')
        if isinstance(boxes, KeypointBoxes):
            boxes.set_outside_invisible(results['img_shape'])
            results['gt_keypoints'] = boxes.keypoints.numpy()
            results['gt_keypoints_visible'] = boxes.keypoints_visible.numpy()
            results['gt_bboxes'] = HorizontalBoxes(boxes.tensor, clone=False)
        packed = super().transform(results)
        skipped = take_skipped()
        if skipped is not None:
            packed['data_samples'].set_metainfo({SKIPPED_KEY: skipped})
        return packed
