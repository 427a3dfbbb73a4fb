"""``tools/mining/mine_frames.py --rank``: the frames come back ranked with their signals and
reasons, near duplicates dropped, and a contact sheet of the best ones with the reasons on.

The model is an ONNX graph whose detections are constants except their scores, which are
the frame's mean brightness / 255: a frame of brightness 128 puts its objects at the
--score-thr of 0.5 (the known-hard frame), brighter frames well above it. The scene is
mirror-symmetric, so a model run on the mirrored frame (--flip), its answer mapped back with
the left/right tyre slots swapped, agrees: flip_disagreement must be 0 everywhere."""
import json

import cv2
import numpy as np
import pytest

from yolox_kpt.runtime import Preprocess, RuntimeMeta

from test_eval_geometry import _load  # a tool's module by its path
from test_geometry_tools import LAYOUT, run  # the driving layout, the tool runner

SIZE = 160  # square frames at the model's input size: no resize, no padding
TYRES = [(60, 180), (100, 180), (50, 200), (110, 200)]  # FL FR RL RR, mirror-symmetric


def scene():
    """``dets`` (1, 3, 4) boxes, per-object score factors (1, 3, 1), ``labels`` (1, 3),
    ``keypoints`` (1, 3, 6, 3): a vehicle seen from behind, a pedestrian, the vehicle's
    face, all centred on x = 80."""
    boxes = np.array([[[45, 120, 115, 202], [70, 40, 90, 100], [55, 130, 105, 190]]],
                     np.float32) * np.array([1, 0.75, 1, 0.75], np.float32)  # into 160 px
    keypoints = np.zeros((1, 3, LAYOUT.num_keypoints, 3), np.float32)
    keypoints[0, 0, :4, :2] = np.array(TYRES, np.float32) * (1, 0.75)
    keypoints[0, 0, :4, 2] = 0.9
    return boxes, np.array([[[1.0], [0.95], [0.9]]], np.float32), \
        np.array([[0, 2, 1]], np.int64), keypoints


@pytest.fixture(scope='module')
def brightness_model(tmp_path_factory):
    onnx = pytest.importorskip('onnx')
    from onnx import TensorProto, helper, numpy_helper
    tmp = tmp_path_factory.mktemp('rank_frames')
    boxes, factors, labels, keypoints = scene()
    consts = dict(boxes=boxes, factors=factors, labels=labels, keypoints=keypoints,
                  shape=np.array([1, 1, 1], np.int64), inv255=np.array(1 / 255, np.float32))
    nodes = [helper.make_node('Constant', [], [k], value=numpy_helper.from_array(v))
             for k, v in consts.items()]
    nodes += [helper.make_node('ReduceMean', ['input'], ['mean'], axes=[1, 2, 3], keepdims=1),
              helper.make_node('Reshape', ['mean', 'shape'], ['mean3']),
              helper.make_node('Mul', ['mean3', 'inv255'], ['bright']),
              helper.make_node('Mul', ['bright', 'factors'], ['scores']),
              helper.make_node('Concat', ['boxes', 'scores'], ['dets'], axis=2)]
    graph = helper.make_graph(
        nodes, 'brightness_scene',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 'h', 'w'])],
        [helper.make_tensor_value_info('dets', TensorProto.FLOAT, [1, 3, 5]),
         helper.make_tensor_value_info('labels', TensorProto.INT64, [1, 3]),
         helper.make_tensor_value_info('keypoints', TensorProto.FLOAT, keypoints.shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)])
    model.ir_version = 7
    RuntimeMeta(layout=LAYOUT, preprocess=Preprocess(scale=(SIZE, SIZE))).to_onnx_metadata(
        model)
    onnx.save(model, str(tmp / 'bright.onnx'))
    frames = tmp / 'frames'
    frames.mkdir()
    rng = np.random.default_rng(0)

    def texture(mean):  # random texture (a distinct fingerprint) of a given mean
        return np.clip(rng.normal(mean, 15, (SIZE, SIZE, 3)), 0, 255).round().astype(np.uint8)

    a = texture(230)
    for name, image in (('a.png', a), ('b.png', texture(128)), ('c.png', a),
                        ('d.png', texture(200))):
        cv2.imwrite(str(frames / name), image)
    return dict(model=str(tmp / 'bright.onnx'), frames=str(frames))


