# Driving-data recipe: the COCO person recipe (MMPose YOLOX-Pose-s schedule, OKS-aware SimOTA,
# load_from mmdet's COCO YOLOX-s detector: its vehicle/person features are a better start than
# ImageNet) on the driving layout: vehicles with 4 tyre ground-contact points, vehicle faces,
# pedestrians (no keypoints), cyclists with 2 wheel contact points -- the layout of
# yolox-kpt_s_8xb8-300e_driving.py and of the synthetic set. Edit data_root below or pass
# the paths with --cfg-options.
_base_ = './yolox-kpt_s_8xb32-300e_coco-person.py'

keypoint_layout = dict(
    _delete_=True,
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(
        vehicle=('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre'),
        cyclist=('front_wheel', 'rear_wheel')),
    sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, rear_left_tyre=0.05,
                rear_right_tyre=0.05, front_wheel=0.05, rear_wheel=0.05))
data_root = 'data/driving/'

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
