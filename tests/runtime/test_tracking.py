"""KeypointTracker on hand-made frames: OKS keeps two crossing vehicles apart where IoU
alone swaps them, the second score tier recovers a track, a track survives a gap, keypoint
smoothing removes jitter, classes never mix; and the pieces (IoU, OKS, assignment)."""
import numpy as np
import pytest

from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT as LAYOUT
from yolox_kpt.runtime.detections import Detections
from yolox_kpt.runtime.tracking import (BoxKalmanFilter, KeypointTracker, box_iou, keypoint_oks,
                                        linear_assignment)

VEHICLE, FACE, PEDESTRIAN, CYCLIST = range(4)
FL, RL = LAYOUT.keypoint_names.index('front_left_tyre'), LAYOUT.keypoint_names.index(
    'rear_left_tyre')


def frame(*objects):
    """Detections of ``(box, score, label, {slot: (x, y)})`` objects; keypoint score 0.9."""
    n, k = len(objects), LAYOUT.num_keypoints
    boxes, scores, labels = np.zeros((n, 4)), np.zeros(n), np.zeros(n, np.int64)
    kpts, kscores = np.zeros((n, k, 2)), np.zeros((n, k))
    for i, (box, score, label, points) in enumerate(objects):
        boxes[i], scores[i], labels[i] = box, score, label
        for slot, xy in points.items():
            kpts[i, slot], kscores[i, slot] = xy, 0.9
    return Detections(boxes, scores, labels, kpts, kscores, LAYOUT)


def vehicle(x1, tyres, shift=0.0, score=0.9):
    """A 100x60 vehicle box at ``x1`` (moved by ``shift``: box error) with its two left
    tyres at x offsets ``tyres`` on the ground line."""
    return ((x1 + shift, 100, x1 + shift + 100, 160), score, VEHICLE,
            {FL: (x1 + tyres[0], 160), RL: (x1 + tyres[1], 160)})


def ids_by_index(out):
    return dict(zip(out.indices.tolist(), out.track_ids.tolist()))


def crossing_ids(oks_weight):
    """Two vehicles drive through each other's place, 10 px a frame in opposite
    directions; at the crossing frame their boxes trade 4 px (the hidden one's box cut to
    its visible part), so IoU prefers the swapped pairs. Their tyres stay where they are."""
    tracker = KeypointTracker(LAYOUT, oks_weight=oks_weight)
    per_frame = []
    for f in range(20):
        xa, xb = 10 * f, 194 - 10 * f
        err = (xb - xa, xa - xb) if f == 10 else (0, 0)
        out = tracker.update(frame(vehicle(xa, (10, 40), err[0]),
                                   vehicle(xb, (60, 90), err[1])))
        per_frame.append(ids_by_index(out))
    return per_frame


def test_oks_keeps_crossing_vehicles_apart_where_iou_swaps_them():
    iou_only, with_oks = crossing_ids(0.0), crossing_ids(0.5)
    assert iou_only[9] == with_oks[9] == {0: 1, 1: 2}
    assert iou_only[10] == {0: 2, 1: 1}  # the baseline swaps the ids at the crossing
    assert all(ids == {0: 1, 1: 2} for ids in with_oks)


def test_low_score_detection_recovers_the_track():
    tracker = KeypointTracker(LAYOUT, oks_weight=0.5, high_thr=0.5, low_thr=0.1)
    boxes = [(100 + 5 * f, 100, 150 + 5 * f, 200) for f in range(6)]
    for f in range(3):
        first = tracker.update(frame((boxes[f], 0.9, PEDESTRIAN, {})))
    (tid,) = first.track_ids
    # occluded: a low score, which neither matches the first tier nor starts a track
    second = tracker.update(frame((boxes[3], 0.3, PEDESTRIAN, {})))
    assert second.track_ids.tolist() == [tid] and second.detections.scores[0] < 0.5
    assert tracker.update(frame((boxes[4], 0.9, PEDESTRIAN, {}))).track_ids.tolist() == [tid]
    # without the second tier the same frame loses the track
    plain = KeypointTracker(LAYOUT, high_thr=0.5, low_thr=0.5)
    for f in range(3):
        plain.update(frame((boxes[f], 0.9, PEDESTRIAN, {})))
    assert len(plain.update(frame((boxes[3], 0.3, PEDESTRIAN, {})))) == 0


