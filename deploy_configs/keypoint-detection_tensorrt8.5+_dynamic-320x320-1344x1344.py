# TensorRT 8.5 and later (JetPack 5.1+, 6.x; TensorRT 10): standard ONNX NonMaxSuppression,
# which TensorRT's ONNX parser supports natively from 8.5; no plugin library.
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
codebase_config = dict(nms_op='onnx')
backend_config = dict(common_config=dict(fp16_mode=False))
