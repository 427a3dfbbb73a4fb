"""Mining signals: which frames of a recording are worth labelling, and why.

Each signal is a pure function of a frame's :class:`~.detections.Detections` (and, for some,
of the mirrored frame's, the track history or the frame's pixels) that gives every object a
score in [0, 1] (1: most worth a label) and a short reason. :func:`rank_frames` combines
them into one score a frame (per signal the max, or the mean of the top k, of its objects'
scores; a weighted mean over the signals), drops the frames that look like a higher-ranked
kept frame taken shortly before or after (:func:`near_duplicates`) and orders the rest.

Signals (all per object):

* :func:`low_margin`: detection score near the threshold, ``1 - |s - thr| / band``.
* :func:`keypoint_uncertainty`: the most uncertain of the class's own keypoint slots,
  ``1 - |s - kpt_thr| / band``.
* :func:`flip_disagreement`: the model run on the horizontally mirrored frame, its
  detections mirrored back (:func:`unflip_detections`: boxes mirrored, left/right slots
  swapped by ``layout.flip_indices``) and matched by IoU: an unmatched object scores 1, a
  matched one by its box ``1 - IoU``, its keypoints' distance over the box size and the
  keypoints seen by one side only.
* :func:`temporal_flicker`: over a track history, a track that comes back after being lost
  (and the frames it is missing from), a short track, a box that jumps away from its
  constant-velocity prediction, keypoints whose visibility state changes.
* :func:`geometry_implausibility`: tyre / wheel contact points far below, far above or
  beside the box bottom; the four tyres in an order no vehicle on the road shows (the
  ground footprint front-left, front-right, rear-right, rear-left keeps its turning sense
  in the image for any heading, camera above the road); one axle's left/right swapped
  given the vehicle face seen; cyclist wheels outside the box.
* :func:`near_duplicates`: a 256-bit difference hash of the frame (:func:`frame_fingerprint`)
  and the time between frames.

Visibility: the model gives no visibility state yet, so a keypoint's state is "seen" when its
score is at least ``kpt_thr`` (:func:`visibility_states`); a future per-keypoint state array
on the detections (``keypoint_visible``, COCO's 0/1/2) is used as it is when present.

numpy and OpenCV only (the runtime's dependencies); Python 3.8.

Example:
    >>> signals = [dict(low_margin=low_margin(d, 0.5),
    ...                 keypoint_uncertainty=keypoint_uncertainty(d)) for d in dets]
    >>> ranking = rank_frames(signals, fingerprints=[frame_fingerprint(im) for im in frames],
    ...                       times=seconds)
    >>> ranking.order[:10], ranking.reasons[ranking.order[0]]
"""
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..keypoint_layout import KeypointLayout
from .detections import Detections
from .geometry import FACE_CLASS, TYRES, WHEELS, _face_inside
from .tracking import box_iou

#: Signal names, in the order reports list them.
SIGNALS: Tuple[str, ...] = ('low_margin', 'keypoint_uncertainty', 'flip_disagreement',
                            'temporal_flicker', 'geometry_implausibility')
#: Default weight of each signal in a frame's score.
DEFAULT_WEIGHTS: Dict[str, float] = dict(low_margin=1.0, keypoint_uncertainty=1.0,
                                         flip_disagreement=1.0, temporal_flicker=1.0,
                                         geometry_implausibility=1.0)
#: COCO's visibility flag of a seen keypoint, what a score at or above threshold becomes.
VISIBLE = 2
# the tyres in the order they go round the ground footprint (see geometry_implausibility)
_TYRE_CYCLE = ('front_left_tyre', 'front_right_tyre', 'rear_right_tyre', 'rear_left_tyre')


