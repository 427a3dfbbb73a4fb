_base_ = ['./_base_/keypoint-detection_onnx.py']
onnx_config = dict(input_shape=[640, 640])
backend_config = dict(type='onnxruntime')
