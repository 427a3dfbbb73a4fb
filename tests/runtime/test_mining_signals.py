"""Every mining signal on a generated case whose answer is known, and the ranking that
combines them (yolox_kpt.runtime.mining_signals)."""
import math
import os.path as osp

import numpy as np
import pytest

from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.runtime import Detections, load_calibration
from yolox_kpt.runtime.geometry import _face_inside
from yolox_kpt.runtime.mining_signals import (Signal, flip_disagreement, frame_fingerprint,
                                              frame_signals, geometry_implausibility,
                                              keypoint_uncertainty, low_margin,
                                              near_duplicates, rank_frames, temporal_flicker,
                                              unflip_detections, observed_states)

TYRES = ('front_left_tyre', 'front_right_tyre', 'rear_left_tyre', 'rear_right_tyre')
LAYOUT = KeypointLayout.from_config(dict(
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(vehicle=TYRES, cyclist=('front_wheel', 'rear_wheel')),
    sigmas={n: 0.05 for n in TYRES + ('front_wheel', 'rear_wheel')}))
VEHICLE, FACE, PEDESTRIAN, CYCLIST = range(4)
FL, FR, RL, RR, FW, RW = (LAYOUT.keypoint_names.index(n) for n in TYRES + (
    'front_wheel', 'rear_wheel'))
CALIBRATION = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
                       'calibration', 'example_1280x720.json')


def dets(boxes, labels, scores=None, keypoints=None, kpt_scores=None, visibility=None):
    n, k = len(boxes), LAYOUT.num_keypoints
    return Detections(np.asarray(boxes, np.float32).reshape(n, 4),
                      np.full(n, 0.9) if scores is None else np.asarray(scores),
                      np.asarray(labels), np.zeros((n, k, 2)) if keypoints is None else keypoints,
                      np.zeros((n, k)) if kpt_scores is None else kpt_scores, LAYOUT,
                      keypoint_visibility=visibility)


def vehicle(x, y, heading_deg, cam, score=0.9):
    """A vehicle on the road at (x, y) metres, its tyres projected into the image, box around
    them (taller above: the body)."""
    h = math.radians(heading_deg)
    fwd, left = np.array([math.cos(h), math.sin(h)]), np.array([-math.sin(h), math.cos(h)])
    road = {FL: (1, 1), FR: (1, -1), RL: (-1, 1), RR: (-1, -1)}
    kpts = np.zeros((1, LAYOUT.num_keypoints, 2))
    ks = np.zeros((1, LAYOUT.num_keypoints))
    for s, (a, b) in road.items():
        kpts[0, s] = cam.ground_to_image((np.array([x, y]) + a * fwd * 1.35 +
                                          b * left * 0.8)[None])[0]
        ks[0, s] = 0.9
    lo, hi = kpts[0, :4].min(0), kpts[0, :4].max(0)
    box = [lo[0] - 5, lo[1] - 0.8 * (hi[0] - lo[0]), hi[0] + 5, hi[1] + 2]
    return dets([box], [VEHICLE], [score], kpts, ks)


def test_low_margin_peaks_at_the_threshold():
    d = dets([[0, 0, 10, 10]] * 4, [PEDESTRIAN] * 4, [0.5, 0.55, 0.8, 0.25])
    sig = low_margin(d, 0.5, band=0.2)
    assert int(np.argmax(sig.scores)) == 0 and sig.scores[0] == pytest.approx(1.0)
    assert sig.scores[1] == pytest.approx(0.75, abs=1e-6) and sig.scores[2] == 0 and sig.scores[3] == 0
    assert 'near 0.50' in sig.reasons[0] and sig.reasons[2] == ''