@dataclass
class Signal:
    """One signal's answer for one frame.

    Attributes:
        scores (np.ndarray): (M,) float64 in [0, 1], one per object.
        reasons (list[str]): (M,) why each object scored ('' where it scored 0).
        objects (np.ndarray): (M,) int64 index of the object's detection in the frame, or
            -1 for an object that is not among them (a track missing from this frame, a
            detection of the mirrored frame only).
    """
    scores: np.ndarray
    reasons: List[str]
    objects: np.ndarray

    @classmethod
    def per_detection(cls, scores: np.ndarray, reasons: Sequence[str]) -> 'Signal':
        """One entry per detection, in detection order; reasons of 0 scores are cleared."""
        scores = np.clip(np.asarray(scores, np.float64).reshape(-1), 0.0, 1.0)
        return cls(scores, [r if s > 0 else '' for s, r in zip(scores, reasons)],
                   np.arange(len(scores), dtype=np.int64))

    def select(self, keep: np.ndarray) -> 'Signal':
        """The entries of the detections ``keep`` ((N,) bool) selects, object indices
        renumbered as in ``dets[keep]``; entries without a detection (-1) stay."""
        keep = np.asarray(keep, bool)
        new_index = np.cumsum(keep) - 1
        mine = np.array([o < 0 or keep[o] for o in self.objects], bool).reshape(-1)
        objects = np.where(self.objects[mine] < 0, -1,
                           new_index[np.clip(self.objects[mine], 0, None)] if len(keep) else -1)
        return Signal(self.scores[mine], [r for r, m in zip(self.reasons, mine) if m],
                      objects.astype(np.int64))

    def frame_score(self, top_k: int = 1) -> float:
        """Mean of the ``top_k`` highest object scores (the max for 1); 0 for no object."""
        if not len(self.scores):
            return 0.0
        return float(np.sort(self.scores)[::-1][:max(1, int(top_k))].mean())

    def best(self) -> Tuple[float, str, int]:
        """(score, reason, object) of the highest-scoring object; (0, '', -1) for none."""
        if not len(self.scores):
            return 0.0, '', -1
        i = int(np.argmax(self.scores))
        return float(self.scores[i]), self.reasons[i], int(self.objects[i])

    def to_json(self, ndigits: int = 3) -> List[dict]:
        """The objects that scored above 0: ``{object, score, reason}``."""
        return [dict(object=int(o), score=round(float(s), ndigits), reason=r)
                for s, r, o in zip(self.scores, self.reasons, self.objects) if s > 0]


def _ramp(x: np.ndarray, start: float, width: float) -> np.ndarray:
    """0 up to ``start``, rising linearly to 1 at ``start + width``."""
    return np.clip((np.asarray(x, np.float64) - start) / max(width, 1e-12), 0.0, 1.0)


def _box_size(bboxes: np.ndarray) -> np.ndarray:
    """(N,) sqrt(w * h) of boxes (N, 4), at least 1 pixel."""
    wh = np.clip(np.asarray(bboxes, np.float64)[:, 2:] - np.asarray(bboxes, np.float64)[:, :2],
                 0, None)
    return np.maximum(np.sqrt(wh[:, 0] * wh[:, 1]), 1.0)


def _owned(dets: Detections) -> np.ndarray:
    """(N, K) bool: the slots each detection's class owns."""
    return dets.layout.class_slot_mask()[dets.labels] if len(dets) else np.zeros(
        (0, dets.layout.num_keypoints), bool)


def visibility_states(dets: Detections, kpt_thr: float = 0.3) -> np.ndarray:
    """(N, K) int64 keypoint states, COCO's 0 (not seen), 1 (occluded), 2 (visible).

    The detections' ``keypoint_visible`` (N, K) when they carry one (a future model
    output), else :data:`VISIBLE` where the keypoint score is at least ``kpt_thr`` and 0
    elsewhere. Slots the class does not own are 0.
    """
    states = getattr(dets, 'keypoint_visible', None)
    if states is None:
        states = np.where(dets.keypoint_scores >= kpt_thr, VISIBLE, 0)
    return np.where(_owned(dets), np.asarray(states).astype(np.int64), 0)


