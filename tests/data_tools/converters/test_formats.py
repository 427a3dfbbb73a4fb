"""LabelMe -> COCO and COCO <-> YOLO pose (``yolox_kpt.data_tools.converters``), through
their tools run in-process on small generated data."""
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT
from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving
from yolox_kpt.keypoint_layout import KeypointLayout

REPO = Path(__file__).resolve().parents[3]
CONFIG = str(REPO / 'configs' / 'yolox-kpt' / 'yolox-kpt_s_8xb8-300e_synthetic-driving.py')
SLOTS = ('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre',
         'front_wheel', 'rear_wheel')


@pytest.fixture(scope='module')
def layout_json(tmp_path_factory):
    assert DRIVING_LAYOUT.keypoint_names == SLOTS
    path = tmp_path_factory.mktemp('layout') / 'layout.json'
    DRIVING_LAYOUT.to_json(path)
    return path


def load_dataset(ann_file, img_dir, layout_file):
    from yolox_kpt.datasets import CocoKptDataset
    ds = CocoKptDataset(ann_file=str(ann_file), data_root='', data_prefix=dict(img=str(img_dir)),
                        keypoint_layout=KeypointLayout.from_json(layout_file).to_config(),
                        test_mode=True, pipeline=[])
    ds.full_init()
    return ds


# --------------------------------------------------------------------------- LabelMe
def rect(label, gid, x1, y1, x2, y2):
    return dict(label=label, group_id=gid, shape_type='rectangle', flags={},
                points=[[x2, y2], [x1, y1]])  # corners in either order


def point(label, gid, x, y, **extra):
    return {**dict(label=label, group_id=gid, shape_type='point', flags={}, points=[[x, y]]),
            **extra}


def write_labelme(folder, stem, shapes, size=(96, 64)):
    cv2.imwrite(str(folder / f'{stem}.png'), np.full((size[1], size[0], 3), 90, np.uint8))
    data = dict(version='5.4.1', flags={}, shapes=shapes, imagePath=f'{stem}.png',
                imageData=None, imageHeight=size[1], imageWidth=size[0])
    (folder / f'{stem}.json').write_text(json.dumps(data))


def test_labelme_to_coco_loads_with_points_in_their_slots(tmp_path, layout_json, tool):
    src = tmp_path / 'labelme'
    src.mkdir()
    write_labelme(src, 'a', [
        point('rear_wheel', 7, 60.5, 50.25),  # before its rectangle: order must not matter
        rect('vehicle', 1, 10, 12, 50, 40),
        point('front_right_tyre', 1, 20.0, 39.0),
        point('rear_left_tyre', 1, 45.0, 38.0, flags={'occluded': True}),
        rect('cyclist', 7, 55, 10, 90, 60),
        point('front_wheel', 7, 88.0, 55.0, description='occluded by a pole'),
        rect('pedestrian', None, 2, 2, 8, 20),
        dict(label='road', shape_type='polygon', points=[[0, 0], [5, 0], [5, 5]]),
    ])
    write_labelme(src, 'b', [])
    out = tmp_path / 'coco' / 'annotations.json'
    tool('labelme_to_coco').main([str(src), '--layout', str(layout_json), '--out', str(out),
                                  '--copy-images'])

    coco = json.loads(out.read_text())
    assert [c['keypoints'] for c in coco['categories']] == [
        list(SLOTS[:4]), [], [], list(SLOTS[4:])]
    assert [i['file_name'] for i in coco['images']] == ['a.png', 'b.png']
    veh, cyc, ped = coco['annotations']
    assert veh['bbox'] == [10, 12, 40, 28] and veh['category_id'] == 1
    assert veh['keypoints'] == [0, 0, 0, 20, 39, 2, 45, 38, 1, 0, 0, 0]
    assert veh['num_keypoints'] == 2
    assert cyc['keypoints'] == [88, 55, 1, 60.5, 50.25, 2]
    assert ped['keypoints'] == [] and ped['category_id'] == 3

    ds = load_dataset(out, out.parent / 'images', layout_json)
    assert len(ds) == 2
    inst = ds.get_data_info(0)['instances']
    assert [i['bbox_label'] for i in inst] == [0, 3, 2]
    np.testing.assert_allclose(inst[0]['keypoints'][1], [20, 39, 2])
    np.testing.assert_allclose(inst[0]['keypoints'][2], [45, 38, 1])
    np.testing.assert_allclose(inst[1]['keypoints'][5], [60.5, 50.25, 2])
    np.testing.assert_allclose(inst[1]['keypoints'][4], [88, 55, 1])
    assert not inst[1]['keypoints'][:4].any()  # foreign slots of the cyclist


