"""Contact points to the road: vehicles placed at known positions and headings, projected with
the calibration, come back exactly from every construction; fewer or weaker points give
larger sigmas; the box-bottom baseline; whole ``Detections`` through ``ground_estimates``."""
import json
import math

import numpy as np
import pytest

from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.runtime import (CameraCalibration, Detections, box_bottom_estimate,
                               estimate_labels, estimates_json, ground_estimates,
                               vehicle_ground_estimate)
from yolox_kpt.runtime.geometry import TYRES, UNKNOWN_HEADING_SIGMA_DEG, WHEELS

CAM = CameraCalibration(fx=1000.0, fy=1000.0, cx=640.0, cy=360.0, image_size=(1280, 720),
                        height_m=1.5, pitch_deg=2.0, roll_deg=0.5)
WHEELBASE, TRACK, LENGTH, WIDTH = 2.7, 1.6, 4.5, 1.8  # the default vehicle prior
LAYOUT = KeypointLayout.from_config(dict(
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(vehicle=TYRES, cyclist=WHEELS),
    sigmas={n: 0.05 for n in TYRES + WHEELS}))


def axes(heading_deg):
    h = math.radians(heading_deg)
    fwd = np.array([math.cos(h), math.sin(h)])
    return fwd, np.array([-fwd[1], fwd[0]])  # forward, left


def tyres_at(x, y, heading_deg):
    """(4, 2) road points of the 4 tyres, in TYRES order."""
    fwd, left = axes(heading_deg)
    c = np.array([x, y])
    return np.array([c + fwd * WHEELBASE / 2 + left * TRACK / 2,
                     c + fwd * WHEELBASE / 2 - left * TRACK / 2,
                     c - fwd * WHEELBASE / 2 + left * TRACK / 2,
                     c - fwd * WHEELBASE / 2 - left * TRACK / 2])


def cuboid_box(x, y, heading_deg, length=LENGTH, width=WIDTH, height=1.5, cam=CAM):
    """The pixel box of a vehicle body (a cuboid on the road)."""
    fwd, left = axes(heading_deg)
    corners = [np.r_[np.array([x, y]) + a * fwd * length / 2 + b * left * width / 2, z]
               for a in (-1, 1) for b in (-1, 1) for z in (0.0, height)]
    px = cam.ground_to_image(np.array(corners))
    return np.r_[px.min(0), px.max(0)]


def estimate(x, y, heading, keep=(0, 1, 2, 3), cam=CAM, **kwargs):
    pixels = cam.ground_to_image(tyres_at(x, y, heading))
    scores = np.zeros(4)
    scores[list(keep)] = 0.9
    return vehicle_ground_estimate(cuboid_box(x, y, heading, cam=cam), pixels, scores, TYRES,
                                   cam, **kwargs)


def assert_pose(est, x, y, heading, atol=1e-6):
    assert est.x_m == pytest.approx(x, abs=atol) and est.y_m == pytest.approx(y, abs=atol)
    assert est.distance_m == pytest.approx(math.hypot(x, y), abs=atol)
    assert est.lateral_m == est.y_m
    assert -180 < est.heading_deg <= 180
    diff = (est.heading_deg - heading + 180) % 360 - 180
    assert abs(diff) < atol * 100, (est.heading_deg, heading)  # degrees vs metres


@pytest.mark.parametrize('x, y, heading', [(20.0, 0.0, 0.0), (15.0, 3.0, 30.0),
                                           (12.0, -4.0, 90.0), (25.0, 2.0, 180.0),
                                           (18.0, -3.0, -120.0)])
def test_four_tyres_exact(x, y, heading):
    est = estimate(x, y, heading)
    assert est.method == 'tyres' and est.num_points == 4
    assert_pose(est, x, y, heading)
    assert 0 < est.sigma_distance_m < 1 and 0 < est.sigma_heading_deg < 30