def test_keypoint_uncertainty_counts_owned_mid_range_slots():
    ks = np.zeros((3, LAYOUT.num_keypoints))
    ks[0, [FL, FR, RL, RR]] = [0.95, 0.9, 0.31, 0.92]  # one tyre at the cut
    ks[1, [FL, FR, RL, RR]] = 0.95                        # sure of every tyre
    ks[2, FL] = 0.3                                       # a pedestrian owns no tyre slot
    sig = keypoint_uncertainty(dets([[0, 0, 10, 10]] * 3, [VEHICLE, VEHICLE, PEDESTRIAN],
                                    kpt_scores=ks), kpt_thr=0.3)
    assert sig.scores[0] > 0.9 and 'rear_left_tyre' in sig.reasons[0]
    assert sig.scores[1] == 0 and sig.scores[2] == 0


def test_visibility_states_prefers_the_model_states():
    ks = np.zeros((1, LAYOUT.num_keypoints))
    ks[0, [FL, FR]] = [0.9, 0.1]
    d = dets([[0, 0, 10, 10]], [VEHICLE], kpt_scores=ks)
    assert observed_states(d, 0.3)[0, [FL, FR, RL]].tolist() == [2, 0, 0]
    # a model with the occlusion branch: its predicted COCO v (argmax of the probabilities
    # of v = 0, 1, 2) wins over the score threshold
    vis = np.zeros((1, LAYOUT.num_keypoints, 3))
    vis[..., 0] = 1.0
    vis[0, FL] = [0.1, 0.7, 0.2]  # occluded, though its score says seen
    vis[0, FR] = [0.3, 0.1, 0.6]  # visible, though its score says not
    vis[0, FW] = [0.0, 0.0, 1.0]  # a cyclist's slot: the vehicle does not own it
    d = dets([[0, 0, 10, 10]], [VEHICLE], kpt_scores=ks, visibility=vis)
    assert observed_states(d, 0.3)[0, [FL, FR, RL, FW]].tolist() == [1, 2, 0, 0]


def mirrored(d, width):
    """What a correct model answers on the mirrored frame: everything mirrored, each point
    under its mirror name."""
    flip = np.asarray(LAYOUT.flip_indices)
    boxes = d.bboxes.copy()
    boxes[:, [0, 2]] = width - d.bboxes[:, [2, 0]]
    kpts = d.keypoints.copy()
    kpts[..., 0] = width - kpts[..., 0]
    # slot s of the mirrored answer holds the original's point flip[s]
    return dets(boxes, d.labels, d.scores, kpts[:, flip], d.keypoint_scores[:, flip])


def test_flip_disagreement():
    cam = load_calibration(CALIBRATION)
    d = vehicle(12, 2, 30, cam)
    width = cam.image_size[0]
    back = unflip_detections(mirrored(d, width), width)
    np.testing.assert_allclose(back.keypoints, d.keypoints, atol=1e-3)
    sig = flip_disagreement(d, back)
    assert sig.scores.tolist() == [0.0]
    # mirroring back without swapping the slots: left and right tyres trade places
    flipped = mirrored(d, width)
    no_swap = Detections(flipped.bboxes.copy(), flipped.scores, flipped.labels,
                         flipped.keypoints.copy(), flipped.keypoint_scores, LAYOUT)
    no_swap.bboxes[:, [0, 2]] = width - flipped.bboxes[:, [2, 0]]
    no_swap.keypoints[..., 0] = width - flipped.keypoints[..., 0]
    sig = flip_disagreement(d, no_swap)
    assert sig.scores[0] == 1.0 and 'tyre moves' in sig.reasons[0]
    # an object the mirrored frame does not have, and one only it has
    other = dets([[600, 300, 640, 400]], [PEDESTRIAN])
    sig = flip_disagreement(dets(np.vstack([d.bboxes, other.bboxes]), [VEHICLE, PEDESTRIAN],
                                 keypoints=np.concatenate([d.keypoints, other.keypoints]),
                                 kpt_scores=np.concatenate([d.keypoint_scores,
                                                            other.keypoint_scores])), back)
    assert sig.scores.tolist() == [0.0, 1.0] and sig.objects.tolist() == [0, 1]
    sig = flip_disagreement(dets(np.zeros((0, 4)), []), back)
    assert sig.scores.tolist() == [1.0] and sig.objects.tolist() == [-1]


