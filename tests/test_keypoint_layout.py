"""The keypoint layout: slots as a union by name, sigmas never guessed, flips from names."""
import numpy as np
import pytest

from yolox_kpt.keypoint_layout import (COCO_PERSON_KEYPOINTS, KeypointLayout,
                                       KeypointLayoutError)


def test_union_by_name_shares_slots():
    layout = KeypointLayout.build(
        ('cat', 'dog', 'car'),
        dict(cat=COCO_PERSON_KEYPOINTS[:3], dog=COCO_PERSON_KEYPOINTS[:3]))
    assert layout.num_keypoints == 3
    assert layout.class_slots == ((0, 1, 2), (0, 1, 2), ())
    mask = layout.class_slot_mask()
    assert mask.tolist() == [[True] * 3, [True] * 3, [False] * 3]


def test_coco_sigmas_and_flips_match_pycocotools():
    from pycocotools.cocoeval import Params
    layout = KeypointLayout.build(('person', ), dict(person=COCO_PERSON_KEYPOINTS))
    np.testing.assert_allclose(layout.sigmas, Params(iouType='keypoints').kpt_oks_sigmas)
    assert layout.flip_indices == (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


def test_mixed_sets_flip_and_sigmas():
    layout = KeypointLayout.build(
        ('vehicle', 'cyclist'),
        dict(vehicle=('front_left_tyre', 'front_right_tyre'), cyclist=('front_wheel', )),
        sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.06, front_wheel=0.07))
    assert layout.flip_indices == (1, 0, 2)
    np.testing.assert_allclose(layout.sigmas, [0.05, 0.06, 0.07])


def test_missing_sigma_is_an_error_not_a_guess():
    with pytest.raises(KeypointLayoutError, match='no OKS sigma for keypoints'):
        KeypointLayout.build(('vehicle', ), dict(vehicle=('front_left_tyre', )))


def test_config_roundtrip_and_json(tmp_path):
    layout = KeypointLayout.build(
        ('vehicle', 'pedestrian', 'cyclist'),
        dict(vehicle=('a_left', 'a_right'), cyclist=('w', )),
        sigmas=dict(a_left=.1, a_right=.1, w=.2), skeletons=dict(vehicle=[[1, 2]]))
    assert KeypointLayout.from_config(layout.to_config()) == layout
    layout.to_json(tmp_path / 'layout.json')
    assert KeypointLayout.from_json(tmp_path / 'layout.json') == layout
    assert layout.skeletons[0] == ((0, 1), )


@pytest.mark.parametrize('bad, match', [
    (dict(classes=('a', ), keypoints=dict(b=('nose', ))), 'not in classes'),
    (dict(classes=('a', ), keypoints=dict(a=('nose', )), flip_pairs=[['nose', 'x']]),
     'flip pair'),
    (dict(classes=('a', ), keypoints=dict(a=('nose', )), skeletons=dict(a=[[1, 2]])),
     'out of range'),
    (dict(classes=('a', ), keypoints=dict(a=('nose', 'nose'))), 'twice'),
    (dict(classes=('a', ), kpts=dict()), 'unknown keys'),
])
def test_config_mistakes_are_named(bad, match):
    with pytest.raises(KeypointLayoutError, match=match):
        KeypointLayout.from_config(bad)
