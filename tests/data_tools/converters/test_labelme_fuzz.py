"""Randomly corrupted LabelMe files: a ``ConverterError`` naming the file, or every shape
accounted for (rectangles -> annotations, points -> labelled keypoints, other shape types
counted as skipped). ``make test`` runs 200 examples, the slow run
``YOLOX_KPT_FUZZ_EXAMPLES=5000``."""
import json

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yolox_kpt.testing.corruption import corrupt_json, fuzz_settings
from yolox_kpt.data_tools.coco import ConverterError
from yolox_kpt.data_tools.converters import labelme_to_coco
from yolox_kpt.keypoint_layout import KeypointLayout

LAYOUT = KeypointLayout.build(('vehicle', 'pedestrian'),
                              dict(vehicle=('fl_tyre', 'fr_tyre')),
                              sigmas=dict(fl_tyre=.1, fr_tyre=.1))


def valid_labelme() -> dict:
    shapes = [
        dict(label='vehicle', shape_type='rectangle', group_id=1, points=[[4, 4], [40, 30]]),
        dict(label='fl_tyre', shape_type='point', group_id=1, points=[[6, 29]]),
        dict(label='fr_tyre', shape_type='point', group_id=1, points=[[38, 29]],
             flags=dict(occluded=True)),
        dict(label='pedestrian', shape_type='rectangle', group_id=None,
             points=[[45, 5], [55, 40]]),
        dict(label='road', shape_type='polygon', points=[[0, 40], [64, 40], [64, 48]]),
    ]
    return dict(version='5.4.1', shapes=shapes, imagePath='img.png', imageData=None,
                imageHeight=48, imageWidth=64)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(['vehicle', 'fl_tyre', 'point', 'rectangle', 'img.png', '']),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(['label', 'points', 'group_id', 'shape_type', 'flags']), inner,
        max_size=3),
    max_leaves=8)


@st.composite
def corrupted(draw) -> bytes:
    data = valid_labelme()
    for _ in range(draw(st.integers(1, 3))):
        corrupt_json(draw, data, json_values)
    raw = json.dumps(data).encode()
    if draw(st.integers(0, 9)) == 0:
        raw = raw[:draw(st.integers(0, len(raw)))]
    return raw


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp('labelme_fuzz')
    cv2.imwrite(str(root / 'img.png'), np.zeros((48, 64, 3), np.uint8))
    return root


def check(raw: bytes, folder) -> None:
    path = folder / 'img.json'
    path.write_bytes(raw)
    try:
        coco, counts = labelme_to_coco([path], LAYOUT, folder, show_progress=False)
    except ConverterError as err:
        assert str(path) in str(err), f'error does not name the file: {err}'
        return
    shapes = json.loads(raw)['shapes']
    kinds = [s.get('shape_type') or 'polygon' for s in shapes]
    assert counts['annotations'] == kinds.count('rectangle')
    assert counts['keypoints'] == kinds.count('point')
    assert sum(counts['skipped_shapes'].values()) == len(kinds) - kinds.count(
        'rectangle') - kinds.count('point')


@fuzz_settings(slow=False, suppress=('function_scoped_fixture',))
@given(raw=corrupted())
def test_corrupted_labelme_file_is_a_named_error_or_accounted(raw, folder):
    check(raw, folder)


@pytest.mark.slow
@fuzz_settings(slow=True, suppress=('function_scoped_fixture',))
@given(raw=corrupted())
def test_corrupted_labelme_file_long_run(raw, folder):
    check(raw, folder)


def test_uncorrupted_labelme_fixture_converts_whole(folder):
    check(json.dumps(valid_labelme()).encode(), folder)
