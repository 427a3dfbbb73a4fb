"""int8 Q/DQ quantization, the side-by-side evaluation of exported models, and the device
check's CPU half, on one small export (nano, random weights with trained-like statistics)
and a generated val split.

tools/misc/quantize_int8.py writes what TensorRT's explicit quantization takes (opset 13,
int8 with zero point 0, per-channel weight scales, the head's output convolutions left in
float) and keeps the runtime metadata; tools/analysis/eval_exported.py scores fp32 / fp16 /
int8 with CocoKptMetric and, without mmdet, with the same COCOeval runs; tools/device_check.py
composes the trtexec line and runs the evaluation with ONNX Runtime.
"""
import importlib.util
import json
import os
import os.path as osp
import runpy
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from small_run import REPO  # tests/tools/small_run.py

CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')
ORT_DYNAMIC = osp.join(REPO, 'deploy_configs', 'keypoint-detection_onnxruntime_dynamic.py')


@pytest.fixture(scope='module')
def tools():
    return {name: SimpleNamespace(**runpy.run_path(osp.join(REPO, 'tools', path)))
            for name, path in (('quant', 'misc/quantize_int8.py'),
                               ('evals', 'analysis/eval_exported.py'),
                               ('device', 'device_check.py'))}


@pytest.fixture(scope='module')
def case(synthetic_data, tmp_path_factory):
    from mmengine.config import Config

    from yolox_kpt.deploy.export import export_onnx
    from yolox_kpt.testing import confident_random_checkpoint
    from yolox_kpt.testing.export import spread_visibility
    root = synthetic_data(num_train=6, num_val=6, seed=21)
    work = tmp_path_factory.mktemp('int8')
    cfg = Config.fromfile(CONFIG)
    cfg.model.test_cfg.score_thr = 0.3
    val = sorted(str(p) for p in (root / 'images' / 'val').glob('*.jpg'))
    # distinct occlusion weights per level, as trained ones (the untrained branch's identical
    # zero weights are shared by the export through Identity nodes)
    ckpt = spread_visibility(confident_random_checkpoint(cfg, str(work / 'model.pth'),
                                                         val[0]))
    onnx_file = export_onnx(cfg, ORT_DYNAMIC, ckpt, val[0], str(work / 'ort'))
    return dict(root=root, work=work, onnx=onnx_file,
                ann=str(root / 'annotations' / 'val.json'),
                img_dir=str(root / 'images' / 'val'))


@pytest.fixture(scope='module')
def int8(tools, case):
    frames = case['root'] / 'frames.txt'  # a list file, relative paths
    frames.write_text('# mined\n' + ''.join(
        f'images/train/{p.name}\n' for p in sorted((case['root'] / 'images' / 'train').glob(
            '*.jpg'))))
    out = str(case['work'] / 'ort' / 'end2end_int8.onnx')
    info = tools['quant'].main([case['onnx'], str(frames), '--out', out, '--num-frames', '4'])
    return out, info


def initializers(graph):
    return {i.name: numpy_helper.to_array(i) for i in graph.initializer}


