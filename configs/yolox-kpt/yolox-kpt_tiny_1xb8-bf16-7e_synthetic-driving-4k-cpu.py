# The 4,000-frame tiny CPU recipe with bfloat16 autocast and channels-last weights: a
# training step takes about half the float32 time on a CPU with AVX512-BF16, so the same
# 30-minute budget holds 7 epochs (3,500 iterations) instead of 4.
_base_ = './yolox-kpt_tiny_1xb8-4e_synthetic-driving-4k-cpu.py'

max_epochs = 7
optim_wrapper = dict(type='CPUAutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook'),
                dict(type='ChannelsLastHook')]

train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=0.00005, begin=1, T_max=max_epochs - 1, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
