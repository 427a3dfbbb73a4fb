"""From tyre and wheel contact points to positions on the road: distance, lateral offset and
heading of every vehicle and cyclist, with a 1-sigma uncertainty.

numpy only (and :mod:`.calibration`). Ground frame (see :mod:`.calibration`): origin on the
road below the camera, ``x`` forward, ``y`` left, metres.

Per detection (:func:`vehicle_ground_estimate`), by the contact points whose score is at least
``score_thr`` (and that lie below the horizon), matched by *name*, so any layout using the
names in :data:`TYRES` / :data:`WHEELS` works:

* ``'tyres'``: all 4 tyres (footprint centre = their mean, heading = rear axle midpoint ->
  front axle midpoint), 3 tyres (the 4th completed as a parallelogram), or a cyclist's 2
  wheels (centre = midpoint, heading = rear -> front wheel). No size prior.
* ``'diagonal'``: 2 diagonal tyres: centre = their midpoint (a rectangle's diagonals share
  it); heading = the diagonal turned by the prior's ``atan(track / wheelbase)``.
* ``'one_side'``: 2 tyres of one side: heading from them, the centre half a prior track
  towards the other side (by the names: right of a left side).
* ``'axle_face'``: 2 tyres of one axle and a visible face (``face``): the face's end is
  the end nearer the camera, so the centre lies half a prior wheelbase from the axle *away
  from the camera*; heading along the vehicle, its sign from ``face`` (``'head'``: towards
  the camera, ``'tail'``: away, ``'visible'``: the axle's name says, front = head).
* ``'one_axle'``: 2 tyres of one axle, no face: forward is perpendicular to left -> right
  tyre, the centre half a prior wheelbase behind a front axle (ahead of a rear one).
* ``'box_bottom'``: fewer points (one tyre, one wheel, none, or a class without contact
  points such as pedestrians), and the baseline every detection also gets: see
  :func:`box_bottom_estimate`.

Uncertainty: each contact point's pixel sigma (:data:`PIXEL_SIGMA_VISIBLE`, or
:data:`PIXEL_SIGMA_OCCLUDED` for an occluded or low-score point) goes through the
ground mapping's Jacobian (so it grows fast towards the horizon), then through the
footprint construction's Jacobian together with the size priors' sigmas; fewer or weaker
points give larger sigmas.

Example:
    >>> calib = load_calibration('configs/calibration/example_1280x720.json')
    >>> est = ground_estimates(dets, calib)[0]          # dets: a runtime Detections
    >>> est['estimate'].distance_m, est['estimate'].heading_deg, est['box_bottom'].distance_m
"""
import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .calibration import CameraCalibration

#: Vehicle tyre contact point names, as the driving layout spells them.
TYRES: Tuple[str, ...] = ('front_left_tyre', 'front_right_tyre', 'rear_left_tyre',
                          'rear_right_tyre')
#: Cyclist wheel contact point names.
WHEELS: Tuple[str, ...] = ('front_wheel', 'rear_wheel')
#: Class whose boxes are vehicle head/tail faces; one inside a vehicle box tells which end
#: of the vehicle is seen (see :func:`ground_estimates`).
FACE_CLASS = 'vehicle_face'
#: Share of a face box that must lie inside a vehicle box for it to be that vehicle's face.
FACE_INSIDE = 0.6
#: Accepted ``face`` values.
FACES = ('head', 'tail', 'visible')

#: Pixel sigma of a visible, confident contact point.
PIXEL_SIGMA_VISIBLE = 2.0
#: Pixel sigma of an occluded point (visibility 1) or, without visibility, a point whose
#: score is below :data:`OCCLUDED_SCORE`.
PIXEL_SIGMA_OCCLUDED = 8.0
OCCLUDED_SCORE = 0.5
#: Pixel sigma of a box's bottom edge as a ground contact.
BOX_EDGE_SIGMA_PX = 3.0
#: Relative 1-sigma of every size prior (wheelbase, track, length).
PRIOR_REL_SIGMA = 0.1
#: Sigma of a heading that is not measured at all: a uniform heading's, 180 / sqrt(3).
UNKNOWN_HEADING_SIGMA_DEG = 180.0 / math.sqrt(3.0)


