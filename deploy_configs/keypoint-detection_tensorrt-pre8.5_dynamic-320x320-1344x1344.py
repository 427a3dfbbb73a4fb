# TensorRT < 8.5 (JetPack 4.6, 5.0): NMS is mmdeploy's TRTBatchedNMS plugin, so the engine
# needs libmmdeploy_tensorrt_ops.so built for the device (docs/deploy.md). From TensorRT 8.5
# on, use the tensorrt8.5+ configs (no plugin).
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
