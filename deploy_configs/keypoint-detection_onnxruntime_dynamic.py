_base_ = ['./_base_/keypoint-detection_onnx_dynamic.py']
backend_config = dict(type='onnxruntime')