class SizePrior(NamedTuple):
    """A class's typical footprint, metres. ``wheelbase_m`` (front to rear contact points)
    and ``track_m`` (left to right) default to 0.6 x length and 0.89 x width, the ratios of
    the default vehicle (4.5 x 1.8 m, wheelbase 2.7 m, track 1.6 m)."""
    length_m: float
    width_m: float
    wheelbase_m: Optional[float] = None
    track_m: Optional[float] = None


#: Default priors per class name; ``priors=`` arguments are merged over these. A class
#: with a prior but no contact points (pedestrian) gets the box-bottom estimate.
DEFAULT_PRIORS: Dict[str, SizePrior] = {
    'vehicle': SizePrior(4.5, 1.8, 2.7, 1.6),
    'cyclist': SizePrior(1.8, 0.6, 1.1, 0.0),
    'pedestrian': SizePrior(0.5, 0.5, 0.0, 0.0),
}


@dataclass
class GroundEstimate:
    """One object's position and heading on the road (ground frame, metres, degrees).

    Attributes:
        x_m, y_m (float): footprint centre (x forward, y left).
        distance_m (float): ``hypot(x_m, y_m)``, from the road point below the camera.
        lateral_m (float): ``y_m`` (+ left).
        heading_deg (float): yaw of the object's forward axis (towards its front tyres or
            wheel) from ``x``, counter-clockwise (+ towards ``+y``), in (-180, 180]; 0 =
            moving away from the camera, 180 = oncoming. NaN if unknown; the box-bottom
            estimate of a vehicle or cyclist *assumes* 0 (sigma
            :data:`UNKNOWN_HEADING_SIGMA_DEG`).
        sigma_distance_m, sigma_heading_deg (float): 1-sigma uncertainties.
        method (str): ``'tyres'``, ``'diagonal'``, ``'one_side'``, ``'axle_face'``,
            ``'one_axle'`` or ``'box_bottom'`` (module docstring).
        num_points (int): contact points used (0 for the box bottom).
        sigma_lateral_m (float): 1-sigma of ``y_m``.
    """
    x_m: float
    y_m: float
    distance_m: float
    lateral_m: float
    heading_deg: float
    sigma_distance_m: float
    sigma_heading_deg: float
    method: str
    num_points: int
    sigma_lateral_m: float = math.nan

    def to_dict(self, ndigits: int = 3) -> Dict[str, Any]:
        """JSON-ready: floats rounded, NaN as None."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v)
                    else round(v, ndigits) if isinstance(v, float) else v)
                for k, v in asdict(self).items()}

    def label(self) -> str:
        """A short text for drawing: ``'12.3m +45deg'`` (``'?'`` for an assumed heading)."""
        if not math.isfinite(self.distance_m):
            return '?m'
        text = f'{self.distance_m:.1f}m'
        if self.method == 'box_bottom' or not math.isfinite(self.heading_deg):
            return text
        return f'{text} {self.heading_deg:+.0f}deg'


# ---------------------------------------------------------------------------- helpers
def _wrap_deg(angle: float) -> float:
    """``angle`` wrapped to (-180, 180]."""
    return 180.0 - (180.0 - angle) % 360.0


def _wrap_rad(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.hypot(v[0], v[1])


def _right_of(v: np.ndarray) -> np.ndarray:
    """``v`` turned 90 degrees clockwise (to its right, with y left)."""
    return np.array([v[1], -v[0]])


def _merged(priors: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    merged = dict(DEFAULT_PRIORS)
    merged.update(priors or {})
    return merged


def _prior(priors: Optional[Mapping[str, Any]], class_name: str, fallback: str) -> SizePrior:
    """The class's prior (``priors`` over :data:`DEFAULT_PRIORS`), completed."""
    merged = _merged(priors)
    value = merged.get(class_name, merged.get(fallback))
    if value is None:
        raise ValueError(f'no size prior for class {class_name!r}; give priors={{'
                         f'{class_name!r}: (length_m, width_m)}}')
    prior = SizePrior(*value)
    if not (prior.length_m > 0 and prior.width_m > 0):
        raise ValueError(f'size prior of {class_name!r}: length and width must be > 0, got '
                         f'{tuple(prior)}')
    return prior._replace(
        wheelbase_m=0.6 * prior.length_m if prior.wheelbase_m is None else prior.wheelbase_m,
        track_m=0.89 * prior.width_m if prior.track_m is None else prior.track_m)


