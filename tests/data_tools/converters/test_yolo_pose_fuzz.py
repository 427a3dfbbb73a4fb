"""Random YOLO pose label files: a ``ConverterError`` naming the file and line, or one
COCO annotation per non-blank line (nothing dropped). ``make test`` runs 200 examples, the
slow run ``YOLOX_KPT_FUZZ_EXAMPLES=5000``."""

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yolox_kpt.data_tools.coco import ConverterError
from yolox_kpt.data_tools.converters.yolo_pose import _split_to_coco
from yolox_kpt.testing.corruption import fuzz_settings
from yolox_kpt.keypoint_layout import KeypointLayout

LAYOUT = KeypointLayout.build(('vehicle', 'pedestrian'),
                              dict(vehicle=('fl_tyre', 'fr_tyre')),
                              sigmas=dict(fl_tyre=.1, fr_tyre=.1))
VALID = ['0 0.5 0.5 0.4 0.3 0.3 0.6 2 0.7 0.6 1', '1 0.2 0.5 0.1 0.4 0 0 0 0 0 0']

tokens = st.sampled_from(['0', '1', '2', '3', '-1', '0.5', '1e400', 'nan', 'inf', 'x', '',
                          '0.25', '1.0', '2.0', '\u00a0', '\t'])
lines = st.lists(tokens, max_size=13).map(' '.join) | st.sampled_from(VALID) | st.text(
    max_size=20)
label_files = st.lists(lines, max_size=5).map('\n'.join).map(str.encode) | st.binary(
    max_size=40)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('yolo_fuzz')
    (root / 'images').mkdir()
    (root / 'labels').mkdir()
    cv2.imwrite(str(root / 'images' / 'a.png'), np.zeros((48, 64, 3), np.uint8))
    return root


def check(raw: bytes, root) -> None:
    label = root / 'labels' / 'a.txt'
    label.write_bytes(raw)
    try:
        _, counts = _split_to_coco([root / 'images' / 'a.png'], root / 'images', LAYOUT, 3,
                                   'train', False)
    except ConverterError as err:
        assert str(label) in str(err), f'error does not name the label file: {err}'
        return
    text = raw.decode('utf-8')
    assert counts['num_objects'] == sum(1 for line in text.splitlines() if line.strip())


@fuzz_settings(slow=False, suppress=('function_scoped_fixture',))
@given(raw=label_files)
def test_random_label_file_is_a_named_error_or_whole(raw, dataset):
    check(raw, dataset)


@pytest.mark.slow
@fuzz_settings(slow=True, suppress=('function_scoped_fixture',))
@given(raw=label_files)
def test_random_label_file_long_run(raw, dataset):
    check(raw, dataset)


def test_valid_label_lines_convert(dataset):
    check('\n'.join(VALID).encode(), dataset)
