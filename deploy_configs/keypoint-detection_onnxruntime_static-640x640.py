# Fixed 640x640 input; frames are letterboxed (keep-ratio resize, pad bottom/right with the
# config's value; yolox_kpt.deploy.pipeline), as in the config's test pipeline.
_base_ = ['./_base_/keypoint-detection_onnx.py']
onnx_config = dict(input_shape=[640, 640])
backend_config = dict(type='onnxruntime')