def test_temporal_flicker():
    """Track 1 moves steadily through 8 frames; track 2 vanishes in frame 4; track 3 lives
    two frames in the middle; track 1's box jumps in frame 6 from frame 5 on."""
    history = []
    for t in range(8):
        boxes, ids = [[10 + 5 * t, 10, 60 + 5 * t, 60]], [1]
        if t == 6:
            boxes[0] = [150, 10, 200, 60]
        if t != 4:
            boxes.append([300, 300, 340, 380])
            ids.append(2)
        if t in (3, 4):
            boxes.append([500, 100, 520, 140])
            ids.append(3)
        history.append((np.array(ids), dets(boxes, [PEDESTRIAN] * len(ids))))
    signals = temporal_flicker(history, min_frames=5)
    best = [s.frame_score() for s in signals]
    assert best[0] == best[1] == best[2] == 0.0
    # frame 4: track 2 is missing (an entry without a detection), frame 5: it is back
    assert signals[4].objects.tolist()[-1] == -1 and signals[4].scores[-1] == 1.0
    assert 'lost in this frame' in signals[4].reasons[-1]
    i = np.flatnonzero(history[5][0] == 2)[0]
    assert signals[5].scores[i] == 1.0 and 'back after 1' in signals[5].reasons[i]
    # the short track
    i = np.flatnonzero(history[3][0] == 3)[0]
    assert signals[3].scores[i] == pytest.approx(0.6) and 'tracked 2' in signals[3].reasons[i]
    # the jump, and the jump back (away from the motion the jump predicts)
    assert signals[6].scores[0] == 1.0 and 'jumps' in signals[6].reasons[0]
    assert signals[7].scores[0] == 1.0 and signals[7].scores[1] == 0.0


def test_temporal_flicker_keypoint_visibility_changes():
    history = []
    for t in range(3):
        ks = np.zeros((1, LAYOUT.num_keypoints))
        ks[0, [FW, RW]] = [0.9, 0.9 if t != 1 else 0.1]  # the rear wheel blinks out
        history.append((np.array([7]), dets([[0, 0, 50, 80]], [CYCLIST], kpt_scores=ks)))
    sig = temporal_flicker(history)
    assert [s.scores[0] for s in sig] == [0.0, 0.5, 0.5]
    assert 'rear_wheel visibility changes' in sig[1].reasons[0]


@pytest.mark.parametrize('x, y, heading', [(8, 0, 0), (14, 3, 45), (20, -6, 120),
                                           (6, 4, 250), (10, -3, 300)])
def test_geometry_projected_vehicles_are_plausible(x, y, heading):
    """A vehicle on the road, at any heading, seen through a real calibration: 0; its tyres
    named mirror-wise (left <-> right) or front <-> rear: implausible."""
    cam = load_calibration(CALIBRATION)
    d = vehicle(x, y, heading, cam)
    assert geometry_implausibility(d).scores.tolist() == [0.0]
    for swap in ([FR, FL, RR, RL], [RL, RR, FL, FR]):
        bad = dets(d.bboxes, d.labels, d.scores, d.keypoints.copy(), d.keypoint_scores)
        bad.keypoints[0, [FL, FR, RL, RR]] = d.keypoints[0, swap]
        sig = geometry_implausibility(bad)
        assert sig.scores[0] == 1.0 and 'impossible order' in sig.reasons[0]


