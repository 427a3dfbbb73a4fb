# Template for your own driving data: whole vehicles with 4 tyre ground-contact points,
# vehicle head/tail faces, pedestrians and cyclists, as COCO keypoint files. Same layout as
# the synthetic set, so a model trained there fine-tunes here. Edit data_root / ann_file /
# data_prefix (or pass them with --cfg-options), and the keypoint lists if yours differ:
# the dataset checks each category's `keypoints` in your file against keypoint_layout and
# says which one differs.
_base_ = './yolox-kpt_s_8xb8-300e_synthetic-driving.py'

data_root = 'data/driving/'
train_dataloader = dict(dataset=dict(dataset=dict(
    data_root=data_root, ann_file='annotations/train.json',
    data_prefix=dict(img='images/train/'))))
val_dataloader = dict(dataset=dict(
    data_root=data_root, ann_file='annotations/val.json',
    data_prefix=dict(img='images/val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
