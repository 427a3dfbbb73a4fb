_base_ = ['./keypoint-detection_onnx_dynamic.py', './tensorrt.py']
backend_config = dict(model_inputs=[
    dict(input_shapes=dict(input=dict(
        min_shape=[1, 3, 320, 320], opt_shape=[1, 3, 640, 640], max_shape=[1, 3, 1344, 1344])))
])
