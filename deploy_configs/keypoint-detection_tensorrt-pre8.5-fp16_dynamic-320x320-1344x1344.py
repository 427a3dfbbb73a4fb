# TensorRT < 8.5, fp16; NMS is mmdeploy's TRTBatchedNMS plugin (libmmdeploy_tensorrt_ops.so).
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
backend_config = dict(common_config=dict(fp16_mode=True))