def test_geometry_contact_points_relative_to_the_box_bottom():
    kpts = np.zeros((2, LAYOUT.num_keypoints, 2))
    ks = np.zeros((2, LAYOUT.num_keypoints))
    # a cyclist 100 px tall, wheels on the bottom edge; another's 50 px below it
    kpts[0, [FW, RW]] = [[40, 200], [20, 200]]
    kpts[1, [FW, RW]] = [[40, 250], [20, 250]]
    ks[:, [FW, RW]] = 0.9
    sig = geometry_implausibility(dets([[10, 100, 50, 200]] * 2, [CYCLIST] * 2,
                                       keypoints=kpts, kpt_scores=ks))
    assert sig.scores[0] == 0.0 and sig.scores[1] == 1.0
    assert 'box below' in sig.reasons[1]
    # a wheel beside the box, and one in its upper half
    kpts[0, FW] = [90, 200]
    kpts[1, [FW, RW]] = [[40, 110], [20, 200]]
    sig = geometry_implausibility(dets([[10, 100, 50, 200]] * 2, [CYCLIST] * 2,
                                       keypoints=kpts, kpt_scores=ks))
    assert sig.scores[0] == 1.0 and 'outside the box' in sig.reasons[0]
    assert sig.scores[1] > 0.5 and 'above' in sig.reasons[1]
    # a low-score point does not count
    ks[0, FW] = 0.1
    sig = geometry_implausibility(dets([[10, 100, 50, 200]] * 2, [CYCLIST] * 2,
                                       keypoints=kpts, kpt_scores=ks))
    assert sig.scores[0] == 0.0


def test_geometry_one_axle_with_a_face():
    """Only the rear tyres seen and a face in the box: the tail faces the camera, so the
    rear-left tyre is on the image's left."""
    kpts = np.zeros((2, LAYOUT.num_keypoints, 2))
    ks = np.zeros((2, LAYOUT.num_keypoints))
    kpts[0, [RL, RR]] = [[110, 200], [190, 200]]
    ks[0, [RL, RR]] = 0.9
    boxes = [[100, 100, 200, 202], [120, 120, 180, 190]]
    good = dets(boxes, [VEHICLE, FACE], keypoints=kpts, kpt_scores=ks)
    assert geometry_implausibility(good).scores.tolist() == [0.0, 0.0]
    kpts[0, [RL, RR]] = kpts[0, [RR, RL]]
    sig = geometry_implausibility(dets(boxes, [VEHICLE, FACE], keypoints=kpts, kpt_scores=ks))
    assert sig.scores[0] == 1.0 and 'rear left/right swapped' in sig.reasons[0]
    # without the face the axle's end is unknown: no verdict
    assert geometry_implausibility(dets(boxes[:1], [VEHICLE], keypoints=kpts[:1],
                                        kpt_scores=ks[:1])).scores.tolist() == [0.0]


def test_near_duplicates():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (120, 160, 3), np.uint8)
    b = rng.integers(0, 255, (120, 160, 3), np.uint8)
    prints = [frame_fingerprint(im) for im in (a, a.copy(), b, a)]
    # identical frames 0.1 s apart: the second is suppressed; a different frame is kept;
    # the same picture a minute later is kept (max_gap_s)
    dup = near_duplicates(prints, [0.0, 0.1, 0.2, 60.0], max_gap_s=10.0)
    assert dup.tolist() == [-1, 0, -1, -1]
    # the higher-ranked one is kept
    assert near_duplicates(prints[:2], [0.0, 0.1], order=[1, 0]).tolist() == [1, -1]
    # folders (no times): similarity alone
    assert near_duplicates(prints, None).tolist() == [-1, 0, -1, 0]
    # JPEG-like noise and a small brightness change keep the fingerprint
    noisy = np.clip(a.astype(int) + rng.integers(-3, 4, a.shape) + 10, 0, 255).astype(np.uint8)
    assert np.mean(frame_fingerprint(noisy) != prints[0]) <= 0.1