# ---------------------------------------------------------------------------------- signals
def low_margin(dets: Detections, thr: float, band: float = 0.2) -> Signal:
    """Detections whose score is near the threshold: ``1 - |score - thr| / band``.

    Args:
        dets: the frame's detections, including those somewhat below ``thr`` (run the model
            at ``thr - band`` or lower to see them).
        thr: the score threshold the hits are cut at.
        band: the distance from ``thr`` at which the signal reaches 0.

    Returns:
        Signal: (N,) per detection; 1 exactly at the threshold.
    """
    margin = np.abs(dets.scores.astype(np.float64) - thr)
    return Signal.per_detection(1.0 - margin / band,
                                [f'score {s:.2f} near {thr:.2f}' for s in dets.scores])


def keypoint_uncertainty(dets: Detections, kpt_thr: float = 0.3, band: float = 0.25) -> Signal:
    """Keypoints the model is unsure of: the class's own slot whose score is nearest
    ``kpt_thr`` (the seen / not-seen cut), ``1 - |s - kpt_thr| / band``.

    Returns:
        Signal: (N,) per detection; 0 for classes without keypoints.
    """
    per_slot = np.where(_owned(dets), 1.0 - np.abs(dets.keypoint_scores - kpt_thr) / band, 0.0)
    scores = per_slot.max(1, initial=0.0) if len(dets) else np.zeros(0)
    names = dets.layout.keypoint_names
    reasons = [f'{names[int(np.argmax(p))]} score {ks[int(np.argmax(p))]:.2f}'
               for p, ks in zip(per_slot, dets.keypoint_scores)]
    return Signal.per_detection(scores, reasons)


def unflip_detections(dets: Detections, image_width: float) -> Detections:
    """Detections of a horizontally mirrored frame, mapped back onto the original frame:
    ``x -> image_width - x``, box corners exchanged, and each keypoint slot moved to its
    mirror slot (``layout.flip_indices``: the mirrored frame's ``front_left_tyre`` is the
    original's ``front_right_tyre``)."""
    w = float(image_width)
    flip = np.asarray(dets.layout.flip_indices, np.int64)
    boxes = dets.bboxes.copy()
    boxes[:, [0, 2]] = w - dets.bboxes[:, [2, 0]]
    kpts = dets.keypoints.copy()
    kpts[..., 0] = w - kpts[..., 0]
    # the owned-slot mask is symmetric under the flip (mirror names belong to one class)
    fields = dict(bboxes=boxes, scores=dets.scores, labels=dets.labels,
                  keypoints=kpts[:, flip], keypoint_scores=dets.keypoint_scores[:, flip])
    return Detections(**fields, layout=dets.layout)


def _greedy_match(iou: np.ndarray, min_iou: float) -> Tuple[np.ndarray, np.ndarray]:
    """(A,) partner of each row (-1 none), (B,) of each column: highest IoU first."""
    rows, cols = np.full(iou.shape[0], -1), np.full(iou.shape[1], -1)
    for flat in np.argsort(-iou, axis=None):
        i, j = np.unravel_index(flat, iou.shape)
        if iou[i, j] < min_iou:
            break
        if rows[i] < 0 and cols[j] < 0:
            rows[i], cols[j] = j, i
    return rows, cols


