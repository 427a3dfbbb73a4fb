# YOLOX-tiny with keypoints on the synthetic driving set, trained on a CPU: the nano CPU recipe
# (AdamW, no Mosaic/MixUp/RandomAffine, one input size) with tiny's backbone, neck and head
# (mmdet's yolox_tiny widths, no depthwise convolutions), OKS-aware SimOTA and the L1
# keypoint loss alone: in the 6-epoch ablation (tools/analysis/ablate_kpt_learning.py, README)
# adding the OKS loss cost 0.2 box AP and 0.08 tyre AP at this scale, and OKS-aware SimOTA
# tripled the cyclist keypoint AP. The 320x256 frames are padded to a multiple of 32
# (320x256), not to a square: a fifth less compute per image than 320x320.
_base_ = './yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'

img_scale = (320, 320)  # width, height: the largest side; frames keep their aspect ratio
model = dict(
    backbone=dict(deepen_factor=0.33, widen_factor=0.375, use_depthwise=False),
    neck=dict(in_channels=[96, 192, 384], out_channels=96, num_csp_blocks=1,
              use_depthwise=False),
    bbox_head=dict(in_channels=96, feat_channels=96, use_depthwise=False, loss_kpt_oks=None),
    train_cfg=dict(assigner=dict(type='KptSimOTAAssigner', oks_weight=3.0,
                                 dynamic_k_indicator='oks')))

pad = dict(type='Pad', size_divisor=32, pad_val=dict(img=(114.0, 114.0, 114.0)))
train_pipeline = [
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    pad,
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackKptDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    pad,
    dict(type='LoadKptAnnotations', with_bbox=True),
    dict(type='PackKptDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