def test_frame_fingerprint_of_a_large_frame_is_its_thumbnail_difference_hash():
    """A full-HD frame is shrunk in two steps (a whole-number factor, then to the
    thumbnail): its hash is still the one of its area-averaged thumbnail, within a few bits
    (rounding between the steps), keeps under noise, and tells another frame apart."""
    import cv2
    rng = np.random.default_rng(3)

    def scene():  # smooth blobs: neighbouring thumbnail cells differ, as in real frames
        return cv2.resize(rng.integers(0, 255, (9, 16, 3), np.uint8), (1920, 1080),
                          interpolation=cv2.INTER_CUBIC)

    a, b = scene(), scene()
    gray = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float64)
    # reference thumbnail 17 x 16, each cell the mean of its pixels (block edges rounded)
    xs, ys = np.linspace(0, 1920, 18).astype(int), np.linspace(0, 1080, 17).astype(int)
    thumb = np.array([[gray[ys[r]:ys[r + 1], xs[c]:xs[c + 1]].mean() for c in range(17)]
                      for r in range(16)])
    reference = (thumb[:, 1:] > thumb[:, :-1]).reshape(-1)
    print_a = frame_fingerprint(a)
    assert print_a.shape == (256, ) and np.mean(print_a != reference) <= 0.05
    noisy = np.clip(a.astype(int) + rng.integers(-3, 4, a.shape) + 10, 0, 255).astype(np.uint8)
    assert np.mean(frame_fingerprint(noisy) != print_a) <= 0.05
    assert np.mean(frame_fingerprint(b) != print_a) >= 0.3


def test_rank_frames_puts_the_known_hard_frame_first():
    cam = load_calibration(CALIBRATION)
    easy = vehicle(12, 2, 30, cam, score=0.95)
    hard = vehicle(14, -2, 60, cam, score=0.52)          # at the threshold,
    hard.keypoints[0, [FL, FR, RL, RR]] = hard.keypoints[0, [FR, FL, RR, RL]]  # mirrored
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (90, 160, 3), np.uint8) for _ in range(4)]
    images[2] = images[1].copy()                          # frame 2 repeats frame 1
    frames = [easy, hard, hard, easy]
    signals = [frame_signals(d, score_thr=0.5) for d in frames]
    ranking = rank_frames(signals, fingerprints=[frame_fingerprint(im) for im in images],
                          times=[0.0, 0.5, 0.6, 1.0])
    assert ranking.order[0] == 1 and ranking.duplicate_of.tolist() == [-1, -1, 1, -1]
    assert 2 not in ranking.order.tolist() and sorted(ranking.order.tolist()) == [0, 1, 3]
    assert ranking.scores[1] > 0.5 and ranking.scores[0] < 0.1
    assert any('impossible order' in r for r in ranking.reasons[1])
    assert any('low_margin' in r for r in ranking.reasons[1])
    # weights: geometry off, low margin off: nothing sets frame 1 apart
    flat = rank_frames(signals, dict(low_margin=0, geometry_implausibility=0))
    assert flat.scores.tolist() == [0.0] * 4 and flat.reasons[1] == []
    with pytest.raises(ValueError, match='>= 0'):
        rank_frames(signals, dict(low_margin=-1))


def test_signal_top_k_and_json():
    sig = Signal.per_detection(np.array([0.2, 0.9, 0.5, 0.0]), ['a', 'b', 'c', 'd'])
    assert sig.frame_score() == pytest.approx(0.9)
    assert sig.frame_score(top_k=2) == pytest.approx(0.7)
    assert sig.best() == (pytest.approx(0.9), 'b', 1)
    assert [o['object'] for o in sig.to_json()] == [0, 1, 2] and sig.reasons[3] == ''


def test_signal_select_renumbers_objects():
    sig = Signal(np.array([0.1, 0.2, 0.3, 1.0]), ['a', 'b', 'c', 'lost'], np.array([0, 1, 2, -1]))
    sub = sig.select(np.array([True, False, True]))
    assert sub.objects.tolist() == [0, 1, -1] and sub.reasons == ['a', 'c', 'lost']
    assert Signal(np.ones(1), ['x'], np.array([-1])).select(np.zeros(0, bool)).objects.tolist() \
        == [-1]


def test_temporal_flicker_ignores_untracked_detections():
    history = [(np.array([1, -1]), dets([[0, 0, 10, 10], [50, 50, 60, 60]], [PEDESTRIAN] * 2))
               for _ in range(3)]
    assert [s.scores.tolist() for s in temporal_flicker(history)] == [[0.0, 0.0]] * 3