def flip_disagreement(dets: Detections, dets_flipped_back: Detections,
                      layout: Optional[KeypointLayout] = None, min_iou: float = 0.5,
                      kpt_thr: float = 0.3, kpt_tol: float = 0.15,
                      box_tol: float = 0.05) -> Signal:
    """How much the model's answers on a frame and on its mirror image disagree.

    Args:
        dets: the frame's detections (N).
        dets_flipped_back: the mirrored frame's detections mapped back
            (:func:`unflip_detections`).
        layout: the keypoint layout (default: ``dets.layout``).
        min_iou: boxes of one class overlapping at least this much are the same object.
        kpt_thr: a keypoint is seen at or above this score.
        kpt_tol: keypoint distance, over the box size ``sqrt(w * h)``, that scores 1 (a
            tenth of it and less, the jitter of a resized mirror image, scores 0).
        box_tol: ``1 - IoU`` that still scores 0.

    Returns:
        Signal: N entries (per detection: 1 if the mirrored frame has no such object, else
        the largest of ``1 - IoU`` (``box_tol`` -> 0, ``1 - min_iou`` -> 1), the worst
        seen-by-both keypoint's distance (``kpt_tol / 10`` -> 0, ``kpt_tol`` box sizes ->
        1), and the share of the class's slots seen by one
        side only), then one entry (object -1, score 1) per mirrored-frame detection
        left unmatched.
    """
    layout = layout or dets.layout
    if layout.num_keypoints != dets_flipped_back.layout.num_keypoints:
        raise ValueError('flip_disagreement: the two detections have different layouts')
    iou = box_iou(dets.bboxes, dets_flipped_back.bboxes)
    iou = np.where(dets.labels[:, None] == dets_flipped_back.labels[None], iou, 0.0)
    match, back = _greedy_match(iou, min_iou)
    owned = _owned(dets)
    seen_a = visibility_states(dets, kpt_thr) > 0
    seen_b = visibility_states(dets_flipped_back, kpt_thr) > 0
    names, size = layout.keypoint_names, _box_size(dets.bboxes)
    scores, reasons = [], []
    for i, j in enumerate(match):
        if j < 0:
            scores.append(1.0)
            reasons.append('missing in the mirrored frame')
            continue
        parts = [(float(_ramp(1.0 - iou[i, j], box_tol, 1.0 - min_iou - box_tol)),
                  f'box IoU {iou[i, j]:.2f}')]
        both = seen_a[i] & seen_b[j]
        if both.any():
            dist = np.linalg.norm(dets.keypoints[i] - dets_flipped_back.keypoints[j],
                                  axis=1) / size[i]
            k = int(np.argmax(np.where(both, dist, -1.0)))
            parts.append((float(_ramp(dist[k], kpt_tol / 10, kpt_tol * 0.9)),
                          f'{names[k]} moves {dist[k]:.2f} box'))
        one_side = (seen_a[i] ^ seen_b[j]) & owned[i]
        if one_side.any():
            parts.append((one_side.sum() / max(owned[i].sum(), 1),
                          f'{names[int(np.argmax(one_side))]} seen in one frame only'))
        score, reason = max(parts, key=lambda p: p[0])
        scores.append(min(1.0, score))
        reasons.append(reason)
    signal = Signal.per_detection(np.array(scores), reasons)
    extra = np.flatnonzero(back < 0)
    return Signal(np.concatenate([signal.scores, np.ones(len(extra))]),
                  signal.reasons + ['only in the mirrored frame'] * len(extra),
                  np.concatenate([signal.objects, np.full(len(extra), -1, np.int64)]))


@dataclass
class _TrackState:
    first: int
    last: int
    frames: List[int] = field(default_factory=list)


