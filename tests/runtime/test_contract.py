"""The export contract and the detection record, without torch or mmdet: a hand-made ONNX
graph with the contract's outputs stands in for an export (tests/deploy exports real ones)."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.runtime import (ONNX_METADATA_KEY, OUTPUT_NAMES, SIDECAR_FILE, Detections,
                               KeypointDetector, Preprocess, RuntimeMeta, RuntimeMetaError,
                               unpack_outputs)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAYOUT = KeypointLayout.from_config(dict(
    classes=('vehicle', 'pedestrian', 'cyclist'),
    keypoints=dict(vehicle=('front_left_tyre', 'front_right_tyre'),
                   cyclist=('front_wheel', 'rear_wheel')),
    sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, front_wheel=0.05,
                rear_wheel=0.05),
    skeletons=dict(vehicle=[[1, 2]], cyclist=[[1, 2]])))
# network input 64x64; the test image is 128x96, so the scale factor is 0.5 both ways
PREPROCESS = Preprocess(scale=(64, 64), keep_ratio=True, pad_to_square=True, pad_val=114.0)
# what the graph answers, in network pixels: a vehicle, a cyclist, a padded row (label -1)
DETS = np.array([[[10, 20, 30, 40, 0.9], [5, 5, 15, 25, 0.6], [0, 0, 0, 0, 0]]], np.float32)
LABELS = np.array([[0, 2, -1]], np.int64)
KPTS = np.zeros((1, 3, 4, 3), np.float32)
KPTS[0, 0, :2] = [[12, 38, 0.8], [28, 38, 0.7]]
KPTS[0, 1, 2:] = [[6, 24, 0.5], [14, 24, 0.4]]


def meta(**kwargs):
    return RuntimeMeta(layout=LAYOUT, preprocess=PREPROCESS, **kwargs)


def constant_graph(path, with_meta=True):
    """An ONNX model whose outputs are the constants above, whatever its input."""
    onnx = pytest.importorskip('onnx')
    from onnx import TensorProto, helper, numpy_helper
    nodes = [helper.make_node('Constant', [], [f'{name}_value'],
                              value=numpy_helper.from_array(value, f'{name}_const'))
             for name, value in zip(OUTPUT_NAMES, (DETS, LABELS, KPTS))]
    # each output depends on the input, as an exported graph's do
    nodes.append(helper.make_node('ReduceSum', ['input'], ['total'], keepdims=0))
    nodes.append(helper.make_node('Mul', ['total', 'zero'], ['nothing']))
    for name in OUTPUT_NAMES:
        cast = helper.make_node('Cast', ['nothing'], [f'{name}_zero'],
                                to=TensorProto.INT64 if name == 'labels' else
                                TensorProto.FLOAT)
        nodes += [cast, helper.make_node('Add', [f'{name}_value', f'{name}_zero'], [name])]
    outputs = [helper.make_tensor_value_info(name, TensorProto.INT64 if name == 'labels'
                                             else TensorProto.FLOAT, None)
               for name in OUTPUT_NAMES]
    graph = helper.make_graph(
        nodes, 'contract', [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                                          [1, 3, 'h', 'w'])], outputs,
        initializer=[numpy_helper.from_array(np.zeros((), np.float32), 'zero')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)])
    model.ir_version = 7
    if with_meta:
        meta().to_onnx_metadata(model)
    onnx.save(model, str(path))
    return str(path)


def test_contract_imports_without_torch_mmdet_opencv_or_onnx():
    """On a target with numpy only (``None`` in ``sys.modules`` makes an import fail, as a
    missing package does), the contract still reads and writes its meta."""
    code = ("import sys\n"
            "for name in ('torch', 'mmdet', 'mmengine', 'mmcv', 'cv2', 'onnx', 'onnxruntime'):\n"
            "    sys.modules[name] = None\n"
            "from yolox_kpt.runtime.contract import RuntimeMeta\n"
            "from yolox_kpt.runtime.detections import Detections\n"
            "print('imported')\n")
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.stdout.strip() == 'imported', proc.stderr[-2000:]


def test_meta_round_trips_through_dict_sidecar_and_onnx(tmp_path):
    original = meta(static_input_shape=(64, 64), backend='tensorrt')
    again = RuntimeMeta.from_dict(json.loads(json.dumps(original.to_dict())))
    assert again == original and again.layout.skeletons == (((0, 1), ), (), ((2, 3), ))
    assert isinstance(again.layout, KeypointLayout) and again.preprocess == PREPROCESS
    # the fields the sidecar has always had, so older readers of the file keep working
    assert set(original.to_dict()) == {'preprocess', 'static_input_shape', 'keypoint_layout',
                                       'keypoint_names', 'outputs', 'backend'}
    assert original.to_dict()['outputs'] == ['dets', 'labels', 'keypoints']
    path = original.write_sidecar(str(tmp_path))
    assert osp.basename(path) == SIDECAR_FILE == 'yolox_kpt_runtime.json'
    assert RuntimeMeta.from_sidecar(path) == original

    onnx = pytest.importorskip('onnx')
    model = onnx.load(constant_graph(tmp_path / 'm.onnx', with_meta=False))
    model.metadata_props.add(key='author', value='someone else')
    meta().to_onnx_metadata(model)
    original.to_onnx_metadata(model)  # replaces ours, keeps theirs
    assert sorted(p.key for p in model.metadata_props) == ['author', ONNX_METADATA_KEY]
    onnx.save(model, str(tmp_path / 'm.onnx'))
    assert RuntimeMeta.from_onnx(str(tmp_path / 'm.onnx')) == original
    assert RuntimeMeta.from_onnx(constant_graph(tmp_path / 'bare.onnx', False)) is None


def test_read_prefers_onnx_metadata_and_falls_back_to_the_sidecar(tmp_path):
    pytest.importorskip('onnx')
    onnx_file = constant_graph(tmp_path / 'end2end.onnx')
    assert not (tmp_path / SIDECAR_FILE).exists()
    assert RuntimeMeta.read(onnx_file) == meta()
    # an engine has no metadata: the sidecar beside it
    engine = tmp_path / 'end2end.engine'
    engine.write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=SIDECAR_FILE):
        RuntimeMeta.read(str(engine))
    meta(backend='tensorrt').write_sidecar(str(tmp_path))
    assert RuntimeMeta.read(str(engine)).backend == 'tensorrt'
    # an explicit sidecar wins over the metadata; an ONNX without ours uses the sidecar
    assert RuntimeMeta.read(onnx_file, str(tmp_path / SIDECAR_FILE)).backend == 'tensorrt'
    bare = constant_graph(tmp_path / 'bare.onnx', with_meta=False)
    assert RuntimeMeta.read(bare).backend == 'tensorrt'


def test_meta_of_another_format_is_refused():
    good = meta().to_dict()
    with pytest.raises(RuntimeMetaError, match=r"outputs \['boxes', 'scores'\]"):
        RuntimeMeta.from_dict(dict(good, outputs=['boxes', 'scores']), 'x.json')
    with pytest.raises(RuntimeMetaError, match=r"x.json: no \['keypoint_layout'\]"):
        RuntimeMeta.from_dict({k: v for k, v in good.items() if k != 'keypoint_layout'},
                              'x.json')


def test_unpack_outputs_names_the_packed_fields():
    out = unpack_outputs(DETS, LABELS, KPTS)
    assert list(out) == ['bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores']
    assert out['bboxes'].shape == (1, 3, 4) and out['labels'] is LABELS
    np.testing.assert_array_equal(out['bboxes'][0, 0], [10, 20, 30, 40])
    np.testing.assert_allclose(out['scores'][0], [0.9, 0.6, 0.0])
    assert out['keypoints'].shape == (1, 3, 4, 2) and out['keypoint_scores'].shape == (1, 3, 4)
    np.testing.assert_array_equal(out['keypoints'][0, 1, 2], [6, 24])
    np.testing.assert_allclose(out['keypoint_scores'][0, 0], [0.8, 0.7, 0, 0])


def test_detector_runs_an_onnx_file_alone_from_its_metadata(tmp_path):
    pytest.importorskip('onnxruntime')
    detector = KeypointDetector(constant_graph(tmp_path / 'end2end.onnx'))
    assert not (tmp_path / SIDECAR_FILE).exists()
    assert detector.layout == LAYOUT and detector.meta.preprocess == PREPROCESS
    dets = detector(np.zeros((96, 128, 3), np.uint8), score_thr=0.5)
    assert isinstance(dets, Detections) and len(dets) == 2
    # original pixels: network pixels / 0.5
    np.testing.assert_allclose(dets.bboxes, [[20, 40, 60, 80], [10, 10, 30, 50]])
    np.testing.assert_allclose(dets.scores, [0.9, 0.6])
    assert dets.labels.tolist() == [0, 2] and dets.labels.dtype == np.int64
    assert dets.keypoints.shape == (2, 4, 2) and dets.keypoint_scores.shape == (2, 4)
    np.testing.assert_allclose(dets.keypoints[0, :2], [[24, 76], [56, 76]])
    np.testing.assert_allclose(dets.keypoints[1, 2:], [[12, 48], [28, 48]])
    np.testing.assert_allclose(dets.keypoint_scores, [[0.8, 0.7, 0, 0], [0, 0, 0.5, 0.4]])
    assert dets.class_names == LAYOUT.classes and dets.keypoint_names == LAYOUT.keypoint_names
    assert len(detector(np.zeros((96, 128, 3), np.uint8), score_thr=0.7)) == 1


def test_detections_index_like_instance_data():
    dets = Detections(bboxes=np.arange(8.).reshape(2, 4), scores=[0.9, 0.2], labels=[0, 2],
                      keypoints=np.ones((2, 4, 2)), keypoint_scores=np.ones((2, 4)),
                      layout=LAYOUT)
    assert dets.bboxes.dtype == np.float32 and dets.labels.dtype == np.int64
    kept = dets[dets.scores > 0.5]
    assert len(kept) == 1 and kept.labels.tolist() == [0] and kept.layout is LAYOUT
    assert kept.keypoints.shape == (1, 4, 2)
    assert len(dets[1]) == 1 and dets[1].scores.tolist() == [pytest.approx(0.2)]
    empty = dets[np.zeros(2, bool)]
    assert len(empty) == 0 and empty.keypoints.shape == (0, 4, 2)
    assert 'keypoint_scores' in dets and 'keypoints_visible' not in dets
    assert dets.get('keypoints_visible', 'absent') == 'absent'
    assert [k for k, _ in dets.items()] == list(dets.keys())
    with pytest.raises(ValueError):
        Detections(bboxes=np.zeros((1, 4)), scores=[1.0], labels=[0],
                   keypoints=np.zeros((1, 3, 2)), keypoint_scores=np.zeros((1, 3)),
                   layout=LAYOUT)  # 3 keypoints, the layout has 4
