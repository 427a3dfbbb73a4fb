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

Visibility: a keypoint's state is the model's predicted COCO v (the detections'
``keypoint_states``, from ``keypoint_visibility``) where the model gives one; with a model
that does not (an export made before the occlusion branch), "seen" (2) when its score is at
least ``kpt_thr`` (:func:`observed_states`).

Cost: the per-object work is numpy over a frame's objects (and over a recording's frames for
:func:`near_duplicates`); a reason's text is only formatted for the part that wins it.

numpy and OpenCV only (the runtime's dependencies); Python 3.8.

Example:
    >>> signals = [dict(low_margin=low_margin(d, 0.5),
    ...                 keypoint_uncertainty=keypoint_uncertainty(d)) for d in dets]
    >>> ranking = rank_frames(signals, fingerprints=[frame_fingerprint(im) for im in frames],
    ...                       times=seconds)
    >>> ranking.order[:10], ranking.reasons[ranking.order[0]]
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

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
    def per_detection(cls, scores: np.ndarray,
                      reasons: Union[Sequence[str], Callable[[int], str]]) -> 'Signal':
        """One entry per detection, in detection order; reasons of 0 scores are cleared.

        ``reasons``: one text per detection, or ``reason(i)`` giving detection ``i``'s text,
        called only for the detections that score above 0 (most do not: formatting them
        all would cost more than the signal)."""
        scores = np.clip(np.asarray(scores, np.float64).reshape(-1), 0.0, 1.0)
        if callable(reasons):
            texts = [reasons(i) if s > 0 else '' for i, s in enumerate(scores)]
        else:
            texts = [r if s > 0 else '' for s, r in zip(scores, reasons)]
        return cls(scores, texts, np.arange(len(scores), dtype=np.int64))

    def select(self, keep: np.ndarray) -> 'Signal':
        """The entries of the detections ``keep`` ((N,) bool) selects, object indices
        renumbered as in ``dets[keep]``; entries without a detection (-1) stay."""
        keep = np.asarray(keep, bool)
        no_detection = self.objects < 0
        if len(keep):  # an index past ``keep`` raises, as it should
            at = np.maximum(self.objects, 0)
            mine = no_detection | keep[at]
            objects = np.where(no_detection, -1, (np.cumsum(keep) - 1)[at])[mine]
        else:
            mine = no_detection
            objects = np.full(int(mine.sum()), -1)
        return Signal(self.scores[mine], [r for r, m in zip(self.reasons, mine.tolist()) if m],
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
        # Python numbers first: zipping the arrays would make a numpy scalar an entry, and a
        # ranked recording writes every frame's signals
        keep = np.flatnonzero(self.scores > 0).tolist()
        scores, objects = self.scores.tolist(), self.objects.tolist()
        return [dict(object=objects[i], score=round(scores[i], ndigits),
                     reason=self.reasons[i]) for i in keep]


def _ramp(x: np.ndarray, start: float, width: float) -> np.ndarray:
    """0 up to ``start``, rising linearly to 1 at ``start + width``."""
    return np.clip((np.asarray(x, np.float64) - start) / max(width, 1e-12), 0.0, 1.0)


def _box_size(bboxes: np.ndarray) -> np.ndarray:
    """(N,) sqrt(w * h) of boxes (N, 4), at least 1 pixel."""
    wh = np.clip(np.asarray(bboxes, np.float64)[:, 2:] - np.asarray(bboxes, np.float64)[:, :2],
                 0, None)
    return np.maximum(np.sqrt(wh[:, 0] * wh[:, 1]), 1.0)


# per layout, what the signals derive from it once (a frame's signals would otherwise
# build the same class-slot mask a few times): id(layout) -> (layout, {name: value})
_LAYOUT_TABLES: Dict[int, Tuple[KeypointLayout, Dict[str, object]]] = {}


def _layout_table(layout: KeypointLayout, name: str, make: Callable[[KeypointLayout], object]):
    """``make(layout)``, computed once a layout (kept with the layout: an id is reused only
    after its object is gone, and the entry holds it)."""
    entry = _LAYOUT_TABLES.get(id(layout))
    if entry is None or entry[0] is not layout:
        if len(_LAYOUT_TABLES) > 32:  # a long-lived process with many layouts
            _LAYOUT_TABLES.clear()
        entry = _LAYOUT_TABLES[id(layout)] = (layout, {})
    tables = entry[1]
    if name not in tables:
        tables[name] = make(layout)
    return tables[name]


def _owned(dets: Detections) -> np.ndarray:
    """(N, K) bool: the slots each detection's class owns."""
    return _layout_table(dets.layout, 'slot_mask', KeypointLayout.class_slot_mask)[dets.labels]


def observed_states(dets: Detections, kpt_thr: float = 0.3) -> np.ndarray:
    """(N, K) int64 keypoint states, COCO's 0 (not labelled), 1 (occluded), 2 (visible).

    The detections' ``keypoint_states`` (N, K), the model's predicted state, when they
    carry one (a model with the occlusion branch; ``None`` or no such attribute otherwise),
    else :data:`VISIBLE` where the keypoint score is at least ``kpt_thr`` and 0 elsewhere.
    Slots the class does not own are 0. (``keypoint_layout.visibility_states`` is the step
    before: probabilities (N, K, 3) to the predicted state.)
    """
    states = getattr(dets, 'keypoint_states', None)
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
                                lambda i: f'score {dets.scores[i]:.2f} near {thr:.2f}')


def keypoint_uncertainty(dets: Detections, kpt_thr: float = 0.3, band: float = 0.25) -> Signal:
    """Keypoints the model is unsure of: the class's own slot whose score is nearest
    ``kpt_thr`` (the seen / not-seen cut), ``1 - |s - kpt_thr| / band``.

    Returns:
        Signal: (N,) per detection; 0 for classes without keypoints.
    """
    per_slot = np.where(_owned(dets), 1.0 - np.abs(dets.keypoint_scores - kpt_thr) / band, 0.0)
    scores = per_slot.max(1, initial=0.0) if len(dets) else np.zeros(0)
    names = dets.layout.keypoint_names
    # (a layout without keypoints has no slot to name, and every score is 0)
    worst = per_slot.argmax(1) if per_slot.size else np.zeros(len(dets), np.int64)
    return Signal.per_detection(scores, lambda i: f'{names[worst[i]]} score '
                                f'{dets.keypoint_scores[i, worst[i]]:.2f}')


def unflip_detections(dets: Detections, image_width: float) -> Detections:
    """Detections of a horizontally mirrored frame, mapped back onto the original frame:
    ``x -> image_width - x``, box corners exchanged, and each keypoint slot (its point,
    score and, where the model gives it, visibility) moved to its mirror slot
    (``layout.flip_indices``: the mirrored frame's ``front_left_tyre`` is the original's
    ``front_right_tyre``)."""
    w = float(image_width)
    flip = np.asarray(dets.layout.flip_indices, np.int64)
    boxes = dets.bboxes.copy()
    boxes[:, [0, 2]] = w - dets.bboxes[:, [2, 0]]
    kpts = dets.keypoints.copy()
    kpts[..., 0] = w - kpts[..., 0]
    # the owned-slot mask is symmetric under the flip (mirror names belong to one class)
    fields = dict(bboxes=boxes, scores=dets.scores, labels=dets.labels,
                  keypoints=kpts[:, flip], keypoint_scores=dets.keypoint_scores[:, flip])
    visibility = getattr(dets, 'keypoint_visibility', None)
    if visibility is not None:  # a slot's state moves with it
        fields['keypoint_visibility'] = visibility[:, flip]
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
    seen_a = observed_states(dets, kpt_thr) > 0
    seen_b = observed_states(dets_flipped_back, kpt_thr) > 0
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
    frames: int = 0  # detections of the track (frames it is in)


def _best_part(parts: List[tuple]) -> Tuple[float, str]:
    """The first part with the highest score among ``(score, template, *args)`` parts and
    its reason, ``template.format(*args)``: only the winner's text is formatted."""
    score, template, *args = max(parts, key=lambda p: p[0])
    return score, template.format(*args)


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
        kpt_thr: a keypoint is seen at or above this score (see :func:`observed_states`).
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

    Linear in the number of detections: a long recording's tracks cost no more a frame
    than a short one's.
    """
    n = len(history)
    ids_of = [np.asarray(ids).reshape(-1) for ids, _ in history]
    tracks: Dict[int, _TrackState] = {}
    where: Dict[int, Dict[int, int]] = {}  # track -> frame -> detection index
    for t, ids in enumerate(ids_of):
        for i in np.flatnonzero(ids >= 0):
            tid = int(ids[i])
            state = tracks.setdefault(tid, _TrackState(t, t))
            state.last = t
            state.frames += 1
            where.setdefault(tid, {})[t] = int(i)
    # the frames a track is missing from, between two of its frames; per frame, by id
    missing: List[List[int]] = [[] for _ in range(n)]
    for tid in sorted(tracks):
        seen_at = where[tid]
        for t in range(tracks[tid].first + 1, tracks[tid].last):
            if t not in seen_at:
                missing[t].append(tid)
    states = [observed_states(dets, kpt_thr) for _, dets in history]
    last_at: Dict[int, int] = {}  # track -> the last frame before this one it is in
    out = []
    for t, (ids, (_, dets)) in enumerate(zip(ids_of, history)):
        owned = _owned(dets)
        size = _box_size(dets.bboxes)
        centres = (dets.bboxes[:, :2] + dets.bboxes[:, 2:]) / 2
        scores, reasons = [], []
        for i, tid in enumerate(int(tid) for tid in ids.tolist()):
            if tid < 0:  # not tracked (e.g. a new track not yet confirmed)
                scores.append(0.0)
                reasons.append('')
                continue
            track, seen_at = tracks[tid], where[tid]
            parts: List[tuple] = [(0.0, '')]
            prev = last_at.get(tid)
            if prev is not None and prev < t - 1:
                parts.append((1.0, '#{} back after {} frame(s) lost', tid, t - prev - 1))
            cut = track.first == 0 or track.last == n - 1
            if track.frames < min_frames and not cut:
                parts.append(((min_frames - track.frames) / min_frames,
                              '#{} tracked {} frame(s)', tid, track.frames))
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
                              '#{} box jumps {:.2f} box', tid, jump))
                changed = (states[t][i] != states[prev][j]) & owned[i]
                if changed.any():
                    parts.append((changed.sum() / owned[i].sum(), '#{} {} visibility changes',
                                  tid, dets.layout.keypoint_names[int(np.argmax(changed))]))
            if image_sizes is not None and (t == track.first and t > 0 or
                                            t == track.last and t < n - 1):
                w, h = image_sizes[t]
                x1, y1, x2, y2 = dets.bboxes[i]
                inside = (x1 > border * w and y1 > border * h and x2 < (1 - border) * w and
                          y2 < (1 - border) * h)
                if inside:
                    parts.append((0.5, '#{} {} inside the image', tid,
                                  'born' if t == track.first else 'lost'))
            score, reason = _best_part(parts)
            scores.append(score)
            reasons.append(reason)
        for tid in ids[ids >= 0].tolist():
            last_at[int(tid)] = t
        signal = Signal.per_detection(np.array(scores), reasons)
        gone = missing[t]
        out.append(Signal(np.concatenate([signal.scores, np.ones(len(gone))]),
                          signal.reasons + [f'#{tid} lost in this frame' for tid in gone],
                          np.concatenate([signal.objects, np.full(len(gone), -1, np.int64)])))
    return out


class _GeometryTables:
    """What :func:`geometry_implausibility` derives from a layout, once.

    Attributes:
        contact (np.ndarray): (C, M) int64 per class its tyre / wheel slots in the class's
            slot order, -1 after them (M: the most any class has).
        cycle (np.ndarray): (C, 4) int64 per class the slots of :data:`_TYRE_CYCLE` it has
            as contact points, in that order, -1 for a tyre it lacks.
        slot (dict): keypoint name -> slot.
    """

    def __init__(self, layout: KeypointLayout) -> None:
        names = layout.keypoint_names
        self.slot = {n: i for i, n in enumerate(names)}
        per_class = [[s for s in slots if names[s] in TYRES or names[s] in WHEELS]
                     for slots in layout.class_slots]
        self.contact = np.full((len(per_class), max([len(c) for c in per_class] + [0])), -1,
                               np.int64)
        self.cycle = np.full((len(per_class), len(_TYRE_CYCLE)), -1, np.int64)
        for c, contact in enumerate(per_class):
            self.contact[c, :len(contact)] = contact
            for k, n in enumerate(_TYRE_CYCLE):
                if n in self.slot and self.slot[n] in contact:
                    self.cycle[c, k] = self.slot[n]
        self._ramps: Dict[tuple, Tuple[np.ndarray, np.ndarray]] = {}

    def ramps(self, below: float, above: float, width: float,
              order_tol: float) -> Tuple[np.ndarray, np.ndarray]:
        """(P,) start and (P,) width (at least 1e-12, as :func:`_ramp`'s) of each part's
        ramp: per contact slot below, above, beside; the 4 turns; the axle."""
        key = (below, above, width, order_tol)
        if key not in self._ramps:
            m, others = self.contact.shape[1], len(_TYRE_CYCLE) + 1
            self._ramps[key] = (
                np.r_[np.tile([below, above, below], m), np.zeros(others)],
                np.maximum(np.r_[np.full(3 * m, width), np.full(others, order_tol)], 1e-12))
        return self._ramps[key]


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

    The reason is that of the first part with the highest score, the parts in the order:
    per contact slot (the class's order) below, above, beside; then the tyre-order turns;
    then the axle. Every detection at once (numpy over the frame's objects).

    Returns:
        Signal: (N,) per detection; 0 for classes without contact points.
    """
    layout = layout or dets.layout
    names = layout.keypoint_names
    n = len(dets)
    if not n or not layout.num_keypoints:
        return Signal.per_detection(np.zeros(n), [''] * n)
    tables = _layout_table(layout, 'geometry', _GeometryTables)
    face_boxes = np.zeros((0, 4))
    if FACE_CLASS in layout.classes:
        face_boxes = dets.bboxes[(dets.labels == layout.classes.index(FACE_CLASS)) &
                                 (dets.scores >= face_thr)]
    seen = observed_states(dets, kpt_thr) > 0
    boxes = dets.bboxes.astype(np.float64)
    x1, x2, y2 = boxes[:, 0:1], boxes[:, 2:3], boxes[:, 3:4]  # (N, 1): against (N, M)
    w = np.maximum(boxes[:, 2:3] - x1, 1.0)
    h = np.maximum(y2 - boxes[:, 1:2], 1.0)
    rows = np.arange(n)[:, None]
    # Every part of every detection is one column of ``raw`` (-inf: the part does not
    # apply), ramped at once: per contact point (N, M, 3) below, above, beside; the tyre
    # order's turns (N, 4); the axle (N, 1).

    # height and side of every seen contact point
    contact = tables.contact[dets.labels]  # (N, M)
    slots = np.maximum(contact, 0)
    point = dets.keypoints[rows, slots].astype(np.float64)  # (N, M, 2)
    x, y = point[..., 0], point[..., 1]
    low, high = (y - y2) / h, (y2 - y) / h
    height = np.stack([low, high, np.maximum(x1 - x, x - x2) / w], axis=-1)
    height[~((contact >= 0) & seen[rows, slots])] = -np.inf

    # tyre order: per detection the seen tyres of the cycle, in the cycle's order; the
    # turns of its consecutive triples (all four of a 4-cycle, the one of a 3-cycle)
    cycle_slots = tables.cycle[dets.labels]  # (N, 4)
    cycle_seen = (cycle_slots >= 0) & seen[rows, np.maximum(cycle_slots, 0)]
    count = cycle_seen.sum(1)
    # the seen ones first, in cycle order (a stable sort of "not seen")
    cycles = np.take_along_axis(cycle_slots, np.argsort(~cycle_seen, 1, kind='stable'), 1)
    turns = np.full((n, len(_TYRE_CYCLE)), -np.inf)
    for length in (3, 4):
        some = np.flatnonzero(count == length)
        if not len(some):
            continue
        pts = dets.keypoints[some[:, None], cycles[some, :length]].astype(np.float64)
        ks = np.arange(length if length > 3 else 1)
        a, b, c = pts[:, ks], pts[:, (ks + 1) % length], pts[:, (ks + 2) % length]
        turn = (((b - a)[..., 0] * (c - b)[..., 1] - (b - a)[..., 1] * (c - b)[..., 0]) /
                (w[some] * h[some]))
        turns[some[:, None], ks] = -turn

    # axle order: two seen tyres of one axle and a face in the box (few: a loop)
    axle_wrong = np.full((n, 1), -np.inf)
    axle_of: Dict[int, str] = {}
    if len(face_boxes):
        for i in np.flatnonzero(count == 2):
            pair = {names[s] for s in cycles[i, :2]}
            axle = next((a for a in ('front', 'rear') if pair == {f'{a}_left_tyre',
                                                                 f'{a}_right_tyre'}), None)
            if axle is not None and _face_inside(face_boxes, dets.bboxes[i]):
                lx = float(dets.keypoints[i, tables.slot[f'{axle}_left_tyre'], 0])
                rx = float(dets.keypoints[i, tables.slot[f'{axle}_right_tyre'], 0])
                # facing the camera, the vehicle's left is the image's right (front axle)
                axle_wrong[i] = (rx - lx) / w[i, 0] if axle == 'front' else (lx - rx) / w[i, 0]
                axle_of[int(i)] = axle

    num_height = height.shape[1] * 3
    raw = np.concatenate([height.reshape(n, num_height), turns, axle_wrong], axis=1)
    start, ramp_width = tables.ramps(below, above, width, order_tol)
    # _ramp's arithmetic, per column: a NaN part never wins (nor did it in max()); 0 first
    # (nothing wrong), and argmax gives the first of equal ones
    ramped = np.clip((raw - start) / ramp_width, 0.0, 1.0)
    parts = np.concatenate([np.zeros((n, 1)), np.where(np.isnan(ramped), 0.0, ramped)], 1)
    best = parts.argmax(1)

    def reason(i: int) -> str:
        part = int(best[i]) - 1
        if part < num_height:
            m, kind = divmod(part, 3)
            name = names[contact[i, m]]
            return (f'{name} {low[i, m]:.2f} box below', f'{name} {high[i, m]:.2f} box above',
                    f'{name} outside the box')[kind]
        part -= num_height
        if part < len(_TYRE_CYCLE):
            length = int(count[i])
            triple = ' '.join(names[cycles[i, (part + d) % length]] for d in range(3))
            return f'tyres in an impossible order ({triple})'
        return f'{axle_of[i]} left/right swapped for the face seen'

    return Signal.per_detection(parts[np.arange(n), best], reason)


# ---------------------------------------------------------------------- near duplicates
def frame_fingerprint(image: np.ndarray, size: int = 16) -> np.ndarray:
    """A difference hash of a BGR (or gray) frame: (size * size,) bool, whether each pixel
    of a ``size + 1`` by ``size`` grayscale thumbnail is brighter than its right
    neighbour. Robust to compression, small exposure and scale changes."""
    import cv2  # the runtime's contract and detections import without OpenCV

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # OpenCV's area average is fast only for a whole-number factor: shrink by one first to
    # about 4 thumbnails (cropping the few rows and columns the factor does not divide).
    # A 640x384 frame takes 0.11 ms instead of 0.45, a 1920x1080 one 0.9 instead of 5.5;
    # the thumbnail is still an average of all (kept) pixels
    h, w = gray.shape[:2]
    k = max(1, min(w // (4 * (size + 1)), h // (4 * size)))
    if k > 1:
        gray = cv2.resize(gray[:h - h % k, :w - w % k], (w // k, h // k),
                          interpolation=cv2.INTER_AREA)
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
    bits = prints.shape[1] if prints.ndim == 2 else 0
    if not n or not bits:  # no bits: no two frames are alike (nor were they)
        return dup
    # Each frame against every kept one at once, as a popcount of the XOR of the packed
    # bits: a long recording's frames cost a few numpy calls each, not one per kept frame.
    # The share that differs, count / bits, is the mean of the bool differences exactly.
    words = _pack_words(prints)
    untimed = np.array([t is None for t in times])
    seconds = np.array([0.0 if t is None else float(t) for t in times])
    kept = np.empty(n, np.int64)  # the kept frames in the order they were kept
    kept_words = np.empty_like(words)
    num_kept = 0
    for f in order:
        candidates = np.arange(num_kept)
        if max_gap_s is not None and not untimed[f]:
            others = kept[:num_kept]
            candidates = np.flatnonzero(untimed[others] |
                                        (np.abs(seconds[f] - seconds[others]) <= max_gap_s))
        if len(candidates):
            differ = _popcount(kept_words[candidates] ^ words[f]) / bits
            alike = np.flatnonzero(differ <= max_distance)
            if len(alike):  # the first kept (candidates are in kept order)
                dup[f] = kept[candidates[alike[0]]]
                continue
        kept[num_kept], kept_words[num_kept] = f, words[f]
        num_kept += 1
    return dup


# bits set in each byte value, for numpy without bitwise_count (< 2.0)
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(1)


def _pack_words(bits: np.ndarray) -> np.ndarray:
    """(F, B) bool -> (F, W) uint64, the bits packed (zero-padded to whole words)."""
    packed = np.packbits(bits, axis=1)
    pad = -packed.shape[1] % 8
    return np.ascontiguousarray(np.pad(packed, ((0, 0), (0, pad)))).view(np.uint64)


def _popcount(words: np.ndarray) -> np.ndarray:
    """(R, W) uint64 -> (R,) int64 bits set in each row."""
    if hasattr(np, 'bitwise_count'):
        return np.bitwise_count(words).sum(1, dtype=np.int64)
    return _BYTE_BITS[words.view(np.uint8)].sum(1, dtype=np.int64)


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
        best = sorted(((weights.get(n, 1.0) * score, n, reason)
                       for n, (score, reason, _) in ((n, s.best()) for n, s in signals.items())),
                      key=lambda r: -r[0])
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


__all__ = ['SIGNALS', 'DEFAULT_WEIGHTS', 'Signal', 'Ranking', 'observed_states',
           'low_margin', 'keypoint_uncertainty', 'unflip_detections', 'flip_disagreement',
           'temporal_flicker', 'geometry_implausibility', 'frame_fingerprint',
           'near_duplicates', 'rank_frames', 'frame_signals']