def temporal_flicker(history: Sequence[Tuple[np.ndarray, Detections]], kpt_thr: float = 0.3,
                     min_frames: int = 5, jump_tol: float = 0.1, jump_width: float = 0.4,
                     image_sizes: Optional[Sequence[Tuple[int, int]]] = None,
                     border: float = 0.02) -> List[Signal]:
    """Tracks that flicker over a sequence of frames.

    Args:
        history: per frame looked at, in order, ``(track_ids (N,), detections (N))`` (a
            :class:`~.tracking.TrackedDetections`' ``track_ids`` and ``detections``; frames
            without objects included, with empty arrays; an id below 0 is an untracked
            detection, scored 0).
        kpt_thr: a keypoint is seen at or above this score (see :func:`visibility_states`).
        min_frames: a track seen in fewer frames (and not cut by the sequence's ends) is
            short: ``(min_frames - frames) / min_frames``.
        jump_tol, jump_width: a box centre's distance from its constant-velocity prediction
            (from the track's previous two frames), over the box size ``sqrt(w * h)``:
            ``jump_tol`` scores 0, ``jump_tol + jump_width`` scores 1.
        image_sizes: (width, height) per frame; with them, a track born or lost away from
            the image border (more than ``border`` of the width / height) and away from the
            sequence's ends scores 0.5 in its first / last frame.

    Returns:
        list[Signal]: one per frame: one entry per detection (the largest of: back after
        being lost (1), short track, box jump, share of the class's keypoint slots whose
        state changed since the track's previous frame, born / lost inside the image), then
        one entry (object -1, score 1) per track missing from the frame between two of its
        frames.
    """
    tracks: Dict[int, _TrackState] = {}
    for t, (ids, _) in enumerate(history):
        for tid in np.asarray(ids).reshape(-1)[np.asarray(ids).reshape(-1) >= 0]:
            state = tracks.setdefault(int(tid), _TrackState(t, t))
            state.last = t
            state.frames.append(t)
    n = len(history)
    out = []
    where: Dict[int, Dict[int, int]] = {}  # track -> frame -> detection index
    for t, (ids, dets) in enumerate(history):
        for i, tid in enumerate(np.asarray(ids).reshape(-1)):
            if tid >= 0:
                where.setdefault(int(tid), {})[t] = i
    for t, (ids, dets) in enumerate(history):
        ids = np.asarray(ids).reshape(-1)
        states = visibility_states(dets, kpt_thr)
        owned = _owned(dets)
        size = _box_size(dets.bboxes)
        centres = (dets.bboxes[:, :2] + dets.bboxes[:, 2:]) / 2
        scores, reasons = [], []
        for i, tid in enumerate(ids):
            tid = int(tid)
            if tid < 0:  # not tracked (e.g. a new track not yet confirmed)
                scores.append(0.0)
                reasons.append('')
                continue
            track, seen_at = tracks[tid], where[tid]
            parts = [(0.0, '')]
            prev = max((f for f in seen_at if f < t), default=None)
            if prev is not None and prev < t - 1:
                parts.append((1.0, f'#{tid} back after {t - prev - 1} frame(s) lost'))
            cut = track.first == 0 or track.last == n - 1
            if len(track.frames) < min_frames and not cut:
                parts.append(((min_frames - len(track.frames)) / min_frames,
                              f'#{tid} tracked {len(track.frames)} frame(s)'))
            if prev is not None:
                pdets = history[prev][1]
                j = seen_at[prev]
                pred = (pdets.bboxes[j, :2] + pdets.bboxes[j, 2:]) / 2
                if prev - 1 in seen_at and prev == t - 1:
                    k = seen_at[prev - 1]
                    before = history[prev - 1][1]
                    pred = 2 * pred - (before.bboxes[k, :2] + before.bboxes[k, 2:]) / 2
                jump = float(np.linalg.norm(centres[i] - pred) / size[i])
                parts.append((float(_ramp(jump, jump_tol, jump_width)),
                              f'#{tid} box jumps {jump:.2f} box'))
                prev_states = visibility_states(pdets, kpt_thr)[j]
                changed = (states[i] != prev_states) & owned[i]
                if changed.any():
                    parts.append((changed.sum() / owned[i].sum(),
                                  f'#{tid} {dets.layout.keypoint_names[int(np.argmax(changed))]}'
                                  ' visibility changes'))
            if image_sizes is not None and (t == track.first and t > 0 or
                                            t == track.last and t < n - 1):
                w, h = image_sizes[t]
                x1, y1, x2, y2 = dets.bboxes[i]
                inside = (x1 > border * w and y1 > border * h and x2 < (1 - border) * w and
                          y2 < (1 - border) * h)
                if inside:
                    parts.append((0.5, f'#{tid} {"born" if t == track.first else "lost"} '
                                  'inside the image'))
            score, reason = max(parts, key=lambda p: p[0])
            scores.append(score)
            reasons.append(reason)
        signal = Signal.per_detection(np.array(scores), reasons)
        missing = [tid for tid, tr in sorted(tracks.items())
                   if tr.first < t < tr.last and t not in where[tid]]
        out.append(Signal(np.concatenate([signal.scores, np.ones(len(missing))]),
                          signal.reasons + [f'#{tid} lost in this frame' for tid in missing],
                          np.concatenate([signal.objects,
                                          np.full(len(missing), -1, np.int64)])))
    return out


