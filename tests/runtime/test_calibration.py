"""The camera calibration: hand-computed pixel <-> road cases (height, pitch, roll), the
homography form against the pose form, distortion, resizing, and the file's refusals."""
import json
import math
import os.path as osp

import numpy as np
import pytest

from yolox_kpt.runtime import CalibrationError, CameraCalibration, load_calibration

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXAMPLE = osp.join(REPO, 'configs', 'calibration', 'example_1280x720.json')
BASE = dict(fx=1000.0, fy=1000.0, cx=640.0, cy=360.0, image_size=[1280, 720], height_m=1.5)


def calib(**kwargs):
    return CameraCalibration.from_dict({**BASE, **kwargs})


def test_level_camera_point_straight_ahead():
    # 1.5 m high, level: the road 15 m ahead is 1.5/15 rad below the axis, 100 px under cy
    cam = calib()
    ground = cam.image_to_ground(np.array([[640.0, 360.0 + 1000 * 1.5 / 15]]))
    np.testing.assert_allclose(ground, [[15.0, 0.0]], atol=1e-9)
    # a column 100 px right of cx on the same row: 1.5 m to the right (y is left)
    np.testing.assert_allclose(cam.image_to_ground(np.array([[740.0, 460.0]])),
                               [[15.0, -1.5]], atol=1e-9)
    np.testing.assert_allclose(cam.ground_to_image(np.array([[30.0, 3.0]])),
                               [[640.0 - 1000 * 3 / 30, 360.0 + 1000 * 1.5 / 30]], atol=1e-9)


def test_pitch_moves_the_row_by_the_angle():
    cam = calib(pitch_deg=5.0)
    row = 360.0 + 1000 * math.tan(math.atan(1.5 / 15) - math.radians(5))
    np.testing.assert_allclose(cam.image_to_ground(np.array([[640.0, row]])), [[15.0, 0.0]],
                               atol=1e-9)
    np.testing.assert_allclose(cam.ground_to_image(np.array([[15.0, 0.0]])), [[640.0, row]],
                               atol=1e-9)
    # looking down puts the horizon above the principal point, by fy * tan(pitch)
    assert cam.horizon_v(640.0) == pytest.approx(360.0 - 1000 * math.tan(math.radians(5)))


def test_horizon_and_behind_are_nan():
    cam = calib(pitch_deg=5.0)
    horizon = cam.horizon_v(640.0)
    ground = cam.image_to_ground(np.array([[640.0, horizon], [640.0, horizon - 50],
                                           [640.0, horizon + 1], [np.nan, 400.0]]))
    assert np.isnan(ground[[0, 1, 3]]).all()
    assert ground[2, 0] > 100  # just below the horizon: far, but on the road
    pixels = cam.ground_to_image(np.array([[-5.0, 0.0], [0.0, 0.0], [10.0, 0.0]]))
    assert np.isnan(pixels[0]).all() and np.isfinite(pixels[1:]).all()
    # below the camera, looking 5 degrees down: in front of the lens, far below the frame
    assert pixels[1, 1] == pytest.approx(360 + 1000 / math.tan(math.radians(5)))


def test_roll_sign_and_hand_case():
    # roll + = turned clockwise seen from behind: the image's right side dips towards the
    # road, so the horizon rises on the right
    cam = calib(roll_deg=10.0)
    far = cam.ground_to_image(np.array([[1e6, -1e5], [1e6, 1e5]]))  # right, left
    assert far[0, 0] > 640 > far[1, 0] and far[0, 1] < 360 < far[1, 1]
    # the picture turns counter-clockwise by the roll about the principal point: the road
    # 15 m ahead, 100 px below the centre in a level camera, moves to (sin r, cos r) * 100 px
    r = math.radians(10.0)
    np.testing.assert_allclose(cam.ground_to_image(np.array([[15.0, 0.0]])),
                               [[640.0 + 100 * math.sin(r), 360.0 + 100 * math.cos(r)]],
                               atol=1e-9)


@pytest.mark.parametrize('pose', [dict(), dict(pitch_deg=3.0), dict(pitch_deg=-2.0,
                                                                     roll_deg=4.0),
                                  dict(pitch_deg=2.0, roll_deg=-1.0,
                                       dist=[-0.25, 0.08, 0.001, -0.0005, -0.01])])
def test_round_trips(pose):
    cam = calib(**pose)
    rng = np.random.default_rng(0)
    road = np.column_stack([rng.uniform(3, 60, 50), rng.uniform(-10, 10, 50)])
    pixels = cam.ground_to_image(road)
    inside = ((pixels >= 0) & (pixels < (1280, 720))).all(1)
    assert inside.sum() > 20
    np.testing.assert_allclose(cam.image_to_ground(pixels[inside]), road[inside], atol=1e-6)
    np.testing.assert_allclose(cam.ground_to_image(cam.image_to_ground(pixels[inside])),
                               pixels[inside], atol=1e-6)
    # (N, 3) world points at z = 0 are the same as (N, 2) road points
    np.testing.assert_allclose(cam.ground_to_image(np.column_stack([road, np.zeros(50)])),
                               pixels, atol=1e-9)


def test_world_points_above_the_road():
    # a point at the camera's own height lies on the horizon row of a level camera
    np.testing.assert_allclose(calib().ground_to_image(np.array([[20.0, 0.0, 1.5]])),
                               [[640.0, 360.0]], atol=1e-9)


