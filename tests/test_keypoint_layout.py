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


@pytest.mark.parametrize('left, right', [
    ('left_eye', 'right_eye'), ('front_left_tyre', 'front_right_tyre'), ('fl_tyre', 'fr_tyre'),
    ('FL', 'FR'), ('RL', 'RR'), ('fl', 'fr'), ('rl', 'rr'), ('BL_wheel', 'BR_wheel'),
    ('LEFT_EYE', 'RIGHT_EYE'), ('leftEye', 'rightEye'), ('frontLeftTyre', 'frontRightTyre'),
    ('LEye', 'REye'), ('eye_l', 'eye_r'), ('l-hand', 'r-hand'), ('Left Knee', 'Right Knee')])
def test_sided_names_pair_in_any_spelling(left, right):
    layout = KeypointLayout.build(('a', ), dict(a=(right, 'centre', left)),
                                  sigmas={right: .1, 'centre': .1, left: .1})
    assert layout.flip_indices == (2, 1, 0)


@pytest.mark.parametrize('names', [('rearview', 'leftover', 'front_wheel', 'nose'),
                                   ('tl_x2', 'tr_x2')])
def test_names_without_a_side_token_do_not_flip_or_fail(names):
    layout = KeypointLayout.build(('a', ), dict(a=names), sigmas={n: .1 for n in names})
    expected = (1, 0) if names[0] == 'tl_x2' else tuple(range(len(names)))
    assert layout.flip_indices == expected


@pytest.mark.parametrize('names, lonely', [(('FL', 'FR', 'RL'), "'RL' (no 'RR')"),
                                           (('left_eye', 'nose'), "'left_eye'")])
def test_a_sided_name_without_partner_is_an_error_naming_it(names, lonely):
    with pytest.raises(KeypointLayoutError, match='look left/right') as err:
        KeypointLayout.build(('a', ), dict(a=names), sigmas={n: .1 for n in names},
                             source='x.json')
    assert lonely in str(err.value) and 'x.json' in str(err.value)


def test_explicit_flip_pairs_win_over_names():
    names = ('FL', 'FR', 'RL')
    layout = KeypointLayout.build(('a', ), dict(a=names), sigmas={n: .1 for n in names},
                                  flip_pairs=[])
    assert layout.flip_indices == (0, 1, 2)
    layout = KeypointLayout.build(('a', ), dict(a=names), sigmas={n: .1 for n in names},
                                  flip_pairs=[['FL', 'RL']])
    assert layout.flip_indices == (2, 1, 0)


def test_flip_pairs_in_use_are_logged():
    import logging

    from mmengine.logging import MMLogger
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        KeypointLayout.build(('a', ), dict(a=('fl_q', 'fr_q')), sigmas=dict(fl_q=.1, fr_q=.1),
                             source='log-test.json')
    finally:
        logger.removeHandler(handler)
    assert "log-test.json: keypoint flip pairs inferred from the names: [['fl_q', 'fr_q']]" \
        in seen


def test_visibility_states_are_hierarchical_not_argmax():
    from yolox_kpt.keypoint_layout import visibility_states
    # P(v>0) = 0.6 split evenly: labelled (argmax would say absent); then occluded vs visible
    probs = np.array([[[0.4, 0.35, 0.25], [0.4, 0.25, 0.35], [0.6, 0.3, 0.1],
                       [1.0, 0.0, 0.0], [0.5, 0.25, 0.25]]], np.float32)
    assert visibility_states(probs).tolist() == [[1, 2, 0, 0, 2]]
    import torch
    assert visibility_states(torch.from_numpy(probs)).dtype == np.uint8
