"""Exported graphs answer like PyTorch: ONNX Runtime sessions, TensorRT-flavoured graphs."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import onnx
import pytest
import torch
from mmdeploy.apis import build_task_processor
from mmengine.config import Config

from yolox_kpt.deploy.export import export_onnx
from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.runtime import OUTPUT_NAMES, SIDECAR_FILE, KeypointDetector, RuntimeMeta
from yolox_kpt.runtime.contract import REQUIRED_OUTPUTS
from yolox_kpt.testing import confident_random_checkpoint
from yolox_kpt.testing.export import spread_visibility

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEPLOY = osp.join(REPO, 'deploy_configs')
CONFIGS = {
    'nano': 'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py',
    'tiny': 'yolox-kpt_tiny_8xb8-300e_synthetic-driving.py',
    's': 'yolox-kpt_s_8xb8-300e_synthetic-driving.py',
}
ORT_DYNAMIC = osp.join(DEPLOY, 'keypoint-detection_onnxruntime_dynamic.py')
# What TensorRT's ONNX parser supports, per release (onnx-tensorrt docs/operators.md; the
# JSON file says how it was made): the TensorRT < 8.5 configs are checked against 8.4, the
# plugin-free >= 8.5 ones against 8.5 and 10.x.
with open(osp.join(osp.dirname(osp.abspath(__file__)), 'onnx_tensorrt_operators.json')) as _f:
    TRT_PARSER = json.load(_f)['releases']


@pytest.fixture(scope='module')
def images(synthetic_data):
    root = synthetic_data(num_train=1, num_val=3, seed=11)
    return sorted(str(p) for p in (root / 'images' / 'val').glob('*.jpg'))


def model_cfg(size, scale=None):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'yolox-kpt', CONFIGS[size]))
    cfg.model.test_cfg.score_thr = 0.3
    if scale:
        cfg.test_pipeline[1].scale = (scale, scale)
        cfg.test_dataloader.dataset.pipeline = cfg.test_pipeline
    return cfg


def predict(cfg, deploy_cfg, backend_files, img):
    """pred_instances of the PyTorch model (backend_files=[ckpt], pytorch=True) or of the
    backend model, through mmdeploy's task processor, in original-image pixels."""
    task = build_task_processor(cfg, Config.fromfile(deploy_cfg), 'cpu')
    if backend_files[0].endswith('.pth'):
        model = task.build_pytorch_model(backend_files[0])
    else:
        model = task.build_backend_model(backend_files,
                                         data_preprocessor_updater=task.update_data_preprocessor)
    data, _ = task.create_input(img, None)
    with torch.no_grad():
        return model.test_step(data)[0].pred_instances


def assert_same_detections(ref, out, px=0.5):
    """Every reference detection has one with the same label at IoU >= 0.99, boxes and
    keypoints within ``px``, scores and visibility probabilities within 1e-3; and the
    counts agree. ``out`` has ``keypoint_visibility`` exactly when ``ref`` has."""
    ref_boxes, out_boxes = ref['bboxes'].numpy(), out['bboxes'].numpy()
    assert len(ref_boxes) == len(out_boxes) > 0
    from mmdet.structures.bbox import bbox_overlaps
    iou = bbox_overlaps(torch.as_tensor(ref_boxes), torch.as_tensor(out_boxes)).numpy()
    iou[ref['labels'].numpy()[:, None] != out['labels'].numpy()[None, :]] = 0
    j = iou.argmax(1)
    assert (iou[np.arange(len(j)), j] >= 0.99).all()
    assert len(set(j.tolist())) == len(j)
    assert np.abs(ref_boxes - out_boxes[j]).max() <= px
    assert np.abs(ref['scores'].numpy() - out['scores'].numpy()[j]).max() <= 1e-3
    assert np.abs(ref['keypoints'].numpy() - out['keypoints'].numpy()[j]).max() <= px
    assert np.abs(ref['keypoint_scores'].numpy() -
                  out['keypoint_scores'].numpy()[j]).max() <= 1e-3
    assert ('keypoint_visibility' in ref) == ('keypoint_visibility' in out)
    if 'keypoint_visibility' in ref:
        vis = out['keypoint_visibility'].numpy()[j]
        assert vis.dtype == np.float32 and vis.shape == ref['keypoint_visibility'].shape
        assert np.abs(ref['keypoint_visibility'].numpy() - vis).max() <= 1e-3


