# YOLOX-s with keypoints on the synthetic driving set (tools/misc/generate_synthetic_driving.py):
# vehicles with 4 tyre ground-contact points, vehicle head/tail faces, pedestrians (no
# keypoints) and cyclists with 2 wheel contact points; mmdet's YOLOX-s recipe, all of it in
# the dataset base.
_base_ = '../_base_/datasets/synthetic_driving_keypoints.py'
