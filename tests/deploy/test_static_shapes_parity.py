"""Static and dynamic exports see what PyTorch sees: on a 1280x720 frame, the mmdet-free
runtime (its own preprocessing, the exported graph in ONNX Runtime) gives the detections of
PyTorch inference with the config's test pipeline, within 0.5 px, for every shipped ONNX
Runtime deploy config.

The PyTorch reference is ``mmdet.apis.inference_detector`` with the model config's own test
pipeline; for a static config, with that pipeline's ``Resize`` (keep ratio) at the input
shape and a ``Pad`` to exactly that shape (the config's pad value), spelled out below: the
letterbox ``yolox_kpt.deploy.pipeline`` gives mmdeploy, instead of its stretching resize.
"""
import glob
import os.path as osp
from copy import deepcopy

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from yolox_kpt.deploy.export import export_onnx
from yolox_kpt.deploy.pipeline import static_test_pipeline
from yolox_kpt.runtime import KeypointDetector, Preprocess
from yolox_kpt.testing import confident_random_checkpoint
from yolox_kpt.testing.export import spread_visibility

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEPLOY = osp.join(REPO, 'deploy_configs')
# Pad(size_divisor=32) in its test pipeline (the others pad to a square): both Pad forms
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt', 'yolox-kpt_tiny_1xb8-20e_synthetic-driving-cpu.py')
ORT_CONFIGS = sorted(osp.basename(p) for p in glob.glob(
    osp.join(DEPLOY, 'keypoint-detection_onnxruntime_*.py')))
SCORE_THR = 0.3


def test_the_shipped_onnxruntime_configs():
    """The parity test below covers these: add a config, and it is tested."""
    assert ORT_CONFIGS == ['keypoint-detection_onnxruntime_dynamic.py',
                           'keypoint-detection_onnxruntime_static-640x384.py',
                           'keypoint-detection_onnxruntime_static-640x640.py']


def reference_pipeline(cfg, input_shape):
    """The config's test pipeline; for a static (w, h): keep-ratio Resize to it, Pad to it."""
    pipeline = deepcopy(cfg.test_dataloader.dataset.pipeline)
    if input_shape is None:
        return pipeline
    out = []
    for step in pipeline:
        if step['type'] == 'Resize':
            assert step['keep_ratio']
            out += [dict(step, scale=tuple(input_shape)),
                    dict(type='Pad', size=tuple(input_shape), pad_val=dict(img=(114., ) * 3))]
        elif step['type'] != 'Pad':
            out.append(step)
    return out


def mmdet_inputs(cfg, pipeline, image):
    """(1, 3, H, W) network input and scale factor of mmdet's pipeline + data preprocessor."""
    from mmcv.transforms import Compose
    from mmdet.registry import MODELS
    steps = [dict(type='mmdet.LoadImageFromNDArray')] + [
        s for s in pipeline if 'Load' not in s['type']]
    data = Compose(steps)(dict(img=image, img_id=0))
    pre = MODELS.build(cfg.model.data_preprocessor)
    out = pre(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
    return out['inputs'].numpy(), np.asarray(data['data_samples'].scale_factor, np.float32)


@pytest.mark.parametrize('size', [(1280, 720), (1920, 1080), (640, 480), (517, 333),
                                  (300, 700)])
def test_runtime_preprocessing_is_the_pipelines_pixel_for_pixel(size):
    """Preprocess == mmdet's Resize + Pad + DetDataPreprocessor, bitwise: rounding of the
    resized size, bilinear interpolation, pad value (Pad's 114, the data preprocessor's 0),
    channel order and the scale factor that maps back."""
    from yolox_kpt.deploy.runtime_meta import runtime_meta
    cfg = Config.fromfile(CONFIG)
    image = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), np.uint8)
    squares = deepcopy(cfg)  # the other configs' Pad(pad_to_square=True)
    squares.test_pipeline = squares.test_dataloader.dataset.pipeline = [
        dict(type='Pad', pad_to_square=True, pad_val=s['pad_val']) if s['type'] == 'Pad'
        else s for s in cfg.test_pipeline]
    cases = [(cfg, None), (squares, None), (cfg, (640, 640))]
    if size[0] >= size[1]:  # mmdet's Pad cannot fit a portrait frame into 640x384
        cases.append((cfg, (640, 384)))
    for model_cfg, shape in cases:
        deploy_cfg = Config(dict(backend_config=dict(type='onnxruntime')))
        pre = runtime_meta(model_cfg, deploy_cfg, None, shape).preprocess
        ours, scale = pre(image)
        ref, ref_scale = mmdet_inputs(model_cfg, reference_pipeline(model_cfg, shape), image)
        assert ours.shape == ref.shape, (shape, ours.shape, ref.shape)
        assert np.array_equal(ours, ref), (shape, np.abs(ours - ref).max())
        assert np.array_equal(scale, ref_scale)
        if shape:
            assert ours.shape[2:] == shape[::-1]


def test_a_portrait_frame_is_letterboxed_into_a_landscape_input():
    pre = Preprocess(scale=(640, 384), pad_size=(640, 384), size_divisor=32)
    inputs, scale = pre(np.full((1280, 720, 3), 50, np.uint8))
    assert inputs.shape == (1, 3, 384, 640)
    assert pre.resized_size(720, 1280) == (216, 384)
    assert np.allclose(scale, [216 / 720, 384 / 1280])
    assert (inputs[0, :, :, 216:] == 114).all() and (inputs[0, :, :, :216] == 50).all()


def test_static_pipeline_needs_stride_multiples():
    with pytest.raises(ValueError, match='multiples of 32'):
        static_test_pipeline([dict(type='Resize', scale=(320, 320))], (640, 360))


@pytest.fixture(scope='module')
def case(tmp_path_factory):
    from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving
    root = tmp_path_factory.mktemp('frames')
    generate_synthetic_driving(root, num_train=1, num_val=1, img_size=(1280, 720), seed=3)
    img = str(next((root / 'images' / 'val').glob('*.jpg')))
    cfg = Config.fromfile(CONFIG)
    cfg.model.test_cfg.score_thr = SCORE_THR
    ckpt = spread_visibility(confident_random_checkpoint(cfg, str(root / 'model.pth'), img,
                                                         seed=2), seed=2)
    return cfg, ckpt, img, root


@pytest.mark.parametrize('deploy_cfg', ORT_CONFIGS)
def test_runtime_equals_pytorch_on_a_16_9_frame(case, deploy_cfg):
    from mmdet.apis import inference_detector, init_detector
    from mmdeploy.utils import get_input_shape
    from test_export import assert_same_detections
    cfg, ckpt, img, root = case
    deploy = Config.fromfile(osp.join(DEPLOY, deploy_cfg))
    shape = get_input_shape(deploy)
    onnx_file = export_onnx(cfg, deploy, ckpt, img, str(root / deploy_cfg[:-3]))
    ref_cfg = deepcopy(cfg)
    ref_cfg.test_dataloader.dataset.pipeline = reference_pipeline(cfg, shape)
    ref = inference_detector(init_detector(ref_cfg, ckpt, device='cpu'), img).pred_instances
    runtime = KeypointDetector(onnx_file)
    image = cv2.imread(img)
    inputs, _ = runtime.preprocess(image)
    assert inputs.shape[2:] == ((384, 640) if shape == [640, 384] else
                                (640, 640) if shape else (192, 320))
    det = runtime(image, score_thr=SCORE_THR)
    assert len(det) >= 5
    assert_same_detections(ref, {k: torch.as_tensor(v) for k, v in det.items()}, px=0.5)