def test_int8_graph_is_tensorrt_explicit_quantization(int8, case):
    from yolox_kpt.runtime import KeypointDetector, RuntimeMeta
    path, info = int8
    model = onnx.load(path)
    assert max(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')) >= 13
    consts = initializers(model.graph)
    nodes = {n.name: n for n in model.graph.node}
    produced_by = {o: n for n in model.graph.node for o in n.output}
    quant = [n for n in model.graph.node if n.op_type in ('QuantizeLinear',
                                                          'DequantizeLinear')]
    assert quant
    for node in quant:  # symmetric int8 everywhere: zero points are int8 zeros
        zero = consts[node.input[2]]
        assert zero.dtype == np.int8 and (zero == 0).all(), node.name
    convs = [n for n in model.graph.node if n.op_type == 'Conv']
    float_convs = set(info['float_nodes'])
    assert len(float_convs) == 18  # 3 levels x cls, obj, reg, kpt, kpt_vis, kpt_occ
    assert all('multi_level_conv_' in n for n in float_convs)
    for conv in convs:
        weight = conv.input[1]
        if conv.name in float_convs:
            assert weight in consts and consts[weight].dtype == np.float32, conv.name
            continue
        dq = produced_by[weight]  # per-channel: one scale per output channel, axis 0
        assert dq.op_type == 'DequantizeLinear', conv.name
        scale = consts[dq.input[1]]
        assert scale.shape == (consts[dq.input[0]].shape[0], ), conv.name
        assert all(a.i == 0 for a in dq.attribute if a.name == 'axis')
        assert produced_by[conv.input[0]].op_type == 'DequantizeLinear', conv.name
        if len(conv.input) > 2:  # TensorRT folds a float bias; it has no int32 Q/DQ
            assert conv.input[2] in consts and consts[conv.input[2]].dtype == np.float32
    assert len(convs) - len(float_convs) == info['quantized_nodes'] and nodes
    made = json.loads({p.key: p.value for p in model.metadata_props}[
        'yolox_kpt_quantization'])
    assert made['method'] == 'percentile' and made['frames'] == 4
    # the runtime metadata survives: the int8 file runs alone
    assert RuntimeMeta.from_onnx(path).to_dict() == RuntimeMeta.from_onnx(
        case['onnx']).to_dict()
    import cv2
    img = cv2.imread(osp.join(case['img_dir'], '000000.jpg'))
    ref = KeypointDetector(case['onnx'])(img, score_thr=0.3)
    out = KeypointDetector(path)(img, score_thr=0.3)
    # random weights calibrated on 4 frames drift (the AP of a trained model is measured
    # in docs/records/int8.json), but the int8 model's best detection is one of fp32's
    from yolox_kpt.evaluation.functional import box_iou_xyxy
    assert len(ref) > 0 and len(out) > 0
    top = int(out.scores.argmax())
    iou = box_iou_xyxy(out.bboxes[top:top + 1].astype(np.float64),
                       ref.bboxes.astype(np.float64), np.zeros(len(ref), bool))[0]
    assert (iou[ref.labels == out.labels[top]] >= 0.5).any()


def test_quantize_input_errors(tools, case, tmp_path, capsys):
    listing = tmp_path / 'frames.txt'
    listing.write_text('a.jpg\nmissing.jpg\n')
    (tmp_path / 'a.jpg').write_bytes(b'')
    with pytest.raises(SystemExit, match=r'frames.txt, line 2: missing.jpg: no such image'):
        tools['quant'].main([case['onnx'], str(listing)])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(SystemExit, match='no images'):
        tools['quant'].main([case['onnx'], str(tmp_path / 'empty')])
    assert tools['quant'].spread(list(range(10)), 3) == [0, 4, 9]
    assert tools['quant'].spread([1, 2], 0) == [1, 2]


def test_eval_exported_side_by_side(tools, int8, case, tmp_path):
    from yolox_kpt.utils.records import read_record
    record = tmp_path / 'int8.json'
    report = tools['evals'].main([case['onnx'], int8[0], '--fp16', '--names', 'fp32', 'fp16',
                                  'int8', '--ann-file', case['ann'], '--img-dir',
                                  case['img_dir'], '--warmup', '1', '--out',
                                  str(tmp_path / 'r.json'), '--record', str(record)])
    assert list(report['models']) == ['fp32', 'fp16', 'int8']
    fp32, fp16 = report['models']['fp32'], report['models']['fp16']
    for entry in report['models'].values():
        assert {'bbox_mAP', 'bbox_mAP_75', 'kpt_AP', 'kpt_AP_vehicle', 'kpt_AP_cyclist',
                'bbox_AP_pedestrian'} <= set(entry['metrics'])
        assert entry['latency_ms']['frames'] == 6
        assert entry['latency_ms']['infer_p90'] >= entry['latency_ms']['infer_p50'] > 0
    # fp16: nearly the same detections (random weights give dozens of overlapping boxes a
    # frame, some of which swap places; the trained model's figures are in the record)
    assert fp16['parity']['matched'] >= 0.8 and fp16['parity']['box_mean_px'] < 2
    assert abs(fp16['metrics']['bbox_mAP'] - fp32['metrics']['bbox_mAP']) < 0.02
    assert fp32['latency_ratio'] == 1.0
    half = onnx.load(str(osp.splitext(case['onnx'])[0] + '_fp16.onnx'))
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in half.graph.initializer)
    assert report['models']['int8']['quantization']['float_nodes'] == int8[1]['float_nodes']
    assert 'quantization' not in fp32
    saved = read_record(str(record))
    assert saved['models']['int8']['metrics'] == report['models']['int8']['metrics']
    assert json.load(open(tmp_path / 'r.json'))['images'] == 6


