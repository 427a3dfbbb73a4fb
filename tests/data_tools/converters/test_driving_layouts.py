"""Camera labels -> COCO with the classes and keypoints of a layout (``--config`` /
``--layout``): a new class is a layout edit, head and tail faces split or merge by the
layout, every face links to its vehicle, unknown classes stop or are counted."""
import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from yolox_kpt.apis.layout import config_layout
from yolox_kpt.data_tools.converters.driving import LabelLayout, convert_camera_labels
from yolox_kpt.data_tools.coco import ConverterError
from yolox_kpt.datasets import CocoKptDataset
from yolox_kpt.keypoint_layout import KeypointLayout

REPO = Path(__file__).resolve().parents[3]
HEAD_TAIL = REPO / 'configs' / '_base_' / 'datasets' / 'driving_layout_head_tail.py'

# A layout with a truck that has a middle axle, written as a user would: a config file with
# a top-level keypoint_layout. No converter code knows "truck".
TRUCK_LAYOUT = '''
keypoint_layout = dict(
    classes=('vehicle', 'truck', 'vehicle_face', 'pedestrian'),
    keypoints=dict(
        vehicle=('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre'),
        truck=('front_left_tyre', 'front_right_tyre', 'middle_left_tyre',
               'middle_right_tyre', 'rear_left_tyre', 'rear_right_tyre', 'hitch')),
    sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, rear_left_tyre=0.05,
                rear_right_tyre=0.05, middle_left_tyre=0.05, middle_right_tyre=0.05,
                hitch=0.08))
'''


@pytest.fixture
def convert(tool):
    return tool('camera_labels_to_coco').main


def write_frames(root, frames):
    root.mkdir(parents=True, exist_ok=True)
    for i, objects in enumerate(frames):
        (root / f'{i:03d}.json').write_text(json.dumps(dict(
            drive='d', timestamp=float(i), image=f'{i:03d}.jpg', width=640, height=480,
            objects=objects)))
    return root


def obj(cls, box=(100, 100, 300, 250), **extra):
    return dict({'class': cls, 'box': list(box)}, **extra)


def train_file(out):
    return json.loads((out / 'annotations' / 'train.json').read_text())


def run(convert, labels, out, *extra):
    convert([str(labels), '--out-dir', str(out), '--no-images', '--ratios', '1', '0', '0',
             *extra])
    return train_file(out)


def test_truck_from_a_layout_file_maps_classes_and_keypoints_by_name(tmp_path, convert,
                                                                     capsys):
    cfg = tmp_path / 'truck_layout.py'
    cfg.write_text(TRUCK_LAYOUT)
    truck = obj('truck', (50, 50, 400, 300), distance=20.0,
                face=dict(type='head', box=[60, 60, 200, 200]),
                tyres=dict(middle_right=[250, 299, 2], rear_left=[380, 299, 1]),
                keypoints=dict(hitch=[390, 200, 2]))
    labels = write_frames(tmp_path / 'labels', [[obj('vehicle', tyres=dict(
        front_left=[120, 249, 2])), truck, obj('pedestrian', (10, 10, 30, 80))]])
    coco = run(convert, labels, tmp_path / 'out', '--config', str(cfg))
    assert [c['name'] for c in coco['categories']] == ['vehicle', 'truck', 'vehicle_face',
                                                        'pedestrian']
    cat = {c['name']: c for c in coco['categories']}
    assert cat['truck']['keypoints'][2:4] == ['middle_left_tyre', 'middle_right_tyre']
    by_cat = {a['category_id']: a for a in coco['annotations']}
    t = by_cat[cat['truck']['id']]
    names = cat['truck']['keypoints']
    k = np.array(t['keypoints']).reshape(-1, 3)
    np.testing.assert_allclose(k[names.index('middle_right_tyre')], [250, 299, 2])
    np.testing.assert_allclose(k[names.index('rear_left_tyre')], [380, 299, 1])
    np.testing.assert_allclose(k[names.index('hitch')], [390, 200, 2])
    assert t['num_keypoints'] == 3 and k[names.index('front_left_tyre'), 2] == 0
    face = by_cat[cat['vehicle_face']['id']]
    assert (face['parent_id'], face['face_type']) == (t['id'], 'head')
    assert 'truck 1' in capsys.readouterr().out
    # the dataset reads it with the same layout
    ds = CocoKptDataset(ann_file=str(tmp_path / 'out' / 'annotations' / 'train.json'),
                        data_root=str(labels), data_prefix=dict(img=''), test_mode=True,
                        keypoint_layout=Config.fromfile(str(cfg)).keypoint_layout,
                        pipeline=[], check_images=False)
    inst = {ds.layout.classes[i['bbox_label']]: i for i in ds.get_data_info(0)['instances']}
    np.testing.assert_allclose(
        inst['truck']['keypoints'][ds.layout.keypoint_names.index('hitch')], [390, 200, 2])
    # a tyre name the truck does not have names the file, object and the valid names
    bad = write_frames(tmp_path / 'bad', [[obj('truck', tyres=dict(spare=[1, 1, 2]))]])
    with pytest.raises(SystemExit) as e:
        run(convert, bad, tmp_path / 'o2', '--config', str(cfg))
    assert "000.json: object 0 (truck): unknown tyre name(s) ['spare']" in str(e.value.code)
    assert 'middle_left' in str(e.value.code)
    # the same layout as JSON (--layout) gives the same file
    layout_json = tmp_path / 'layout.json'
    config_layout(Config.fromfile(str(cfg))).to_json(layout_json)
    again = run(convert, labels, tmp_path / 'out3', '--layout', str(layout_json))
    assert again['annotations'] == coco['annotations']


