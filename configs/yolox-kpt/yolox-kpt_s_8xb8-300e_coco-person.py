# YOLOX-s with keypoints on COCO person keypoints (17 points): mmdet's YOLOX-s recipe
# (SimOTA, Mosaic/MixUp, 300 epochs, the last 15 without Mosaic, EMA) plus the keypoint
# branch, all of it in the dataset base.
_base_ = '../_base_/datasets/coco_person_keypoints.py'