@pytest.mark.parametrize('size', ['nano', 'tiny', 's'])
def test_onnxruntime_matches_pytorch(size, images, tmp_path):
    cfg = model_cfg(size)
    ckpt = spread_visibility(
        confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0]))
    onnx_file = export_onnx(cfg, ORT_DYNAMIC, ckpt, images[0], str(tmp_path / 'ort'))
    graph = onnx.load(onnx_file)
    assert [o.name for o in graph.graph.output] == list(OUTPUT_NAMES)
    assert RuntimeMeta.read(onnx_file).outputs == OUTPUT_NAMES
    mask = KeypointLayout.from_config(cfg.keypoint_layout).class_slot_mask()
    states = []  # predicted COCO v of the exported model, in owned slots
    # one dynamic graph, several input sizes
    for scale in ((320, 416) if size != 's' else (416, 640)):
        cfg_scale = model_cfg(size, scale)
        for img in images[:2]:
            ref = predict(cfg_scale, ORT_DYNAMIC, [ckpt], img)
            out = predict(cfg_scale, ORT_DYNAMIC, [onnx_file], img)
            assert_same_detections(ref, out)
            states += out['keypoint_visibility'].argmax(-1)[
                torch.from_numpy(mask)[out['labels']]].tolist()
    # the comparisons mean something: every state occurs
    assert set(states) == {0, 1, 2}
    # the mmdet-free runtime, from the raw image: same as PyTorch in original pixels
    runtime = KeypointDetector(onnx_file)
    img = images[2]
    ref = predict(cfg, ORT_DYNAMIC, [ckpt], img)
    det = runtime(cv2.imread(img), score_thr=0.0)
    assert_same_detections(ref, {k: torch.as_tensor(v) for k, v in det.items()})
    assert (det.keypoint_visibility[~mask[det.labels]] == (1, 0, 0)).all()


def test_models_without_keypoint_visibility(images, tmp_path):
    """Three outputs and a meta that says so: a model exported with the three output names
    of before (what an export of before is), and a head without the occlusion branch
    exported with the shipped config. Both run in the runtime and through mmdeploy's backend
    model with the shipped (four-output) deploy config, with the detections of the
    four-output export and no keypoint_visibility."""
    cfg = model_cfg('nano')
    ckpt = spread_visibility(
        confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0]))
    new = export_onnx(cfg, ORT_DYNAMIC, ckpt, images[0], str(tmp_path / 'new'))
    three = tmp_path / 'three_outputs.py'
    three.write_text(f"_base_ = [{ORT_DYNAMIC!r}]\n"
                     f"onnx_config = dict(output_names={list(REQUIRED_OUTPUTS)!r})\n")
    old = export_onnx(cfg, str(three), ckpt, images[0], str(tmp_path / 'old'))
    no_occ_cfg = model_cfg('nano')
    no_occ_cfg.model.bbox_head.loss_kpt_occ = None
    no_occ_ckpt = confident_random_checkpoint(no_occ_cfg, str(tmp_path / 'no_occ.pth'),
                                              images[0])
    no_occ = export_onnx(no_occ_cfg, ORT_DYNAMIC, no_occ_ckpt, images[0],
                         str(tmp_path / 'no_occ'))
    image = cv2.imread(images[1])
    reference = KeypointDetector(new)(image, score_thr=0.0)
    assert reference.keypoint_visibility is not None
    for onnx_file in (old, no_occ):
        assert [o.name for o in onnx.load(onnx_file).graph.output] == list(REQUIRED_OUTPUTS)
        meta = RuntimeMeta.read(onnx_file)
        assert meta.outputs == REQUIRED_OUTPUTS == RuntimeMeta.from_sidecar(
            osp.join(osp.dirname(onnx_file), SIDECAR_FILE)).outputs
        det = KeypointDetector(onnx_file)(image, score_thr=0.0)
        assert det.keypoint_visibility is None and det.keypoint_states is None
        assert 'keypoint_visibility' not in det and len(det) > 0
        if onnx_file == old:  # the same weights: the same detections
            for name in det.keys():
                np.testing.assert_array_equal(getattr(det, name), getattr(reference, name))
        pred = predict(no_occ_cfg if onnx_file == no_occ else cfg, ORT_DYNAMIC, [onnx_file],
                       images[1])
        assert 'keypoint_visibility' not in pred and len(pred) == len(det)
    # the PyTorch head without the branch predicts no visibility either
    ref = predict(no_occ_cfg, ORT_DYNAMIC, [no_occ_ckpt], images[1])
    assert 'keypoint_visibility' not in ref
    assert_same_detections(ref, predict(no_occ_cfg, ORT_DYNAMIC, [no_occ], images[1]))


