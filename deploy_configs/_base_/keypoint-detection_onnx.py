# Self-contained (mmdeploy's wheel ships no configs). Outputs: dets (B,N,5), labels (B,N),
# keypoints (B,N,K_total,3) x y score, in network-input pixels, and keypoint_visibility
# (B,N,K_total,3) P(COCO v = 0, 1, 2): the names and order of
# yolox_kpt.runtime.contract.OUTPUT_NAMES (tools/deploy.py refuses others; the first three
# alone export a model without keypoint_visibility, as a head without the occlusion branch
# is exported anyway).
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['dets', 'labels', 'keypoints', 'keypoint_visibility'],
    input_shape=None,
    optimize=True)
codebase_config = dict(
    type='mmdet',
    task='PoseDetection',  # yolox_kpt.deploy.KeypointDetection (mmdeploy's Task enum is closed)
    module=['yolox_kpt.deploy'],
    model_type='end2end',
    nms_op='auto',  # 'onnx': standard NonMaxSuppression for TensorRT too (TensorRT >= 8.5)
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,  # must be > 0 (see yolox_kpt/deploy/models/dense_heads)
        keep_top_k=100,
        background_label_id=-1))
