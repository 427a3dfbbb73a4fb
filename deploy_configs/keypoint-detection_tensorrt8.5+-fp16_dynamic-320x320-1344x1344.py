# TensorRT 8.5 and later, fp16: standard ONNX NonMaxSuppression, no plugin library.
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
codebase_config = dict(nms_op='onnx')
backend_config = dict(common_config=dict(fp16_mode=True))