def test_runtime_only_metric_is_cocokptmetric(tools, case):
    """The device's AP (no mmdet: yolox_kpt.evaluation.functional + pycocotools) equals
    CocoKptMetric's on the same predictions: the model's (random: false positives) with
    the ground truth's, moved and rescored at random, so that every AP is strictly between
    0 and 1."""
    from yolox_kpt.testing.coco_predictions import results_from_ground_truth
    evals = tools['evals']
    images = evals.load_images(case['ann'], case['img_dir'])
    results, detector = evals.run_model(case['onnx'], evals.read_frames(images), show=False)
    layout = detector.layout
    truth, _, _ = results_from_ground_truth(case['root'], 3.0, layout)
    rng = np.random.default_rng(0)
    by_id = {t['img_id']: t['pred_instances'] for t in truth}
    for r in results:
        t = {k: np.asarray(v, np.float32) for k, v in by_id[r['img_id']].items()}
        n = len(t['scores'])
        t['bboxes'] = t['bboxes'] + rng.normal(0, 4, (n, 4)).astype(np.float32)
        t['keypoints'] = t['keypoints'] + rng.normal(0, 3, t['keypoints'].shape).astype(
            np.float32)
        t['scores'] = rng.uniform(0.2, 1.0, n).astype(np.float32)
        t['labels'] = t['labels'].astype(np.int64)
        for k in ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores'):
            r[k] = np.concatenate([r[k].astype(t[k].dtype), t[k]])
        r.pop('keypoint_visibility')  # the ground truth's records have none; AP needs none
    full = evals.evaluate(results, case['ann'], layout)
    light = evals.evaluate_runtime_only(results, case['ann'], layout)
    assert {'bbox_mAP', 'bbox_mAP_75', 'kpt_AP', 'kpt_AP_vehicle', 'bbox_AP_cyclist'} <= \
        set(light)
    for key, value in light.items():
        assert value == pytest.approx(full[key], abs=1e-9), key
    assert 0 < full['bbox_mAP'] < 1 and 0 < full['kpt_AP_vehicle'] < 1


def test_parity_measures_what_moved(tools, case):
    evals = tools['evals']
    images = evals.load_images(case['ann'], case['img_dir'], max_images=3)
    results, _ = evals.run_model(case['onnx'], evals.read_frames(images), show=False)
    same = evals.parity(results, results)
    assert same['matched'] == 1.0 and same['box_max_px'] == 0 and same['kpt_max_px'] == 0
    assert same['ref_dets'] > 0 and same['extra'] == 0
    moved = [dict(r, bboxes=r['bboxes'] + 1.5, keypoints=r['keypoints'] - 2.0)
             for r in results]
    shift = evals.parity(results, moved)
    assert shift['matched'] == 1.0 and shift['box_max_px'] == pytest.approx(1.5, abs=1e-3)
    assert shift['kpt_max_px'] == pytest.approx(2.0, abs=1e-3)
    dropped = [dict(r, scores=np.zeros_like(r['scores'])) for r in results]
    assert evals.parity(results, dropped)['matched'] == 0