@pytest.mark.parametrize('shapes, message', [
    ([rect('vehicle', 1, 0, 0, 9, 9), point('front_left_tyre', 2, 1, 1)],
     'shape 1 .*no rectangle has group_id 2'),
    ([rect('vehicle', 1, 0, 0, 9, 9), point('front_wheel', 1, 1, 1)],
     "shape 1 .*class 'vehicle'.*has no keypoint 'front_wheel'"),
    ([rect('truck', 1, 0, 0, 9, 9)], "shape 0 .*'truck' is not a class"),
    ([rect('vehicle', 1, 0, 0, 9, 9), point('front_left_tyre', None, 1, 1)],
     'shape 1 .*has no group_id'),
])
def test_labelme_errors_name_file_and_shape(tmp_path, layout_json, shapes, message, tool):
    src = tmp_path / 'labelme'
    src.mkdir()
    write_labelme(src, 'good', [rect('vehicle', 1, 0, 0, 9, 9)])
    write_labelme(src, 'bad', shapes)
    out = tmp_path / 'out.json'
    with pytest.raises(SystemExit) as err:
        tool('labelme_to_coco').main([str(src), '--layout', str(layout_json), '--out',
                                      str(out)])
    assert str(src / 'bad.json') in str(err.value.code)
    assert re.search(message, str(err.value.code)), err.value.code
    assert not out.exists()


# --------------------------------------------------------------------------- YOLO pose
@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth')
    generate_synthetic_driving(root, num_train=3, num_val=1, seed=5)
    return root


def test_coco_yolo_coco_round_trip(tmp_path, synth, layout_json, tool):
    yolo = tmp_path / 'yolo'
    args = []
    for s in ('train', 'val'):
        args += ['--split', s, str(synth / 'annotations' / f'{s}.json'),
                 str(synth / 'images' / s)]
    tool('coco_to_yolo_pose').main(args + ['--config', CONFIG, '--out-dir', str(yolo)])

    import yaml
    data = yaml.safe_load((yolo / 'data.yaml').read_text())
    assert data['kpt_shape'] == [6, 3]
    assert data['flip_idx'] == [1, 0, 3, 2, 4, 5]  # front/rear left <-> right tyres swap
    assert data['names'] == {0: 'vehicle', 1: 'vehicle_face', 2: 'pedestrian', 3: 'cyclist'}
    assert data['train'] == 'images/train' and data['val'] == 'images/val'

    orig = json.loads((synth / 'annotations' / 'train.json').read_text())
    lines = [line.split() for p in sorted((yolo / 'labels' / 'train').glob('*.txt'))
             for line in p.read_text().splitlines()]
    assert len(lines) == len(orig['annotations']) > 0
    seen_classes = set()
    for tokens in lines:
        assert len(tokens) == 5 + 3 * 6
        cls = int(tokens[0])
        seen_classes.add(cls)
        kp = np.array(tokens[5:], float).reshape(6, 3)
        foreign = {0: [4, 5], 1: range(6), 2: range(6), 3: [0, 1, 2, 3]}[cls]
        assert not kp[list(foreign)].any(), tokens
        coords = np.concatenate([np.array(tokens[1:5], float), kp[:, :2].ravel()])
        assert ((coords >= 0) & (coords <= 1)).all(), tokens  # normalised
        assert set(kp[:, 2]) <= {0, 1, 2}
    assert {0, 3} <= seen_classes  # vehicles and cyclists both exercised
    assert (yolo / 'images' / 'train' / '000000.jpg').is_file()

    back = tmp_path / 'back'
    # No layout given: the data.yaml written above carries it.
    tool('yolo_pose_to_coco').main([str(yolo / 'data.yaml'), '--out-dir', str(back)])
    for split in ('train', 'val'):
        a = json.loads((synth / 'annotations' / f'{split}.json').read_text())
        b = json.loads((back / 'annotations' / f'{split}.json').read_text())
        keys = ('id', 'name', 'keypoints', 'skeleton')
        assert ([{k: c[k] for k in keys} for c in b['categories']] ==
                [{k: c[k] for k in keys} for c in a['categories']])
        name_a = {i['id']: i['file_name'] for i in a['images']}
        name_b = {i['id']: i['file_name'] for i in b['images']}
        assert sorted(name_a.values()) == sorted(name_b.values())
        anns_a = sorted(a['annotations'], key=lambda x: (name_a[x['image_id']], x['id']))
        anns_b = sorted(b['annotations'], key=lambda x: (name_b[x['image_id']], x['id']))
        assert len(anns_a) == len(anns_b)
        for x, y in zip(anns_a, anns_b):
            assert name_a[x['image_id']] == name_b[y['image_id']]
            assert x['category_id'] == y['category_id']
            np.testing.assert_allclose(y['bbox'], x['bbox'], atol=0.01)
            kx, ky = np.reshape(x['keypoints'], (-1, 3)), np.reshape(y['keypoints'], (-1, 3))
            assert kx.shape == ky.shape
            np.testing.assert_allclose(ky[:, :2], kx[:, :2], atol=0.01)
            assert (ky[:, 2] == kx[:, 2]).all()
    ds = load_dataset(back / 'annotations' / 'train.json', yolo / 'images' / 'train',
                      layout_json)
    assert len(ds) == 3