def faces_frame():
    return [[obj('vehicle', distance=10.0, face=dict(type='head', box=[110, 110, 290, 240])),
             obj('vehicle', (300, 100, 500, 250), face=dict(type='tail',
                                                            box=[310, 110, 490, 240])),
             obj('vehicle', (10, 300, 90, 400)),
             obj('cyclist', (200, 300, 260, 400), wheels=dict(rear=[210, 399, 2]))]]


def test_head_tail_layout_splits_faces_by_type_linked_to_their_vehicle(tmp_path, convert):
    labels = write_frames(tmp_path / 'labels', faces_frame())
    coco = run(convert, labels, tmp_path / 'out', '--config', str(HEAD_TAIL))
    names = {c['id']: c['name'] for c in coco['categories']}
    assert list(names.values()) == ['vehicle', 'vehicle_head', 'vehicle_tail', 'pedestrian',
                                    'cyclist']
    anns = {a['id']: a for a in coco['annotations']}
    faces = [a for a in anns.values() if 'parent_id' in a]
    assert [(names[a['category_id']], a['face_type']) for a in faces] == [
        ('vehicle_head', 'head'), ('vehicle_tail', 'tail')]
    for face in faces:
        parent = anns[face['parent_id']]
        assert names[parent['category_id']] == 'vehicle'
        assert parent['face_type'] == face['face_type']
        # the face lies in its own vehicle's box
        assert parent['bbox'][0] < face['bbox'][0] < parent['bbox'][0] + parent['bbox'][2]
    assert faces[0]['distance'] == 10.0
    layout = config_layout(Config.fromfile(str(HEAD_TAIL)))
    ds = CocoKptDataset(ann_file=str(tmp_path / 'out' / 'annotations' / 'train.json'),
                        data_root=str(labels), data_prefix=dict(img=''), test_mode=True,
                        keypoint_layout=layout.to_config(), pipeline=[], check_images=False)
    labels_seen = sorted(layout.classes[i['bbox_label']]
                         for i in ds.get_data_info(0)['instances'])
    assert labels_seen == ['cyclist', 'vehicle', 'vehicle', 'vehicle', 'vehicle_head',
                           'vehicle_tail']


def test_default_layout_keeps_one_face_class_with_type_and_link(tmp_path, convert):
    labels = write_frames(tmp_path / 'labels', faces_frame())
    coco = run(convert, labels, tmp_path / 'out')
    names = {c['id']: c['name'] for c in coco['categories']}
    assert list(names.values()) == ['vehicle', 'vehicle_face', 'pedestrian', 'cyclist']
    anns = {a['id']: a for a in coco['annotations']}
    faces = [a for a in anns.values() if names[a['category_id']] == 'vehicle_face']
    assert [a['face_type'] for a in faces] == ['head', 'tail']
    assert [names[anns[a['parent_id']]['category_id']] for a in faces] == ['vehicle'] * 2
    assert all(a['id'] == a['parent_id'] + 1 for a in faces)


