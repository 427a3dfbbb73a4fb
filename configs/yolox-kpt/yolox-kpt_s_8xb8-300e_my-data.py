# Your driving data as tools/dataset_converters/camera_labels_to_coco.py writes it by default,
# fine-tuned from mmdet's COCO YOLOX-s weights (only the keypoint layers start untrained), on
# mmdet's YOLOX-s recipe with the driving layout (driving_keypoints.py). The paths are the
# converter's: annotations in its default --out-dir, images under the --image-root you gave
# it; change img_root to yours. Another layout or converter: README, "Path 1".
_base_ = '../_base_/datasets/driving_keypoints.py'

ann_root = 'work_dirs/camera_labels_coco/annotations/'  # the converter's default --out-dir
img_root = 'data/drives/images/'  # the converter's --image-root (image paths are relative)
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_s_8x8_300e_coco/'
             'yolox_s_8x8_300e_coco_20211121_095711-4592a793.pth')

# data_root='' so that ann_file and data_prefix are used as written (relative to the
# directory training runs in), not joined to the dataset base's data/driving/.
train_dataloader = dict(dataset=dict(dataset=dict(
    data_root='', ann_file=ann_root + 'train.json', data_prefix=dict(img=img_root))))
val_dataloader = dict(dataset=dict(
    data_root='', ann_file=ann_root + 'val.json', data_prefix=dict(img=img_root)))
test_dataloader = dict(dataset=dict(
    data_root='', ann_file=ann_root + 'test.json', data_prefix=dict(img=img_root)))
val_evaluator = dict(ann_file=ann_root + 'val.json')
test_evaluator = dict(ann_file=ann_root + 'test.json')
