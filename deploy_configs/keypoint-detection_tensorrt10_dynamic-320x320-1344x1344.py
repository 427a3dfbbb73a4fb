# TensorRT 10 (JetPack 6.1+): standard ONNX NonMaxSuppression, no mmdeploy plugin library.
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
codebase_config = dict(nms_op='onnx')
backend_config = dict(common_config=dict(fp16_mode=False))
