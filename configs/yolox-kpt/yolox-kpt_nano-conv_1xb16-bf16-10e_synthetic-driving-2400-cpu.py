# The recipe `make demo` trains (tools/demo_synthetic.py): the tiny CPU recipe with the
# bfloat16 settings of yolox-kpt_tiny_1xb8-bf16-7e_synthetic-driving-4k-cpu.py (autocast,
# channels-last, two keypoint convs, keypoint L1 weight 5), at YOLOX-nano's widths with plain
# 3x3 convolutions instead of nano's depthwise ones, on the demo's 800 synthetic frames.
# Why plain convs: on this 2-core CPU a depthwise conv costs about as much time as a plain
# one of the same width (a bfloat16 training step of 8 frames at 320x256: nano 0.155 s,
# tiny 0.23 s, these nano-width plain convs 0.55x tiny), and the plain ones learn much more
# per step. Measured on the demo's data (one run each, tools/train.py + tools/test.py, box
# mAP / tyre keypoint AP / wheel keypoint AP): tiny, 10 epochs of 8: 0.668 / 0.445 / 0.765;
# nano (depthwise), 15 epochs: 0.447 / 0.344; this network, 20 epochs of 8: 0.730 / 0.617 /
# 0.825; 25 epochs of 8: 0.752 / 0.667 / 0.818; 30 epochs of 16 at lr 0.006 (this config,
# about the same time as 25 epochs of 8: a step of 16 frames takes about 1.7x one of 8):
# 0.763 / 0.672 / 0.822. `make demo`'s floor: box mAP >= 0.75, every keypoint AP >= 0.5
# (docs/records/demo.json has what the demo measured).
_base_ = './yolox-kpt_tiny_1xb8-20e_synthetic-driving-cpu.py'

data_root = 'data/synthetic_driving/'
max_epochs = 30
model = dict(
    backbone=dict(widen_factor=0.25),
    neck=dict(in_channels=[64, 128, 256], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64, kpt_stacked_convs=2,
                   loss_kpt_l1=dict(loss_weight=5.0)))
optim_wrapper = dict(type='CPUAutocastOptimWrapper', dtype='bfloat16', optimizer=dict(lr=0.006))
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                dict(type='ExactResumeHook'), dict(type='CorruptImageLogHook'),
                dict(type='ChannelsLastHook'), dict(type='ScheduleCheckHook')]
train_dataloader = dict(batch_size=16, dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1),
                     logger=dict(interval=25))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00005, begin=1, T_max=max_epochs - 1, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
