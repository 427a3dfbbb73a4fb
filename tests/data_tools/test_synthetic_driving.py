"""Tests for the synthetic driving scene generator."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from yolox_kpt.data_tools.driving_schema import CLASSES, KEYPOINTS, SKELETONS
from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving, make_scene

W, H = 320, 256


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """A small dataset shared by the read-only checks: 20 train + 8 val images."""
    root = tmp_path_factory.mktemp('synth')
    paths = generate_synthetic_driving(root, num_train=20, num_val=8, seed=3)
    return paths


def _load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding='utf-8'))


def _kpts(ann: dict):
    k = ann['keypoints']
    return [tuple(k[i:i + 3]) for i in range(0, len(k), 3)]


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    a = generate_synthetic_driving(tmp_path / 'a', num_train=6, num_val=3, seed=7)
    b = generate_synthetic_driving(tmp_path / 'b', num_train=6, num_val=3, seed=7)
    c = generate_synthetic_driving(tmp_path / 'c', num_train=6, num_val=3, seed=8)
    for split in ('train', 'val'):
        assert a[split].read_bytes() == b[split].read_bytes()
        assert a[split].read_bytes() != c[split].read_bytes()
    # Val is a held-out stream, not a copy of the first train scenes.
    assert _load(a['train'])['annotations'][:3] != _load(a['val'])['annotations'][:3]
    assert a['root'] == tmp_path / 'a'
    assert 'seed 7' in _load(a['train'])['info']['description']


def test_coco_structure_and_keypoints(dataset):
    for split in ('train', 'val'):
        data = _load(dataset[split])
        assert data['licenses'] == []
        cats = data['categories']
        assert [c['id'] for c in cats] == [1, 2, 3, 4]
        assert tuple(c['name'] for c in cats) == CLASSES
        for c in cats:
            assert c['supercategory'] == 'road'
            assert tuple(c['keypoints']) == KEYPOINTS[c['name']]
            assert [tuple(p) for p in c['skeleton']] == list(SKELETONS.get(c['name'], ()))
        cat_by_id = {c['id']: c for c in cats}
        img_by_id = {i['id']: i for i in data['images']}
        assert sorted(img_by_id) == list(range(1, len(data['images']) + 1))
        assert [a['id'] for a in data['annotations']] == list(
            range(1, len(data['annotations']) + 1))
        assert data['annotations'], 'no objects generated at all'
        for ann in data['annotations']:
            # The scene-only extras must stay out of the COCO file.
            assert set(ann) == {'id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd',
                                'keypoints', 'num_keypoints'}
            cat = cat_by_id[ann['category_id']]
            img = img_by_id[ann['image_id']]
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0 and ann['iscrowd'] == 0
            assert abs(ann['area'] - w * h) < 0.01 * max(1.0, w * h)
            assert x >= 0 and y >= 0 and x + w <= img['width'] + 0.01
            assert y + h <= img['height'] + 0.01
            assert len(ann['keypoints']) == 3 * len(cat['keypoints'])
            pts = _kpts(ann)
            assert ann['num_keypoints'] == sum(v > 0 for _, _, v in pts)
            for (px, py, v), name in zip(pts, cat['keypoints']):
                assert v in (0, 1, 2)
                if v == 0:
                    assert (px, py) == (0, 0)
                    continue
                assert 0 <= px <= img['width'] - 1 and 0 <= py <= img['height'] - 1
                assert x - 3 <= px <= x + w + 3 and y - 3 <= py <= y + h + 3
                # Tyre/wheel points are ground contacts: on the box's bottom edge.
                assert abs(py - (y + h)) <= 3, (name, ann)


def test_loads_with_pycocotools(dataset):
    coco_mod = pytest.importorskip('pycocotools.coco')
    coco = coco_mod.COCO(str(dataset['train']))
    assert [coco.cats[i]['name'] for i in sorted(coco.cats)] == list(CLASSES)
    assert len(coco.getImgIds()) == 20
    vehicle = coco.getCatIds(catNms=['vehicle'])
    assert coco.getAnnIds(catIds=vehicle)


def test_image_files_match_json(dataset):
    root = dataset['root']
    for split in ('train', 'val'):
        data = _load(dataset[split])
        assert len(data['images']) == (20 if split == 'train' else 8)
        for im in data['images']:
            assert '/' not in im['file_name']
            img = cv2.imread(str(root / 'images' / split / im['file_name']))
            assert img is not None, im['file_name']
            assert img.shape == (im['height'], im['width'], 3) == (H, W, 3)


def test_every_face_lies_inside_a_vehicle(dataset):
    data = _load(dataset['train'])
    by_img = {}
    for a in data['annotations']:
        by_img.setdefault(a['image_id'], []).append(a)
    n_faces = 0
    for anns in by_img.values():
        vehicles = [a['bbox'] for a in anns if a['category_id'] == 1]
        for face in (a['bbox'] for a in anns if a['category_id'] == 2):
            n_faces += 1
            fx, fy, fw, fh = face
            assert any(fx >= vx - 1 and fy >= vy - 1 and fx + fw <= vx + vw + 1
                       and fy + fh <= vy + vh + 1 for vx, vy, vw, vh in vehicles), face
    assert n_faces > 0


def test_left_right_convention_in_json(dataset):
    # Whenever both tyres of an axle are labelled: rear_left is image-left of rear_right
    # (seen from behind) and front_left is image-right of front_right (seen from ahead).
    checked = 0
    for split in ('train', 'val'):
        for a in _load(dataset[split])['annotations']:
            if a['category_id'] != 1:
                continue
            fl, fr, rl, rr = _kpts(a)
            if rl[2] and rr[2]:
                assert rl[0] < rr[0], a
                checked += 1
            if fl[2] and fr[2]:
                assert fl[0] > fr[0], a
                checked += 1
    assert checked > 0


def _scenes(n: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    return [make_scene(rng, (W, H)) for _ in range(n)]


def test_make_scene_viewpoints_and_visibility():
    names = KEYPOINTS['vehicle']
    seen = set()
    for img, objs in _scenes(20):
        assert img.shape == (H, W, 3) and img.dtype == np.uint8
        for o in objs:
            assert o['category'] in CLASSES
            assert len(o['keypoints']) == len(KEYPOINTS[o['category']])
            if o['category'] != 'vehicle':
                continue
            k = dict(zip(names, o['keypoints']))
            vp = o['viewpoint']
            seen.add(vp)
            labelled = {n for n, (_, _, v) in k.items() if v > 0}
            if vp == 'rear':
                assert k['front_left_tyre'][2] == k['front_right_tyre'][2] == 0
                if labelled == {'rear_left_tyre', 'rear_right_tyre'}:
                    assert k['rear_left_tyre'][0] < k['rear_right_tyre'][0]
            elif vp == 'front':
                assert k['rear_left_tyre'][2] == k['rear_right_tyre'][2] == 0
                if labelled == {'front_left_tyre', 'front_right_tyre'}:
                    assert k['front_left_tyre'][0] > k['front_right_tyre'][0]
            else:
                # 3/4 view: the far flank's tyre on the other axle is never labelled.
                far = 'right' if vp.startswith('left') else 'left'
                axle = 'rear' if o['face_type'] == 'tail' else 'front'
                other = 'front' if axle == 'rear' else 'rear'
                assert k[f'{other}_{far}_tyre'][2] == 0
                assert k[f'{axle}_{far}_tyre'][2] in (0, 1)
    assert {'rear', 'front'} <= seen and seen & {'left_side_3q', 'right_side_3q'}


def test_labels_match_painted_tyres():
    # The 2-3 px just above every visible contact point must be the dark tyre.
    n = 0
    for img, objs in _scenes(20, seed=5):
        for o in objs:
            for x, y, v in o['keypoints']:
                if v != 2:
                    continue
                xi, yi = int(round(x)), int(round(y))
                patch = img[yi - 3:yi - 1, xi].astype(np.float64)
                assert patch.size == 6
                assert patch.mean() < 80, (o['category'], o.get('viewpoint'), x, y, patch)
                n += 1
    assert n > 20


def test_objects_are_learnable_sizes_and_counts():
    sizes, empty = [], 0
    for _, objs in _scenes(20, seed=2):
        empty += not objs
        assert len([o for o in objs if o['category'] != 'vehicle_face']) <= 6
        for o in objs:
            x1, y1, x2, y2 = o['bbox']
            if o['category'] != 'vehicle_face':
                sizes.append(min(x2 - x1, y2 - y1))
    assert empty < 10
    assert min(sizes) >= 13.9
    assert 30 <= np.median(sizes) <= 120