def test_unknown_class_stops_naming_file_and_object_or_is_skipped_and_counted(
        tmp_path, convert, capsys):
    frames = [[obj('vehicle'), obj('truck', face=dict(type='tail', box=[110, 110, 290, 240])),
               obj('tram')], [obj('truck'), obj('pedestrian')]]
    labels = write_frames(tmp_path / 'labels', frames)
    with pytest.raises(SystemExit) as e:
        run(convert, labels, tmp_path / 'out')
    msg = str(e.value.code)
    assert "000.json: object 1: unknown class 'truck'" in msg
    assert '--skip-unknown-classes' in msg and "'vehicle'" in msg
    assert not (tmp_path / 'out' / 'annotations' / 'train.json').exists()
    capsys.readouterr()
    coco = run(convert, labels, tmp_path / 'out', '--skip-unknown-classes')
    names = {c['id']: c['name'] for c in coco['categories']}
    assert sorted(names[a['category_id']] for a in coco['annotations']) == [
        'pedestrian', 'vehicle']  # the truck's face went with its truck
    assert 'left out (not in the layout, --skip-unknown-classes): tram 1, truck 2' in (
        capsys.readouterr().out)
    result = convert_camera_labels(labels, tmp_path / 'out2', ratios=(1, 0, 0),
                                   read_images=False, skip_unknown_classes=True)
    assert result['skipped'] == {'truck': 2, 'tram': 1}


def test_faces_without_a_face_class_and_face_classes_as_objects(tmp_path):
    no_faces = KeypointLayout.build(('vehicle', 'pedestrian'), {})
    labels = write_frames(tmp_path / 'labels', faces_frame()[:1])
    (labels / '000.json').write_text(json.dumps(dict(
        drive='d', timestamp=0.0, image='a.jpg', width=640, height=480,
        objects=[obj('vehicle', face=dict(type='tail', box=[110, 110, 290, 240]))])))
    with pytest.raises(ConverterError, match='000.json: object 0 .vehicle.: has a face, but '
                       'the layout has no face class'):
        convert_camera_labels(labels, tmp_path / 'o', ratios=(1, 0, 0), read_images=False,
                              layout=no_faces)
    result = convert_camera_labels(labels, tmp_path / 'o', ratios=(1, 0, 0),
                                   read_images=False, layout=no_faces,
                                   skip_unknown_classes=True)
    assert result['skipped'] == {'tail face': 1}
    assert result['train']['classes'] == {'vehicle': 1}
    # a face class written as an object is a labelling error even when the layout has it
    (labels / '000.json').write_text(json.dumps(dict(
        drive='d', timestamp=0.0, image='a.jpg', width=640, height=480,
        objects=[obj('vehicle_face')])))
    with pytest.raises(ConverterError, match="object 0: class 'vehicle_face' is not an "
                       'object class'):
        convert_camera_labels(labels, tmp_path / 'o', ratios=(1, 0, 0), read_images=False,
                              overwrite=True, skip_unknown_classes=True)


@pytest.mark.parametrize('classes, message', [
    (('vehicle', 'vehicle_head'), "has 'vehicle_head' but not ['vehicle_tail']"),
    (('vehicle', 'vehicle_face', 'vehicle_head', 'vehicle_tail'), 'has both'),
])
def test_ambiguous_face_layouts_are_refused(classes, message):
    with pytest.raises(ConverterError, match='my.py: ' + message.replace('[', r'\[')):
        LabelLayout(KeypointLayout.build(classes, {}), 'my.py')


def test_head_tail_layout_is_the_driving_layout_with_faces_split():
    """The variant differs from the driving schema only in the face classes: keypoints,
    their owners, sigmas and flips stay the schema's."""
    from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT
    layout = config_layout(Config.fromfile(str(HEAD_TAIL)), HEAD_TAIL.name)
    assert layout.classes == ('vehicle', 'vehicle_head', 'vehicle_tail', 'pedestrian',
                              'cyclist')
    for field in ('keypoint_names', 'flip_indices'):
        assert getattr(layout, field) == getattr(DRIVING_LAYOUT, field)
    assert layout.sigmas.tolist() == DRIVING_LAYOUT.sigmas.tolist()
    per_class = {c: layout.class_keypoint_names(i) for i, c in enumerate(layout.classes)}
    for i, c in enumerate(DRIVING_LAYOUT.classes):
        if c != 'vehicle_face':
            assert per_class[c] == DRIVING_LAYOUT.class_keypoint_names(i)