def test_yolo_foreign_slot_is_an_error(tmp_path, synth, layout_json, tool):
    yolo = tmp_path / 'yolo'
    tool('coco_to_yolo_pose').main([
        '--split', 'val', str(synth / 'annotations' / 'val.json'),
        str(synth / 'images' / 'val'), '--out-dir', str(yolo), '--copy-images'])
    label = yolo / 'labels' / 'val' / '000000.txt'
    # A pedestrian (owns no slots) with a front_wheel point.
    line = '2 0.5 0.5 0.1 0.2 ' + ' '.join(['0 0 0'] * 4 + ['0.5 0.9 2', '0 0 0'])
    label.write_text(label.read_text() + line + '\n')
    n = len(label.read_text().splitlines())
    with pytest.raises(SystemExit) as err:
        tool('yolo_pose_to_coco').main([str(yolo / 'data.yaml'), '--layout', str(layout_json),
                                        '--out-dir', str(tmp_path / 'back')])
    msg = str(err.value.code)
    assert f'{label}, line {n}' in msg and "'front_wheel'" in msg and 'pedestrian' in msg
    # Existing outputs are not replaced without --overwrite.
    with pytest.raises(SystemExit, match='already exists'):
        tool('coco_to_yolo_pose').main([
            '--split', 'val', str(synth / 'annotations' / 'val.json'),
            str(synth / 'images' / 'val'), '--out-dir', str(yolo)])


@pytest.mark.parametrize('share', ['none', [['cat', 'dog']], 'same_set'])
def test_yolo_data_yaml_keeps_the_slot_sharing(tmp_path, share):
    """The Ultralytics yaml's layout rebuilds the same slots: a sharing choice that is not
    the default must not be lost between the converters (the label rows have K_total
    columns in slot order)."""
    from yolox_kpt.data_tools.converters.yolo_pose import (layout_from_data_yaml,
                                                           read_data_yaml, write_data_yaml)
    eyes = ('left_eye', 'right_eye', 'nose')
    layout = KeypointLayout.build(('cat', 'dog', 'person'),
                                  dict(cat=eyes, dog=eyes, person=eyes + ('neck', )),
                                  dict(neck=0.08),
                                  share_keypoints=share)
    write_data_yaml(tmp_path / 'data.yaml', tmp_path, ['train'], layout)
    back = layout_from_data_yaml(read_data_yaml(tmp_path / 'data.yaml'), 'x')
    assert back.keypoint_names == layout.keypoint_names
    assert back.class_slots == layout.class_slots
    assert back.flip_indices == layout.flip_indices