def test_foreign_slots_zero_in_export(images, tmp_path):
    cfg = model_cfg('nano')
    ckpt = confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0], seed=1)
    onnx_file = export_onnx(cfg, ORT_DYNAMIC, ckpt, images[0], str(tmp_path / 'ort'))
    det = KeypointDetector(onnx_file)(cv2.imread(images[1]), score_thr=0.0)
    mask = KeypointLayout.from_config(cfg.keypoint_layout).class_slot_mask()
    assert len(set(det.labels.tolist())) >= 2
    foreign = ~np.asarray(mask)[det.labels]
    assert (det.keypoints[foreign] == 0).all() and (det.keypoint_scores[foreign] == 0).all()
    assert (det.keypoint_visibility[foreign] == (1, 0, 0)).all()
    assert (det.keypoint_scores[~foreign] > 0).all()


def op_types(path):
    graph = onnx.load(path).graph
    return {(n.domain or 'ai.onnx', n.op_type) for n in graph.node}, graph


@pytest.mark.parametrize('deploy_cfg,plugin', [
    ('keypoint-detection_tensorrt-pre8.5_dynamic-320x320-1344x1344.py', True),
    ('keypoint-detection_tensorrt-pre8.5-fp16_static-640x640.py', True),
    ('keypoint-detection_tensorrt8.5+_dynamic-320x320-1344x1344.py', False),
    ('keypoint-detection_tensorrt8.5+-fp16_static-640x640.py', False),
])
def test_tensorrt_graphs(deploy_cfg, plugin, images, tmp_path):
    """Made on CPU in mmdeploy's TensorRT rewriting context: only operators TensorRT's ONNX
    parser supports in the releases the config targets (8.4 for the < 8.5 configs, plus
    mmdeploy's TRTBatchedNMS; 8.5 and 10.x, with no custom op, for the >= 8.5 ones);
    constant K for TopK (8.x), below 3840 and sorted (10.x), and initializer NMS thresholds."""
    cfg = model_cfg('nano')
    ckpt = confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0])
    path = export_onnx(cfg, osp.join(DEPLOY, deploy_cfg), ckpt, images[0],
                       str(tmp_path / 'trt'))
    ops, graph = op_types(path)
    assert [o.name for o in graph.output] == list(OUTPUT_NAMES)
    custom = {op for op in ops if op[0] != 'ai.onnx'}
    standard = {op for d, op in ops if d == 'ai.onnx'}
    for release in (('8.4', ) if plugin else ('8.5', '10.1')):
        assert standard <= set(TRT_PARSER[release]['supported']), (release, standard - set(
            TRT_PARSER[release]['supported']))
    if plugin:
        assert custom == {('mmdeploy', 'TRTBatchedNMS')}
    else:
        assert custom == set() and ('ai.onnx', 'NonMaxSuppression') in ops
    constants = {o for n in graph.node if n.op_type == 'Constant' for o in n.output}
    constants |= {i.name for i in graph.initializer}
    for node in graph.node:
        if node.op_type == 'TopK':
            assert node.input[1] in constants
            k = [onnx.numpy_helper.to_array(i) for i in graph.initializer
                 if i.name == node.input[1]] or [
                     onnx.numpy_helper.to_array(a.t) for n in graph.node
                     if n.op_type == 'Constant' and n.output[0] == node.input[1]
                     for a in n.attribute if a.name == 'value']
            assert int(np.asarray(k[0]).reshape(-1)[0]) < 3840
            assert all(a.i == 1 for a in node.attribute if a.name == 'sorted')
        if node.op_type == 'NonMaxSuppression':
            assert all(i in constants for i in node.input[2:])
    if not plugin:
        # a plugin-free graph is plain ONNX: ONNX Runtime runs it, and it answers like PyTorch
        out = predict(cfg, ORT_DYNAMIC if 'dynamic' in deploy_cfg else osp.join(
            DEPLOY, 'keypoint-detection_onnxruntime_static-640x640.py'), [path], images[1])
        ref_cfg = cfg if 'dynamic' in deploy_cfg else model_cfg('nano')
        if 'dynamic' in deploy_cfg:
            assert_same_detections(predict(ref_cfg, ORT_DYNAMIC, [ckpt], images[1]), out)
        else:
            assert len(out['bboxes']) > 0


