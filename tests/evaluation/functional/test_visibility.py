"""Three-state visibility confusion and rates against a hand-computed case."""
import math

import numpy as np

from yolox_kpt.evaluation.functional import (MatchAccumulator, visibility_confusion,
                                             visibility_rates)


def probs(states):
    """(M, K) COCO v -> (M, K, 3) probabilities whose argmax is that v."""
    out = np.full((*np.shape(states), 3), 0.1)
    np.put_along_axis(out, np.asarray(states)[..., None], 0.8, axis=-1)
    return out


# Two slots, five matched objects. Ground truth v (rows) and predicted v:
#   slot 0: 2->2, 2->2, 1->1, 1->2, 0->0      slot 1: 2->1, 1->1, 1->0, 0->1, 0->0
GT = np.array([[2, 2], [2, 1], [1, 1], [1, 0], [0, 0]], float)
PRED = np.array([[2, 1], [2, 1], [1, 0], [2, 1], [0, 0]])


def test_confusion_counts_by_hand():
    conf = visibility_confusion(GT, probs(PRED))
    assert conf.shape == (2, 3, 3) and conf.dtype == np.int64
    np.testing.assert_array_equal(conf[0], [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    np.testing.assert_array_equal(conf[1], [[1, 1, 0], [1, 1, 0], [0, 1, 0]])
    # v read as COCO does: 1.0 and 2.0 floats, anything above 2 counts as 2
    np.testing.assert_array_equal(visibility_confusion(np.array([[2.0, 3.0]]),
                                                       probs([[2, 2]])).sum(0)[2], [0, 0, 2])


def test_rates_by_hand():
    conf = visibility_confusion(GT, probs(PRED))
    slot0, slot1 = (visibility_rates(c) for c in conf)
    # slot 0: occluded 1 of 2 found; predicted occluded once, right
    assert slot0['occluded_recall'] == 0.5 and slot0['occluded_precision'] == 1.0
    assert slot0['visible_acc'] == 1.0 and slot0['absent_acc'] == 1.0
    assert slot0['acc'] == 4 / 5
    # slot 1: occluded 1 of 2; predicted occluded 3 times, 1 right; the visible point missed
    assert slot1['occluded_recall'] == 0.5 and slot1['occluded_precision'] == 1 / 3
    assert slot1['visible_acc'] == 0.0 and slot1['absent_acc'] == 0.5
    assert slot1['acc'] == 2 / 5
    # pooled: the sum of the counts, not the mean of the rates
    both = visibility_rates(conf.sum(0))
    assert both['occluded_precision'] == 2 / 4 and both['acc'] == 6 / 10
    # batched over a leading axis, NaN where nothing was in the denominator
    batched = visibility_rates(np.stack([conf[0], np.zeros((3, 3), int)]))
    assert batched['occluded_recall'][0] == 0.5 and math.isnan(batched['acc'][1])


def test_accumulator_counts_matched_detections_own_slots_only():
    """One class owning slots (2, 0) of K_total = 3: a matched detection's two slots are
    counted, an unmatched (false) detection's are not."""
    acc = MatchAccumulator(num_classes=2, num_slots=3)
    det_boxes = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float)  # by score
    gt_boxes = np.array([[0, 0, 10, 11]], float)
    gt_kpts = np.array([[[1, 1, 1], [2, 2, 2]]], float)  # class order: slot 2 then slot 0
    det_vis = probs([[2, 0, 1], [1, 1, 1]])  # matched: slot 2 -> 1, slot 0 -> 2
    acc.add(1, (2, 0), det_boxes, np.zeros((2, 3, 2)), np.ones((2, 3)), gt_boxes,
            np.zeros(1, bool), gt_kpts, 0.5, 0.5, det_kpt_vis=det_vis)
    expect = np.zeros((2, 3, 3, 3), np.int64)
    expect[1, 2, 1, 1] = 1  # slot 2: labelled occluded, predicted occluded
    expect[1, 0, 2, 2] = 1  # slot 0: visible, predicted visible
    np.testing.assert_array_equal(acc.vis_confusion, expect)
    # without det_kpt_vis nothing is counted (older models' predictions)
    acc.add(1, (2, 0), det_boxes, np.zeros((2, 3, 2)), np.ones((2, 3)), gt_boxes,
            np.zeros(1, bool), gt_kpts, 0.5, 0.5)
    np.testing.assert_array_equal(acc.vis_confusion, expect)
