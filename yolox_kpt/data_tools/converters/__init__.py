"""Format converters: camera labels, LabelMe and YOLO pose to and from COCO keypoint files.
The command-line tools are in ``tools/dataset_converters/``. Imports here stay cheap:
stdlib, numpy and OpenCV only."""
from ..coco import CocoFileError, ConverterError, load_coco
from .common import load_layout
from .driving import CameraLabelError, convert_camera_labels
from .labelme import labelme_to_coco, parse_labelme_shapes
from .yolo_pose import coco_to_yolo_pose, yolo_pose_to_coco

__all__ = ['CameraLabelError', 'CocoFileError', 'ConverterError', 'coco_to_yolo_pose',
           'convert_camera_labels', 'labelme_to_coco', 'load_coco', 'load_layout',
           'parse_labelme_shapes', 'yolo_pose_to_coco']
