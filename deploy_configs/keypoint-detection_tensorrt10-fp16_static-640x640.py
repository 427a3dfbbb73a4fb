# TensorRT 10 (JetPack 6.1+), fp16, fixed 640x640; no mmdeploy plugin library.
_base_ = ['./_base_/tensorrt-static-640x640.py']
codebase_config = dict(nms_op='onnx')
backend_config = dict(common_config=dict(fp16_mode=True))