def test_distortion_moves_pixels():
    plain, lens = calib(), calib(dist=[-0.3, 0.1, 0.0, 0.0, 0.0])
    corner = np.array([[8.0, -5.0]])  # far off-axis: barrel distortion pulls it inwards
    a, b = plain.ground_to_image(corner)[0], lens.ground_to_image(corner)[0]
    assert np.hypot(*(b - (640, 360))) < np.hypot(*(a - (640, 360))) - 5


def test_homography_form_agrees_with_pose_form():
    pose = calib(pitch_deg=3.0, roll_deg=-2.0)
    # the homography a user would fit from 4 marked road points
    road = np.array([[5.0, 2.0], [5.0, -2.0], [30.0, 4.0], [30.0, -4.0]])
    pixels = pose.ground_to_image(road)
    a = []
    for (x, y), (u, v) in zip(road, pixels):  # DLT: pixels -> road
        a.append([u, v, 1, 0, 0, 0, -x * u, -x * v, -x])
        a.append([0, 0, 0, u, v, 1, -y * u, -y * v, -y])
    hom = np.linalg.svd(np.array(a))[2][-1].reshape(3, 3)
    for sign in (1.0, -1.0):  # a homography's sign is free
        homo = CameraCalibration.from_dict(dict(image_size=[1280, 720],
                                                homography=(sign * hom).tolist()))
        test = np.array([[12.0, 1.0], [50.0, -6.0], [7.0, 0.0]])
        np.testing.assert_allclose(homo.ground_to_image(test), pose.ground_to_image(test),
                                   atol=1e-6)
        px = pose.ground_to_image(test)
        np.testing.assert_allclose(homo.image_to_ground(px), test, atol=1e-6)
        above = np.array([[640.0, pose.horizon_v(640.0) - 20]])
        assert np.isnan(homo.image_to_ground(above)).all()
    # the pose form's own homography, written out, is the same camera
    again = CameraCalibration.from_dict(dict(image_size=[1280, 720],
                                             homography=pose.ground_homography.tolist()))
    np.testing.assert_allclose(again.image_to_ground(px), test, atol=1e-9)


def test_scaled_to_resized_frames():
    cam = calib(pitch_deg=2.0, dist=[-0.1, 0.01, 0, 0, 0])
    half = cam.scaled_to(640, 360)
    assert half.image_size == (640, 360) and half.fx == 500.0 and half.cy == 180.0
    road = np.array([[10.0, 1.0], [25.0, -3.0]])
    np.testing.assert_allclose(half.ground_to_image(road), cam.ground_to_image(road) / 2,
                               atol=1e-6)
    homo = CameraCalibration(fx=math.nan, fy=math.nan, cx=math.nan, cy=math.nan,
                             image_size=(1280, 720), height_m=math.nan,
                             homography=calib().ground_homography)
    np.testing.assert_allclose(homo.scaled_to(640, 360).image_to_ground(np.array([[320, 230]])),
                               [[15.0, 0.0]], atol=1e-9)
    assert cam.scaled_to(1280, 720) is cam


def test_file_round_trip_and_example(tmp_path):
    cam = calib(pitch_deg=2.5, roll_deg=-0.5, dist=[-0.2, 0.05, 0.0, 0.0, 0.0])
    path = tmp_path / 'cam.json'
    path.write_text(json.dumps(cam.to_dict()))
    assert load_calibration(str(path)) == cam
    example = load_calibration(EXAMPLE)
    assert example.image_size == (1280, 720) and example.height_m > 0


def bad(tmp_path, name, **changes):
    data = {**BASE, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    path = tmp_path / f'{name}.json'
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize('changes, field, words', [
    (dict(fx=None), 'fx', 'missing'),
    (dict(height_m=-1.5), 'height_m', '> 0'),
    (dict(height_m=1500), 'height_m', 'metres'),
    (dict(pitch_deg=95.0), 'pitch_deg', 'impossible'),
    (dict(roll_deg=200.0), 'roll_deg', 'impossible'),
    (dict(fy='1000'), 'fy', 'number'),
    (dict(cx=2000.0), 'cx', 'outside'),
    (dict(image_size=[1280]), 'image_size', 'width, height'),
    (dict(image_size=None), 'image_size', 'missing'),
    (dict(dist=[0.1, 0.2, 0.3]), 'dist', 'coefficients'),
    (dict(pitch=2.0), 'pitch', 'unknown field'),
    (dict(homography=[[1, 0, 0], [0, 1, 0]]), 'homography', '3x3'),
    (dict(homography=[[1, 2, 3], [2, 4, 6], [0, 0, 1]]), 'homography', 'not invertible'),
    (dict(homography=[[-1, 0, 0], [0, 1, 0], [0, 0, 1]]), 'homography', 'not in front'),
])
def test_refusals_name_file_and_field(tmp_path, changes, field, words):
    path = bad(tmp_path, field, **changes)
    with pytest.raises(CalibrationError) as err:
        load_calibration(path)
    assert path in str(err.value) and repr(field) in str(err.value)
    assert words in str(err.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(CalibrationError, match='cannot read'):
        load_calibration(str(tmp_path / 'missing.json'))
    broken = tmp_path / 'broken.json'
    broken.write_text('{"fx": 1000,')
    with pytest.raises(CalibrationError, match='broken.json: not valid JSON'):
        load_calibration(str(broken))
    with pytest.raises(CalibrationError, match='expected a JSON object'):
        CameraCalibration.from_dict([1, 2], source='list.json')
    # the homography form needs no pose; comments are allowed
    cam = CameraCalibration.from_dict(dict(image_size=[1280, 720], comment='x', _note='y',
                                           homography=calib().ground_homography.tolist()))
    assert math.isnan(cam.height_m) and 'height_m' not in cam.to_dict()
