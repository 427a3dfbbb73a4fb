# TensorRT 8.x; NMS is mmdeploy's TRTBatchedNMS plugin (libmmdeploy_tensorrt_ops.so).
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