def test_track_survives_a_three_frame_gap():
    tracker = KeypointTracker(LAYOUT)
    for f in range(5):
        ids = tracker.update(frame(vehicle(100 + 8 * f, (10, 40)))).track_ids
    assert ids.tolist() == [1]
    for f in range(5, 8):  # not detected: lost, predicted on
        assert len(tracker.update(frame())) == 0
    back = tracker.update(frame(vehicle(100 + 8 * 8, (10, 40))))
    assert back.track_ids.tolist() == [1]
    # a buffer shorter than the gap gives a new id (after confirmation)
    short = KeypointTracker(LAYOUT, track_buffer=2)
    for f in range(5):
        short.update(frame(vehicle(100 + 8 * f, (10, 40))))
    for f in range(5, 8):
        short.update(frame())
    short.update(frame(vehicle(164, (10, 40))))
    assert short.update(frame(vehicle(172, (10, 40)))).track_ids.tolist() == [2]


def test_smoothing_reduces_keypoint_jitter_on_a_static_object():
    rng = np.random.default_rng(0)
    truth = np.array([[110.0, 160.0], [140.0, 160.0]])
    raw, smoothed = [], []
    for smooth, out in ((False, raw), (True, smoothed)):
        tracker = KeypointTracker(LAYOUT, smooth_keypoints=smooth, kpt_alpha=0.3)
        noise = np.random.default_rng(1)
        for _ in range(40):
            pts = truth + noise.normal(0, 3.0, truth.shape)
            box = np.array([100, 100, 200, 160]) + rng.normal(0, 1.0, 4)
            res = tracker.update(frame((box, 0.9, VEHICLE, {FL: pts[0], RL: pts[1]})))
            out.append(res.detections.keypoints[0, [FL, RL]])
    err_raw = np.abs(np.array(raw[10:]) - truth).mean()
    err_smooth = np.abs(np.array(smoothed[10:]) - truth).mean()
    assert err_smooth < 0.7 * err_raw, (err_smooth, err_raw)


def test_smoothing_follows_a_moving_object_without_lag():
    tracker = KeypointTracker(LAYOUT, kpt_alpha=0.3)
    for f in range(30):
        out = tracker.update(frame(vehicle(10 + 6 * f, (10, 40))))
    assert np.allclose(out.detections.keypoints[0, FL], (10 + 6 * 29 + 10, 160), atol=1.5)


def test_unseen_keypoints_do_not_update_and_are_returned_as_detected():
    tracker = KeypointTracker(LAYOUT)
    tracker.update(frame(vehicle(100, (10, 40))))
    dets = frame(vehicle(100, (10, 40)))
    dets.keypoints[0, FL] = (0, 0)
    dets.keypoint_scores[0, FL] = 0.05
    out = tracker.update(dets)
    assert out.detections.keypoints[0, FL].tolist() == [0, 0]
    assert tracker.tracks[0].keypoints[FL].tolist() == pytest.approx([110, 160], abs=1)


def test_matching_is_class_consistent():
    tracker = KeypointTracker(LAYOUT)
    box = (100, 100, 160, 200)
    assert tracker.update(frame((box, 0.9, PEDESTRIAN, {}))).track_ids.tolist() == [1]
    # the same box as a cyclist: not the pedestrian's track; a new one (born unconfirmed)
    assert len(tracker.update(frame((box, 0.9, CYCLIST, {})))) == 0
    out = tracker.update(frame((box, 0.9, CYCLIST, {}), (box, 0.9, PEDESTRIAN, {})))
    assert ids_by_index(out) == {0: 2, 1: 1}
    assert out.detections.labels.tolist() == [PEDESTRIAN, CYCLIST]  # in track order


def test_output_keeps_the_input_fields_and_indices():
    tracker = KeypointTracker(LAYOUT, smooth_keypoints=False)
    dets = frame(vehicle(100, (10, 40)), ((300, 50, 340, 150), 0.8, PEDESTRIAN, {}))
    out = tracker.update(dets)
    assert sorted(out.indices.tolist()) == [0, 1]
    for f in ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores'):
        assert np.array_equal(getattr(out.detections, f), getattr(dets, f)[out.indices])
    tracker.reset()
    assert tracker.update(frame()).track_ids.tolist() == [] and tracker.frame == 1


def test_iou_oks_and_assignment():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]])
    assert box_iou(a, a[[0]]).ravel().tolist() == [1.0, 0.0]
    assert box_iou(a, np.array([[5, 0, 15, 10]]))[0, 0] == pytest.approx(50 / 150)
    k = np.zeros((1, 2, 2))
    oks = keypoint_oks(k, np.array([[True, False]]), k + [[3, 4], [0, 0]],
                       np.array([[True, True]]),
                       np.array([100.0]), np.array([0.5, 0.5]))
    assert oks[0, 0] == pytest.approx(np.exp(-25 / (2 * 100 * 1.0)))
    assert np.isnan(keypoint_oks(k, np.array([[True, False]]), k,
                                 np.array([[False, True]]), np.array([100.0]),
                                 np.array([0.5, 0.5])))[0, 0]
    cost = np.array([[0.1, 0.9], [0.2, np.inf]])
    matches, rows, cols = linear_assignment(cost, 0.5)
    assert matches.tolist() == [[0, 0]] and rows.tolist() == [1] and cols.tolist() == [1]
    assert linear_assignment(np.zeros((0, 3)), 0.5)[2].tolist() == [0, 1, 2]


