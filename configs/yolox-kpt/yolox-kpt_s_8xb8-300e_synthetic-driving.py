# YOLOX-s with keypoints on the synthetic driving set (tools/misc/generate_synthetic_driving.py):
# vehicles with 4 tyre ground-contact points, vehicle head/tail faces, pedestrians (no
# keypoints) and cyclists with 2 wheel contact points.
_base_ = './yolox-kpt_s_8xb8-300e_coco-person.py'

keypoint_layout = dict(
    _delete_=True,  # replace, not merge with, the person layout of the base
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(
        vehicle=('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre'),
        cyclist=('front_wheel', 'rear_wheel')),
    # Not COCO names, so their OKS sigmas must be given (no silent default).
    sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, rear_left_tyre=0.05,
                rear_right_tyre=0.05, front_wheel=0.05, rear_wheel=0.05))
data_root = 'data/synthetic_driving/'

model = dict(bbox_head=dict(num_classes=4, keypoint_layout=keypoint_layout))
train_dataloader = dict(dataset=dict(dataset=dict(
    data_root=data_root, keypoint_layout=keypoint_layout,
    ann_file='annotations/train.json', data_prefix=dict(img='images/train/'))))
val_dataloader = dict(dataset=dict(
    data_root=data_root, keypoint_layout=keypoint_layout,
    ann_file='annotations/val.json', data_prefix=dict(img='images/val/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
