# The recipe `make demo` trains (tools/demo_synthetic.py): the tiny CPU recipe with the
# bfloat16 settings of yolox-kpt_tiny_1xb8-bf16-7e_synthetic-driving-4k-cpu.py (autocast,
# channels-last, two keypoint convs, keypoint L1 weight 5), at YOLOX-nano's widths with plain
# 3x3 convolutions instead of nano's depthwise ones, 10 epochs of 2,400 generated frames
# (generate them with: python tools/misc/generate_synthetic_driving.py --out-dir
# data/synthetic_driving_2400 --num-train 2400 --num-val 100).
# Why plain convs: on this 2-core CPU a depthwise conv costs about as much time as a plain
# one of the same width (a bfloat16 training step of 8 frames at 320x256: nano 0.155 s,
# tiny 0.23 s, these nano-width plain convs 0.55x tiny), and the plain ones learn much more
# per step. Measured on the demo's data (one run each, tools/train.py + tools/test.py, box
# mAP / tyre keypoint AP / wheel keypoint AP): tiny, 10 epochs of 8 on 800 frames: 0.668 /
# 0.445 / 0.765; nano (depthwise), 15 epochs: 0.447 / 0.344; this network on 800 frames,
# 20 epochs of 8: 0.730 / 0.617 / 0.825; 25 epochs of 8: 0.752 / 0.667 / 0.818; 30 epochs of
# 16 at lr 0.006: 0.763 / 0.672 / 0.822 (0.745 / 0.581 / 0.840 in the demo's next run).
# Why 2,400 frames x 10 epochs: the same 1,500 steps as 800 x 30, on frames seen fewer times
# (one run each, 1 thread: 1,200 steps on 800 / 1,600 / 2,400 frames: box 0.732 / 0.733 /
# 0.758; 1,500 steps on 2,400 frames: 0.777 / 0.657 / 0.899). Generating the 1,600 extra
# frames takes about 20 s.
# `make demo`'s floor: box mAP >= 0.75, every keypoint AP >= 0.5 (docs/records/demo.json has
# what the demo measured).
_base_ = './yolox-kpt_tiny_1xb8-20e_synthetic-driving-cpu.py'

data_root = 'data/synthetic_driving_2400/'
max_epochs = 10
# SiLU is Swish (x * sigmoid(x)) in one fused PyTorch op: the same function and weights,
# about 9% less time a training step (steps of both models interleaved in one process, one
# thread, on a loaded machine: median 1.57 -> 1.43 s).
act = dict(type='SiLU')
model = dict(
    backbone=dict(widen_factor=0.25, act_cfg=act),
    neck=dict(in_channels=[64, 128, 256], out_channels=64, act_cfg=act),
    bbox_head=dict(in_channels=64, feat_channels=64, kpt_stacked_convs=2, act_cfg=act,
                   loss_kpt_l1=dict(loss_weight=5.0)))
optim_wrapper = dict(type='CPUAutocastOptimWrapper', dtype='bfloat16', optimizer=dict(lr=0.006))
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                dict(type='ExactResumeHook'), dict(type='CorruptImageLogHook'),
                dict(type='ChannelsLastHook'), dict(type='ScheduleCheckHook')]
# Loading in the training process (num_workers=0): a loader worker process competes with the
# two training threads for the two cores; a step took 0.41 s with one worker, 0.33 s without
# (2 epochs each, same losses). And the dataset without mmdet's MultiImageMixDataset
# wrapper, which is there for Mosaic/MixUp (not in this recipe) and deep-copies every sample
# once per transform.
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False, dataset=dict(
    _delete_=True,
    type='CocoKptDataset',
    data_root=data_root,
    keypoint_layout=_base_.keypoint_layout,
    ann_file='annotations/train.json',
    data_prefix=dict(img='images/train/'),
    filter_cfg=dict(filter_empty_gt=False, min_size=32),
    pipeline=[dict(type='LoadImageFromFileChecked', on_corrupt='skip'),
              dict(type='LoadKptAnnotations', with_bbox=True)] + _base_.train_pipeline))
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
