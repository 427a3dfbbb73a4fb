# COCO person keypoints (17 points) as YOLOX-kpt trains on it: mmdet's YOLOX-s recipe
# (SimOTA, Mosaic/MixUp, 300 epochs, the last 15 without Mosaic, EMA) reading CocoKptDataset,
# scored by CocoKptMetric, with the keypoint head that refers to this file's layout.
# A dataset base inherits mmdet's YOLOX config rather than standing alone (as mmdet's
# configs/_base_/datasets/ files do) because that config already defines the dataloaders:
# mmengine refuses two bases that define the same key, so the data must override it in line.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['yolox_kpt'], allow_failed_imports=False)

# The one description of classes and keypoints; dataset, head and metric all read it.
keypoint_layout = dict(
    classes=('person', ),
    keypoints=dict(person=(
        'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
        'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
        'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
        'right_ankle')))  # COCO names: COCO's sigmas and left/right flips are implied
img_scale = (640, 640)  # width, height

model = dict(
    data_preprocessor=dict(batch_augments=[
        dict(type='KptBatchSyncRandomResize', random_size_range=(480, 800),
             size_divisor=32, interval=10)
    ]),
    bbox_head=dict(
        type='YOLOXKptHead',
        num_classes=len(keypoint_layout['classes']),
        keypoint_layout=keypoint_layout,
        loss_kpt_oks=dict(type='OKSLoss', loss_weight=10.0),
        # OKS has no gradient for a point many sigmas away: COCO's face points (sigma 0.025)
        # stayed 30-100 px off in the real-image overfit check with OKS alone (keypoint AP
        # 0.69); with this L1 on stride-unit offsets they converged (0.97; see
        # tools/misc/overfit_check.py and the README of commit 260674c)
        loss_kpt_l1=dict(type='L1Loss', loss_weight=1.0),
        loss_kpt_vis=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    # at most 100 detections per image, as the exported model (mmdet's YOLOX keeps all)
    test_cfg=dict(max_per_img=100))

data_root = 'data/coco/'
dataset_type = 'CocoKptDataset'
backend_args = None

train_pipeline = [
    dict(type='Mosaic', img_scale=img_scale, pad_val=114.0),
    dict(type='RandomAffine', scaling_ratio_range=(0.1, 2),
         border=(-img_scale[0] // 2, -img_scale[1] // 2)),
    dict(type='MixUp', img_scale=img_scale, ratio_range=(0.8, 1.6), pad_val=114.0),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackKptDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFileChecked', backend_args=backend_args),  # corrupt: an error
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='LoadKptAnnotations', with_bbox=True),
    dict(type='PackKptDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]

# merged into mmdet's dataloaders: what is not named here (batch size, filter_cfg) is
# theirs. SeededSampler: mmdet's shuffle, each sample's augmentation seeded by (seed, epoch,
# position), so that --resume continues exactly (with ExactResumeHook below).
train_dataloader = dict(sampler=dict(type='SeededSampler'), dataset=dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        keypoint_layout=keypoint_layout,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=[
            dict(type='LoadImageFromFileChecked', on_corrupt='skip',
                 backend_args=backend_args),
            dict(type='LoadKptAnnotations', with_bbox=True)
        ]),
    pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True,
    type=dataset_type,
    data_root=data_root,
    keypoint_layout=keypoint_layout,
    ann_file='annotations/person_keypoints_val2017.json',
    data_prefix=dict(img='val2017/'),
    test_mode=True,
    pipeline=test_pipeline,
    backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(
    _delete_=True,
    type='CocoKptMetric',
    ann_file=data_root + 'annotations/person_keypoints_val2017.json',
    backend_args=backend_args)
test_evaluator = val_evaluator

custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=15, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001,
         update_buffers=True, priority=49),
    dict(type='SafeCheckpointHook'),
    dict(type='KeypointLayoutCheckHook'),
    dict(type='ExactResumeHook'),
    dict(type='CorruptImageLogHook'),
    dict(type='ScheduleCheckHook'),  # warns when max_epochs alone was overridden
]
# AtomicCheckpointHook: write, point last_checkpoint at it, then delete old ones (see its doc)
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', save_best='coco/kpt_AP', rule='greater'))
visualizer = dict(type='KptDetLocalVisualizer')