def _ground_covariances(calib: CameraCalibration, pixels: np.ndarray,
                        sigmas_px: np.ndarray, step: float = 0.1) -> np.ndarray:
    """(N, 2, 2) ground covariance of each pixel (N, 2) with isotropic pixel sigmas (N,):
    the mapping's Jacobian by central differences, all points in one call."""
    offsets = np.array([[step, 0], [-step, 0], [0, step], [0, -step]])
    moved = calib.image_to_ground((pixels[:, None] + offsets).reshape(-1, 2)).reshape(-1, 4, 2)
    jac = np.stack([moved[:, 0] - moved[:, 1], moved[:, 2] - moved[:, 3]], -1) / (2 * step)
    return sigmas_px[:, None, None] ** 2 * jac @ jac.transpose(0, 2, 1)


def _propagate(solve: Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, float]],
               ground: np.ndarray, ground_cov: np.ndarray, prior: np.ndarray,
               prior_sigma: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """(3, 3) covariance of ``(x, y, heading_rad)`` = ``solve(ground (N, 2), prior (P,))``
    from the points' ground covariances (N, 2, 2) and independent prior sigmas (P,)."""
    params = np.concatenate([ground.ravel(), prior])
    n = ground.size

    def f(p: np.ndarray) -> np.ndarray:
        centre, heading = solve(p[:n].reshape(-1, 2), p[n:])
        return np.array([centre[0], centre[1], heading])

    jac = np.zeros((3, len(params)))
    for i in range(len(params)):
        d = np.zeros(len(params))
        d[i] = step
        diff = f(params + d) - f(params - d)
        diff[2] = _wrap_rad(diff[2])
        jac[:, i] = diff / (2 * step)
    cov_in = np.zeros((len(params), len(params)))
    for k, c in enumerate(ground_cov):
        cov_in[2 * k:2 * k + 2, 2 * k:2 * k + 2] = c
    cov_in[n:, n:] = np.diag(np.asarray(prior_sigma, float) ** 2)
    return jac @ cov_in @ jac.T


def _estimate(centre: np.ndarray, heading_rad: float, cov: np.ndarray, method: str,
              num_points: int, heading_known: bool = True) -> GroundEstimate:
    x, y = float(centre[0]), float(centre[1])
    dist = math.hypot(x, y)
    grad = np.array([x, y]) / dist if dist > 0 else np.zeros(2)
    var_d = float(grad @ cov[:2, :2] @ grad)
    if heading_known:
        heading = _wrap_deg(math.degrees(heading_rad))
        sigma_h = min(math.degrees(math.sqrt(max(cov[2, 2], 0.0))), UNKNOWN_HEADING_SIGMA_DEG)
    else:
        heading, sigma_h = heading_rad, UNKNOWN_HEADING_SIGMA_DEG
        sigma_h = sigma_h if math.isfinite(heading) else math.nan
    return GroundEstimate(x_m=x, y_m=y, distance_m=dist, lateral_m=y, heading_deg=heading,
                          sigma_distance_m=math.sqrt(max(var_d, 0.0)),
                          sigma_heading_deg=sigma_h, method=method, num_points=num_points,
                          sigma_lateral_m=math.sqrt(max(float(cov[1, 1]), 0.0)))


def _nan_estimate(method: str, num_points: int = 0) -> GroundEstimate:
    nan = math.nan
    return GroundEstimate(nan, nan, nan, nan, nan, nan, nan, method, num_points, nan)


