# YOLOX-tiny with keypoints on the synthetic driving set, trained on a CPU: the nano CPU recipe
# (AdamW, no Mosaic/MixUp/RandomAffine, one input size) with tiny's backbone, neck and head
# (mmdet's yolox_tiny widths, no depthwise convolutions), OKS-aware SimOTA and the L1
# keypoint loss alone: in the 6-epoch ablation (tools/analysis/ablate_kpt_learning.py, README of commit 260674c)
# adding the OKS loss cost 0.2 box AP and 0.08 tyre AP at this scale, and OKS-aware SimOTA
# tripled the cyclist keypoint AP. The 320x256 frames are padded to a multiple of 32
# (320x256), not to a square: a fifth less compute per image than 320x320.
# The CPU schedule (AdamW, warm-up then cosine, no EMA, seed 0) is the nano recipe's, written
# here again rather than inherited, so that neither size's recipe derives from the other.
_base_ = '../_base_/datasets/synthetic_driving_keypoints.py'

img_scale = (320, 320)  # width, height: the largest side; frames keep their aspect ratio
max_epochs = 20
model = dict(
    backbone=dict(deepen_factor=0.33, widen_factor=0.375, use_depthwise=False),
    neck=dict(in_channels=[96, 192, 384], out_channels=96, num_csp_blocks=1,
              use_depthwise=False),
    data_preprocessor=dict(batch_augments=None),
    bbox_head=dict(in_channels=96, feat_channels=96, use_depthwise=False, loss_kpt_oks=None,
                   loss_kpt_l1=dict(type='L1Loss', loss_weight=2.0)),
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
    dict(type='LoadImageFromFileChecked'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    pad,
    dict(type='LoadKptAnnotations', with_bbox=True),
    dict(type='PackKptDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(batch_size=8, num_workers=1, persistent_workers=True,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00005, begin=1, T_max=max_epochs - 1, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                dict(type='ExactResumeHook'), dict(type='CorruptImageLogHook'),
                dict(type='ScheduleCheckHook')]
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2),
                     logger=dict(interval=10))
auto_scale_lr = dict(enable=False)
randomness = dict(seed=0)