@pytest.mark.parametrize('keep, method', [((0, 1, 2), 'tyres'), ((1, 2, 3), 'tyres'),
                                          ((0, 3), 'diagonal'), ((1, 2), 'diagonal'),
                                          ((0, 2), 'one_side'), ((1, 3), 'one_side'),
                                          ((0, 1), 'one_axle'), ((2, 3), 'one_axle')])
@pytest.mark.parametrize('heading', [35.0, 90.0, -150.0])
def test_fewer_tyres_exact_with_the_true_priors(keep, method, heading):
    est = estimate(16.0, 2.5, heading, keep)
    assert est.method == method and est.num_points == len(keep)
    assert_pose(est, 16.0, 2.5, heading)


@pytest.mark.parametrize('heading, near_axle, face', [
    (0.0, (2, 3), 'tail'), (10.0, (2, 3), 'visible'), (180.0, (0, 1), 'head'),
    (-170.0, (0, 1), 'visible')])
def test_axle_and_face(heading, near_axle, face):
    # the face's axle is the one near the camera: the body extends away from it
    est = estimate(20.0, -1.0, heading, near_axle, face=face)
    assert est.method == 'axle_face' and est.num_points == 2
    assert_pose(est, 20.0, -1.0, heading)
    if face != 'visible':
        # left and right swapped by the model: the face still puts the body away from the
        # camera and says which way it points
        pixels = CAM.ground_to_image(tyres_at(20.0, -1.0, heading))
        a, b = near_axle
        pixels[[a, b]] = pixels[[b, a]]
        scores = np.zeros(4)
        scores[list(near_axle)] = 0.9
        swapped = vehicle_ground_estimate([0, 0, 1, 1], pixels, scores, TYRES, CAM, face=face)
        assert_pose(swapped, 20.0, -1.0, heading)
    with pytest.raises(ValueError, match='face'):
        estimate(20.0, -1.0, heading, near_axle, face='front')


def test_sigmas_grow_with_missing_occluded_and_far_points():
    order = [estimate(15.0, 2.0, 40.0, keep) for keep in ((0, 1, 2, 3), (0, 1, 2), (0, 1))]
    baseline = box_bottom_estimate(cuboid_box(15.0, 2.0, 40.0), CAM)
    sigmas = [e.sigma_distance_m for e in order] + [baseline.sigma_distance_m]
    assert sigmas == sorted(sigmas) and len(set(sigmas)) == 4, sigmas
    assert order[0].sigma_heading_deg < order[2].sigma_heading_deg
    # the same points, one occluded (visibility 1) or low-scored
    pixels = CAM.ground_to_image(tyres_at(15.0, 2.0, 40.0))
    box = cuboid_box(15.0, 2.0, 40.0)
    seen = vehicle_ground_estimate(box, pixels, np.full(4, 0.9), TYRES, CAM,
                                   visibility=np.array([2, 2, 2, 2]))
    hidden = vehicle_ground_estimate(box, pixels, np.full(4, 0.9), TYRES, CAM,
                                     visibility=np.array([2, 1, 2, 2]))
    weak = vehicle_ground_estimate(box, pixels, np.array([0.9, 0.4, 0.9, 0.9]), TYRES, CAM)
    absent = vehicle_ground_estimate(box, pixels, np.full(4, 0.9), TYRES, CAM,
                                     visibility=np.array([2, 0, 2, 2]))
    assert seen.sigma_distance_m < hidden.sigma_distance_m == pytest.approx(
        weak.sigma_distance_m)
    assert absent.num_points == 3 and hidden.num_points == 4
    # distance sigma grows faster than the distance (towards the horizon)
    near, far = estimate(10.0, 0.0, 0.0), estimate(40.0, 0.0, 0.0)
    assert far.sigma_distance_m > 8 * near.sigma_distance_m


