# Driving-data recipe: the COCO person recipe (MMPose YOLOX-Pose-s schedule, OKS-aware SimOTA,
# load_from mmdet's COCO YOLOX-s detector: its vehicle/person features are a better start than
# ImageNet; see yolox-kpt_s_8xb32-300e_coco-person.py for the choices) on the driving layout:
# vehicles with 4 tyre ground-contact points, vehicle faces, pedestrians (no keypoints),
# cyclists with 2 wheel contact points. Edit data_root in the dataset base or pass the paths
# with --cfg-options.
_base_ = '../_base_/datasets/driving_keypoints.py'

max_epochs = 300
num_last_epochs = 20

model = dict(
    bbox_head=dict(loss_kpt_oks=dict(type='OKSLoss', loss_weight=30.0)),
    train_cfg=dict(assigner=dict(type='KptSimOTAAssigner', oks_weight=3.0,
                                 dynamic_k_indicator='oks')))
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_s_8x8_300e_coco/'
             'yolox_s_8x8_300e_coco_20211121_095711-4592a793.pth')

# the dataset base's pipeline (YOLOX's) with MMPose's milder RandomAffine
train_pipeline = [
    dict(step, scaling_ratio_range=(0.75, 1.0), max_rotate_degree=10.0)
    if step['type'] == 'RandomAffine' else step for step in _base_.train_pipeline
]
train_dataloader = dict(batch_size=32, num_workers=8, dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=10,
                 dynamic_intervals=[(max_epochs - num_last_epochs, 1)])
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.004, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0),
    clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = [
    dict(type='QuadraticWarmupLR', by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=0.0002, begin=5, T_max=max_epochs - num_last_epochs,
         end=max_epochs - num_last_epochs, by_epoch=True, convert_to_iter_based=True),
    dict(type='ConstantLR', by_epoch=True, factor=1, begin=max_epochs - num_last_epochs,
         end=max_epochs),
]
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=num_last_epochs, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         strict_load=False, priority=49),
    dict(type='SafeCheckpointHook'),
    dict(type='KeypointLayoutCheckHook'),
    dict(type='ExactResumeHook'),
    dict(type='CorruptImageLogHook'),
    dict(type='ScheduleCheckHook'),  # warns when max_epochs alone was overridden
]
auto_scale_lr = dict(base_batch_size=256)
