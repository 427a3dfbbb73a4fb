"""``--calibration`` in the demos and the mining tool: a vehicle whose tyres were projected
from a known road position comes back at that distance and heading in the JSON, and its
distance is written under its box. The model is an ONNX graph that answers constants (the
detections of that vehicle, a pedestrian and a face), so only the tools and the geometry
are under test."""
import json
import math
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.runtime import Preprocess, RuntimeMeta, load_calibration

from small_run import REPO  # tests/tools/small_run.py

CALIBRATION = osp.join(REPO, 'configs', 'calibration', 'example_1280x720.json')
TYRES = ('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre')
LAYOUT = KeypointLayout.from_config(dict(
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(vehicle=TYRES, cyclist=('front_wheel', 'rear_wheel')),
    sigmas={n: 0.05 for n in TYRES + ('front_wheel', 'rear_wheel')}))
# frames at half the calibration's size: the tools must scale it
WIDTH, HEIGHT = 640, 360
X, Y, HEADING = 14.0, 3.0, 45.0  # the vehicle on the road


def scene():
    """Network outputs (the network sees the frame unscaled): ``dets`` (1, 3, 5), ``labels``
    (1, 3), ``keypoints`` (1, 3, 6, 3)."""
    cam = load_calibration(CALIBRATION).scaled_to(WIDTH, HEIGHT)
    h = math.radians(HEADING)
    fwd, left = np.array([math.cos(h), math.sin(h)]), np.array([-math.sin(h), math.cos(h)])
    road = [np.array([X, Y]) + a * fwd * 1.35 + b * left * 0.8
            for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    tyres = cam.ground_to_image(np.array(road))
    x1, y1 = tyres.min(0) - (10, 40)
    x2, y2 = tyres.max(0) + (10, 2)
    person_bottom = cam.ground_to_image(np.array([[9.0, -2.0]]))[0]
    dets = np.array([[[x1, y1, x2, y2, 0.9],
                      [person_bottom[0] - 6, person_bottom[1] - 40, person_bottom[0] + 6,
                       person_bottom[1], 0.8],
                      [x1 + 5, y1 + 5, x1 + 40, y2 - 5, 0.7]]], np.float32)
    keypoints = np.zeros((1, 3, 6, 3), np.float32)
    keypoints[0, 0, :4, :2] = tyres
    keypoints[0, 0, :4, 2] = 0.9
    return dets, np.array([[0, 2, 1]], np.int64), keypoints


@pytest.fixture(scope='module')
def tool_inputs(tmp_path_factory):
    """A constant ONNX model, two frames and a 3-frame video of them."""
    onnx = pytest.importorskip('onnx')
    from onnx import TensorProto, helper, numpy_helper
    tmp = tmp_path_factory.mktemp('geometry_tools')
    outputs = dict(zip(('dets', 'labels', 'keypoints'), scene()))
    graph = helper.make_graph(
        [helper.make_node('Constant', [], [name], value=numpy_helper.from_array(value))
         for name, value in outputs.items()], 'constant_scene',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 'h', 'w'])],
        [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype),
                                       value.shape) for name, value in outputs.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)])
    model.ir_version = 7
    RuntimeMeta(layout=LAYOUT, preprocess=Preprocess(scale=(WIDTH, WIDTH),
                                                    pad_to_square=True)).to_onnx_metadata(model)
    onnx.save(model, str(tmp / 'scene.onnx'))
    frames = tmp / 'frames'
    frames.mkdir()
    image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    for name in ('a.jpg', 'b.jpg'):
        cv2.imwrite(str(frames / name), image)
    video = cv2.VideoWriter(str(tmp / 'drive.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 5,
                            (WIDTH, HEIGHT))
    for _ in range(3):
        video.write(image)
    video.release()
    return dict(model=str(tmp / 'scene.onnx'), frames=str(frames), video=str(tmp / 'drive.mp4'))


def run(tool, *args):
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', *tool.split('/')),
                           *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def check_vehicle(ground):
    est = ground['estimate']
    assert est['method'] == 'tyres' and est['num_points'] == 4
    assert est['distance_m'] == pytest.approx(math.hypot(X, Y), abs=0.01)
    assert est['lateral_m'] == pytest.approx(Y, abs=0.01)
    assert est['heading_deg'] == pytest.approx(HEADING, abs=0.1)
    assert ground['box_bottom']['method'] == 'box_bottom'


def test_image_demo_and_mining_with_calibration(tool_inputs, tmp_path):
    out_json = tmp_path / 'dets.json'
    run('demo/image_demo.py', tool_inputs['frames'], tool_inputs['model'], '--calibration',
        CALIBRATION, '--out-dir', tmp_path / 'drawn', '--out-json', out_json)
    records = json.loads(out_json.read_text())
    assert len(records) == 2
    vehicle, person, face = records[0]['detections']
    check_vehicle(vehicle['ground'])
    assert person['ground']['estimate']['heading_deg'] is None
    assert person['ground']['estimate']['distance_m'] == pytest.approx(
        math.hypot(9.0, 2.0) + 0.25, abs=0.02)  # box bottom plus half a pedestrian
    assert face['ground'] is None
    # the distance is written in white under the vehicle's box
    drawn = cv2.imread(str(tmp_path / 'drawn' / 'a.jpg'))
    x1, _, x2, y2 = (int(v) for v in vehicle['bbox'])
    strip = drawn[y2 + 2:y2 + 16, x1:x1 + 60]
    assert (strip.min(2) > 200).sum() > 20 and (strip.max(2) < 40).sum() > 100
    # without --calibration nothing is added
    run('demo/image_demo.py', tool_inputs['frames'], tool_inputs['model'], '--out-dir',
        tmp_path / 'plain', '--out-json', tmp_path / 'plain.json')
    assert 'ground' not in json.loads((tmp_path / 'plain.json').read_text())[0][
        'detections'][0]
    plain = cv2.imread(str(tmp_path / 'plain' / 'a.jpg'))
    assert (plain[y2 + 2:y2 + 16, x1:x1 + 60].min(2) > 200).sum() == 0

    hits = tmp_path / 'hits.json'
    log = run('mining/mine_frames.py', tool_inputs['video'], tool_inputs['model'],
              '--classes', 'vehicle', '--calibration', CALIBRATION, '--out', hits)
    assert 'hits written to' in log
    mined = json.loads(hits.read_text())
    assert len(mined['hits']) == 3 and mined['calibration']['height_m'] == 1.5
    for hit in mined['hits']:
        (det, ) = hit['detections']
        check_vehicle(det['ground'])


def test_video_demo_with_calibration(tool_inputs, tmp_path):
    out = tmp_path / 'drive.mp4'
    log = run('demo/video_demo.py', tool_inputs['video'], tool_inputs['model'],
              '--calibration', CALIBRATION, '--out', out)
    assert '3 frames' in log
    cap = cv2.VideoCapture(str(out))
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (HEIGHT, WIDTH, 3)
    # a bad calibration file stops the tool with its name and field before any frame
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'image_size': [1280, 720], 'fx': 1000}))
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'demo', 'video_demo.py'),
                           tool_inputs['video'], tool_inputs['model'], '--calibration',
                           str(bad)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and f"{bad}: field 'fy': missing" in proc.stderr
