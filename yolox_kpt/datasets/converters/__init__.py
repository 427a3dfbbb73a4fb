"""Dataset converters (COCO keypoint files in and out); the command-line tools are in
``tools/dataset_converters/``. Imports here stay cheap: stdlib, numpy and OpenCV only."""
from .common import CocoFileError, ConverterError, load_coco, load_layout
from .driving import (CameraLabelError, assign_by_ratio, check_consistency, coco_subset,
                      convert_camera_labels, select_frames)
from .labelme import labelme_to_coco, parse_labelme_shapes
from .video import images_to_video, video_to_gif
from .yolo_pose import coco_to_yolo_pose, yolo_pose_to_coco

__all__ = ['CameraLabelError', 'CocoFileError', 'ConverterError', 'assign_by_ratio',
           'check_consistency', 'coco_subset', 'convert_camera_labels', 'coco_to_yolo_pose',
           'images_to_video', 'labelme_to_coco', 'load_coco', 'load_layout',
           'parse_labelme_shapes', 'select_frames', 'video_to_gif', 'yolo_pose_to_coco']
