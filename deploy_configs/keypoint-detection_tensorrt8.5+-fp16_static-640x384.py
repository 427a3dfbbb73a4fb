# TensorRT 8.5 and later (JetPack 5.1+, 6.x), fp16, fixed 640x384: the Jetson config for
# 16:9 camera frames (letterboxed: 1280x720 -> 640x360, padded to 384 rows). Standard ONNX
# NonMaxSuppression, no plugin library.
_base_ = ['./_base_/tensorrt-static-640x384.py']
codebase_config = dict(nms_op='onnx')
backend_config = dict(common_config=dict(fp16_mode=True))
