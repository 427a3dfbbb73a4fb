"""Randomly corrupted COCO keypoint files: every outcome is a named error or a counted skip.

Property-based (hypothesis): a small valid file is corrupted at a random place (a key
deleted, a value replaced by any JSON value, an element duplicated, the bytes truncated or
garbled); building ``CocoKptDataset`` must then either raise ``KeypointAnnotationError`` /
``KeypointLayoutError`` naming the file, or succeed with every annotation of the file
accounted for: used as an instance or counted in ``dataset.annotation_counts``. Any other
exception, or an annotation that vanishes uncounted, is a bug.

``make test`` runs 200 examples; ``YOLOX_KPT_FUZZ_EXAMPLES=5000 pytest -m slow tests/datasets/test_coco_kpt_fuzz.py``
runs the long version.
"""
import json

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yolox_kpt.testing.corruption import corrupt_json, fuzz_settings
from yolox_kpt.datasets import CocoKptDataset
from yolox_kpt.datasets.coco_kpt import KeypointAnnotationError
from yolox_kpt.keypoint_layout import KeypointLayoutError

CLASSES = ('vehicle', 'pedestrian', 'animal')


def valid_coco() -> dict:
    """Two 64x48 images, three classes: two sided keypoints, none, one shared name."""
    cats = [dict(id=1, name='vehicle', keypoints=['fl_tyre', 'fr_tyre'], skeleton=[[1, 2]]),
            dict(id=2, name='pedestrian', keypoints=[]),
            dict(id=3, name='animal', keypoints=['nose'], skeleton=[])]
    images = [dict(id=i, file_name=f'{i}.jpg', width=64, height=48) for i in (1, 2)]
    anns = [
        dict(id=1, image_id=1, category_id=1, bbox=[4, 4, 30, 20], area=600, iscrowd=0,
             keypoints=[5, 20, 2, 30, 22, 1]),
        dict(id=2, image_id=1, category_id=2, bbox=[40, 5, 10, 30], area=300, iscrowd=0,
             keypoints=[]),
        dict(id=3, image_id=2, category_id=3, bbox=[10, 10, 20, 20], area=400, iscrowd=0,
             keypoints=[15, 15, 2]),
        dict(id=4, image_id=2, category_id=1, bbox=[0, 0, 64, 48], area=3072, iscrowd=1,
             keypoints=[]),
    ]
    return dict(images=images, annotations=anns, categories=cats)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=7) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=10)


@st.composite
def corrupted_files(draw) -> bytes:
    data = valid_coco()
    for _ in range(draw(st.integers(1, 3))):
        corrupt_json(draw, data, json_values,
                     add_keys=('id', 'bbox', 'keypoints', 'iscrowd', 'area', 'ignore', 'width',
                               'skeleton', 'name'))
    raw = json.dumps(data).encode()
    damage = draw(st.sampled_from(['none', 'none', 'truncate', 'garble']))
    if damage == 'truncate':
        raw = raw[:draw(st.integers(0, len(raw)))]
    elif damage == 'garble':
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at + 1:]
    return raw


@pytest.fixture(scope='module')
def image_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('fuzz_images')
    (root / 'images').mkdir()
    for i in (1, 2):
        cv2.imwrite(str(root / 'images' / f'{i}.jpg'), np.full((48, 64, 3), 90, np.uint8))
    return root


def check_outcome(raw: bytes, root) -> None:
    ann_file = root / 'fuzz.json'
    ann_file.write_bytes(raw)
    try:
        dataset = CocoKptDataset(ann_file=str(ann_file), data_root=str(root),
                                 data_prefix=dict(img='images/'),
                                 metainfo=dict(classes=CLASSES), pipeline=[],
                                 sigmas=dict(fl_tyre=.1, fr_tyre=.1))
    except (KeypointAnnotationError, KeypointLayoutError) as err:
        assert str(ann_file) in str(err), f'error does not name the file: {err}'
        return
    # Built: every annotation of the file is an instance or counted.
    data = json.loads(raw)
    used = sum(len(dataset.get_data_info(i)['instances']) for i in range(len(dataset)))
    skipped = sum(v for k, v in dataset.annotation_counts.items() if k.endswith('(skipped)'))
    assert used + skipped == len(data['annotations']), (
        f'{len(data["annotations"])} annotations in the file, {used} used, {skipped} '
        f'counted as skipped: {dataset.annotation_counts}')


@fuzz_settings(slow=False, suppress=('function_scoped_fixture', 'data_too_large'))
@given(raw=corrupted_files())
def test_corrupted_coco_file_is_a_named_error_or_counted(raw, image_root):
    check_outcome(raw, image_root)


@pytest.mark.slow
@fuzz_settings(slow=True, suppress=('function_scoped_fixture', 'data_too_large'))
@given(raw=corrupted_files())
def test_corrupted_coco_file_long_run(raw, image_root):
    check_outcome(raw, image_root)


def test_the_uncorrupted_fixture_loads_whole(image_root):
    raw = json.dumps(valid_coco()).encode()
    check_outcome(raw, image_root)
    (image_root / 'fuzz.json').write_bytes(raw)
    dataset = CocoKptDataset(ann_file=str(image_root / 'fuzz.json'), data_root=str(image_root),
                             data_prefix=dict(img='images/'), metainfo=dict(classes=CLASSES),
                             pipeline=[], sigmas=dict(fl_tyre=.1, fr_tyre=.1))
    assert sum(len(dataset.get_data_info(i)['instances']) for i in range(2)) == 4