# ---------------------------------------------------------------------------- footprints
def _vehicle_solver(names: Sequence[str], face: Optional[str]):
    """The footprint construction for the present tyre ``names``: ``(method, solve)`` with
    ``solve(ground (N, 2) in names' order, [wheelbase, track]) -> (centre (2,),
    heading_rad)``; None with fewer than 2 tyres."""
    present = frozenset(names)
    idx = {n: i for i, n in enumerate(names)}
    fl, fr, rl, rr = TYRES
    # a missing tyre is its two neighbours minus the opposite one (parallelogram)
    completion = {fl: (fr, rl, rr), fr: (fl, rr, rl), rl: (rr, fl, fr), rr: (rl, fr, fl)}

    def four(g: np.ndarray) -> Dict[str, np.ndarray]:
        pts = {n: g[i] for n, i in idx.items()}
        for name, (a, b, opp) in completion.items():
            if name not in pts:
                pts[name] = pts[a] + pts[b] - pts[opp]
        return pts

    if len(present) >= 3:
        def solve(g, prior):
            p = four(g)
            fwd = (p[fl] + p[fr] - p[rl] - p[rr]) / 2
            return (p[fl] + p[fr] + p[rl] + p[rr]) / 4, math.atan2(fwd[1], fwd[0])
        return 'tyres', solve
    if len(present) < 2:
        return None
    if present in ({fl, rr}, {fr, rl}):
        a, b = (fl, rr) if fl in present else (fr, rl)
        # front-left minus rear-right is wheelbase forward plus track to the left
        turn = 1.0 if a == fl else -1.0

        def solve(g, prior):
            diag = g[idx[a]] - g[idx[b]]
            return ((g[idx[a]] + g[idx[b]]) / 2,
                    math.atan2(diag[1], diag[0]) - turn * math.atan2(prior[1], prior[0]))
        return 'diagonal', solve
    if present in ({fl, rl}, {fr, rr}):
        front, rear = (fl, rl) if fl in present else (fr, rr)
        inward = 1.0 if front == fl else -1.0  # the centre is right of a left side

        def solve(g, prior):
            fwd = g[idx[front]] - g[idx[rear]]
            centre = (g[idx[front]] + g[idx[rear]]) / 2 + inward * _right_of(_unit(fwd)) * (
                prior[1] / 2)
            return centre, math.atan2(fwd[1], fwd[0])
        return 'one_side', solve
    left, right = (fl, fr) if fl in present else (rl, rr)
    is_front = left == fl
    if face is None:
        def solve(g, prior):
            fwd = _unit(_right_of(g[idx[left]] - g[idx[right]]))
            mid = (g[idx[left]] + g[idx[right]]) / 2
            return mid + (-1.0 if is_front else 1.0) * fwd * prior[0] / 2, math.atan2(
                fwd[1], fwd[0])
        return 'one_axle', solve
    towards_camera = face == 'head' or (face == 'visible' and is_front)

    def solve(g, prior):
        mid = (g[idx[left]] + g[idx[right]]) / 2
        away = _unit(_right_of(g[idx[left]] - g[idx[right]]))
        away = away if away @ mid >= 0 else -away
        fwd = -away if towards_camera else away
        return mid + away * prior[0] / 2, math.atan2(fwd[1], fwd[0])
    return 'axle_face', solve


def _cyclist_solve(g: np.ndarray, prior: np.ndarray) -> Tuple[np.ndarray, float]:
    fwd = g[0] - g[1]
    return (g[0] + g[1]) / 2, math.atan2(fwd[1], fwd[0])


def box_bottom_estimate(bbox: Sequence[float], calib: CameraCalibration,
                        class_name: str = 'vehicle',
                        priors: Optional[Mapping[str, Any]] = None) -> GroundEstimate:
    """The baseline: the box's bottom-centre pixel is the object's nearest point on the road.

    The footprint centre is half the prior length further along the viewing ray (the ground
    direction from the camera to that point). The heading is not measured: 0 is *assumed*
    (aligned with the camera axis) for classes with a length (vehicles, cyclists), NaN for
    classes with a square prior (pedestrians); its sigma is
    :data:`UNKNOWN_HEADING_SIGMA_DEG`. The distance sigma combines the box edge's pixel
    sigma, the unknown orientation (the nearest point is half a length or half a width from
    the centre) and, for a box touching the image border (cut off: its bottom may not be
    on the road), half the distance.

    Args:
        bbox: x1 y1 x2 y2, pixels of frames of ``calib.image_size``.
        calib: the camera.
        class_name: selects the size prior.
        priors: class -> (length_m, width_m[, wheelbase_m, track_m]) over
            :data:`DEFAULT_PRIORS`.

    Returns:
        GroundEstimate: ``method='box_bottom'``, ``num_points=0``; NaN when the bottom edge
        is at or above the horizon.
    """
    prior = _prior(priors, class_name, 'vehicle')
    x1, y1, x2, y2 = (float(v) for v in bbox)
    pixel = np.array([[(x1 + x2) / 2, y2]])
    near = calib.image_to_ground(pixel)[0]
    if not np.isfinite(near).all() or not np.hypot(*near) > 0:
        return _nan_estimate('box_bottom')
    ray = _unit(near)
    centre = near + ray * prior.length_m / 2
    cov = np.zeros((3, 3))
    cov[:2, :2] = _ground_covariances(calib, pixel, np.array([BOX_EDGE_SIGMA_PX]))[0]
    radial = (PRIOR_REL_SIGMA * prior.length_m / 2) ** 2 + (
        (prior.length_m - prior.width_m) / 4) ** 2
    w, h = calib.image_size
    if x1 <= 1 or y1 <= 1 or x2 >= w - 2 or y2 >= h - 2:
        radial += (0.5 * np.hypot(*centre)) ** 2
    cov[:2, :2] += radial * np.outer(ray, ray)
    heading = 0.0 if prior.length_m != prior.width_m else math.nan
    return _estimate(centre, heading, cov, 'box_bottom', 0, heading_known=False)


