"""CocoKptDataset: slot layout from the file, clear errors naming file/image/annotation."""
import copy
import json

import numpy as np
import pytest

from yolox_kpt.datasets import CocoKptDataset, KeypointAnnotationError
from yolox_kpt.data_tools.driving_schema import CLASSES, SIGMAS
from yolox_kpt.keypoint_layout import KeypointLayoutError


@pytest.fixture(scope='module')
def synth(synthetic_data):
    return synthetic_data(num_train=6, num_val=2, seed=3)


def build(root, ann='annotations/train.json', **kwargs):
    kwargs.setdefault('metainfo', dict(classes=CLASSES))
    kwargs.setdefault('sigmas', SIGMAS)
    return CocoKptDataset(data_root=str(root), ann_file=ann,
                          data_prefix=dict(img='images/train/'), pipeline=[], **kwargs)


def write_variant(root, edit, name='bad.json'):
    data = json.loads((root / 'annotations' / 'train.json').read_text())
    edit(data)
    (root / 'annotations' / name).write_text(json.dumps(data))
    return f'annotations/{name}'


def test_instances_carry_slot_ordered_keypoints(synth):
    ds = build(synth)
    raw = json.loads((synth / 'annotations' / 'train.json').read_text())
    anns = {a['id']: a for a in raw['annotations']}
    cat_names = {c['id']: c['name'] for c in raw['categories']}
    layout = ds.layout
    assert layout.keypoint_names == ('front_left_tyre', 'front_right_tyre', 'rear_left_tyre',
                                     'rear_right_tyre', 'front_wheel', 'rear_wheel')
    assert ds.metainfo['keypoint_layout']['classes'] == list(CLASSES)
    seen = 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        for inst in info['instances']:
            ann = anns[inst['ann_id']]
            label = CLASSES.index(cat_names[ann['category_id']])
            assert inst['bbox_label'] == label
            kpts = inst['keypoints']
            assert kpts.shape == (6, 3)
            slots = list(layout.class_slots[label])
            np.testing.assert_allclose(kpts[slots].reshape(-1), ann['keypoints'], atol=1e-3)
            others = [s for s in range(6) if s not in slots]
            assert (kpts[others] == 0).all()
            seen += 1
    assert seen == len(raw['annotations'])


def test_config_layout_must_match_file(synth):
    layout = dict(classes=CLASSES, keypoints=dict(vehicle=('a', 'b', 'c', 'd')),
                  sigmas=dict(a=.1, b=.1, c=.1, d=.1))
    with pytest.raises(KeypointLayoutError, match="category 'vehicle' has keypoints"):
        build(synth, keypoint_layout=layout, metainfo=None)


def _first_ann_with_kpts(data):
    return next(a for a in data['annotations'] if a['keypoints'])


@pytest.mark.parametrize('edit, match', [
    (lambda a: a.update(keypoints=a['keypoints'][:-3]), 'needs 12 numbers'),
    (lambda a: a['keypoints'].__setitem__(0, float('nan')), 'NaN'),
    (lambda a: a['keypoints'].__setitem__(2, 3), 'visibility must be 0, 1 or 2'),
])
def test_bad_annotation_errors_name_file_image_and_annotation(synth, edit, match):
    target = {}

    def apply(data):
        ann = _first_ann_with_kpts(data)
        target.update(ann)
        edit(ann)

    ann_file = write_variant(synth, apply)
    with pytest.raises(KeypointAnnotationError, match=match) as err:
        build(synth, ann=ann_file)
    msg = str(err.value)
    assert 'bad.json' in msg
    assert f"image id {target['image_id']}" in msg
    assert f"annotation id {target['id']}" in msg


def test_missing_class_and_missing_sigma(synth):
    with pytest.raises(KeypointLayoutError, match=r"classes \['truck'\] are not categories"):
        build(synth, metainfo=dict(classes=('truck', )))
    with pytest.raises(KeypointLayoutError, match='no OKS sigma'):
        build(synth, sigmas=None)


def test_documented_rules_are_counted(synth):
    def apply(data):
        ann = _first_ann_with_kpts(data)
        zero = copy.deepcopy(ann)
        zero.update(id=10**6, bbox=[5, 5, 0, 0], area=0)
        crowd = copy.deepcopy(ann)
        crowd.update(id=10**6 + 1, iscrowd=1)
        data['annotations'] += [zero, crowd]
        ann['keypoints'][0] = -50.0  # labelled keypoint outside the image
        ann['keypoints'][2] = 2

    ds = build(synth, ann=write_variant(synth, apply, 'rules.json'))
    counts = ds.annotation_counts
    assert counts['labelled keypoints outside the image (set to v=0)'] == 1
    assert counts['zero-area or outside-image boxes (skipped)'] == 1
    assert counts['crowd regions (kept as ignored)'] == 1
    flags = [inst['ignore_flag'] for i in range(len(ds))
             for inst in ds.get_data_info(i)['instances']]
    assert sum(flags) == 1
