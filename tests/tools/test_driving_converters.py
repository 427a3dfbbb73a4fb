"""tools/dataset_converters/{camera_labels_to_coco,select_frames,coco_subset,
check_consistency}.py on small generated data (in-process through ``main(argv)``)."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

from yolox_kpt.datasets import CocoKptDataset
from yolox_kpt.datasets.converters.driving import assign_by_ratio
from yolox_kpt.datasets.synthetic_driving import CLASSES, KEYPOINTS, SIGMAS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'dataset_converters')
EXAMPLE = osp.join(REPO, 'resources', 'examples', 'camera_labels')
LAYOUT = dict(classes=CLASSES, keypoints={c: k for c, k in KEYPOINTS.items() if k},
              sigmas=SIGMAS)


def tool(name):
    spec = importlib.util.spec_from_file_location(f'_tool_{name}', osp.join(TOOLS, f'{name}.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


convert = tool('camera_labels_to_coco').main
select = tool('select_frames').main
subset = tool('coco_subset').main
check = tool('check_consistency').main


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


def test_assign_by_ratio_keeps_units_whole_and_ordered():
    assert assign_by_ratio([1] * 10, [0.8, 0.2]) == [0] * 8 + [1] * 2
    assert assign_by_ratio([10, 5, 6, 4], [0.6, 0.2, 0.2]) == [0, 0, 1, 2]
    assert assign_by_ratio([3, 3], [0, 1, 0]) == [1, 1]


def test_split_by_drive_in_time_order(tmp_path, capsys):
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


def test_window_split_cuts_a_long_drive(tmp_path):
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


def test_output_loads_and_keypoints_land_in_their_slots(tmp_path):
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
    proc = subprocess.run([sys.executable, osp.join(TOOLS, 'camera_labels_to_coco.py'),
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
def test_bad_labels_name_file_and_object(tmp_path, edit, expected):
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


def test_size_needed_without_images_names_file(tmp_path):
    f = frame('d', 1.0, [car()], image='nowhere.jpg')
    del f['width'], f['height']
    labels = write_labels(tmp_path / 'labels', [f])
    for extra, expected in (([], 'nowhere.jpg does not exist'), (['--no-images'],
                                                                   '--no-images forbids')):
        with pytest.raises(SystemExit) as e:
            convert([str(labels), '--out-dir', str(tmp_path / 'o'), *extra])
        assert expected in str(e.value.code) and '.json' in str(e.value.code)


def coco_file(path, images, anns, categories=None):
    cats = categories or [dict(id=i, name=c, keypoints=list(KEYPOINTS[c]), skeleton=[])
                          for i, c in enumerate(CLASSES, 1)]
    for i, a in enumerate(anns, 1):
        a.setdefault('id', 1000 + i)
        a.setdefault('bbox', [1, 1, 10, 10])
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return path


def test_select_frames_by_class_distance_and_interval(tmp_path):
    t = {1: ('A', 0.0), 2: ('A', 0.5), 3: ('A', 1.0), 4: ('A', 1.5), 5: ('A', 2.0),
         6: ('A', 2.5), 7: ('B', 0.0), 8: ('B', 3.0), 9: ('B', 3.5)}
    images = [dict(id=i, file_name=f'{i}.jpg', width=64, height=64, drive=d, timestamp=ts)
              for i, (d, ts) in t.items()]
    V, P, C = 1, 3, 4
    anns = [dict(image_id=1, category_id=V, distance=10.0),
            dict(image_id=1, category_id=P, distance=80.0),
            dict(image_id=2, category_id=V, distance=50.0),
            dict(image_id=3, category_id=P, distance=5.0),
            dict(image_id=4, category_id=C),
            dict(image_id=5, category_id=V, distance=29.9),
            dict(image_id=6, category_id=V, distance=30.0),
            dict(image_id=7, category_id=C, distance=1.0),
            dict(image_id=8, category_id=V, distance=20.0),
            dict(image_id=9, category_id=V, distance=25.0)]
    src = coco_file(tmp_path / 'in.json', images, anns)
    common = [str(src), '--classes', 'vehicle', 'cyclist', '--max-distance', '30']

    def run(*extra, name):
        out = tmp_path / f'{name}.json'
        select([*common, *extra, '--out', str(out)])
        return load(out)

    no_thin = run(name='all')
    assert [i['id'] for i in no_thin['images']] == [1, 5, 6, 7, 8, 9]
    thin = run('--interval-s', '1', name='thin')
    assert [i['id'] for i in thin['images']] == [1, 5, 7, 8]
    # all annotations of a kept image stay, other classes and far objects included
    assert sorted(a['id'] for a in thin['annotations'] if a['image_id'] == 1) == [1001, 1002]
    assert thin['categories'] == load(src)['categories']
    unknown = run('--interval-s', '1', '--keep-unknown-distance', name='unknown')
    assert [i['id'] for i in unknown['images']] == [1, 4, 6, 7, 8]
    every = run('--every', '2', name='every')
    assert [i['id'] for i in every['images']] == [1, 6, 8]


def test_select_frames_without_timestamps(tmp_path):
    images = [dict(id=i, file_name=f'{i}.jpg', width=64, height=64) for i in range(1, 8)]
    src = coco_file(tmp_path / 'in.json', images,
                    [dict(image_id=i, category_id=3) for i in range(1, 8)])
    with pytest.raises(SystemExit) as e:
        select([str(src), '--interval-s', '1', '--out', str(tmp_path / 'o.json')])
    assert 'in.json' in str(e.value.code) and 'image id 1 (1.jpg)' in str(e.value.code)
    select([str(src), '--interval-s', '1', '--every', '3', '--out', str(tmp_path / 'o.json')])
    assert [i['id'] for i in load(tmp_path / 'o.json')['images']] == [1, 4, 7]
    with pytest.raises(SystemExit, match="classes \\['truck'\\] are not categories"):
        select([str(src), '--classes', 'truck', '--out', str(tmp_path / 'p.json')])


def test_coco_subset_sizes_ratios_and_groups(tmp_path):
    images = [dict(id=100 + i, file_name=f'{i}.jpg', width=64, height=64, drive=f'd{i // 5}')
              for i in range(20)]
    anns = [dict(image_id=100 + i, category_id=1 + i % 4) for i in range(20) for _ in range(2)]
    src = coco_file(tmp_path / 'in.json', images, anns)
    orig = load(src)
    ann_by_id = {a['id']: a for a in orig['annotations']}

    out = tmp_path / 'a'
    subset([str(src), '--num-images', '10', '--ratios', '0.6', '0.4', '--names', 'x', 'y',
            '--seed', '3', '--out-dir', str(out)])
    x, y = load(out / 'x.json'), load(out / 'y.json')
    ids_x, ids_y = {i['id'] for i in x['images']}, {i['id'] for i in y['images']}
    assert (len(ids_x), len(ids_y)) == (6, 4) and not ids_x & ids_y
    assert ids_x | ids_y <= {i['id'] for i in images}
    for part, ids in ((x, ids_x), (y, ids_y)):
        assert part['categories'] == orig['categories']
        assert sorted(a['id'] for a in part['annotations']) == sorted(
            a['id'] for a in orig['annotations'] if a['image_id'] in ids)
        assert all(ann_by_id[a['id']] == a for a in part['annotations'])
    # same seed, same draw
    subset([str(src), '--num-images', '10', '--ratios', '0.6', '0.4', '--names', 'x', 'y',
            '--seed', '3', '--out-dir', str(out), '--overwrite'])
    assert {i['id'] for i in load(out / 'x.json')['images']} == ids_x

    subset([str(src), '--fraction', '0.25', '--out-dir', str(tmp_path / 'b')])
    assert len(load(tmp_path / 'b' / 'subset.json')['images']) == 5

    subset([str(src), '--num-images', '7', '--by-key', 'drive', '--ratios', '0.5', '0.5',
            '--out-dir', str(tmp_path / 'c')])
    parts = [load(tmp_path / 'c' / f'{n}.json') for n in ('train', 'val')]
    drives = [{i['drive'] for i in p['images']} for p in parts]
    assert [len(p['images']) for p in parts] == [5, 5]  # two whole drives, one per part
    assert all(len(d) == 1 for d in drives) and not drives[0] & drives[1]

    with pytest.raises(SystemExit, match='asked for 30 images but the file has 20'):
        subset([str(src), '--num-images', '30', '--out-dir', str(tmp_path / 'd')])


@pytest.fixture
def folder(tmp_path):
    img_dir = tmp_path / 'images'
    (img_dir / 'sub').mkdir(parents=True)
    for name in ('a.jpg', 'b.jpg', 'sub/c.png', 'orphan.jpg', 'sub/orphan2.PNG', 'notes.txt'):
        (img_dir / name).write_bytes(b'\xff\xd8\xff data')
    images = [dict(id=i, file_name=n, width=64, height=64)
              for i, n in enumerate(('a.jpg', 'b.jpg', 'sub/c.png', 'gone.jpg'), 1)]
    anns = [dict(image_id=1, category_id=1), dict(image_id=4, category_id=1),
            dict(image_id=4, category_id=3), dict(image_id=99, category_id=1)]
    ann = coco_file(tmp_path / 'ann.json', images, anns)
    return img_dir, ann


def on_disk(img_dir):
    return sorted(p.relative_to(img_dir).as_posix() for p in img_dir.rglob('*') if p.is_file())


def test_check_consistency_reports_without_touching(folder, capsys):
    img_dir, ann = folder
    before_files, before_json = on_disk(img_dir), ann.read_text()
    with pytest.raises(SystemExit) as e:
        check([str(ann), str(img_dir)])
    assert e.value.code == 1
    out = capsys.readouterr().out
    assert 'orphan images (on disk, not in the file): 2' in out
    assert 'orphan.jpg' in out and 'sub/orphan2.PNG' in out and 'notes.txt' not in out
    assert 'id 4: gone.jpg' in out and 'annotation id 1004: image id 99' in out
    assert 'images without annotations (not a problem): 2' in out
    assert '--fix would delete 2 orphan image file(s)' in out
    assert on_disk(img_dir) == before_files and ann.read_text() == before_json


def test_check_consistency_fix_deletes_exactly_the_orphans(folder, tmp_path, capsys):
    img_dir, ann = folder
    before_json = ann.read_text()
    fixed = tmp_path / 'fixed.json'
    assert check([str(ann), str(img_dir), '--fix', '--out', str(fixed)]) == 0
    assert on_disk(img_dir) == ['a.jpg', 'b.jpg', 'notes.txt', 'sub/c.png']
    out = capsys.readouterr().out
    assert f'deleted {img_dir / "orphan.jpg"}' in out
    assert f'deleted {img_dir / "sub" / "orphan2.PNG"}' in out
    data = load(fixed)
    assert [i['id'] for i in data['images']] == [1, 2, 3]
    assert [a['id'] for a in data['annotations']] == [1001]
    assert ann.read_text() == before_json
    assert check([str(fixed), str(img_dir)]) == 0  # now consistent


def test_check_consistency_in_place_keeps_backup(folder):
    img_dir, ann = folder
    before_json = ann.read_text()
    assert check([str(ann), str(img_dir), '--fix', '--overwrite']) == 0
    assert ann.with_name('ann.json.bak').read_text() == before_json
    assert [i['id'] for i in load(ann)['images']] == [1, 2, 3]
