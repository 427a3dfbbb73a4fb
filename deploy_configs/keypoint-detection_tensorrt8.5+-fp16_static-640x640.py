# TensorRT 8.5 and later (JetPack 5.1+, 6.x), fp16, fixed 640x640 (frames letterboxed, as
# in the config's test pipeline; for 16:9 cameras the 640x384 config wastes fewer pixels).
# Standard ONNX NonMaxSuppression, no plugin library.
_base_ = ['./_base_/tensorrt-static-640x640.py']
codebase_config = dict(nms_op='onnx')
backend_config = dict(common_config=dict(fp16_mode=True))
