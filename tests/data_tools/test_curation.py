"""Curation (``yolox_kpt.data_tools.curation``): ratio splits, and
``tools/dataset_converters/{select_frames,coco_subset,check_consistency}.py`` run in-process
on small written COCO files and image folders."""
import json

import pytest

from yolox_kpt.data_tools.curation import assign_by_ratio, check_consistency
from yolox_kpt.data_tools.driving_schema import CLASSES, KEYPOINTS


@pytest.fixture
def select(tool):
    return tool('select_frames').main


@pytest.fixture
def subset(tool):
    return tool('coco_subset').main


@pytest.fixture
def check(tool):
    return tool('check_consistency').main


def load(path):
    return json.loads(path.read_text())


def test_assign_by_ratio_keeps_units_whole_and_ordered():
    assert assign_by_ratio([1] * 10, [0.8, 0.2]) == [0] * 8 + [1] * 2
    assert assign_by_ratio([10, 5, 6, 4], [0.6, 0.2, 0.2]) == [0, 0, 1, 2]
    assert assign_by_ratio([3, 3], [0, 1, 0]) == [1, 1]


def coco_file(path, images, anns, categories=None):
    cats = categories or [dict(id=i, name=c, keypoints=list(KEYPOINTS[c]), skeleton=[])
                          for i, c in enumerate(CLASSES, 1)]
    for i, a in enumerate(anns, 1):
        a.setdefault('id', 1000 + i)
        a.setdefault('bbox', [1, 1, 10, 10])
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return path


def test_select_frames_by_class_distance_and_interval(tmp_path, select):
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


def test_select_frames_without_timestamps(tmp_path, select):
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


def test_coco_subset_sizes_ratios_and_groups(tmp_path, subset):
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


def test_check_consistency_reports_without_touching(folder, capsys, check):
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


def test_check_consistency_fix_deletes_exactly_the_orphans(folder, tmp_path, capsys, check):
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


def test_check_consistency_in_place_keeps_backup(folder, check):
    img_dir, ann = folder
    before_json = ann.read_text()
    assert check([str(ann), str(img_dir), '--fix', '--overwrite']) == 0
    assert ann.with_name('ann.json.bak').read_text() == before_json
    assert [i['id'] for i in load(ann)['images']] == [1, 2, 3]


def test_gif_frames_are_images_so_fix_keeps_them(tmp_path):
    # Listed GIF frames that exist are not "missing" (--fix would drop them from the file);
    # a GIF not in the file is an orphan like any other image; other files are not images.
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    for name in ('a.gif', 'b.GIF', 'readme.txt'):
        (img_dir / name).write_bytes(b'GIF89a')
    coco = dict(images=[dict(id=1, file_name='a.gif')], annotations=[], categories=[])
    report = check_consistency(coco, img_dir)
    assert report.missing == [] and report.orphans == ['b.GIF']
