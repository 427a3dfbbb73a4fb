# YOLOX-nano with keypoints on the synthetic driving set: mmdet's nano delta on our tiny.
_base_ = './yolox-kpt_tiny_8xb8-300e_synthetic-driving.py'

model = dict(
    backbone=dict(deepen_factor=0.33, widen_factor=0.25, use_depthwise=True),
    neck=dict(in_channels=[64, 128, 256], out_channels=64, num_csp_blocks=1,
              use_depthwise=True),
    bbox_head=dict(in_channels=64, feat_channels=64, use_depthwise=True))