def run_tool(*args):
    return subprocess.run([sys.executable, osp.join(REPO, 'tools', 'deploy.py'), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=600)


def test_deploy_tool_and_its_errors(images, tmp_path):
    cfg_file = osp.join(REPO, 'configs', 'yolox-kpt', CONFIGS['nano'])
    cfg = model_cfg('nano')
    ckpt = confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0])
    work = tmp_path / 'work'
    proc = run_tool(ORT_DYNAMIC, cfg_file, ckpt, images[0], '--work-dir', str(work))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for f in ('end2end.onnx', SIDECAR_FILE, 'output_onnxruntime_0.jpg',
              'output_pytorch_0.jpg'):
        assert (work / f).is_file(), f
    assert cv2.imread(str(work / 'output_onnxruntime_0.jpg')).shape == cv2.imread(
        images[0]).shape

    proc = run_tool(ORT_DYNAMIC, cfg_file, str(tmp_path / 'missing.pth'), images[0])
    assert proc.returncode != 0 and 'missing.pth' in proc.stderr and 'no such file' in \
        proc.stderr
    bad = tmp_path / 'ncnn.py'
    bad.write_text(f"_base_ = ['{ORT_DYNAMIC}']\nbackend_config = dict(type='ncnn')\n")
    proc = run_tool(str(bad), cfg_file, ckpt, images[0])
    assert proc.returncode != 0 and "'ncnn' is not supported" in proc.stderr
    trt = osp.join(DEPLOY, 'keypoint-detection_tensorrt-pre8.5-fp16_static-640x640.py')
    proc = run_tool(trt, cfg_file, ckpt, images[0], '--work-dir', str(tmp_path / 'trt'))
    assert proc.returncode != 0 and 'deploy-gpu' in proc.stderr and '--onnx-only' in \
        proc.stderr
    proc = run_tool(trt, cfg_file, ckpt, images[0], '--work-dir', str(tmp_path / 'trt'),
                    '--onnx-only')
    assert proc.returncode == 0, proc.stderr[-3000:]
    script = (tmp_path / 'trt' / 'build_engine.sh').read_text()
    assert 'trtexec' in script and '--fp16' in script and 'libmmdeploy_tensorrt_ops' in script
    # int8: the plugin flag stays on the command line, the calibration hint on its own line
    from yolox_kpt.deploy.export import trtexec_command
    int8 = Config.fromfile(osp.join(
        DEPLOY, 'keypoint-detection_tensorrt-pre8.5-int8_dynamic-320x320-1344x1344.py'))
    cmd = trtexec_command(int8, 'end2end.onnx', 'end2end.engine')
    assert '--int8' in cmd and '#' not in cmd and cmd.endswith('libmmdeploy_tensorrt_ops.so')


