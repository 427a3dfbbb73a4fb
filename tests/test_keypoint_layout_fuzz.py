"""Random layout configs: a valid ``KeypointLayout`` that round-trips, or a named error.

The layout is what users type into configs (``keypoint_layout=dict(...)``) and what a layout
JSON or an exported model's metadata holds: any value of any type in any field must give a
``KeypointLayoutError`` naming the field, never a bare TypeError deep inside.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yolox_kpt.testing.corruption import fuzz_settings
from yolox_kpt.keypoint_layout import KeypointLayout, KeypointLayoutError


names = st.sampled_from(['left_eye', 'right_eye', 'nose', 'FL', 'FR', 'RL', 'RR', 'w', 'x',
                         'eyeL', 'eyeR', ''])
anything = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 20) | st.floats() | names,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8)
classes = st.lists(st.sampled_from(['a', 'b', 'c']), max_size=4) | anything
layouts = st.fixed_dictionaries(
    {'classes': classes},
    optional={
        'keypoints': st.dictionaries(st.sampled_from(['a', 'b', 'c', 'z']),
                                     st.lists(names, max_size=5) | anything, max_size=3)
        | anything,
        'sigmas': st.dictionaries(names, st.floats() | anything, max_size=6) | anything,
        'flip_pairs': st.lists(st.lists(names, max_size=3), max_size=3) | anything,
        'skeletons': st.dictionaries(st.sampled_from(['a', 'b', 'z']),
                                     st.lists(st.lists(st.integers(-1, 6), max_size=3),
                                              max_size=3) | anything, max_size=2) | anything,
        'share_keypoints': st.sampled_from(['same_set', 'by_name', 'none', 'x'])
        | st.lists(st.lists(st.sampled_from(['a', 'b', 'c', 'z']), max_size=3), max_size=3)
        | anything,
        'extra': anything,
    })


def check(cfg) -> None:
    try:
        layout = KeypointLayout.from_config(cfg)
    except KeypointLayoutError:
        return
    assert KeypointLayout.from_config(layout.to_config()) == layout
    assert sorted(layout.flip_indices) == list(range(layout.num_keypoints))


@fuzz_settings(slow=False)
@given(cfg=layouts | anything)
def test_any_layout_config_is_valid_or_a_named_error(cfg):
    check(cfg)


@pytest.mark.slow
@fuzz_settings(slow=True)
@given(cfg=layouts | anything)
def test_any_layout_config_long_run(cfg):
    check(cfg)