def geometry_implausibility(dets: Detections, layout: Optional[KeypointLayout] = None,
                            kpt_thr: float = 0.3, below: float = 0.05, above: float = 0.5,
                            width: float = 0.25, order_tol: float = 0.02,
                            face_thr: float = 0.3) -> Signal:
    """Contact points where no real vehicle or cyclist puts them.

    Per detection of a class with tyre (:data:`~.geometry.TYRES`) or wheel
    (:data:`~.geometry.WHEELS`) slots, over its points seen (score >= ``kpt_thr``), the
    largest of:

    * **height**: a point more than ``below`` box heights below the box bottom, or more
      than ``above`` box heights above it, rising to 1 ``width`` box heights further; the
      same for a point beside the box (``below`` box widths out). Wheels and tyres touch
      the road at the bottom of the box.
    * **tyre order**: the ground footprint front-left, front-right, rear-right, rear-left
      turns the same way in the image for every heading (a camera above the road keeps the
      road's orientation; positive shoelace area in image ``x, y``). Any three seen tyres
      taken in that cyclic order must turn that way: a turn the other way of ``order_tol``
      times the box area scores 1 (left and right swapped, or front and rear).
    * **axle order**: only one axle's two tyres seen and a ``vehicle_face`` detection
      (score >= ``face_thr``) mostly inside the box: that axle's end faces the camera, so
      a front axle has its left tyre on the image's right, a rear axle on its left.

    Returns:
        Signal: (N,) per detection; 0 for classes without contact points.
    """
    layout = layout or dets.layout
    names = layout.keypoint_names
    slot = {n: i for i, n in enumerate(names)}
    face_boxes = np.zeros((0, 4))
    if FACE_CLASS in layout.classes:
        face_boxes = dets.bboxes[(dets.labels == layout.classes.index(FACE_CLASS)) &
                                 (dets.scores >= face_thr)]
    seen = visibility_states(dets, kpt_thr) > 0
    scores, reasons = [], []
    for i in range(len(dets)):
        x1, y1, x2, y2 = (float(v) for v in dets.bboxes[i])
        w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
        contact = [s for s in layout.class_slots[int(dets.labels[i])]
                   if names[s] in TYRES or names[s] in WHEELS]
        parts = [(0.0, '')]
        for s in contact:
            if not seen[i, s]:
                continue
            x, y = (float(v) for v in dets.keypoints[i, s])
            low = (y - y2) / h
            high = (y2 - y) / h
            side = max(x1 - x, x - x2) / w
            parts += [(float(_ramp(low, below, width)), f'{names[s]} {low:.2f} box below'),
                      (float(_ramp(high, above, width)), f'{names[s]} {high:.2f} box above'),
                      (float(_ramp(side, below, width)), f'{names[s]} outside the box')]
        cycle = [slot[n] for n in _TYRE_CYCLE if n in slot and slot[n] in contact and
                 seen[i, slot[n]]]
        if len(cycle) >= 3:
            pts = dets.keypoints[i, cycle].astype(np.float64)
            for k in range(len(cycle) if len(cycle) > 3 else 1):
                a, b, c = pts[k], pts[(k + 1) % len(pts)], pts[(k + 2) % len(pts)]
                turn = ((b - a)[0] * (c - b)[1] - (b - a)[1] * (c - b)[0]) / (w * h)
                parts.append((float(_ramp(-turn, 0.0, order_tol)),
                              f'tyres in an impossible order ({names[cycle[k]]} '
                              f'{names[cycle[(k + 1) % len(cycle)]]} '
                              f'{names[cycle[(k + 2) % len(cycle)]]})'))
        elif len(cycle) == 2 and len(face_boxes):
            pair = {names[s] for s in cycle}
            axle = next((a for a in ('front', 'rear') if pair == {f'{a}_left_tyre',
                                                                 f'{a}_right_tyre'}), None)
            if axle is not None and _face_inside(face_boxes, dets.bboxes[i]):
                lx = float(dets.keypoints[i, slot[f'{axle}_left_tyre'], 0])
                rx = float(dets.keypoints[i, slot[f'{axle}_right_tyre'], 0])
                # facing the camera, the vehicle's left is the image's right (front axle)
                wrong = (rx - lx) / w if axle == 'front' else (lx - rx) / w
                parts.append((float(_ramp(wrong, 0.0, order_tol)),
                              f'{axle} left/right swapped for the face seen'))
        score, reason = max(parts, key=lambda p: p[0])
        scores.append(score)
        reasons.append(reason)
    return Signal.per_detection(np.array(scores), reasons)


