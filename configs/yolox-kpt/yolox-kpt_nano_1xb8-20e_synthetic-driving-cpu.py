# The CPU recipe `make demo` trains: YOLOX-nano with keypoints on the synthetic driving set,
# at 320x320, in about 13 minutes on 2 cores. Short schedules learn faster without Mosaic,
# MixUp, RandomAffine and multi-scale batches (they pay off over hundreds of epochs; measured
# here: with RandomAffine scale jitter and 256-384 batches, box mAP 0.46 instead of 0.51 after
# the same 18 epochs), with AdamW instead of YOLOX's SGD, and with no EMA. The network is
# yolox-kpt_nano_8xb8-300e_synthetic-driving.py's (mmdet's nano widths, depthwise convolutions).
_base_ = '../_base_/datasets/synthetic_driving_keypoints.py'

img_scale = (320, 320)  # width, height
max_epochs = 20
model = dict(
    backbone=dict(deepen_factor=0.33, widen_factor=0.25, use_depthwise=True),
    neck=dict(in_channels=[64, 128, 256], out_channels=64, num_csp_blocks=1,
              use_depthwise=True),
    # One input size: multi-scale batches (YOLOX's 320-640 jitter) pay off over long
    # schedules, not over 18 epochs.
    data_preprocessor=dict(batch_augments=None),
    # L1 on offsets pulls far-off keypoints in (OKS has almost no gradient there); OKS then
    # refines them at the object's scale.
    bbox_head=dict(in_channels=64, feat_channels=64, use_depthwise=True,
                   loss_kpt_oks=dict(type='OKSLoss', loss_weight=20.0),
                   loss_kpt_l1=dict(type='L1Loss', loss_weight=2.0)))

# the dataset base's pipeline without the image-mixing steps, at this size
train_pipeline = [
    dict(step, scale=img_scale) if step['type'] == 'Resize' else step
    for step in _base_.train_pipeline if step['type'] not in ('Mosaic', 'RandomAffine', 'MixUp')
]
test_pipeline = [
    dict(type='LoadImageFromFileChecked'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
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
