# TensorRT < 8.5 (mmdeploy 1.3.1 builds and calibrates the engine on TensorRT 8.x), int8 with
# fp16 fallback; NMS is mmdeploy's TRTBatchedNMS plugin. Calibrates on the model config's val
# split unless tools/deploy.py gets --calib-dataset-cfg (a dataset config file, e.g. a few
# hundred representative images).
_base_ = ['./_base_/tensorrt-dynamic-320x320-1344x1344.py']
backend_config = dict(common_config=dict(fp16_mode=True, int8_mode=True))
calib_config = dict(create_calib=True, calib_file='calib_data.h5')