def test_deploy_test_tool_puts_visibility_into_its_results(images, tmp_path):
    """tools/deploy_test.py (mmdeploy's test path) on the exported graph: results.pkl's
    pred_instances carry keypoint_visibility, as the runtime gives it on the same image."""
    import pickle
    cfg = model_cfg('nano')
    ckpt = spread_visibility(
        confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0]))
    onnx_file = export_onnx(cfg, ORT_DYNAMIC, ckpt, images[0], str(tmp_path / 'ort'))
    root = osp.dirname(osp.dirname(osp.dirname(images[0])))  # <root>/images/val/x.jpg
    config = tmp_path / 'test_config.py'
    config.write_text(
        f"_base_ = [{osp.join(REPO, 'configs', 'yolox-kpt', CONFIGS['nano'])!r}]\n"
        f"model = dict(test_cfg=dict(score_thr=0.3))\n"
        f"test_dataloader = dict(num_workers=0, persistent_workers=False, "
        f"dataset=dict(data_root={root + '/'!r}))\n"
        f"test_evaluator = dict(ann_file={root + '/annotations/val.json'!r})\n")
    out = tmp_path / 'results.pkl'
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'deploy_test.py'),
                           ORT_DYNAMIC, str(config), '--model', onnx_file, '--out', str(out),
                           '--work-dir', str(tmp_path / 'work')], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == len(images)
    runtime = KeypointDetector(onnx_file)
    for result in results:
        pred = result['pred_instances']
        vis = np.asarray(pred['keypoint_visibility'])
        assert vis.dtype == np.float32 and vis.shape == (len(pred['scores']), 6, 3)
        det = runtime(cv2.imread(result['img_path']), score_thr=0.0)
        order, ref = np.argsort(-np.asarray(pred['scores'])), np.argsort(-det.scores)
        np.testing.assert_allclose(vis[order], det.keypoint_visibility[ref], atol=1e-4)


def test_runtime_input_errors(images, tmp_path):
    cfg = model_cfg('nano')
    ckpt = confident_random_checkpoint(cfg, str(tmp_path / 'model.pth'), images[0])
    static = osp.join(DEPLOY, 'keypoint-detection_onnxruntime_static-640x640.py')
    onnx_file = export_onnx(cfg, static, ckpt, images[0], str(tmp_path / 'static'))
    runtime = KeypointDetector(onnx_file)
    assert len(runtime(cv2.imread(images[0]), score_thr=0.0)) > 0
    with pytest.raises(ValueError, match='fixed 640x640 input, got 320x320'):
        runtime.infer(np.zeros((1, 3, 320, 320), np.float32))
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        runtime.infer(np.zeros((1, 1, 640, 640), np.float32))
    with pytest.raises(ValueError, match='BGR image'):
        runtime(np.zeros((640, 640), np.uint8))
    with pytest.raises(FileNotFoundError, match='no such model file'):
        KeypointDetector(str(tmp_path / 'static' / 'nope.onnx'),
                         meta=str(tmp_path / 'static' / SIDECAR_FILE))


def test_tensorrt_config_names_say_their_version(monkeypatch):
    """tensorrt8.5+ configs: standard NonMaxSuppression; tensorrt-pre8.5: mmdeploy's plugin;
    and tools/deploy.py refuses a plugin-free config on a TensorRT that cannot parse it."""
    import glob
    import importlib.util
    import types
    configs = sorted(glob.glob(osp.join(DEPLOY, 'keypoint-detection_tensorrt*.py')))
    assert len(configs) == 8
    for path in configs:
        name = osp.basename(path)
        plugin_free = Config.fromfile(path).codebase_config.nms_op == 'onnx'
        assert name.startswith('keypoint-detection_tensorrt8.5+') == plugin_free, name
        assert name.startswith('keypoint-detection_tensorrt-pre8.5') != plugin_free, name
    spec = importlib.util.spec_from_file_location('deploy_tool',
                                                  osp.join(REPO, 'tools', 'deploy.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setitem(sys.modules, 'tensorrt', types.SimpleNamespace(__version__='8.4.3.1'))
    with pytest.raises(SystemExit, match='NonMaxSuppression only from 8.5 on'):
        tool.check_tensorrt_version('x.py', 'onnx')
    tool.check_tensorrt_version('x.py', 'auto')
    monkeypatch.setitem(sys.modules, 'tensorrt', types.SimpleNamespace(__version__='8.5.2.2'))
    tool.check_tensorrt_version('x.py', 'onnx')
