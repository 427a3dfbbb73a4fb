"""Keypoint-aware multi-object tracking for the mmdet-free runtime (ByteTrack-style).

:class:`KeypointTracker` gives the :class:`Detections` of consecutive video frames track
ids, as ByteTrack does (Zhang et al., "ByteTrack: Multi-Object Tracking by Associating
Every Detection Box", ECCV 2022), with two additions for classes that own keypoints:

* **OKS in the matching cost.** Where a track and a detection of a keypoint class both have
  keypoints (track: its smoothed points moved with its predicted box; detection: points
  with score >= ``kpt_thr``), the cost is ``(1 - w) * (1 - IoU) + w * (1 - OKS)`` with
  ``w = oks_weight``; else ``1 - IoU``. OKS is COCO's, over the slots both have, with the
  detection's box area as the object area and the layout's per-slot sigmas times
  ``oks_sigma_scale`` (a label's spread is smaller than a motion prediction's error).
  Which pairs may match at all is decided by IoU alone (``1 - IoU <= match_thr``), as in
  ByteTrack: OKS chooses between the pairs IoU allows. It never splits a track that IoU
  keeps, and two vehicles whose boxes overlap (one passing in front of the other, the
  hidden one's box cut to its visible part) are told apart by where their tyres touch the
  road. (Letting a high OKS also admit pairs that IoU refuses, e.g. a vehicle coming out
  from behind another, was tried: on the synthetic sequences it joined wrong pairs more
  often than right ones.)
  ``oks_weight=0`` is plain ByteTrack (the IoU-only baseline: the very same code path).
* **Per-track keypoint smoothing.** Each track keeps its keypoints; at each frame they move
  with the track's predicted box (so smoothing does not lag a moving object) and are then
  pulled towards the detection's visible points by ``kpt_alpha`` (an exponential filter
  on the prediction error). Points the detection does not see (score < ``kpt_thr``) do not
  update the track; a slot unseen for ``kpt_max_age`` updates is forgotten.

Association (per frame, as ByteTrack): detections with score >= ``high_thr`` are matched
first to all tracks (tracked and lost) with the cost above; the low-score ones
(``low_thr <= score < high_thr``; often partly occluded objects) then recover the still
unmatched tracked tracks by IoU alone (their keypoints are the least reliable). New tracks
start from unmatched detections with score >= ``new_track_thr`` and are confirmed (given an
id and returned) when matched again in the next frame (at once in the first frame); a lost
track is kept ``track_buffer`` frames for re-identification. Matching is class-consistent:
a track only takes detections of its own label. Boxes are predicted with the constant-
velocity Kalman filter of SORT/DeepSORT/ByteTrack on (centre x, centre y, aspect, height).

Per frame the prediction, the costs and the keypoint filter are numpy over all tracks at
once (the Kalman products written out where the matrices are 0/1, giving their very values);
only the Kalman update of a matched track is its own small solve.

The assignment uses SciPy's ``linear_sum_assignment`` (or ``lap.lapjv`` where SciPy is
absent); neither is a base dependency of the runtime, so it is imported when a tracker is
made. Install one: ``pip install "yolox-kpt[runtime-track]"`` (SciPy).

Example:
    >>> tracker = KeypointTracker(detector.layout)
    >>> for frame in frames:
    ...     tracked = tracker.update(detector(frame, score_thr=0.1))
    ...     tracked.track_ids, tracked.detections.bboxes, tracked.detections.keypoints
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from ..keypoint_layout import KeypointLayout
from .detections import Detections


def _assignment_solver() -> Callable[[np.ndarray], Tuple[np.ndarray, np.ndarray]]:
    """SciPy's ``linear_sum_assignment``, else ``lap.lapjv``; ImportError naming both."""
    try:
        from scipy.optimize import linear_sum_assignment
        return linear_sum_assignment
    except ImportError:
        pass
    try:
        import lap
    except ImportError:
        raise ImportError(
            'KeypointTracker needs a linear assignment solver: install SciPy '
            '(pip install "yolox-kpt[runtime-track]", or pip install scipy) or lap '
            '(pip install lapx)') from None

    def lapjv(cost: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        _, x, _ = lap.lapjv(cost, extend_cost=True)
        rows = np.flatnonzero(x >= 0)
        return rows, x[rows]
    return lapjv


def linear_assignment(cost: np.ndarray, thresh: float,
                      solver: Optional[Callable] = None
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost matching of rows to columns, keeping pairs with cost <= ``thresh``.

    Args:
        cost (np.ndarray): (R, C) float; ``inf`` forbids a pair.
        thresh (float): the largest cost a kept pair may have.
        solver (callable, optional): ``(cost) -> (rows, cols)``; default SciPy's.

    Returns:
        tuple: matches (M, 2) int64 (row, column), unmatched rows (R - M,), unmatched
        columns (C - M,).
    """
    rows, cols = cost.shape
    if rows == 0 or cols == 0:
        return (np.empty((0, 2), np.int64), np.arange(rows, dtype=np.int64),
                np.arange(cols, dtype=np.int64))
    # Pairs above the threshold (or forbidden) get a cost above every allowed pair's and
    # are dropped after solving, as ByteTrack's lapjv with cost_limit does.
    finite = np.isfinite(cost)
    allowed = (cost <= thresh) & finite
    if not allowed.any():  # nothing to solve: every pair would be dropped
        return (np.empty((0, 2), np.int64), np.arange(rows, dtype=np.int64),
                np.arange(cols, dtype=np.int64))
    big = cost[finite].max() + 1.0
    capped = np.where(allowed, cost, big)
    r, c = (solver or _assignment_solver())(capped)
    keep = (capped[r, c] <= thresh) & finite[r, c]
    matches = np.stack([r[keep], c[keep]], axis=1).astype(np.int64)
    free_rows, free_cols = np.ones(rows, bool), np.ones(cols, bool)
    free_rows[matches[:, 0]] = free_cols[matches[:, 1]] = False
    return matches, np.flatnonzero(free_rows), np.flatnonzero(free_cols)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes (A, 4) and (B, 4), x1 y1 x2 y2 -> (A, B)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    # width times height, written out (a product over an axis of 2 costs more to call)
    wh = np.maximum(rb - lt, 0)
    inter = wh[..., 0] * wh[..., 1]
    wh_a, wh_b = np.maximum(a[:, 2:] - a[:, :2], 0), np.maximum(b[:, 2:] - b[:, :2], 0)
    area_a, area_b = wh_a[:, 0] * wh_a[:, 1], wh_b[:, 0] * wh_b[:, 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def keypoint_oks(kpts_a: np.ndarray, valid_a: np.ndarray, kpts_b: np.ndarray,
                 valid_b: np.ndarray, areas_b: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Pairwise COCO OKS over the slots both sides have.

    Args:
        kpts_a (np.ndarray): (A, K, 2) keypoints (tracks).
        valid_a (np.ndarray): (A, K) bool.
        kpts_b (np.ndarray): (B, K, 2) keypoints (detections).
        valid_b (np.ndarray): (B, K) bool.
        areas_b (np.ndarray): (B,) object areas, pixels^2 (the detections' box areas).
        sigmas (np.ndarray): (K,) per-slot OKS sigmas.

    Returns:
        np.ndarray: (A, B) OKS in [0, 1]; NaN where the pair shares no slot.
    """
    d2 = np.sum((kpts_a[:, None] - kpts_b[None]) ** 2, axis=-1)  # (A, B, K)
    var = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    e = d2 / (2.0 * var[None, None] * np.maximum(areas_b, 1.0)[None, :, None])
    both = valid_a[:, None] & valid_b[None]
    n = both.sum(-1)
    total = np.where(both, np.exp(-e), 0.0).sum(-1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


class BoxKalmanFilter:
    """Constant-velocity Kalman filter on (cx, cy, aspect w/h, h), as SORT, DeepSORT and
    ByteTrack use; noise proportional to the box height (so it is scale-free).

    State (8,): cx, cy, a, h and their velocities (per frame).
    """
    std_pos = 1.0 / 20
    std_vel = 1.0 / 160

    def __init__(self) -> None:
        self.motion = np.eye(8)
        self.motion[:4, 4:] = np.eye(4)
        self.observe = np.eye(4, 8)

    @staticmethod
    def to_xyah(box: np.ndarray) -> np.ndarray:
        """x1 y1 x2 y2 (4,) -> cx cy a h (4,)."""
        w, h = max(box[2] - box[0], 1e-3), max(box[3] - box[1], 1e-3)
        return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, w / h, h])

    @staticmethod
    def to_xyah_many(boxes: np.ndarray) -> np.ndarray:
        """(M, 4) x1 y1 x2 y2 -> (M, 4) cx cy a h (:meth:`to_xyah` of each row)."""
        w = np.maximum(boxes[:, 2] - boxes[:, 0], 1e-3)
        h = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-3)
        return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
                         w / h, h], axis=1)

    @staticmethod
    def to_xyxy(xyah: np.ndarray) -> np.ndarray:
        cx, cy, a, h = xyah[:4]
        w = a * h
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def initiate(self, xyah: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        h = xyah[3]
        std = np.array([2 * self.std_pos * h, 2 * self.std_pos * h, 1e-2, 2 * self.std_pos * h,
                        10 * self.std_vel * h, 10 * self.std_vel * h, 1e-5,
                        10 * self.std_vel * h])
        return np.r_[xyah, np.zeros(4)], np.diag(std ** 2)

    @staticmethod
    def to_xyxy_many(xyah: np.ndarray) -> np.ndarray:
        """(T, >=4) cx cy a h ... -> (T, 4) x1 y1 x2 y2 (:meth:`to_xyxy` of each row)."""
        cx, cy, a, h = xyah[:, 0], xyah[:, 1], xyah[:, 2], xyah[:, 3]
        w = a * h
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        mean, cov = self.predict_many(mean[None], cov[None])
        return mean[0], cov[0]

    def predict_many(self, means: np.ndarray,
                     covs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` of T tracks at once: means (T, 8), covs (T, 8, 8).

        ``motion @ mean`` and ``motion @ cov @ motion.T`` written out: the motion matrix
        is [[I, I], [0, I]], so each entry is one sum of two entries (the products' other
        terms are exact zeros): the very values the matrix products give, without a
        product a track.
        """
        h = means[:, 3]
        pos, vel = self.std_pos * h, self.std_vel * h
        std = np.stack([pos, pos, np.full_like(h, 1e-2), pos, vel, vel,
                        np.full_like(h, 1e-5), vel], axis=1)
        out = means.copy()
        out[:, :4] = means[:, :4] + means[:, 4:]
        rows = covs.copy()  # motion @ cov
        rows[:, :4] = covs[:, :4] + covs[:, 4:]
        cov = rows.copy()  # (motion @ cov) @ motion.T
        cov[:, :, :4] = rows[:, :, :4] + rows[:, :, 4:]
        diag = np.arange(8)
        cov[:, diag, diag] += std ** 2
        return out, cov

    def update(self, mean: np.ndarray, cov: np.ndarray,
               xyah: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        mean, cov = self.update_many(mean[None], cov[None], np.asarray(xyah)[None])
        return mean[0], cov[0]

    def update_many(self, means: np.ndarray, covs: np.ndarray,
                    xyah: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The measurement update of M tracks at once: means (M, 8), covs (M, 8, 8),
        measured boxes ``xyah`` (M, 4) -> the filtered means and covs."""
        h = means[:, 3]
        pos = self.std_pos * h
        std = np.stack([pos, pos, np.full_like(h, 1e-1), pos], axis=1)
        # the observation matrix [I, 0] selects: observe @ cov is cov[:4], observe @ mean
        # is mean[:4] (the products' values exactly)
        s = covs[:, :4, :4].copy()
        diag = np.arange(4)
        s[:, diag, diag] += std ** 2
        gain = np.linalg.solve(s, covs[:, :4]).transpose(0, 2, 1)  # (M, 8, 4); s symmetric
        means = means + (gain @ (xyah - means[:, :4])[..., None])[..., 0]
        covs = covs - gain @ s @ gain.transpose(0, 2, 1)
        return means, covs


@dataclass
class Track:
    """One tracked object; ``track_id`` is -1 until the track is confirmed.

    ``keypoints`` were estimated when the box was ``anchor`` (the filtered box of the last
    update); :meth:`predicted_keypoints` carries them to the current predicted ``box``.
    """
    label: int
    mean: np.ndarray  # (8,) Kalman state
    cov: np.ndarray  # (8, 8)
    keypoints: np.ndarray  # (K, 2) smoothed
    kpt_valid: np.ndarray  # (K,) bool: slot has an estimate
    kpt_age: np.ndarray  # (K,) int: updates since the slot was last seen
    anchor: np.ndarray  # (4,) x1 y1 x2 y2 the keypoints belong to
    box: np.ndarray  # (4,) x1 y1 x2 y2 predicted for the current frame (after an update:
    # the filtered one)
    score: float
    last_frame: int
    track_id: int = -1
    state: str = 'tracked'  # 'tracked' or 'lost'
    confirmed: bool = False
    det_index: int = -1  # index into the current frame's detections, -1 when unmatched
    row: int = -1  # this track's row in the tracker's arrays of the current frame

    def predicted_keypoints(self) -> np.ndarray:
        """(K, 2) the smoothed keypoints moved with the box from ``anchor`` to ``box``."""
        return _move_points(self.keypoints[None], self.anchor[None], self.box[None])[0]


@dataclass
class TrackedDetections:
    """What :meth:`KeypointTracker.update` returns for one frame.

    Attributes:
        detections (Detections): the detections of the confirmed tracks matched in this
            frame (M of them), in track order; boxes, scores and labels as detected,
            keypoints smoothed per track (slots the detection sees; the others as
            detected).
        track_ids (np.ndarray): (M,) int64 ids, stable over frames, from 1.
        indices (np.ndarray): (M,) int64 index of each into the frame's input detections.
    """
    detections: Detections
    track_ids: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.track_ids)


class KeypointTracker:
    """ByteTrack with OKS in the matching cost and per-track keypoint smoothing.

    Args:
        layout (KeypointLayout): classes, keypoint slots and OKS sigmas (a detector's
            ``layout``).
        oks_weight (float): weight of ``1 - OKS`` in the first association's cost for
            keypoint classes, in [0, 1]; 0 = IoU only (plain ByteTrack).
        high_thr (float): detections at or above it are first-tier (ByteTrack's
            ``track_thresh``).
        low_thr (float): second-tier detections are in [low_thr, high_thr); lower ones are
            ignored. Run the detector with ``score_thr <= low_thr`` to have them.
        new_track_thr (float): an unmatched detection starts a track at or above it.
        match_thr (float): largest cost of a first-tier match (ByteTrack 0.8).
        low_match_thr (float): largest ``1 - IoU`` of a second-tier match (ByteTrack 0.5).
        unconfirmed_match_thr (float): largest cost of a new track's second match (0.7).
        track_buffer (int): frames a lost track is kept for re-identification.
        kpt_thr (float): a keypoint score at or above it counts as seen.
        smooth_keypoints (bool): return per-track smoothed keypoints (else as detected).
        kpt_alpha (float): weight of a new measurement in the keypoint filter, (0, 1];
            1 = no smoothing.
        kpt_max_age (int): updates a track keeps an unseen slot's estimate.
        oks_sigma_scale (float): the layout's sigmas (the spread of human labels) times
            this are the OKS sigmas of matching, whose error is mostly the motion
            prediction's, larger than a label's.
    """

    def __init__(self, layout: KeypointLayout, oks_weight: float = 0.5, high_thr: float = 0.5,
                 low_thr: float = 0.1, new_track_thr: float = 0.6, match_thr: float = 0.8,
                 low_match_thr: float = 0.5, unconfirmed_match_thr: float = 0.7,
                 track_buffer: int = 30, kpt_thr: float = 0.3, smooth_keypoints: bool = True,
                 kpt_alpha: float = 0.5, kpt_max_age: int = 5,
                 oks_sigma_scale: float = 4.0) -> None:
        if not 0.0 <= oks_weight <= 1.0:
            raise ValueError(f'oks_weight must be in [0, 1], got {oks_weight}')
        if not 0.0 < kpt_alpha <= 1.0:
            raise ValueError(f'kpt_alpha must be in (0, 1], got {kpt_alpha}')
        if not low_thr <= high_thr:
            raise ValueError(f'low_thr ({low_thr}) must be <= high_thr ({high_thr})')
        self.layout = layout
        self.oks_weight = float(oks_weight)
        self.high_thr, self.low_thr, self.new_track_thr = high_thr, low_thr, new_track_thr
        self.match_thr, self.low_match_thr = match_thr, low_match_thr
        self.unconfirmed_match_thr = unconfirmed_match_thr
        self.track_buffer = int(track_buffer)
        self.kpt_thr, self.smooth_keypoints = kpt_thr, smooth_keypoints
        self.kpt_alpha, self.kpt_max_age = float(kpt_alpha), int(kpt_max_age)
        self.sigmas = np.asarray(layout.sigmas, np.float64)
        self.oks_sigma_scale = float(oks_sigma_scale)
        self.slot_mask = layout.class_slot_mask()  # (C, K)
        self.kalman = BoxKalmanFilter()
        self._solver = _assignment_solver()
        self.reset()

    @classmethod
    def for_score_thr(cls, layout: KeypointLayout, score_thr: float,
                      **kwargs) -> 'KeypointTracker':
        """A tracker for a tool's ``--score-thr``: the first tier from it, new tracks from
        ``score_thr + 0.1`` (ByteTrack's rule), the second tier from ``min(0.1,
        score_thr)``. Run the detector at ``tracker.low_thr``."""
        kwargs.setdefault('low_thr', min(0.1, score_thr))
        return cls(layout, high_thr=score_thr, new_track_thr=score_thr + 0.1, **kwargs)

    def reset(self) -> None:
        """Forget all tracks (a new video); ids start again from 1."""
        self.tracks: List[Track] = []
        self.frame = 0
        self._next_id = 1
        self._no_arrays()

    def _no_arrays(self) -> None:
        """The current frame's tracks as arrays (row ``track.row``; :meth:`_predict` fills
        them): none."""
        k = self.layout.num_keypoints
        self._boxes, self._points = np.zeros((0, 4)), np.zeros((0, k, 2))
        self._valid, self._labels = np.zeros((0, k), bool), np.zeros(0, np.int64)

    # ------------------------------------------------------------------ costs
    def _cost(self, tracks: List[Track], dets: Detections, idx: np.ndarray,
              oks_weight: float, thresh: float) -> np.ndarray:
        """(T, D) cost of tracks against the detections ``idx``: ``1 - IoU``, blended with
        ``1 - OKS`` where both have keypoints. A pair may match when its classes agree and
        ``1 - IoU <= thresh``, whatever its OKS; the others cost inf."""
        if not tracks or len(idx) == 0:
            return np.zeros((len(tracks), len(idx)))
        rows = np.array([t.row for t in tracks])
        boxes = dets.bboxes[idx].astype(np.float64)
        iou = box_iou(self._boxes[rows], boxes)
        cost = 1.0 - iou
        same = self._labels[rows][:, None] == dets.labels[idx][None]
        allowed = (cost <= thresh) & (iou > 0) & same
        if oks_weight > 0 and self.layout.num_keypoints and allowed.any():
            labels = dets.labels[idx]
            det_valid = (dets.keypoint_scores[idx] >= self.kpt_thr) & self.slot_mask[labels]
            wh = boxes[:, 2:] - boxes[:, :2]
            oks = keypoint_oks(self._points[rows], self._valid[rows],
                               dets.keypoints[idx].astype(np.float64), det_valid,
                               wh[:, 0] * wh[:, 1], self.sigmas * self.oks_sigma_scale)
            blended = (1.0 - oks_weight) * cost + oks_weight * (1.0 - oks)
            cost = np.where(np.isnan(oks), cost, blended)
        return np.where(allowed, cost, np.inf)

    def _match(self, tracks: List[Track], dets: Detections, idx: np.ndarray,
               thresh: float, oks_weight: float):
        # gated in _cost: every allowed pair is kept whatever its blended cost
        matches, ut, ud = linear_assignment(self._cost(tracks, dets, idx, oks_weight, thresh),
                                            np.inf, self._solver)
        return ([(tracks[t], int(idx[d])) for t, d in matches], [tracks[t] for t in ut],
                idx[ud])

    # ------------------------------------------------------------------ track updates
    def _predict(self) -> None:
        """Every track's box and keypoints in the new frame (all tracks at once), and the
        frame's arrays of them (``track.row`` indexes them)."""
        tracks = self.tracks
        if not tracks:
            self._no_arrays()
            return
        # np.array of equal-shaped arrays: np.stack's result, a fraction of its cost
        means = np.array([t.mean for t in tracks])
        # a lost track's height stops changing (ByteTrack)
        means[[t.state != 'tracked' for t in tracks], 7] = 0.0
        means, covs = self.kalman.predict_many(means, np.array([t.cov for t in tracks]))
        self._boxes = self.kalman.to_xyxy_many(means)
        self._points = _move_points(np.array([t.keypoints for t in tracks]),
                                    np.array([t.anchor for t in tracks]), self._boxes)
        self._valid = np.array([t.kpt_valid for t in tracks])
        self._labels = np.array([t.label for t in tracks], np.int64)
        for row, t in enumerate(tracks):
            t.mean, t.cov, t.box, t.row, t.det_index = means[row], covs[row], \
                self._boxes[row], row, -1

    def _update(self, matched: List[Tuple[Track, int]], dets: Detections) -> None:
        """Update the tracks of ``matched`` ``(track, detection index)`` pairs with their
        detections: the keypoint filter of all of them at once, the Kalman update a track."""
        if not matched:
            return
        idx = np.array([i for _, i in matched])
        rows = np.array([t.row for t, _ in matched])
        # visibility-aware exponential filter on the prediction error: unseen slots keep
        # their prediction, a slot seen for the first time takes the measurement
        seen = (dets.keypoint_scores[idx] >= self.kpt_thr) & self.slot_mask[self._labels[rows]]
        meas = dets.keypoints[idx].astype(np.float64)
        pred, valid = self._points[rows], self._valid[rows]  # copies (fancy indexing)
        blend = valid & seen
        pred[blend] += self.kpt_alpha * (meas[blend] - pred[blend])
        pred[seen & ~valid] = meas[seen & ~valid]
        age = np.where(seen, 0, np.array([t.kpt_age for t, _ in matched]) + 1)
        valid = (valid | seen) & (age <= self.kpt_max_age)
        means, covs = self.kalman.update_many(
            np.array([t.mean for t, _ in matched]), np.array([t.cov for t, _ in matched]),
            self.kalman.to_xyah_many(dets.bboxes[idx].astype(np.float64)))
        filtered = self.kalman.to_xyxy_many(means)
        scores = dets.scores[idx].tolist()
        for k, (track, i) in enumerate(matched):
            track.mean, track.cov = means[k], covs[k]
            track.box = track.anchor = filtered[k]
            track.keypoints, track.kpt_age, track.kpt_valid = pred[k], age[k], valid[k]
            track.score = scores[k]
            track.last_frame = self.frame
            track.state = 'tracked'
            track.det_index = i

    def _new_track(self, dets: Detections, i: int) -> Track:
        mean, cov = self.kalman.initiate(self.kalman.to_xyah(dets.bboxes[i].astype(np.float64)))
        label = int(dets.labels[i])
        box = self.kalman.to_xyxy(mean)
        return Track(label=label, mean=mean, cov=cov,
                     keypoints=dets.keypoints[i].astype(np.float64),
                     kpt_valid=(dets.keypoint_scores[i] >= self.kpt_thr) & self.slot_mask[label],
                     kpt_age=np.zeros(self.layout.num_keypoints, np.int64), anchor=box,
                     box=box.copy(), score=float(dets.scores[i]), last_frame=self.frame,
                     det_index=i)

    def _confirm(self, track: Track) -> None:
        if not track.confirmed:
            track.confirmed, track.track_id = True, self._next_id
            self._next_id += 1

    # ------------------------------------------------------------------ a frame
    def update(self, dets: Detections) -> TrackedDetections:
        """Track one frame's detections (in frame order; call :meth:`reset` between
        videos).

        Args:
            dets (Detections): the frame's detections, including the low-score ones
                (>= ``low_thr``) for the second association.

        Returns:
            TrackedDetections: the confirmed tracks matched in this frame.
        """
        if dets.layout.num_keypoints != self.layout.num_keypoints:
            raise ValueError(f'detections have {dets.layout.num_keypoints} keypoint slots, '
                             f'the tracker\'s layout {self.layout.num_keypoints}')
        self.frame += 1
        self._predict()
        scores = dets.scores
        high = np.flatnonzero(scores >= self.high_thr)
        low = np.flatnonzero((scores >= self.low_thr) & (scores < self.high_thr))
        confirmed = [t for t in self.tracks if t.confirmed]
        unconfirmed = [t for t in self.tracks if not t.confirmed]

        # 1: first-tier detections against tracked and lost tracks, IoU (+ OKS)
        # (the three associations' tracks are disjoint and each matches on the predicted
        # arrays, so the matched tracks are updated together, once, after them)
        first, rest, high_left = self._match(confirmed, dets, high, self.match_thr,
                                             self.oks_weight)
        # 2: second-tier detections recover tracked (not lost) tracks, IoU only
        tracked_rest = [t for t in rest if t.state == 'tracked']
        second, still, _ = self._match(tracked_rest, dets, low, self.low_match_thr, 0.0)
        for t in still:
            t.state = 'lost'
        # 3: tracks born last frame take their second detection, or die
        third, dead, high_left = self._match(unconfirmed, dets, high_left,
                                             self.unconfirmed_match_thr, self.oks_weight)
        self._update(first + second + third, dets)
        for t, _ in third:
            self._confirm(t)
        removed = {id(t) for t in dead}
        # 4: new tracks (confirmed at once in the first frame)
        born = [self._new_track(dets, int(i)) for i in high_left
                if scores[i] >= self.new_track_thr]
        if self.frame == 1:
            for t in born:
                self._confirm(t)
        self.tracks = [t for t in self.tracks if id(t) not in removed and
                       self.frame - t.last_frame <= self.track_buffer] + born
        return self._output(dets)

    def _output(self, dets: Detections) -> TrackedDetections:
        out = [t for t in self.tracks if t.confirmed and t.det_index >= 0]
        out.sort(key=lambda t: t.track_id)
        idx = np.array([t.det_index for t in out], np.int64)
        matched = dets[idx]  # every field the detections have (a copy)
        if self.smooth_keypoints and len(out):
            seen = matched.keypoint_scores >= self.kpt_thr
            smoothed = np.array([t.keypoints for t in out]).astype(np.float32)
            matched.keypoints = np.where(seen[..., None], smoothed, matched.keypoints)
        return TrackedDetections(matched, np.array([t.track_id for t in out], np.int64), idx)


def track_labels(track_ids: np.ndarray,
                 texts: Optional[List[Optional[str]]] = None) -> List[str]:
    """``'#id'`` per track, followed by the matching entry of ``texts`` when it has one
    (e.g. :func:`~yolox_kpt.runtime.geometry.estimate_labels`'s); for drawing under boxes."""
    texts = texts or [None] * len(track_ids)
    return [f'#{int(i)} {t}' if t else f'#{int(i)}' for i, t in zip(track_ids, texts)]


def _move_points(points: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(T, K, 2) points of T tracks carried from boxes ``src`` (T, 4) to boxes ``dst``
    (T, 4) (x1 y1 x2 y2): same position relative to the box, per-axis scaled."""
    size = np.maximum(src[:, 2:] - src[:, :2], 1e-3)
    scale = (dst[:, 2:] - dst[:, :2]) / size
    return (points - src[:, None, :2]) * scale[:, None] + dst[:, None, :2]