def test_unflip_moves_the_keypoint_visibility_with_its_slot():
    vis = np.zeros((1, LAYOUT.num_keypoints, 3))
    vis[..., 0] = 1.0
    vis[0, FL] = [0.1, 0.8, 0.1]  # the mirrored frame's front-left: the original's right
    back = unflip_detections(dets([[0, 0, 10, 10]], [VEHICLE], visibility=vis), 100)
    assert back.keypoint_states[0, [FL, FR]].tolist() == [0, 1]
    assert unflip_detections(dets([[0, 0, 10, 10]], [VEHICLE]), 100).keypoint_visibility is None


# ------------------------------------------- the vectorised signals against plain loops
# A layout whose vehicle lists its tyres in another order than the footprint's cycle.
SHUFFLED = KeypointLayout.from_config(dict(
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(vehicle=('rear_right_tyre', 'front_left_tyre', 'rear_left_tyre',
                            'front_right_tyre'), cyclist=('rear_wheel', 'front_wheel')),
    sigmas={n: 0.05 for n in TYRES + ('front_wheel', 'rear_wheel')}))


def _geometry_reference(d, kpt_thr=0.3, below=0.05, above=0.5, width=0.25, order_tol=0.02,
                        face_thr=0.3):
    """geometry_implausibility one detection and one part at a time: (scores, reasons),
    the first of the best parts winning (as max() picks)."""
    layout, ramp = d.layout, lambda x, start, w: min(max((x - start) / w, 0.0), 1.0)
    names = layout.keypoint_names
    slot = {n: i for i, n in enumerate(names)}
    faces = d.bboxes[(d.labels == layout.classes.index('vehicle_face')) & (d.scores >= face_thr)]
    seen = observed_states(d, kpt_thr) > 0
    cycle_names = ('front_left_tyre', 'front_right_tyre', 'rear_right_tyre', 'rear_left_tyre')
    scores, reasons = [], []
    for i in range(len(d)):
        x1, y1, x2, y2 = map(float, d.bboxes[i])
        w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
        contact = [s for s in layout.class_slots[d.labels[i]]
                   if names[s] in TYRES + ('front_wheel', 'rear_wheel')]
        parts = [(0.0, '')]
        for s in (s for s in contact if seen[i, s]):
            x, y = map(float, d.keypoints[i, s])
            low, high, side = (y - y2) / h, (y2 - y) / h, max(x1 - x, x - x2) / w
            parts += [(ramp(low, below, width), f'{names[s]} {low:.2f} box below'),
                      (ramp(high, above, width), f'{names[s]} {high:.2f} box above'),
                      (ramp(side, below, width), f'{names[s]} outside the box')]
        cycle = [slot[n] for n in cycle_names if slot[n] in contact and seen[i, slot[n]]]
        m = len(cycle)
        for k in range(m if m > 3 else (1 if m == 3 else 0)):
            (ax, ay), (bx, by), (cx, cy) = (d.keypoints[i, cycle[(k + j) % m]].astype(float)
                                            for j in range(3))
            turn = ((bx - ax) * (cy - by) - (by - ay) * (cx - bx)) / (w * h)
            parts.append((ramp(-turn, 0.0, order_tol), 'tyres in an impossible order (' +
                          ' '.join(names[cycle[(k + j) % m]] for j in range(3)) + ')'))
        pair = {names[s] for s in cycle}
        for axle in ('front', 'rear'):
            if m == 2 and len(faces) and pair == {f'{axle}_left_tyre', f'{axle}_right_tyre'} \
                    and _face_inside(faces, d.bboxes[i]):
                lx, rx = (float(d.keypoints[i, slot[f'{axle}_{side}_tyre'], 0])
                          for side in ('left', 'right'))
                parts.append((ramp((rx - lx if axle == 'front' else lx - rx) / w, 0.0,
                                   order_tol), f'{axle} left/right swapped for the face seen'))
        best = max(parts, key=lambda p: p[0])
        scores.append(best[0])
        reasons.append(best[1] if best[0] > 0 else '')
    return scores, reasons


