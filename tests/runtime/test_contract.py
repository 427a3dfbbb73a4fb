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
from yolox_kpt.runtime.contract import REQUIRED_OUTPUTS

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
# p(v = 0, 1, 2) per slot; foreign slots (1, 0, 0). The vehicle's second tyre is occluded,
# the cyclist's rear wheel more likely unlabelled than either labelled state.
VIS = np.zeros((1, 3, 4, 3), np.float32)
VIS[..., 0] = 1
VIS[0, 0, :2] = [[0.2, 0.1, 0.7], [0.3, 0.6, 0.1]]
VIS[0, 1, 2:] = [[0.5, 0.1, 0.4], [0.6, 0.3, 0.1]]
VALUES = dict(zip(OUTPUT_NAMES, (DETS, LABELS, KPTS, VIS)))


def meta(**kwargs):
    return RuntimeMeta(layout=LAYOUT, preprocess=PREPROCESS, **kwargs)


def constant_graph(path, with_meta=True, outputs=OUTPUT_NAMES, meta_outputs=None):
    """An ONNX model whose outputs (``outputs``, of :data:`VALUES`) are the constants above,
    whatever its input; its metadata lists ``meta_outputs`` (default: ``outputs``)."""
    onnx = pytest.importorskip('onnx')
    from onnx import TensorProto, helper, numpy_helper
    nodes = [helper.make_node('Constant', [], [f'{name}_value'],
                              value=numpy_helper.from_array(VALUES[name], f'{name}_const'))
             for name in outputs]
    # each output depends on the input, as an exported graph's do
    nodes.append(helper.make_node('ReduceSum', ['input'], ['total'], keepdims=0))
    nodes.append(helper.make_node('Mul', ['total', 'zero'], ['nothing']))
    for name in outputs:
        cast = helper.make_node('Cast', ['nothing'], [f'{name}_zero'],
                                to=TensorProto.INT64 if name == 'labels' else
                                TensorProto.FLOAT)
        nodes += [cast, helper.make_node('Add', [f'{name}_value', f'{name}_zero'], [name])]
    infos = [helper.make_tensor_value_info(name, TensorProto.INT64 if name == 'labels'
                                           else TensorProto.FLOAT, None)
             for name in outputs]
    graph = helper.make_graph(
        nodes, 'contract', [helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                                          [1, 3, 'h', 'w'])], infos,
        initializer=[numpy_helper.from_array(np.zeros((), np.float32), 'zero')])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)])
    model.ir_version = 7
    if with_meta:
        meta(outputs=tuple(meta_outputs or outputs)).to_onnx_metadata(model)
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
    original = meta(static_input_shape=(64, 64), backend='tensorrt', outputs=OUTPUT_NAMES)
    again = RuntimeMeta.from_dict(json.loads(json.dumps(original.to_dict())))
    assert again == original and again.layout.skeletons == (((0, 1), ), (), ((2, 3), ))
    assert isinstance(again.layout, KeypointLayout) and again.preprocess == PREPROCESS
    # the fields the sidecar has always had, so older readers of the file keep working
    assert set(original.to_dict()) == {'preprocess', 'static_input_shape', 'keypoint_layout',
                                       'keypoint_names', 'outputs', 'backend'}
    assert original.to_dict()['outputs'] == ['dets', 'labels', 'keypoints',
                                             'keypoint_visibility']
    # the meta of a model without keypoint_visibility says so, and keeps saying it; a meta
    # not told otherwise describes one (as a file without the entry does)
    old = meta()
    assert old.to_dict()['outputs'] == ['dets', 'labels', 'keypoints']
    assert RuntimeMeta.from_dict(json.loads(json.dumps(old.to_dict()))) == old != \
        meta(outputs=OUTPUT_NAMES)
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
    assert RuntimeMeta.read(onnx_file) == meta(outputs=OUTPUT_NAMES)
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
    # the optional output is the last one, or absent; never alone or elsewhere
    for outputs in (['dets', 'labels', 'keypoint_visibility', 'keypoints'],
                    ['dets', 'labels', 'keypoint_visibility'], [*OUTPUT_NAMES, 'extra']):
        with pytest.raises(RuntimeMetaError, match='x.json: outputs'):
            RuntimeMeta.from_dict(dict(good, outputs=outputs), 'x.json')
    with pytest.raises(RuntimeMetaError, match='RuntimeMeta: outputs'):
        meta(outputs=('dets', 'labels'))
    # a meta without the entry predates the fourth output
    no_entry = {k: v for k, v in good.items() if k != 'outputs'}
    assert RuntimeMeta.from_dict(no_entry).outputs == REQUIRED_OUTPUTS


