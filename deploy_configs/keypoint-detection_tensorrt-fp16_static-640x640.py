# TensorRT 8.x (JetPack 5.x / 6.0), fp16, fixed 640x640: the Jetson config.
_base_ = ['./_base_/tensorrt-static-640x640.py']
backend_config = dict(common_config=dict(fp16_mode=True))