def _random_frame(rng, layout, n, visibility=False):
    """``n`` detections: boxes anywhere, contact points mostly on the box bottom, some
    below, above, beside it, some tyres swapped; faces inside vehicles; scores around the
    keypoint threshold (ties of the clipped parts at 1 included)."""
    labels = rng.integers(0, len(layout.classes), n)
    x1, y1 = rng.uniform(0, 500, n), rng.uniform(0, 300, n)
    w, h = rng.choice([0.5, 10.0, 80.0, 200.0], n), rng.choice([0.5, 10.0, 60.0, 150.0], n)
    boxes = np.stack([x1, y1, x1 + w, y1 + h], 1)
    for i in np.flatnonzero(labels == layout.classes.index('vehicle_face')):
        if rng.random() < 0.7 and (labels == 0).any():  # inside a vehicle
            v = boxes[rng.choice(np.flatnonzero(labels == 0))]
            boxes[i] = v + [5, 5, -5, -5] * (v[2:] - v[:2]).repeat(2) / 20
    k = layout.num_keypoints
    kx = x1[:, None] + w[:, None] * rng.uniform(-0.6, 1.6, (n, k))
    ky = (y1 + h)[:, None] + h[:, None] * rng.choice([0.0, 0.0, 0.03, -0.2, 0.4, -0.9],
                                                     (n, k))
    ky += rng.choice([0.0, 0.5, 3.0], (n, k))
    owned = layout.class_slot_mask()[labels]
    ks = rng.choice([0.05, 0.3, 0.31, 0.9], (n, k)) * owned
    vis = rng.dirichlet(np.ones(3), (n, k)) if visibility else None
    return Detections(boxes, rng.uniform(0.1, 1.0, n), labels, np.stack([kx, ky], -1), ks,
                      layout, keypoint_visibility=vis)


@pytest.mark.parametrize('layout', [LAYOUT, SHUFFLED])
def test_geometry_equals_the_per_object_loop(layout):
    rng = np.random.default_rng(5)
    for case in range(300):
        d = _random_frame(rng, layout, int(rng.integers(0, 9)), visibility=case % 3 == 0)
        sig = geometry_implausibility(d)
        scores, reasons = _geometry_reference(d)
        assert sig.scores.tolist() == scores and sig.reasons == reasons, case
    assert geometry_implausibility(d, order_tol=0.5).scores.tolist() == \
        _geometry_reference(d, order_tol=0.5)[0]


def _near_duplicates_reference(prints, times, order, max_distance, max_gap_s):
    """Each frame against each kept one, one pair at a time."""
    dup, kept = [-1] * len(prints), []
    for f in order:
        for k in kept:
            close = (max_gap_s is None or times[f] is None or times[k] is None or
                     abs(times[f] - times[k]) <= max_gap_s)
            if close and np.mean(prints[f] != prints[k]) <= max_distance:
                dup[f] = k
                break
        else:
            kept.append(f)
    return dup


def test_near_duplicates_equal_the_pairwise_loop():
    rng = np.random.default_rng(2)
    for case in range(40):
        bits = int(rng.choice([64, 100, 256]))
        base = rng.random((4, bits)) < 0.5
        n = int(rng.integers(1, 60))
        # frames near one of a few scenes: 0 to 40 of their bits flipped
        prints = base[rng.integers(0, 4, n)] ^ (rng.random((n, bits)) < rng.uniform(0, 0.2, (n, 1)))
        times = [None if rng.random() < 0.2 else float(t) for t in np.cumsum(rng.uniform(0, 2, n))]
        order = rng.permutation(n).tolist()
        for max_distance in (0.05, 0.1, 0.2):
            for gap in (None, 1.0, 10.0):
                assert near_duplicates(list(prints), times, order, max_distance, gap).tolist() \
                    == _near_duplicates_reference(prints, times, order, max_distance, gap), case