# ---------------------------------------------------------------------- near duplicates
def frame_fingerprint(image: np.ndarray, size: int = 16) -> np.ndarray:
    """A difference hash of a BGR (or gray) frame: (size * size,) bool, whether each pixel
    of a ``size + 1`` by ``size`` grayscale thumbnail is brighter than its right
    neighbour. Robust to compression, small exposure and scale changes."""
    import cv2  # the runtime's contract and detections import without OpenCV

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    thumb = cv2.resize(gray, (size + 1, size), interpolation=cv2.INTER_AREA).astype(np.int16)
    return (thumb[:, 1:] > thumb[:, :-1]).reshape(-1)


def near_duplicates(fingerprints: Sequence[np.ndarray], times: Optional[Sequence] = None,
                    order: Optional[Sequence[int]] = None, max_distance: float = 0.1,
                    max_gap_s: Optional[float] = 10.0) -> np.ndarray:
    """Frames too like a higher-ranked kept frame.

    Going down ``order``, a frame is suppressed when a frame kept before it has a
    fingerprint differing in at most ``max_distance`` of its bits and lies at most
    ``max_gap_s`` seconds away (any time apart when ``max_gap_s`` is None, or when either
    frame's time is None: a folder of images).

    Args:
        fingerprints: (F,) of (B,) bool (:func:`frame_fingerprint`).
        times: (F,) seconds or None per frame.
        order: (F,) frame indices, best first (default: as given).

    Returns:
        np.ndarray: (F,) int64, -1 for a kept frame, else the index of the kept frame it
        duplicates.
    """
    prints = np.asarray([np.asarray(f, bool).reshape(-1) for f in fingerprints])
    n = len(prints)
    order = np.arange(n) if order is None else np.asarray(order, np.int64)
    times = [None] * n if times is None else list(times)
    dup = np.full(n, -1, np.int64)
    kept: List[int] = []
    for f in order:
        for k in kept:
            close = (max_gap_s is None or times[f] is None or times[k] is None or
                     abs(float(times[f]) - float(times[k])) <= max_gap_s)
            if close and np.mean(prints[f] != prints[k]) <= max_distance:
                dup[f] = k
                break
        else:
            kept.append(int(f))
    return dup


# ------------------------------------------------------------------------------- ranking
@dataclass
class Ranking:
    """:func:`rank_frames`' answer.

    Attributes:
        scores (np.ndarray): (F,) combined score of every frame, in [0, 1].
        signal_scores (list[dict]): per frame, signal name -> that signal's frame score.
        order (np.ndarray): indices of the kept frames, best first.
        duplicate_of (np.ndarray): (F,) -1 for a kept frame, else the kept frame it repeats.
        reasons (list[list[str]]): per frame, its top reasons, strongest first
            (``'signal: reason'``).
    """
    scores: np.ndarray
    signal_scores: List[Dict[str, float]]
    order: np.ndarray
    duplicate_of: np.ndarray
    reasons: List[List[str]]


