"""The driving data's classes and keypoints, defined once.

Real recordings (``converters/driving.py``, from per-frame camera labels) and the synthetic
scenes (``synthetic_driving.py``) are two sources of one schema: both import it from here,
so the real-data converter does not depend on the synthetic painter.

* ``vehicle``: the whole vehicle; keypoints are the ground-contact points (bottom centre)
  of its four tyres, named by the vehicle's *own* sides, as its driver sees them (so a
  horizontal flip swaps left and right).
* ``vehicle_face``: the visible head (front) or tail (rear) face of a vehicle; no keypoints.
  ``configs/_base_/datasets/driving_layout_head_tail.py`` splits it into ``vehicle_head``
  and ``vehicle_tail`` for real data (the camera label converter writes either, as the
  layout it is given has); the synthetic set and the demo keep this one class.
* ``pedestrian``: no keypoints.
* ``cyclist``: bicycle plus rider; the ground-contact points of the front wheel (the one in
  the riding direction) and the rear wheel.

The camera label format is ``docs/camera_label_schema.md``. Configs write the same layout
as a top-level ``keypoint_layout``; ``tests/data_tools/test_driving_schema.py`` keeps the
two equal.
"""
from typing import Dict, List, Tuple

from ..keypoint_layout import KeypointLayout
from .coco import coco_categories as _layout_categories

CLASSES: Tuple[str, ...] = ('vehicle', 'vehicle_face', 'pedestrian', 'cyclist')

#: Keypoint names per class, as in the COCO file's ``categories[*].keypoints``.
KEYPOINTS: Dict[str, Tuple[str, ...]] = {
    'vehicle': ('front_left_tyre', 'front_right_tyre', 'rear_left_tyre',
                'rear_right_tyre'),
    'vehicle_face': (),
    'pedestrian': (),
    'cyclist': ('front_wheel', 'rear_wheel'),
}

#: 1-based keypoint pairs per class, as COCO's ``skeleton``: the two axles, the two sides.
SKELETONS: Dict[str, Tuple[Tuple[int, int], ...]] = {
    'vehicle': ((1, 2), (3, 4), (1, 3), (2, 4)),
    'cyclist': ((1, 2), ),
}

#: OKS sigma per keypoint name. A contact point is a small, well-defined spot (COCO's
#: sharpest person points, the eyes, have 0.025; its wrists 0.062).
SIGMAS: Dict[str, float] = {
    'front_left_tyre': 0.05,
    'front_right_tyre': 0.05,
    'rear_left_tyre': 0.05,
    'rear_right_tyre': 0.05,
    'front_wheel': 0.05,
    'rear_wheel': 0.05,
}

#: The driving layout: 6 slots (4 tyres, 2 wheels), flip pairs from the left/right names.
DRIVING_LAYOUT: KeypointLayout = KeypointLayout.build(
    CLASSES, KEYPOINTS, SIGMAS, skeletons=SKELETONS, source=__name__)

#: COCO ``supercategory`` of every driving class.
SUPERCATEGORY = 'road'


def coco_categories() -> List[dict]:
    """COCO ``categories`` of the driving layout: ids 1..4 in :data:`CLASSES` order, each
    with its keypoint names and 1-based skeleton."""
    return _layout_categories(DRIVING_LAYOUT, SUPERCATEGORY)