def vehicle_ground_estimate(bbox: Sequence[float], keypoints: np.ndarray,
                            keypoint_scores: np.ndarray, keypoint_names: Sequence[str],
                            calib: CameraCalibration, *,
                            visibility: Optional[np.ndarray] = None,
                            face: Optional[str] = None, class_name: str = 'vehicle',
                            score_thr: float = 0.3,
                            priors: Optional[Mapping[str, Any]] = None) -> GroundEstimate:
    """A vehicle's (or cyclist's) footprint centre and heading from its contact points.

    Args:
        bbox: x1 y1 x2 y2 pixels (for the box-bottom fallback).
        keypoints (np.ndarray): (K, 2) pixels, frames of ``calib.image_size``.
        keypoint_scores (np.ndarray): (K,) scores; a point is used when >= ``score_thr``
            (ground truth: scores ``v > 0`` and ``visibility=v``).
        keypoint_names (Sequence[str]): (K,) names; :data:`TYRES` and :data:`WHEELS` are
            used, any other is ignored.
        calib: the camera.
        visibility (np.ndarray, optional): (K,) COCO v: 0 absent (not used), 1 occluded
            (pixel sigma :data:`PIXEL_SIGMA_OCCLUDED`), 2 visible. Without it, a score below
            :data:`OCCLUDED_SCORE` counts as occluded.
        face (str, optional): ``'head'``, ``'tail'`` or ``'visible'`` (a face of unknown
            type) when a face of this vehicle is seen; enables ``'axle_face'``.
        class_name: selects the size prior (default per kind: ``'vehicle'`` for tyres,
            ``'cyclist'`` for wheels).
        score_thr: minimum keypoint score.
        priors: class -> (length_m, width_m[, wheelbase_m, track_m]) over
            :data:`DEFAULT_PRIORS`.

    Returns:
        GroundEstimate: the best construction the points allow (module docstring), else
        :func:`box_bottom_estimate`.
    """
    if face is not None and face not in FACES:
        raise ValueError(f'face must be one of {FACES} or None, got {face!r}')
    keypoints = np.asarray(keypoints, np.float64).reshape(-1, 2)
    scores = np.asarray(keypoint_scores, np.float64).reshape(-1)
    if not len(keypoints) == len(scores) == len(keypoint_names):
        raise ValueError(f'{len(keypoints)} keypoints, {len(scores)} scores and '
                         f'{len(keypoint_names)} names: expected one each')
    vis = None if visibility is None else np.asarray(visibility).reshape(-1)
    used = scores >= score_thr
    if vis is not None:
        used &= vis > 0
    occluded = (vis == 1) if vis is not None else scores < OCCLUDED_SCORE
    ground = calib.image_to_ground(keypoints)
    used &= np.isfinite(ground).all(1)
    slot = {n: i for i, n in enumerate(keypoint_names) if used[i]}
    wheels = [n for n in WHEELS if n in slot]
    tyres = [n for n in TYRES if n in slot]
    cyclist_like = not any(n in TYRES for n in keypoint_names)
    prior_name = class_name if class_name in _merged(priors) else (
        'cyclist' if cyclist_like else 'vehicle')
    if len(wheels) == 2 and len(tyres) < 2:
        method, solve, names = 'tyres', _cyclist_solve, wheels
    else:
        method, solve = _vehicle_solver(tyres, face) or (None, None)
        names = tyres
    if solve is None:
        return box_bottom_estimate(bbox, calib, prior_name, priors)
    prior = _prior(priors, prior_name, prior_name)
    rows = [slot[n] for n in names]
    sig_px = np.where(occluded[rows], PIXEL_SIGMA_OCCLUDED, PIXEL_SIGMA_VISIBLE)
    g = ground[rows]
    prior_vec = np.array([prior.wheelbase_m, prior.track_m])
    centre, heading = solve(g, prior_vec)
    cov = _propagate(solve, g, _ground_covariances(calib, keypoints[rows], sig_px),
                     prior_vec, PRIOR_REL_SIGMA * prior_vec)
    return _estimate(centre, heading, cov, method, len(rows))


