# The 4,000-frame tiny CPU recipe with bfloat16 autocast and channels-last weights: a
# training step takes about 0.6x the float32 time on this project's 2-core CPU (AVX512-BF16,
# no AMX), so the same 30-minute budget holds 7 epochs (3,500 iterations) instead of 4.
# With them, two keypoint convs (MMPose's stack; the one-conv default of tiny was as good in
# the 4-epoch float32 recipe) and the keypoint L1 loss at weight 5 instead of 2. Measured
# (README of commit 260674c, one run each, box mAP / tyre keypoint AP / wheel keypoint AP, training minutes):
# one conv, weight 2: 0.850 / 0.765 / 0.911, 27.3; weight 5: 0.839 / 0.785 / 0.908, 27.5;
# weight 10: 0.802 / 0.756 / 0.880, 26.6; two convs, weight 5 (this config): 0.835 / 0.816 /
# 0.936, 28.9.
# The 4,000 frames: see ablations/yolox-kpt_tiny_1xb8-4e_synthetic-driving-4k-cpu.py for how
# to generate them.
_base_ = './yolox-kpt_tiny_1xb8-20e_synthetic-driving-cpu.py'

data_root = 'data/synthetic_driving_4k/'
max_epochs = 7
train_dataloader = dict(dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

model = dict(bbox_head=dict(kpt_stacked_convs=2, loss_kpt_l1=dict(loss_weight=5.0)))
optim_wrapper = dict(type='CPUAutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                dict(type='ExactResumeHook'), dict(type='CorruptImageLogHook'),
                dict(type='ChannelsLastHook'), dict(type='ScheduleCheckHook')]

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00005, begin=1, T_max=max_epochs - 1, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