def test_unpack_outputs_names_the_packed_fields():
    out = unpack_outputs(DETS, LABELS, KPTS)
    assert list(out) == ['bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores']
    assert out['bboxes'].shape == (1, 3, 4) and out['labels'] is LABELS
    np.testing.assert_array_equal(out['bboxes'][0, 0], [10, 20, 30, 40])
    np.testing.assert_allclose(out['scores'][0], [0.9, 0.6, 0.0])
    assert out['keypoints'].shape == (1, 3, 4, 2) and out['keypoint_scores'].shape == (1, 3, 4)
    np.testing.assert_array_equal(out['keypoints'][0, 1, 2], [6, 24])
    np.testing.assert_allclose(out['keypoint_scores'][0, 0], [0.8, 0.7, 0, 0])
    out = unpack_outputs(DETS, LABELS, KPTS, VIS)
    assert list(out)[-1] == 'keypoint_visibility' and out['keypoint_visibility'] is VIS


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
    # probabilities follow their detections unscaled; the states are their argmax
    assert detector.backend.output_names == list(OUTPUT_NAMES)
    assert dets.keypoint_visibility.dtype == np.float32
    np.testing.assert_array_equal(dets.keypoint_visibility, VIS[0, :2])
    assert dets.keypoint_states.dtype == np.uint8
    assert dets.keypoint_states.tolist() == [[2, 1, 0, 0], [0, 0, 2, 0]]


def test_a_model_exported_before_keypoint_visibility_still_runs(tmp_path):
    """Three outputs, a meta listing three: the same detections, visibility None."""
    pytest.importorskip('onnxruntime')
    new = KeypointDetector(constant_graph(tmp_path / 'new.onnx'))
    old = KeypointDetector(constant_graph(tmp_path / 'old.onnx', outputs=REQUIRED_OUTPUTS))
    assert old.meta.outputs == REQUIRED_OUTPUTS
    assert old.backend.output_names == list(REQUIRED_OUTPUTS)
    image = np.zeros((96, 128, 3), np.uint8)
    a, b = new(image, score_thr=0.5), old(image, score_thr=0.5)
    assert b.keypoint_visibility is None and b.keypoint_states is None
    assert 'keypoint_visibility' not in b and 'keypoint_visibility' in a
    for name in b.keys():
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert 'visibility' not in b.to_json()[0] and 'visibility' in a.to_json()[0]
    # the meta wins: a four-output graph described as three runs as three
    three = KeypointDetector(constant_graph(tmp_path / 'three.onnx',
                                            meta_outputs=REQUIRED_OUTPUTS))
    assert three(image).keypoint_visibility is None
    # a meta that promises an output the graph lacks is named at load
    with pytest.raises(RuntimeError, match=r"lies.onnx: has outputs .*'keypoint_visibility'"):
        KeypointDetector(constant_graph(tmp_path / 'lies.onnx', outputs=REQUIRED_OUTPUTS,
                                        meta_outputs=OUTPUT_NAMES))


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


def test_keypoint_visibility_is_carried_by_every_copy():
    vis = np.zeros((3, 4, 3), np.float32)
    vis[..., 0] = 1
    vis[0, :2] = [[0.1, 0.2, 0.7], [0.1, 0.8, 0.1]]   # vehicle: visible, occluded
    vis[2, 2:] = [[0.9, 0.05, 0.05], [0.2, 0.5, 0.3]]  # cyclist: unlabelled, occluded
    kscores = 1 - vis[..., 0]
    dets = Detections(bboxes=np.arange(12.).reshape(3, 4), scores=[0.9, 0.2, 0.6],
                      labels=[0, 1, 2], keypoints=np.arange(24.).reshape(3, 4, 2),
                      keypoint_scores=kscores, layout=LAYOUT, keypoint_visibility=vis)
    assert dets.keypoint_states.tolist() == [[2, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]
    assert dets.keys()[-1] == 'keypoint_visibility' and 'keypoint_visibility' in dets
    assert dets.get('keypoint_visibility') is dets.keypoint_visibility
    for index, rows in (([2, 0], [2, 0]), (dets.scores > 0.5, [0, 2]), (1, [1]),
                        (slice(1, None), [1, 2])):
        part = dets[index]
        np.testing.assert_array_equal(part.keypoint_visibility, vis[rows])
        np.testing.assert_array_equal(part.keypoint_states, dets.keypoint_states[rows])
    assert dets[np.zeros(3, bool)].keypoint_visibility.shape == (0, 4, 3)
    # JSON: v of the slots written (score > 0), what the pre-label reader takes back
    out = dets.to_json()
    assert out[0]['visibility'] == {'front_left_tyre': 2, 'front_right_tyre': 1}
    assert out[1]['visibility'] == {} and out[1]['keypoints'] == {}
    assert out[2]['visibility'] == {'front_wheel': 0, 'rear_wheel': 1}
    assert set(out[2]['keypoints']) == set(out[2]['visibility'])
    # from an InstanceData-like record (a results.pkl dict behind attribute access)
    class Record:
        def __init__(self, fields):
            self.fields = fields

        def __getattr__(self, name):
            return self.__dict__['fields'][name]

    fields = dict(dets.items())
    again = Detections.from_instances(Record(fields), LAYOUT)
    np.testing.assert_array_equal(again.keypoint_visibility, vis)
    del fields['keypoint_visibility']
    assert Detections.from_instances(Record(fields), LAYOUT).keypoint_visibility is None
    with pytest.raises(ValueError):
        Detections(bboxes=np.zeros((1, 4)), scores=[1.0], labels=[0],
                   keypoints=np.zeros((1, 4, 2)), keypoint_scores=np.zeros((1, 4)),
                   layout=LAYOUT, keypoint_visibility=np.zeros((1, 4, 2)))  # not 3 states