def test_rank_flip_track(brightness_model, tmp_path):
    ranked, sheet = tmp_path / 'ranked.json', tmp_path / 'ranked.jpg'
    log = run('mining/mine_frames.py', brightness_model['frames'], brightness_model['model'],
              '--score-thr', 0.5, '--rank', '--flip', '--track', '--top', 4, '--weights',
              'keypoint_uncertainty=0.5', '--out', tmp_path / 'hits.json', '--rank-out',
              ranked, '--rank-sheet', sheet)
    assert '3 frames ranked (1 near duplicates dropped; --flip ran the model twice' in log
    out = json.loads(ranked.read_text())
    # b (at the threshold) first; c repeats a: dropped; a before d (same score, frame order)
    assert out['order'] == ['b.png', 'a.png', 'd.png']
    frames = {f['frame']: f for f in out['frames']}
    assert frames['c.png']['duplicate_of'] == 'a.png' and frames['c.png']['rank'] is None
    # the weighted mean of 5 signals, low_margin ~1 (weights 1 but keypoint_uncertainty 0.5)
    assert frames['b.png']['rank'] == 1
    assert frames['b.png']['score'] == pytest.approx(1 / 4.5, abs=0.01)
    assert frames['b.png']['reasons'][0].startswith('low_margin: score 0.5')
    lm = frames['b.png']['signals']['low_margin']['objects']
    assert [o['object'] for o in lm] == [0, 1, 2] and lm[0]['score'] > 0.95
    assert frames['a.png']['score'] == 0 and frames['a.png']['reasons'] == []
    assert out['weights']['keypoint_uncertainty'] == 0.5 and out['flip'] and out['track']
    assert sorted(out['signals']) == ['flip_disagreement', 'geometry_implausibility',
                                      'keypoint_uncertainty', 'low_margin', 'temporal_flicker']
    for f in out['frames']:
        # the mirrored frame's answer, mapped back with the tyre slots swapped, agrees
        assert f['signals']['flip_disagreement']['score'] == 0
        assert f['signals']['geometry_implausibility']['score'] == 0
        assert f['signals']['temporal_flicker']['score'] == 0
        assert [d['track_id'] for d in f['detections']] == [1, 2, 3]
    # the hits file is written from the same frame loop, tracked
    hits = json.loads((tmp_path / 'hits.json').read_text())
    assert [h['frame'] for h in hits['hits']] == ['a.png', 'b.png', 'c.png', 'd.png']
    assert hits['hits'][1]['detections'][0]['track_id'] == 1 and len(hits['tracks']) == 3
    # the sheet: 3 tiles of 320 px, the first with its caption in white on black
    image = cv2.imread(str(sheet))
    assert image.shape[1] == 4 * 320 and image.shape[0] == 320
    corner = image[:30, :150]
    assert (corner.min(2) > 200).sum() > 30 and (corner.max(2) < 40).sum() > 500


def test_weights_option(capsys):
    tool = _load('tools/mining/mine_frames.py')
    args = tool.parse_args(['frames', 'model.onnx', '--rank', '--weights',
                            'flip_disagreement=2', 'low_margin=0'])
    assert args.weights == dict(flip_disagreement=2.0, low_margin=0.0)
    for bad, message in (('bogus=1', 'unknown signal'), ('low_margin=x', 'SIGNAL=NUMBER'),
                         ('low_margin=-1', '>= 0')):
        with pytest.raises(SystemExit):
            tool.parse_args(['frames', 'model.onnx', '--weights', bad])
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(['frames', 'model.onnx', '--flip'])
    assert 'give --rank too' in capsys.readouterr().err
