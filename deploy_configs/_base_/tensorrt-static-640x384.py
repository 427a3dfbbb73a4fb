_base_ = ['./keypoint-detection_onnx.py', './tensorrt.py']
onnx_config = dict(input_shape=[640, 384])
backend_config = dict(model_inputs=[
    dict(input_shapes=dict(input=dict(
        min_shape=[1, 3, 384, 640], opt_shape=[1, 3, 384, 640], max_shape=[1, 3, 384, 640])))
])