def _flicker_reference(history, min_frames=5, jump_tol=0.1, jump_width=0.4, image_sizes=None,
                       border=0.02):
    """temporal_flicker's scores and objects by brute force: a track's frames found by
    scanning the whole history for every object."""
    n = len(history)
    frames_of = {tid: [t for t, (ids, _) in enumerate(history) if tid in ids.tolist()]
                 for tid in {int(i) for ids, _ in history for i in ids if i >= 0}}

    def centre(t, tid):
        box = history[t][1].bboxes[history[t][0].tolist().index(tid)]
        return (box[:2] + box[2:]) / 2

    out = []
    for t, (ids, d) in enumerate(history):
        scores, states = [], observed_states(d)
        for i, tid in enumerate(ids.tolist()):
            if tid < 0:
                scores.append(0.0)
                continue
            frames = frames_of[tid]
            parts, before = [0.0], [f for f in frames if f < t]
            if before and before[-1] < t - 1:
                parts.append(1.0)
            if len(frames) < min_frames and frames[0] > 0 and frames[-1] < n - 1:
                parts.append((min_frames - len(frames)) / min_frames)
            if before:
                p = before[-1]
                pred = centre(p, tid)
                if p == t - 1 and p - 1 in frames:
                    pred = 2 * pred - centre(p - 1, tid)
                wh = np.clip(d.bboxes[i, 2:].astype(float) - d.bboxes[i, :2], 0, None)
                jump = float(np.linalg.norm(centre(t, tid) - pred) /
                             max(np.sqrt(wh[0] * wh[1]), 1.0))
                parts.append(min(max((jump - jump_tol) / jump_width, 0.0), 1.0))
                owned = d.layout.class_slot_mask()[d.labels[i]]
                was = observed_states(history[p][1])[history[p][0].tolist().index(tid)]
                if ((states[i] != was) & owned).any():
                    parts.append(((states[i] != was) & owned).sum() / owned.sum())
            if image_sizes and (t == frames[0] > 0 or frames[-1] == t < n - 1):
                (w, h), (x1, y1, x2, y2) = image_sizes[t], d.bboxes[i]
                if border * w < x1 and border * h < y1 and x2 < (1 - border) * w and \
                        y2 < (1 - border) * h:
                    parts.append(0.5)
            scores.append(max(parts))
        missing = [tid for tid, fr in sorted(frames_of.items()) if fr[0] < t < fr[-1] and
                   t not in fr]
        out.append((scores + [1.0] * len(missing), list(range(len(ids))) + [-1] * len(missing)))
    return out


def test_temporal_flicker_equals_the_brute_force():
    rng = np.random.default_rng(3)
    for case in range(25):
        history, boxes = [], rng.uniform(0, 400, (12, 2))
        for t in range(int(rng.integers(1, 30))):
            ids = [tid for tid in range(12) if rng.random() < 0.6]
            ids += [-1] * int(rng.integers(0, 2))
            rng.shuffle(ids)
            boxes += rng.normal(0, 4, boxes.shape) + (rng.random(boxes.shape) < 0.05) * 60
            xy = np.array([boxes[i] if i >= 0 else (0, 0) for i in ids]).reshape(-1, 2)
            ks = np.zeros((len(ids), LAYOUT.num_keypoints))
            ks[:, [FW, RW]] = rng.choice([0.1, 0.9], (len(ids), 2))
            history.append((np.array(ids, np.int64),
                            dets(np.hstack([xy, xy + [40, 80]]), [CYCLIST] * len(ids),
                                 kpt_scores=ks)))
        sizes = [(640, 480)] * len(history)
        for signals, (scores, objects) in zip(temporal_flicker(history, image_sizes=sizes),
                                              _flicker_reference(history, image_sizes=sizes)):
            assert signals.scores.tolist() == scores and signals.objects.tolist() == objects