def test_device_check_cpu_half(tools, int8, case, tmp_path, capsys):
    device = tools['device']
    common = ['--ann-file', case['ann'], '--img-dir', case['img_dir']]
    device.main([case['onnx'], *common, '--dry-run'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(('trtexec ', '/')) and '--fp16' in line and '--int8' not in line
    assert '--minShapes=input:1x3x320x320' in line and '--maxShapes=input:1x3x1344x1344' in line
    assert f'--saveEngine={osp.splitext(case["onnx"])[0]}_fp16.engine' in line
    device.main([int8[0], *common, '--dry-run', '--precision', 'int8'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert '--int8' in line and '--fp16' in line and line.count('_int8') == 2
    with pytest.raises(SystemExit, match='no QuantizeLinear'):
        device.main([case['onnx'], *common, '--precision', 'int8'])
    if importlib.util.find_spec('tensorrt') is None:
        with pytest.raises(SystemExit, match='--dry-run prints the trtexec line'):
            device.main([case['onnx'], *common])
    out = tmp_path / 'report.json'
    report = device.main([case['onnx'], *common, '--backend', 'onnxruntime', '--warmup', '1',
                          '--out', str(out)])
    assert list(report['models']) == ['onnxruntime'] and report['trtexec'] is None
    assert json.load(open(out))['models']['onnxruntime']['metrics']['bbox_mAP'] == \
        report['models']['onnxruntime']['metrics']['bbox_mAP']
    assert 'bbox_mAP' in capsys.readouterr().out


def test_static_export_trtexec_line_has_no_shapes(tools, case, tmp_path, capsys):
    """A static export (its meta says so) builds a fixed-shape engine."""
    from yolox_kpt.runtime import RuntimeMeta
    static = tmp_path / 'static.onnx'
    model = onnx.load(case['onnx'])
    meta = RuntimeMeta.from_onnx(case['onnx'])
    meta.static_input_shape = (640, 384)
    onnx.save(meta.to_onnx_metadata(model), str(static))
    tools['device'].main([str(static), '--ann-file', case['ann'], '--img-dir',
                          case['img_dir'], '--dry-run'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert 'Shapes' not in line and '--fp16' in line


TRAINING_STACK = ('torch', 'mmcv', 'mmengine', 'mmdet', 'mmdeploy')
RUN = """
import runpy, sys
sys.argv = ['tools/device_check.py'] + sys.argv[1:]
runpy.run_path('tools/device_check.py', run_name='__main__')
print('IMPORTED', sorted({m.split('.')[0] for m in sys.modules} & set(%r)))
""" % (TRAINING_STACK, )


@pytest.mark.skipif(
    'find_spec' not in open(osp.join(REPO, 'yolox_kpt', 'evaluation', '__init__.py')).read(),
    reason='yolox_kpt.evaluation imports mmdet unconditionally')
def test_device_check_runs_without_the_training_stack(case, tmp_path):
    """A runtime-only install: this environment's packages less the training stack (links
    to the others, Python started without site-packages), the repository on the path."""
    site = osp.dirname(osp.dirname(np.__file__))
    packages = tmp_path / 'site'
    packages.mkdir()
    for entry in os.listdir(site):
        if not entry.startswith((*TRAINING_STACK, 'yolox_kpt', '__editable__')) and \
                not entry.endswith('.pth'):
            os.symlink(osp.join(site, entry), packages / entry)
    proc = subprocess.run(
        [sys.executable, '-S', '-c', RUN, case['onnx'], '--ann-file', case['ann'],
         '--img-dir', case['img_dir'], '--backend', 'onnxruntime', '--warmup', '0', '--out',
         str(tmp_path / 'r.json')], cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{packages}'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'IMPORTED []' in proc.stdout
    metrics = json.load(open(tmp_path / 'r.json'))['models']['onnxruntime']['metrics']
    assert 'kpt_AP_vehicle' in metrics and 'bbox_AP_cyclist' in metrics