def _face_inside(face_boxes: np.ndarray, box: np.ndarray) -> bool:
    """Whether any face box (M, 4) lies mostly (:data:`FACE_INSIDE`) inside ``box`` (4,)."""
    if not len(face_boxes):
        return False
    lt = np.maximum(face_boxes[:, :2], box[:2])
    rb = np.minimum(face_boxes[:, 2:], box[2:])
    inter = np.clip(rb - lt, 0, None).prod(1)
    area = np.clip(face_boxes[:, 2:] - face_boxes[:, :2], 1e-6, None).prod(1)
    return bool((inter / area >= FACE_INSIDE).any())


def ground_estimates(dets: Any, calib: CameraCalibration, *, score_thr: float = 0.3,
                     priors: Optional[Mapping[str, Any]] = None,
                     image_size: Optional[Tuple[int, int]] = None
                     ) -> List[Optional[Dict[str, GroundEstimate]]]:
    """Ground estimates of every detection of a runtime ``Detections``.

    Classes with tyre or wheel names get :func:`vehicle_ground_estimate` (a
    :data:`FACE_CLASS` detection with score >= ``score_thr`` lying inside a vehicle's box
    passes ``face='visible'``); classes without contact points but with a size prior
    (pedestrian) get the box bottom (heading NaN); the rest (vehicle faces) get None.

    Args:
        dets: a :class:`~yolox_kpt.runtime.Detections` (original pixels).
        calib: the camera.
        score_thr: minimum keypoint (and face) score.
        priors: class -> (length_m, width_m[, wheelbase_m, track_m]) over
            :data:`DEFAULT_PRIORS`.
        image_size: (width, height) of the frame the detections are in; the calibration is
            scaled to it when it differs from ``calib.image_size``.

    Returns:
        list: per detection, None or ``{'estimate': best method, 'box_bottom': baseline}``.
    """
    if image_size is not None:
        calib = calib.scaled_to(*image_size)
    layout = dets.layout
    merged = _merged(priors)
    labels = np.asarray(dets.labels).astype(int)
    faces = np.zeros((0, 4))
    if FACE_CLASS in layout.classes:
        faces = np.asarray(dets.bboxes)[(labels == layout.classes.index(FACE_CLASS))
                                        & (np.asarray(dets.scores) >= score_thr)]
    out: List[Optional[Dict[str, GroundEstimate]]] = []
    for i, label in enumerate(labels):
        class_name = layout.classes[label]
        slots = list(layout.class_slots[label])
        names = list(layout.class_keypoint_names(label))
        contact = any(n in TYRES or n in WHEELS for n in names)
        if not contact and class_name not in merged:
            out.append(None)
            continue
        box = np.asarray(dets.bboxes[i], np.float64)
        fallback = 'vehicle' if any(n in TYRES for n in names) else (
            'cyclist' if contact else 'pedestrian')
        prior_name = class_name if class_name in merged else fallback
        baseline = box_bottom_estimate(box, calib, prior_name, priors)
        if contact:
            face = 'visible' if any(n in TYRES for n in names) and _face_inside(
                faces, box) else None
            best = vehicle_ground_estimate(
                box, dets.keypoints[i, slots], dets.keypoint_scores[i, slots], names, calib,
                face=face, class_name=prior_name, score_thr=score_thr, priors=priors)
        else:
            best = baseline
        out.append({'estimate': best, 'box_bottom': baseline})
    return out


def estimates_json(estimates: Sequence[Optional[Dict[str, GroundEstimate]]]
                   ) -> List[Optional[Dict[str, Dict[str, Any]]]]:
    """:func:`ground_estimates`' output as JSON-ready dicts (NaN as None)."""
    return [None if e is None else {k: v.to_dict() for k, v in e.items()} for e in estimates]


def estimate_labels(estimates: Sequence[Optional[Dict[str, GroundEstimate]]]
                    ) -> List[Optional[str]]:
    """Per detection, the best estimate's short text (:meth:`GroundEstimate.label`) or None,
    for ``draw_frame(..., texts=...)``."""
    return [None if e is None else e['estimate'].label() for e in estimates]
