# The `make demo` recipe with the light keypoint branch: keypoints read the box branch's
# features through two 1x1 convs, no keypoint conv stack of their own (see YOLOXKptHead,
# kpt_feat='reg'). Its cost and accuracy against the full branch are in the README of commit 260674c.
_base_ = '../yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'

model = dict(bbox_head=dict(kpt_feat='reg'))
