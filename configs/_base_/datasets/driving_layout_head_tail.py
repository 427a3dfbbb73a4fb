# driving_layout.py with head (front) and tail (rear) vehicle faces as two classes instead of
# one `vehicle_face`; keypoints and sigmas are driving_layout.py's. The camera label converter
# (tools/dataset_converters/camera_labels_to_coco.py --config THIS_FILE) writes each labelled
# face as `vehicle_head` or `vehicle_tail` by its face type, linked to its vehicle by
# `parent_id`. The class ids differ from driving_layout.py's, so a checkpoint trained with one
# is refused with the other. A dataset base inherits it as driving_keypoints.py inherits
# driving_layout.py.
_base_ = './driving_layout.py'

keypoint_layout = dict(
    classes=('vehicle', 'vehicle_head', 'vehicle_tail', 'pedestrian', 'cyclist'))
