# The driving keypoint layout, written once for the real driving data
# (driving_keypoints.py) and the synthetic set generated in its image
# (synthetic_driving_keypoints.py): whole vehicles with 4 tyre ground-contact points, vehicle
# head/tail faces, pedestrians (no keypoints) and cyclists with 2 wheel contact points.
# The Python side of the same schema is yolox_kpt's driving schema module; a test keeps the
# two equal (configs cannot import the package).
keypoint_layout = dict(
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(
        vehicle=('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre'),
        cyclist=('front_wheel', 'rear_wheel')),
    # Not COCO names, so their OKS sigmas must be given (no silent default).
    sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, rear_left_tyre=0.05,
                rear_right_tyre=0.05, front_wheel=0.05, rear_wheel=0.05))
