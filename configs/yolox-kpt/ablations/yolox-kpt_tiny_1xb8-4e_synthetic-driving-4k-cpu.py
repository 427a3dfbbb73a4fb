# The tiny CPU recipe on five times the images for the same 2,000 iterations: 4,000
# synthetic training frames seen 4 times instead of 800 seen 20 times. Generate them with
#   python tools/misc/generate_synthetic_driving.py --out-dir data/synthetic_driving_4k \
#       --num-train 4000 --num-val 100
# (the val split is byte-identical to data/synthetic_driving's 100: it has its own seed).
# Measured on the 2-core CPU (README of commit 260674c), two-conv keypoint stack both times: box mAP 0.779 ->
# 0.796, tyre keypoint AP 0.661 -> 0.694 at the same ~26 training minutes (the 800-image
# model scored 0.82 tyre AP on its own training images: it was partly memorising them);
# with the default one-conv stack: box 0.804, tyres 0.690, cyclist wheels 0.851.
_base_ = '../yolox-kpt_tiny_1xb8-20e_synthetic-driving-cpu.py'

data_root = 'data/synthetic_driving_4k/'
max_epochs = 4

train_dataloader = dict(dataset=dict(dataset=dict(data_root=data_root)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00005, begin=1, T_max=max_epochs - 1, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
