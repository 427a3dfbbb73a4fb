# TensorRT < 8.5 (JetPack 4.6, 5.0), fp16, fixed 640x640; NMS is mmdeploy's TRTBatchedNMS
# plugin (libmmdeploy_tensorrt_ops.so).
_base_ = ['./_base_/tensorrt-static-640x640.py']
backend_config = dict(common_config=dict(fp16_mode=True))