def test_sigma_matches_a_monte_carlo():
    rng = np.random.default_rng(1)
    pixels = CAM.ground_to_image(tyres_at(18.0, 1.0, 60.0))
    est = vehicle_ground_estimate([0, 0, 1, 1], pixels, np.full(4, 0.9), TYRES, CAM)
    dists = [vehicle_ground_estimate([0, 0, 1, 1], pixels + rng.normal(0, 2.0, (4, 2)),
                                     np.full(4, 0.9), TYRES, CAM).distance_m
             for _ in range(400)]
    assert np.std(dists) == pytest.approx(est.sigma_distance_m, rel=0.2)


@pytest.mark.parametrize('distance', [8.0, 20.0, 45.0])
def test_box_bottom_head_on(distance):
    # oncoming, straight ahead: the box bottom is the front edge, half a length before
    # the centre
    box = cuboid_box(distance, 0.0, 180.0)
    est = box_bottom_estimate(box, CAM)
    assert est.method == 'box_bottom' and est.num_points == 0
    # the roll tilts the bottom edge: its lower corner is a little nearer
    assert est.distance_m == pytest.approx(distance, rel=0.01)
    assert abs(est.distance_m - distance) < 0.2 * est.sigma_distance_m
    assert est.heading_deg == 0.0 and est.sigma_heading_deg == UNKNOWN_HEADING_SIGMA_DEG
    level = CameraCalibration(fx=1000.0, fy=1000.0, cx=640.0, cy=360.0,
                              image_size=(1280, 720), height_m=1.5, pitch_deg=2.0)
    exact = box_bottom_estimate(cuboid_box(distance, 0.0, 180.0, cam=level), level)
    assert exact.x_m == pytest.approx(distance, abs=1e-6) and abs(exact.y_m) < 1e-6
    # a box cut by the image's bottom edge: the bottom is not on the road
    cut = box_bottom_estimate([500, 300, 780, 719], CAM)
    assert cut.sigma_distance_m > 3 * est.sigma_distance_m * (cut.distance_m / distance)
    # pedestrians: no heading
    person = box_bottom_estimate([630, 300, 650, 420], CAM, class_name='pedestrian')
    assert math.isnan(person.heading_deg) and math.isnan(person.sigma_heading_deg)
    # bottom above the horizon
    assert math.isnan(box_bottom_estimate([600, 100, 700, 200], CAM).distance_m)


def test_fallbacks_and_cyclists():
    # one tyre: the box bottom
    one = estimate(15.0, 0.0, 180.0, (0,))
    assert one.method == 'box_bottom' and one.heading_deg == 0.0
    # a tyre above the horizon (a wrong point) is not used
    pixels = CAM.ground_to_image(tyres_at(15.0, 0.0, 30.0))
    pixels[3] = (640, 50)
    est = vehicle_ground_estimate([0, 0, 1, 1], pixels, np.full(4, 0.9), TYRES, CAM)
    assert est.num_points == 3
    assert_pose(est, 15.0, 0.0, 30.0)
    # a cyclist's two wheels, riding across from right to left
    fwd, _ = axes(90.0)
    wheels = np.array([[12.0, -2.0] + fwd * 0.55, [12.0, -2.0] - fwd * 0.55])
    bike = vehicle_ground_estimate([0, 0, 1, 1], CAM.ground_to_image(wheels),
                                   np.array([0.8, 0.8]), WHEELS, CAM, class_name='cyclist')
    assert bike.method == 'tyres' and bike.num_points == 2
    assert_pose(bike, 12.0, -2.0, 90.0)
    lone = vehicle_ground_estimate(cuboid_box(12.0, -2.0, 90.0, 1.8, 0.6),
                                   CAM.ground_to_image(wheels), np.array([0.8, 0.1]),
                                   WHEELS, CAM, class_name='cyclist')
    assert lone.method == 'box_bottom'


def test_priors_change_the_completion():
    est = estimate(16.0, 2.5, 0.0, (0, 1), priors={'vehicle': (6.0, 2.0, 3.7, 1.7)})
    assert est.x_m == pytest.approx(16.0 - 0.5, abs=1e-6)  # half of 3.7 instead of 2.7
    with pytest.raises(ValueError, match='length and width'):
        estimate(16.0, 2.5, 0.0, (0, 1), priors={'vehicle': (0.0, 2.0)})