def test_bad_arguments():
    with pytest.raises(ValueError, match='oks_weight'):
        KeypointTracker(LAYOUT, oks_weight=1.5)
    with pytest.raises(ValueError, match='low_thr'):
        KeypointTracker(LAYOUT, high_thr=0.2, low_thr=0.4)


def test_kalman_filter_is_its_matrix_products_exactly():
    """predict_many (all tracks at once, the products written out) and update (the
    observation's products as slices) give the matrix formulas' values bit for bit;
    update_many gives each track's update."""
    kalman = BoxKalmanFilter()
    rng = np.random.default_rng(0)
    means = np.c_[rng.uniform(0, 640, (50, 2)), rng.uniform(0.2, 3, 50),
                  rng.uniform(5, 300, 50), rng.normal(0, 3, (50, 4))]
    root = rng.normal(0, 2, (50, 8, 8))
    covs = root @ root.transpose(0, 2, 1) + np.eye(8)  # symmetric positive definite
    new_means, new_covs = kalman.predict_many(means, covs)
    obs = np.eye(4, 8)
    for mean, cov, new_mean, new_cov in zip(means, covs, new_means, new_covs):
        pos, vel = kalman.std_pos * mean[3], kalman.std_vel * mean[3]
        std = np.array([pos, pos, 1e-2, pos, vel, vel, 1e-5, vel])
        assert np.array_equal(new_mean, kalman.motion @ mean)
        assert np.array_equal(new_cov, kalman.motion @ cov @ kalman.motion.T +
                              np.diag(std ** 2))
        assert all(np.array_equal(a, b) for a, b in zip(kalman.predict(mean, cov),
                                                        (new_mean, new_cov)))
        xyah = mean[:4] + rng.normal(0, 2, 4)
        s = obs @ cov @ obs.T + np.diag(np.array([pos, pos, 1e-1, pos]) ** 2)
        gain = np.linalg.solve(s, obs @ cov).T
        got_mean, got_cov = kalman.update(mean, cov, xyah)
        assert np.array_equal(got_mean, mean + gain @ (xyah - obs @ mean))
        assert np.array_equal(got_cov, cov - gain @ s @ gain.T)
    # all tracks' updates at once (the tracker's way) are each track's
    xyahs = means[:, :4] + rng.normal(0, 2, (50, 4))
    batch_means, batch_covs = kalman.update_many(means, covs, xyahs)
    for k in range(50):
        one_mean, one_cov = kalman.update(means[k], covs[k], xyahs[k])
        assert np.allclose(batch_means[k], one_mean, rtol=1e-12, atol=1e-9)
        assert np.allclose(batch_covs[k], one_cov, rtol=1e-12, atol=1e-9)
    boxes = kalman.to_xyxy_many(means)
    assert np.allclose(kalman.to_xyah_many(boxes), [kalman.to_xyah(b) for b in boxes])


def test_assignment_without_an_allowed_pair_does_not_solve():
    def solver(cost):
        raise AssertionError('nothing to solve')
    matches, rows, cols = linear_assignment(np.array([[np.inf, 0.9], [0.7, np.inf]]), 0.5,
                                            solver)
    assert matches.shape == (0, 2) and rows.tolist() == [0, 1] and cols.tolist() == [0, 1]


def test_output_carries_the_keypoint_visibility():
    """The tracked detections are the input's, every field (keypoint_visibility too)."""
    tracker = KeypointTracker(LAYOUT)
    dets = frame(vehicle(100, (10, 40)), ((300, 50, 340, 150), 0.8, PEDESTRIAN, {}))
    vis = np.random.default_rng(0).dirichlet(np.ones(3), (2, LAYOUT.num_keypoints))
    dets = Detections(dets.bboxes, dets.scores, dets.labels, dets.keypoints,
                      dets.keypoint_scores, LAYOUT, keypoint_visibility=vis)
    out = tracker.update(dets)
    assert sorted(out.indices.tolist()) == [0, 1]
    np.testing.assert_array_equal(out.detections.keypoint_visibility,
                                  dets.keypoint_visibility[out.indices])
    assert tracker.update(frame(vehicle(100, (10, 40)))).detections.keypoint_visibility is None
