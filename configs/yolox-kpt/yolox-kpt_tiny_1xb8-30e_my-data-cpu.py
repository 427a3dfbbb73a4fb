# A short CPU fine-tune of yolox-kpt_s_8xb8-300e_my-data.py (same data paths): YOLOX-tiny from
# mmdet's COCO YOLOX-tiny weights at 416x416, 30 epochs, without Mosaic, MixUp, RandomAffine
# and multi-scale batches (they pay off over hundreds of epochs, not over a few dozen; see
# yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py), AdamW, no EMA. A first model to look at
# on one machine, not a tuned recipe: its accuracy has not been measured here.
_base_ = './yolox-kpt_s_8xb8-300e_my-data.py'

img_scale = (416, 416)  # width, height
max_epochs = 30
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_tiny_8x8_300e_coco/'
             'yolox_tiny_8x8_300e_coco_20211124_171234-b4047906.pth')
model = dict(
    data_preprocessor=dict(batch_augments=None),
    backbone=dict(deepen_factor=0.33, widen_factor=0.375),
    neck=dict(in_channels=[96, 192, 384], out_channels=96),
    bbox_head=dict(in_channels=96, feat_channels=96))

# the recipe's pipelines at this size, training without the image-mixing steps
train_pipeline = [
    dict(step, scale=img_scale) if step['type'] == 'Resize' else step
    for step in _base_.train_pipeline if step['type'] not in ('Mosaic', 'RandomAffine', 'MixUp')
]
test_pipeline = [dict(step, scale=img_scale) if step['type'] == 'Resize' else step
                 for step in _base_.test_pipeline]
train_dataloader = dict(batch_size=8, num_workers=2, persistent_workers=True,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=5)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
# every value from max_epochs: override max_epochs here, not with --cfg-options alone
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00002, begin=1, T_max=max_epochs - 1,
         end=max_epochs, by_epoch=True, convert_to_iter_based=True),
]
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                dict(type='ExactResumeHook'), dict(type='CorruptImageLogHook'),
                dict(type='ScheduleCheckHook')]
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2),
                     logger=dict(interval=10))
auto_scale_lr = dict(enable=False)