def rank_frames(per_frame_signals: Sequence[Mapping[str, Signal]],
                weights: Optional[Mapping[str, float]] = None, top_k: int = 1,
                fingerprints: Optional[Sequence[np.ndarray]] = None,
                times: Optional[Sequence] = None, max_reasons: int = 3,
                **duplicate_kwargs) -> Ranking:
    """Combine the signals into one score a frame, suppress near duplicates, order.

    A frame's score is the weighted mean, over the signals it has, of each signal's frame
    score (:meth:`Signal.frame_score`: the mean of its ``top_k`` best objects). A signal
    missing from a frame (e.g. no flip run) does not count in the mean; a weight of 0 turns
    a signal off.

    Args:
        per_frame_signals: (F,) per frame, signal name -> :class:`Signal`.
        weights: signal name -> weight (default :data:`DEFAULT_WEIGHTS`; a name absent
            from it weighs 1).
        top_k: objects averaged per signal and frame.
        fingerprints, times: for :func:`near_duplicates` (no suppression without
            fingerprints); ``duplicate_kwargs`` go to it.
        max_reasons: reasons kept per frame.

    Returns:
        Ranking
    """
    weights = dict(DEFAULT_WEIGHTS, **(weights or {}))
    if any(w < 0 for w in weights.values()):
        raise ValueError(f'signal weights must be >= 0, got {weights}')
    scores, per_signal, reasons = [], [], []
    for signals in per_frame_signals:
        frame = {name: s.frame_score(top_k) for name, s in signals.items()}
        total = sum(weights.get(name, 1.0) for name in signals)
        scores.append(sum(weights.get(n, 1.0) * v for n, v in frame.items()) / total
                      if total > 0 else 0.0)
        per_signal.append(frame)
        best = sorted(((weights.get(n, 1.0) * s.best()[0], n, s.best()[1])
                       for n, s in signals.items()), key=lambda r: -r[0])
        reasons.append([f'{n}: {r}' for c, n, r in best if c > 0][:max_reasons])
    scores_arr = np.asarray(scores, np.float64)
    # stable: equal scores keep frame order
    by_score = np.argsort(-scores_arr, kind='stable')
    dup = np.full(len(scores_arr), -1, np.int64)
    if fingerprints is not None:
        dup = near_duplicates(fingerprints, times, by_score, **duplicate_kwargs)
    return Ranking(scores_arr, per_signal, by_score[dup[by_score] < 0], dup, reasons)


def frame_signals(dets: Detections, score_thr: float, kpt_thr: float = 0.3,
                  dets_flipped_back: Optional[Detections] = None,
                  margin_band: float = 0.2) -> Dict[str, Signal]:
    """The single-frame signals of one frame's detections: low margin, keypoint
    uncertainty, geometry, and flip disagreement when the mirrored frame's detections
    (mapped back) are given. :func:`temporal_flicker` needs the whole sequence."""
    out = dict(low_margin=low_margin(dets, score_thr, margin_band),
               keypoint_uncertainty=keypoint_uncertainty(dets, kpt_thr),
               geometry_implausibility=geometry_implausibility(dets, kpt_thr=kpt_thr))
    if dets_flipped_back is not None:
        out['flip_disagreement'] = flip_disagreement(dets, dets_flipped_back, kpt_thr=kpt_thr)
    return out


__all__ = ['SIGNALS', 'DEFAULT_WEIGHTS', 'Signal', 'Ranking', 'visibility_states',
           'low_margin', 'keypoint_uncertainty', 'unflip_detections', 'flip_disagreement',
           'temporal_flicker', 'geometry_implausibility', 'frame_fingerprint',
           'near_duplicates', 'rank_frames', 'frame_signals']
