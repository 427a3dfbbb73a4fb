# Fixed 640x384 input for 16:9 camera frames (1280x720, 1920x1080 fit at 640x360 and are
# padded to 384 rows): six tenths of 640x640's pixels for the same frame resolution. Like
# every static config, frames are letterboxed (keep-ratio resize, pad with the config's
# value; yolox_kpt.deploy.pipeline), not stretched.
_base_ = ['./_base_/keypoint-detection_onnx.py']
onnx_config = dict(input_shape=[640, 384])
backend_config = dict(type='onnxruntime')
