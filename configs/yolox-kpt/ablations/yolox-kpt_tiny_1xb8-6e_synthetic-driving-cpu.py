# The 20-epoch tiny CPU recipe cut to 6 epochs (about 8 minutes on 2 cores): the schedule of
# the keypoint-loss / assignment ablation (tools/analysis/ablate_kpt_learning.py).
_base_ = '../yolox-kpt_tiny_1xb8-20e_synthetic-driving-cpu.py'

# Both keypoint losses defined (as in the nano CPU recipe), so that each ablation row
# switches one off with --cfg-options ...loss_kpt_l1=None / ...loss_kpt_oks=None.
model = dict(bbox_head=dict(loss_kpt_oks=dict(_delete_=True, type='OKSLoss', loss_weight=20.0)))

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00005, begin=1, T_max=max_epochs - 1, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
