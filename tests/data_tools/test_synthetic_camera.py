"""Pinhole-camera synthetic scenes: boxes, tyre points, distances and headings agree with
the stored calibration, and the default (2D) scenes are the bytes they were before."""
import hashlib
import json
import math

import numpy as np
import pytest

from yolox_kpt.data_tools.driving_schema import CLASSES, KEYPOINTS
from yolox_kpt.data_tools.synthetic_driving import (generate_synthetic_driving,
                                                    make_pinhole_scene)
from yolox_kpt.runtime.calibration import CameraCalibration

W, H = 640, 384


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_scenes_unchanged(tmp_path):
    """The annotation files of a default run hash as they did before pinhole scenes were
    added (recipes and stored records were made with them)."""
    paths = generate_synthetic_driving(tmp_path, num_train=6, num_val=3, seed=7)
    assert _sha(paths['train']) == (
        '7adb847aecdbaf5e5c01eb1ea7467b13092f8f11d3219965ecfab7fdb712386b')
    assert _sha(paths['val']) == (
        '2cbd2043c46dadd9c7e7afd5b8937139dc8d4bc72a4d14005fff16239fd76044')
    data = json.loads(paths['train'].read_text())
    assert 'camera' not in data['images'][0]
    assert all('distance_m' not in a for a in data['annotations'])


@pytest.fixture(scope='module')
def pinhole(tmp_path_factory):
    root = tmp_path_factory.mktemp('pinhole')
    paths = generate_synthetic_driving(root, num_train=16, num_val=2, img_size=(W, H),
                                       seed=4, camera='pinhole')
    return json.loads(paths['train'].read_text()), paths


def test_pinhole_is_seeded_and_names_its_camera(tmp_path, pinhole):
    data, paths = pinhole
    again = generate_synthetic_driving(tmp_path, num_train=16, num_val=2, img_size=(W, H),
                                       seed=4, camera='pinhole')
    assert again['train'].read_bytes() == paths['train'].read_bytes()
    assert 'pinhole camera' in data['info']['description']
    with pytest.raises(ValueError, match='camera must be one of'):
        generate_synthetic_driving(tmp_path / 'x', num_train=1, num_val=0, camera='fisheye')


def test_labels_agree_with_the_camera(pinhole):
    """Re-projecting the labelled ground positions gives the labelled keypoints; the
    footprint centre, distance and heading follow from the contact points; v=0 exactly
    where a contact projects outside the image; boxes hold their points."""
    data, _ = pinhole
    cats = {c['id']: c['name'] for c in data['categories']}
    images = {i['id']: i for i in data['images']}
    checked = dict(points=0, absent=0, vehicles=0, cyclists=0, pedestrians=0, truncated=0)
    ids = {a['id']: a for a in data['annotations']}
    for a in data['annotations']:
        name = cats[a['category_id']]
        img = images[a['image_id']]
        calib = CameraCalibration.from_dict(img['camera'])
        assert calib.image_size == (img['width'], img['height']) == (W, H)
        x, y, w, h = a['bbox']
        if name == 'vehicle_face':
            parent = ids[a['parent_id']]
            assert cats[parent['category_id']] == 'vehicle'
            assert a['face_type'] == parent['face_type'] in ('head', 'tail')
            px, py, pw, ph = parent['bbox']
            assert px - 1 <= x and y >= py - 1 and x + w <= px + pw + 1 and y + h <= py + ph + 1
            continue
        checked[name + 's'] += 1
        assert a['distance_m'] == pytest.approx(math.hypot(a['x_m'], a['y_m']), abs=2e-3)
        assert a['lateral_m'] == a['y_m'] and 0 <= a['truncated'] < 0.51
        cut = x <= 0.01 or y <= 0.01 or x + w >= W - 0.01 or y + h >= H - 0.01
        assert cut == (a['truncated'] > 0), a
        checked['truncated'] += cut
        if name == 'pedestrian':
            assert 'heading_deg' not in a and a['keypoints'] == []
            continue
        assert -180 < a['heading_deg'] <= 180
        ground = np.array(a['keypoints_m'])
        assert len(ground) == len(KEYPOINTS[name])
        np.testing.assert_allclose(ground.mean(0), [a['x_m'], a['y_m']], atol=2e-3)
        fwd = ground[:len(ground) // 2].mean(0) - ground[len(ground) // 2:].mean(0)
        heading = math.degrees(math.atan2(fwd[1], fwd[0]))
        assert abs((heading - a['heading_deg'] + 180) % 360 - 180) < 0.05
        uv = calib.ground_to_image(ground)
        k = np.array(a['keypoints'], np.float64).reshape(-1, 3)
        inside = (uv[:, 0] >= 0) & (uv[:, 0] <= W - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= H - 1)
        np.testing.assert_array_equal(k[:, 2] > 0, inside, err_msg=str(a))
        assert a['num_keypoints'] == int(inside.sum())
        for (kx, ky, v), (u, vv) in zip(k, uv):
            if v == 0:
                assert (kx, ky) == (0, 0)
                checked['absent'] += 1
                continue
            assert math.hypot(kx - u, ky - vv) < 0.5
            assert x - 1 <= kx <= x + w + 1 and y - 1 <= ky <= y + h + 1
            checked['points'] += 1
    assert checked['vehicles'] >= 10 and checked['cyclists'] and checked['pedestrians']
    assert checked['points'] > 40 and checked['absent'] and checked['truncated']


def _scenes(n, seed=9, size=(W, H)):
    rng = np.random.default_rng(seed)
    return [make_pinhole_scene(rng, size) for _ in range(n)]


def test_headings_cover_every_direction_and_visibility_is_geometric():
    """Headings are spread over the full circle (ahead, oncoming, crossing); a vehicle's
    far-side tyres are hidden by its body (v=1) when it is seen from a side, and the
    pixels just above a visible (v=2) contact point are its dark tyre."""
    headings, angled, far_hidden, visible_dark = [], 0, 0, []
    vehicles = 0
    for img, objs, calib in _scenes(30):
        for o in objs:
            assert o['category'] in CLASSES
            if o['category'] != 'vehicle':
                continue
            vehicles += 1
            h = o['heading_deg']
            headings.append(h)
            ray = math.degrees(math.atan2(o['y_m'], o['x_m']))
            a = abs((h - ray + 180) % 360 - 180)
            angled += min(a, 180 - a) >= 30
            # seen from its left side (camera on its left): the right tyres are far
            rad = math.radians(h)
            left = -math.sin(rad) * -o['x_m'] + math.cos(rad) * -o['y_m']  # camera, own b
            v = dict(zip(KEYPOINTS['vehicle'], (p[2] for p in o['keypoints'])))
            far = ('right', 'left') if left > 1.5 else ('left', 'right') if left < -1.5 \
                else None
            if far and o['distance_m'] < 25:
                hidden = [v[f'{axle}_{far[0]}_tyre'] == 1 for axle in ('front', 'rear')]
                far_hidden += any(hidden)
            for x, y, vis in o['keypoints']:
                if vis == 2:
                    visible_dark.append(img[int(round(y)) - 1, int(round(x))].mean())
    hist = np.histogram(headings, bins=4, range=(-180, 180))[0]
    assert vehicles >= 40 and hist.min() >= 0.1 * vehicles, hist
    assert angled >= 0.4 * vehicles
    assert far_hidden >= 5
    # the image has noise and anti-aliasing; most contact pixels are still tyre-dark
    assert np.median(visible_dark) < 70 and np.mean(np.array(visible_dark) < 100) > 0.8