def detections(cam):
    """A vehicle (4 tyres), a vehicle showing its tail (near axle only) with its face, a
    pedestrian and a cyclist, in ``cam``'s frames."""
    scale = cam.image_size[0] / CAM.image_size[0]
    boxes, labels, kpts, kscores = [], [], np.zeros((5, 6, 2)), np.zeros((5, 6))
    # vehicle 1
    boxes.append(cuboid_box(14.0, 3.0, 45.0))
    kpts[0, :4] = CAM.ground_to_image(tyres_at(14.0, 3.0, 45.0))
    kscores[0, :4] = 0.9
    # vehicle 2, driving away, only its rear axle seen, and its tail face
    boxes.append(cuboid_box(22.0, -2.0, 5.0))
    kpts[1, :4] = CAM.ground_to_image(tyres_at(22.0, -2.0, 5.0))
    kscores[1, 2:4] = 0.8
    b = boxes[-1]
    boxes.append([b[0] + 5, b[1] + 5, b[2] - 5, b[3] - 5])
    boxes.append([630.0, 300.0, 650.0, CAM.ground_to_image(np.array([[10.0, 0.0]]))[0, 1]])
    fwd, _ = axes(-90.0)
    kpts[4, 4:] = CAM.ground_to_image(np.array([[9.0, 3.0] + fwd * 0.55,
                                                [9.0, 3.0] - fwd * 0.55]))
    kscores[4, 4:] = 0.7
    boxes.append(cuboid_box(9.0, 3.0, -90.0, 1.8, 0.6))
    labels = [0, 0, 1, 2, 3]
    return Detections(bboxes=np.array(boxes, np.float64) * scale, scores=np.full(5, 0.9),
                      labels=np.array(labels), keypoints=kpts * scale,
                      keypoint_scores=kscores, layout=LAYOUT)


def test_ground_estimates_on_detections():
    out = ground_estimates(detections(CAM), CAM)
    assert out[2] is None  # the face has no ground meaning of its own
    assert out[0]['estimate'].method == 'tyres'
    assert_pose(out[0]['estimate'], 14.0, 3.0, 45.0, atol=1e-4)  # float32 pixels
    assert out[1]['estimate'].method == 'axle_face'
    assert_pose(out[1]['estimate'], 22.0, -2.0, 5.0, atol=1e-3)
    person = out[3]['estimate']
    assert person.method == 'box_bottom' and person.x_m == pytest.approx(10.25, abs=1e-3)
    assert math.isnan(person.heading_deg) and out[3]['box_bottom'] is out[3]['estimate']
    assert out[4]['estimate'].method == 'tyres'
    assert_pose(out[4]['estimate'], 9.0, 3.0, -90.0, atol=1e-4)
    for e in out[:2] + out[4:]:
        assert e['box_bottom'].method == 'box_bottom'
    # without the face, the near axle alone
    assert ground_estimates(detections(CAM)[[0, 1, 3, 4]], CAM)[1]['estimate'].method == \
        'one_axle'
    # half-size frames: the calibration follows the frame
    half = ground_estimates(detections(CAM.scaled_to(640, 360)), CAM, image_size=(640, 360))
    for a, b in zip(out, half):
        if a is not None:
            assert b['estimate'].distance_m == pytest.approx(a['estimate'].distance_m,
                                                             rel=1e-3)
    # JSON and drawing labels
    records = estimates_json(out)
    json.dumps(records, allow_nan=False)
    assert records[2] is None and records[3]['estimate']['heading_deg'] is None
    labels = estimate_labels(out)
    assert labels[0] == '14.3m +45deg' and labels[2] is None
    assert labels[3] == f"{person.distance_m:.1f}m"  # no heading
