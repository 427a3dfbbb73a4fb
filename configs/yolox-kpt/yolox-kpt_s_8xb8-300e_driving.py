# Template for your own driving data (whole vehicles with 4 tyre ground-contact points,
# vehicle head/tail faces, pedestrians, cyclists with 2 wheel contact points) on mmdet's
# YOLOX-s recipe. Edit data_root / ann_file / data_prefix in the dataset base, or pass them
# with --cfg-options. Same layout as the synthetic set, so a model trained there fine-tunes here.
_base_ = '../_base_/datasets/driving_keypoints.py'
