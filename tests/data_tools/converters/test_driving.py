"""Camera labels -> COCO (``yolox_kpt.data_tools.converters.driving``), through
``tools/dataset_converters/camera_labels_to_coco.py`` in-process and as a script, on small
written label folders."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from yolox_kpt.data_tools.driving_schema import CLASSES, DRIVING_LAYOUT
from yolox_kpt.datasets import CocoKptDataset

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = str(REPO / 'resources' / 'examples' / 'camera_labels')
LAYOUT = DRIVING_LAYOUT.to_config()


@pytest.fixture
def convert(tool):
    return tool('camera_labels_to_coco').main


def frame(drive, t, objects=(), image=None, **extra):
    d = dict(drive=drive, timestamp=t, image=image or f'{drive}/{t:010.3f}.jpg', width=640,
             height=480, objects=list(objects))
    d.update(extra)
    return d


def car(x1=100, y1=100, x2=300, y2=250, **extra):
    return dict({'class': 'vehicle', 'box': [x1, y1, x2, y2]}, **extra)


def write_labels(root, frames):
    root.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        # names unrelated to time order: the converter must sort by timestamp itself
        (root / f'{(i * 7919) % 10007:05d}.json').write_text(json.dumps(f))
    return root


def load(path):
    return json.loads(path.read_text())


def splits(out):
    return {s: load(out / 'annotations' / f'{s}.json') for s in ('train', 'val', 'test')}


def test_split_by_drive_in_time_order(tmp_path, capsys, convert):
    # Drives by start time: A (10 frames), D (5), B (6), C (4); 25 frames, ratios .6 .2 .2
    # put A and D (15 frames) in train, B in val, C in test.
    starts = dict(A=(100, 10), B=(1000, 6), C=(2000, 4), D=(500, 5))
    frames = [frame(d, t0 + i, [car(distance=10.0 + i)]) for d, (t0, n) in starts.items()
              for i in range(n)]
    labels = write_labels(tmp_path / 'labels', frames)
    out = tmp_path / 'out'
    convert([str(labels), '--out-dir', str(out), '--ratios', '0.6', '0.2', '0.2',
             '--no-images'])
    s = splits(out)
    drives = {k: {img['drive'] for img in v['images']} for k, v in s.items()}
    assert drives == dict(train={'A', 'D'}, val={'B'}, test={'C'})
    assert [len(v['images']) for v in s.values()] == [15, 6, 4]
    assert [len(v['annotations']) for v in s.values()] == [15, 6, 4]
    # ids over all splits in time order, no clashes
    all_imgs = sorted((img for v in s.values() for img in v['images']), key=lambda i: i['id'])
    assert [i['id'] for i in all_imgs] == list(range(1, 26))
    assert [i['timestamp'] for i in all_imgs] == sorted(i['timestamp'] for i in all_imgs)
    ann_ids = [a['id'] for v in s.values() for a in v['annotations']]
    assert len(set(ann_ids)) == 25
    printed = capsys.readouterr().out
    assert 'frames 15, units (drives) 2' in printed and 'frames 4, units (drives) 1' in printed
    assert str(out / 'annotations' / 'val.json') in printed
    # existing output needs --overwrite
    with pytest.raises(SystemExit, match='--overwrite'):
        convert([str(labels), '--out-dir', str(out), '--no-images'])


def test_window_split_cuts_a_long_drive(tmp_path, convert):
    labels = write_labels(tmp_path / 'labels',
                          [frame('long', 50.0 + i, [car()]) for i in range(20)])
    out = tmp_path / 'whole'
    convert([str(labels), '--out-dir', str(out), '--no-images'])
    assert [len(v['images']) for v in splits(out).values()] == [20, 0, 0]
    out = tmp_path / 'windows'
    convert([str(labels), '--out-dir', str(out), '--no-images', '--window-s', '5',
             '--ratios', '0.5', '0.25', '0.25'])
    times = {k: sorted(i['timestamp'] - 50 for i in v['images'])
             for k, v in splits(out).items()}
    assert times == dict(train=list(range(10)), val=list(range(10, 15)),
                         test=list(range(15, 20)))


def test_output_loads_and_keypoints_land_in_their_slots(tmp_path, convert):
    vehicle = car(400, 200, 600, 330, distance=12.5, track_id=3,
                  face=dict(type='tail', box=[410, 210, 590, 320]),
                  tyres=dict(front_left=[123.5, 300, 2], rear_right=[580, 329, 1]))
    cyclist = {'class': 'cyclist', 'box': [50, 100, 150, 200],
               'wheels': {'rear': [60, 199, 2]}}
    walker = {'class': 'pedestrian', 'box': [200, 100, 230, 180]}
    labels = tmp_path / 'labels'
    write_labels(labels, [frame('d', 1.0, [vehicle, cyclist, walker], image='img/a.png'),
                          frame('d', 2.0, [], image='img/b.png')])
    # b.png has no size in its label: read from the image
    labels.joinpath('img').mkdir()
    for name in ('a.png', 'b.png'):
        cv2.imwrite(str(labels / 'img' / name), np.zeros((480, 640, 3), np.uint8))
    for f in labels.glob('*.json'):
        d = load(f)
        if d['image'] == 'img/b.png':
            del d['width'], d['height']
            f.write_text(json.dumps(d))
    out = tmp_path / 'out'
    convert([str(labels), '--out-dir', str(out), '--ratios', '1', '0', '0'])
    raw = load(out / 'annotations' / 'train.json')
    assert [(i['width'], i['height']) for i in raw['images']] == [(640, 480), (640, 480)]
    face = [a for a in raw['annotations'] if a['category_id'] == 2]
    assert len(face) == 1 and face[0]['face_type'] == 'tail' and face[0]['keypoints'] == []
    assert face[0]['distance'] == 12.5 and face[0]['bbox'] == [410, 210, 180, 110]

    ds = CocoKptDataset(ann_file=str(out / 'annotations' / 'train.json'),
                        data_root=str(labels), data_prefix=dict(img=''),
                        keypoint_layout=LAYOUT, test_mode=True, pipeline=[])
    assert len(ds) == 2
    info = next(ds.get_data_info(i) for i in range(2)
                if ds.get_data_info(i)['img_path'].endswith('a.png'))
    names = ds.layout.keypoint_names
    by_label = {CLASSES[inst['bbox_label']]: inst for inst in info['instances']}
    assert sorted(by_label) == sorted(CLASSES)
    k = by_label['vehicle']['keypoints']
    np.testing.assert_allclose(k[names.index('front_left_tyre')], [123.5, 300, 2])
    np.testing.assert_allclose(k[names.index('rear_right_tyre')], [580, 329, 1])
    assert k[names.index('front_right_tyre'), 2] == 0 and k[names.index('rear_wheel'), 2] == 0
    k = by_label['cyclist']['keypoints']
    np.testing.assert_allclose(k[names.index('rear_wheel')], [60, 199, 2])
    assert k[names.index('front_wheel'), 2] == 0 and k[names.index('front_left_tyre'), 2] == 0
    assert not by_label['pedestrian']['keypoints'].any()


def test_shipped_example_converts_as_a_script(tmp_path):
    out = tmp_path / 'out'
    script = REPO / 'tools' / 'dataset_converters' / 'camera_labels_to_coco.py'
    proc = subprocess.run([sys.executable, str(script),
                           EXAMPLE, '--no-images', '--ratios', '0.5', '0.5', '0',
                           '--out-dir', str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    s = splits(out)
    assert [len(v['images']) for v in s.values()] == [3, 3, 0]
    assert {i['drive'] for i in s['train']['images']} == {'2024-05-01_drive03'}
    for split in ('train', 'val'):
        ds = CocoKptDataset(ann_file=str(out / 'annotations' / f'{split}.json'),
                            data_root=EXAMPLE, data_prefix=dict(img=''), keypoint_layout=LAYOUT,
                            test_mode=True, pipeline=[], check_images=False)
        assert len(ds) == 3


@pytest.mark.parametrize('edit, expected', [
    (lambda f: f['objects'][1]['box'].__setitem__(2, 10), 'object 1 (vehicle): box'),
    (lambda f: f['objects'][1].__setitem__('class', 'truck'), "object 1: unknown class 'truck'"),
    (lambda f: f['objects'][1].__setitem__('tyres', {'front_middle': [1, 2, 2]}),
     "unknown tyre name(s) ['front_middle']"),
    (lambda f: f.pop('timestamp'), 'missing "timestamp"'),
    (lambda f: f['objects'][0].__setitem__('tyres', {}), 'object 0 (pedestrian): only vehicle'),
    (lambda f: f['objects'][1].__setitem__('tyres', {'rear_left': [1, 2, 3]}),
     'tyres.rear_left: a point is [x, y, v]'),
    (lambda f: f.pop('width'), 'give both width and height'),
])
def test_bad_labels_name_file_and_object(tmp_path, edit, expected, convert):
    good = frame('d', 2.0, [{'class': 'pedestrian', 'box': [1, 1, 20, 40]}, car()])
    bad = json.loads(json.dumps(good))
    edit(bad)
    labels = tmp_path / 'labels'
    labels.mkdir()
    (labels / 'good.json').write_text(json.dumps(frame('d', 1.0, [car()])))
    (labels / 'broken_frame.json').write_text(json.dumps(bad))
    with pytest.raises(SystemExit) as e:
        convert([str(labels), '--out-dir', str(tmp_path / 'out'), '--no-images'])
    msg = str(e.value.code)
    assert 'broken_frame.json' in msg and expected in msg, msg
    assert not (tmp_path / 'out' / 'annotations' / 'train.json').exists()


def test_size_needed_without_images_names_file(tmp_path, convert):
    f = frame('d', 1.0, [car()], image='nowhere.jpg')
    del f['width'], f['height']
    labels = write_labels(tmp_path / 'labels', [f])
    for extra, expected in (([], 'nowhere.jpg does not exist'), (['--no-images'],
                                                                   '--no-images forbids')):
        with pytest.raises(SystemExit) as e:
            convert([str(labels), '--out-dir', str(tmp_path / 'o'), *extra])
        assert expected in str(e.value.code) and '.json' in str(e.value.code)


def test_labelled_distance_and_heading_kept_as_ground_truth(tmp_path, convert):
    """A labelled distance and heading reach the annotation under the ground-truth names
    the geometry evaluation reads (headings wrapped to (-180, 180]); unlabelled ones stay
    absent rather than becoming 0."""
    objects = [car(distance=18.5, heading=190.0, face=dict(type='head', box=[110, 110, 290, 240])),
               car(400, 100, 500, 200, distance=7.25, heading=-180),
               car(300, 300, 400, 400),
               {'class': 'cyclist', 'box': [50, 100, 150, 200], 'distance': 9.0, 'heading': 90}]
    labels = write_labels(tmp_path / 'labels', [frame('d', 1.0, objects)])
    convert([str(labels), '--out-dir', str(tmp_path / 'out'), '--no-images', '--ratios',
             '1', '0', '0'])
    anns = load(tmp_path / 'out' / 'annotations' / 'train.json')['annotations']
    by_cat = {}
    for a in anns:
        by_cat.setdefault(a['category_id'], []).append(a)
    v1, v2, v3 = by_cat[1]
    assert (v1['distance_m'], v1['heading_deg'], v1['distance']) == (18.5, -170.0, 18.5)
    assert (v2['distance_m'], v2['heading_deg']) == (7.25, 180.0)
    assert 'distance_m' not in v3 and 'heading_deg' not in v3
    assert (by_cat[4][0]['distance_m'], by_cat[4][0]['heading_deg']) == (9.0, 90.0)
    assert by_cat[2][0]['parent_id'] == v1['id'] and 'heading_deg' not in by_cat[2][0]
    bad = write_labels(tmp_path / 'bad', [frame('d', 1.0, [car(heading='north')])])
    with pytest.raises(SystemExit) as e:
        convert([str(bad), '--out-dir', str(tmp_path / 'o2'), '--no-images'])
    assert 'object 0 (vehicle): heading must be a number' in str(e.value.code)
