"""Seeded synthetic front-camera road scenes with tyre and bicycle-wheel keypoints.

The scenes are meant to be *learnable*: a small CNN trained on a few hundred of them for a
few minutes on a CPU should find vehicles, vehicle faces, pedestrians and cyclists, and put
keypoints on tyres. They are not photo-realistic. Output is COCO keypoint JSON + JPEG::

    <out>/annotations/train.json   <out>/images/train/000000.jpg ...
    <out>/annotations/val.json     <out>/images/val/000000.jpg ...

Classes and keypoints are those of the real driving data (:mod:`.driving_schema`); the
scenes draw them so:

* ``vehicle``: the whole vehicle; keypoints are the ground-contact points (bottom centre)
  of its four tyres.
* ``vehicle_face``: the visible head (front) or tail (rear) face of a vehicle; every
  vehicle has one, lying inside the vehicle box. Tail faces carry red lights at their upper
  corners and a plate; head faces white/yellow lights and a dark grille.
* ``pedestrian``: an upright figure; no keypoints.
* ``cyclist``: bicycle plus rider; keypoints are the ground-contact points of the front and
  rear wheel (the front wheel is the one in the riding direction).

Left/right convention
---------------------
Tyre names use the vehicle's *own* sides, as its driver sees them, not the image's sides:

* rear view (a car ahead of us; we see its tail): its left tyres are on the image LEFT;
* front view (an oncoming car; we see its head): its left tyres are on the image RIGHT;
* 3/4 views: ``'left_side_3q'`` shows the vehicle's own left flank and ``'right_side_3q'``
  its right flank, plus one face (head or tail). With the tail visible the left flank is
  on the image left of the tail face; with the head visible, on the image right of it.

Hence in every annotation, whenever both tyres of an axle are labelled,
``x(rear_left) < x(rear_right)`` and ``x(front_left) > x(front_right)``. This is the usual
"names are the object's sides" convention, so a horizontal flip swaps left/right names.

Keypoint visibility is geometric: in a rear/front view the two tyres of the visible axle
are ``v=2`` and the other axle ``v=0`` (unlabelled, ``x=y=0``). In a 3/4 view the two
tyres of the visible flank are ``v=2``, the far tyre of the visible face's axle is ``v=1``
(drawn peeking out under the face, position labelled) and the remaining one ``v=0``. A
``v=2`` point whose pixels end up painted over by a nearer object becomes ``v=1``; a point
outside the image becomes ``v=0``.

Pinhole scenes
--------------
``camera='pinhole'`` (:func:`make_pinhole_scene`) draws the same classes through a sampled
pinhole camera (``yolox_kpt.runtime.calibration.CameraCalibration``: 1.2-1.8 m above a flat
road, pitched 0-8 deg down, rolled up to 1.5 deg, focal length 0.8-1.2 x the width): vehicles
are 3D bodies (lower body, cabin, four tyres) placed in lanes 5-60 m ahead with any heading
(ahead, oncoming, crossing), cyclists 3D stick figures on two wheels, pedestrians upright
boxes of their height. Keypoints are the projections of the ground contacts, so distances,
headings, boxes and points agree; visibility comes from the drawing: ``v=2`` where the
tyre's own pixels show just above its contact point, ``v=1`` where the vehicle's own body
(far-side tyres) or a nearer object hides them, ``v=0`` outside the image. Boxes may be cut
by the image border (at most half of the box; ``truncated`` says how much). Each image
entry stores its camera as ``camera`` and the annotations carry the ground truth
(:data:`GT_FIELDS`, in the calibration's ground frame: x forward, y left, metres; heading
in degrees counter-clockwise from x, 0 = driving away, 180 = oncoming).

Only numpy, OpenCV and the standard library are imported (tqdm when a bar is shown; the
calibration class for pinhole scenes), so the module loads fast.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..utils.progress import progress as progress_bar
from .coco import write_json
from .driving_schema import CLASSES, KEYPOINTS, coco_categories

#: Vehicle viewpoints, sampled uniformly.
VIEWPOINTS: Tuple[str, ...] = ('rear', 'front', 'left_side_3q', 'right_side_3q')

#: The val split's random stream is seeded with ``seed + VAL_SEED_OFFSET`` (held out).
VAL_SEED_OFFSET = 1_000_003

# cv2 drawing takes fixed-point coordinates with this many fractional bits; sub-pixel
# placement keeps the drawn tyre bottoms on the labelled contact points.
_SHIFT = 4
_ONE = 1 << _SHIFT

_REF_W, _REF_H = 320, 256
_MIN_SIDE_REF = 14.0  # px at 320x256; smaller objects are re-sampled
_MAX_COVER = 0.7  # boxes covered more than this by nearer boxes are re-sampled
_EMPTY_PROB = 0.05
_MAX_TRIES = 30
_TYRE_MIN_RY = 3.5  # px: keeps 2-3 px above a contact point inside the tyre
_TYRE_MIN_RX = 2.5
_WHEEL_MIN_R = 6.0  # px: smaller bicycles put the frame's hub joints on the contact pixels

Box = Tuple[float, float, float, float]
Color = Tuple[int, int, int]
ProgressFn = Callable[[Iterable[int], int, str], Iterable[int]]

# (name, width m, height m, belt-line fraction of height from the roof)
_VEHICLE_TYPES = (('car', 1.8, 1.45, 0.45), ('suv', 1.9, 1.75, 0.42),
                  ('van', 2.0, 2.1, 0.36))


# --------------------------------------------------------------------------- drawing


def _fx(pts: Sequence[Tuple[float, float]]) -> np.ndarray:
    """Float points -> (N, 2) int32 fixed-point array for cv2's ``shift`` argument."""
    return np.round(np.asarray(pts, dtype=np.float64) * _ONE).astype(np.int32)


class _Painter:
    """Draws every primitive on the BGR image and, with the object's id, on an id map.

    The id map records which object owns each pixel after painter's-order drawing; it
    tells whether a keypoint was painted over by a nearer object.
    """

    def __init__(self, img: np.ndarray, ids: np.ndarray):
        self.img = img
        self.ids = ids
        self.oid = 0

    def poly(self, pts: Sequence[Tuple[float, float]], color: Color) -> None:
        p = [_fx(pts)]
        cv2.fillPoly(self.img, p, color, cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(self.ids, p, self.oid, cv2.LINE_8, _SHIFT)

    def ellipse(self, center: Tuple[float, float], axes: Tuple[float, float],
                color: Color) -> None:
        c = tuple(int(v) for v in _fx([center])[0])
        a = tuple(int(round(v * _ONE)) for v in axes)
        cv2.ellipse(self.img, c, a, 0, 0, 360, color, -1, cv2.LINE_AA, _SHIFT)
        cv2.ellipse(self.ids, c, a, 0, 0, 360, self.oid, -1, cv2.LINE_8, _SHIFT)

    def circle(self, center: Tuple[float, float], radius: float, color: Color,
               thickness: int = -1) -> None:
        c = tuple(int(v) for v in _fx([center])[0])
        r = int(round(radius * _ONE))
        cv2.circle(self.img, c, r, color, thickness, cv2.LINE_AA, _SHIFT)
        cv2.circle(self.ids, c, r, self.oid, thickness, cv2.LINE_8, _SHIFT)

    def line(self, p: Tuple[float, float], q: Tuple[float, float], color: Color,
             thickness: int) -> None:
        a, b = (tuple(int(v) for v in x) for x in _fx([p, q]))
        t = max(1, int(thickness))
        cv2.line(self.img, a, b, color, t, cv2.LINE_AA, _SHIFT)
        cv2.line(self.ids, a, b, self.oid, t, cv2.LINE_8, _SHIFT)

    def polyline(self, pts: Sequence[Tuple[float, float]], color: Color, thickness: int,
                 closed: bool = True) -> None:
        p = [_fx(pts)]
        t = max(1, int(thickness))
        cv2.polylines(self.img, p, closed, color, t, cv2.LINE_AA, _SHIFT)
        cv2.polylines(self.ids, p, closed, self.oid, t, cv2.LINE_8, _SHIFT)


def _color(c: Iterable[float]) -> Color:
    return tuple(int(np.clip(round(float(v)), 0, 255)) for v in c)  # type: ignore[return-value]


def _scale(c: Color, f: float) -> Color:
    return _color(np.asarray(c, dtype=np.float64) * f)


def _hsv_color(h: float, s: float, v: float) -> Color:
    """HSV in [0, 1] -> BGR uint8 tuple."""
    px = np.array([[[h * 179.0, s * 255.0, v * 255.0]]], dtype=np.float32)
    px = np.clip(np.round(px), 0, 255).astype(np.uint8)
    return _color(cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0])


def _tyre_color(rng: np.random.Generator) -> Color:
    g = rng.uniform(18, 34)
    return _color((g, g, g + rng.uniform(0, 4)))


# --------------------------------------------------------------------------- scene layout


@dataclass
class _Ground:
    """Flat-ground perspective: object scale grows linearly below the horizon.

    Attributes:
        w, h (int): image size.
        horizon (float): y of the horizon line.
        vx (float): x of the vanishing point.
        u_max (float): pixels per metre on the bottom image row.
    """
    w: int
    h: int
    horizon: float
    vx: float
    u_max: float

    def y_at(self, s: float) -> float:
        """Image row of ground points with scale fraction ``s`` (1 = bottom row)."""
        return self.horizon + s * (self.h - 1 - self.horizon)

    def u_at(self, y: float) -> float:
        """Pixels per metre for objects standing on row ``y``."""
        return self.u_max * (y - self.horizon) / (self.h - 1 - self.horizon)


def _clip_box(b: Box, w: int, h: int) -> Box:
    return (min(max(b[0], 0.0), w), min(max(b[1], 0.0), h), min(max(b[2], 0.0), w),
            min(max(b[3], 0.0), h))


def _area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _cover_fraction(box: Box, others: Sequence[Box]) -> float:
    """Fraction of ``box`` covered by the union of ``others`` (rasterised at 1 px)."""
    x1, y1 = int(round(box[0])), int(round(box[1]))
    x2, y2 = max(x1 + 1, int(round(box[2]))), max(y1 + 1, int(round(box[3])))
    m = np.zeros((y2 - y1, x2 - x1), dtype=bool)
    for o in others:
        ox1 = min(max(int(round(o[0])) - x1, 0), x2 - x1)
        ox2 = min(max(int(round(o[2])) - x1, 0), x2 - x1)
        oy1 = min(max(int(round(o[1])) - y1, 0), y2 - y1)
        oy2 = min(max(int(round(o[3])) - y1, 0), y2 - y1)
        m[oy1:oy2, ox1:ox2] = True
    return float(m.mean())


@dataclass
class _Object:
    """A placed object. ``box`` is unclipped [x1, y1, x2, y2]; ``depth`` orders drawing."""
    box: Box
    depth: Tuple[float, int] = (0.0, 0)
    # Ground truth of pinhole scenes (metres, degrees), copied into the object's record.
    gt: Dict[str, object] = field(default_factory=dict)

    def cover_boxes(self) -> List[Box]:
        """Boxes that must stay visible (>= 30 %) for the object to be kept."""
        return [self.box]

    def drawable(self) -> bool:
        """Whether the object is large enough for its parts to be drawn distinctly."""
        return True

    def draw(self, p: _Painter) -> None:
        raise NotImplementedError

    def records(self, ids: np.ndarray, oid: int) -> List[dict]:
        raise NotImplementedError


def _finish_keypoints(pts: Sequence[Tuple[float, float, int]], ids: np.ndarray,
                      oid: int) -> List[Tuple[float, float, int]]:
    """Applies image bounds and occlusion by nearer objects to (x, y, v) points."""
    h, w = ids.shape
    out = []
    for x, y, v in pts:
        if v == 0 or not (0.0 <= x <= w - 1 and 0.0 <= y <= h - 1):
            out.append((0.0, 0.0, 0))
            continue
        if v == 2:
            xi, yi = int(round(x)), int(round(y))
            # The 2-4 px just above the contact point are the tyre's own pixels unless a
            # nearer object was painted there. One extra column each side because the
            # anti-aliased edge of a neighbour, absent from the id map, bleeds 1 px.
            near = ids[max(yi - 4, 0):max(yi - 1, 1), max(xi - 1, 0):xi + 2]
            if not np.all(near == oid):
                v = 1
        out.append((float(x), float(y), v))
    return out


def _clipped_record(category: str, box: Box, ids: np.ndarray, **extra) -> dict:
    h, w = ids.shape
    rec = dict(category=category, bbox=list(_clip_box(box, w, h)), keypoints=[])
    rec.update(extra)
    return rec


# --------------------------------------------------------------------------- vehicle


@dataclass
class _VehicleLook(_Object):
    """A vehicle's colours (2D and pinhole scenes)."""
    body: Color = (0, 0, 255)
    window: Color = (60, 50, 40)
    tyre: Color = (25, 25, 25)
    light: Color = (30, 30, 220)
    plate: Color = (230, 230, 230)


@dataclass
class _Vehicle(_VehicleLook):
    viewpoint: str = 'rear'
    face_type: str = 'tail'  # 'tail' (rear face) or 'head' (front face)
    face_box: Box = (0, 0, 0, 0)  # [x1, roof, x2, bumper bottom]
    panel: Optional[Tuple[float, float]] = None  # (junction x, far-end x) of the flank
    belt: float = 0.45
    # name -> (centre x, centre y, rx, ry, v, drawn_before_body)
    tyres: Dict[str, Tuple[float, float, float, float, int, bool]] = field(
        default_factory=dict)

    def cover_boxes(self) -> List[Box]:
        return [self.box, self.face_box]

    def draw(self, p: _Painter) -> None:
        for cx, cy, rx, ry, v, before in self.tyres.values():
            if v and before:
                p.ellipse((cx, cy), (rx, ry), self.tyre)
        if self.panel is not None:
            self._draw_panel(p)
        self._draw_face(p)
        for cx, cy, rx, ry, v, before in self.tyres.values():
            if v and not before:
                # Wheel arch first so the tyre sits in a dark recess of the flank.
                p.ellipse((cx, cy - 0.15 * ry), (rx * 1.25, ry * 1.05),
                          _scale(self.body, 0.35))
                p.ellipse((cx, cy), (rx, ry), self.tyre)
                if ry >= 8:  # hubcap only where it stays clear of the contact pixels
                    p.ellipse((cx, cy), (0.45 * rx, 0.4 * ry), (150, 150, 150))

    def _draw_face(self, p: _Painter) -> None:
        fx1, y1, fx2, yb = self.face_box
        fw, fh = fx2 - fx1, yb - y1
        belt = y1 + self.belt * fh
        # Greenhouse: narrower at the roof; window inset from it.
        p.poly([(fx1 + 0.12 * fw, y1), (fx2 - 0.12 * fw, y1), (fx2 - 0.02 * fw, belt),
                (fx1 + 0.02 * fw, belt)], self.body)
        p.poly([(fx1 + 0.18 * fw, y1 + 0.12 * (belt - y1)),
                (fx2 - 0.18 * fw, y1 + 0.12 * (belt - y1)),
                (fx2 - 0.09 * fw, belt - 0.06 * (belt - y1)),
                (fx1 + 0.09 * fw, belt - 0.06 * (belt - y1))], self.window)
        # Lower body with chamfered bottom corners.
        bh = yb - belt
        p.poly([(fx1, belt), (fx2, belt), (fx2, yb - 0.2 * bh), (fx2 - 0.04 * fw, yb),
                (fx1 + 0.04 * fw, yb), (fx1, yb - 0.2 * bh)], self.body)
        lw, lh, ly = 0.2 * fw, max(0.2 * bh, 1.5), belt + 0.1 * bh
        if self.face_type == 'tail':
            for lx in (fx1 + 0.04 * fw, fx2 - 0.04 * fw - lw):
                p.poly([(lx, ly), (lx + lw, ly), (lx + lw, ly + lh), (lx, ly + lh)],
                       self.light)
        else:
            for lx in (fx1 + 0.05 * fw, fx2 - 0.05 * fw - lw):
                p.ellipse((lx + lw / 2, ly + lh / 2), (lw / 2, lh / 2 + 0.5), self.light)
            gw, gh = 0.36 * fw, 0.3 * bh
            gx, gy = (fx1 + fx2) / 2 - gw / 2, ly
            p.poly([(gx, gy), (gx + gw, gy), (gx + gw, gy + gh), (gx, gy + gh)],
                   (38, 38, 42))
        pw, ph = 0.28 * fw, max(0.14 * bh, 1.2)
        px, py = (fx1 + fx2) / 2 - pw / 2, yb - 0.38 * bh
        p.poly([(px, py), (px + pw, py), (px + pw, py + ph), (px, py + ph)], self.plate)

    def _draw_panel(self, p: _Painter) -> None:
        xj, xf = self.panel  # type: ignore[misc]
        x1, y1, x2, y2 = self.box
        h = y2 - y1
        sw = xf - xj  # signed: points from the junction to the far end
        belt = y1 + self.belt * (self.face_box[3] - y1)
        sill = y2 - 0.9 * max(t[3] for t in self.tyres.values())
        side = _scale(self.body, 0.78)  # shaded, so the flank is distinct from the face
        p.poly([(xj, y1), (xj + 0.68 * sw, y1 + 0.07 * h), (xj + 0.86 * sw, belt),
                (xf, belt + 0.1 * h), (xf, sill), (xj, sill)], side)
        p.poly([(xj + 0.06 * sw, y1 + 0.1 * h), (xj + 0.64 * sw, y1 + 0.14 * h),
                (xj + 0.8 * sw, belt - 0.03 * h), (xj + 0.06 * sw, belt - 0.03 * h)],
               self.window)
        t = max(1, int(round(0.012 * h)))
        p.line((xj + 0.45 * sw, belt), (xj + 0.45 * sw, sill), _scale(side, 0.6), t)

    def records(self, ids: np.ndarray, oid: int) -> List[dict]:
        h, w = ids.shape
        pts = [(cx, cy + ry, v) if v else (0.0, 0.0, 0)
               for cx, cy, rx, ry, v, _ in (self.tyres[n] for n in KEYPOINTS['vehicle'])]
        veh = _clipped_record('vehicle', self.box, ids, viewpoint=self.viewpoint,
                              face_type=self.face_type)
        veh['keypoints'] = _finish_keypoints(pts, ids, oid)
        out = [veh]
        face = _clip_box(self.face_box, w, h)
        if min(face[2] - face[0], face[3] - face[1]) >= 4.0:
            out.append(_clipped_record('vehicle_face', self.face_box, ids,
                                       viewpoint=self.viewpoint, face_type=self.face_type))
        return out


def _vehicle_colors(rng: np.random.Generator) -> Tuple[Color, Color]:
    # Never darker than V=0.45, so tyres stay the darkest thing on a vehicle.
    body = _hsv_color(rng.uniform(0, 1), rng.uniform(0.4, 0.9), rng.uniform(0.5, 0.92))
    window = _color(np.asarray(body) * 0.15 + np.array([70, 55, 40]) * rng.uniform(0.8, 1.2))
    return body, window


def _sample_vehicle(rng: np.random.Generator, ground: _Ground, x_c: float,
                    y_b: float) -> _Vehicle:
    u = ground.u_at(y_b)
    _, wm, hm, belt = _VEHICLE_TYPES[int(rng.integers(len(_VEHICLE_TYPES)))]
    wm *= rng.uniform(0.95, 1.05)
    hm *= rng.uniform(0.95, 1.05)
    viewpoint = VIEWPOINTS[int(rng.integers(len(VIEWPOINTS)))]
    if viewpoint == 'rear':
        face_type, side = 'tail', None
    elif viewpoint == 'front':
        face_type, side = 'head', None
    else:
        face_type = 'tail' if rng.random() < 0.5 else 'head'
        side = 'left' if viewpoint.startswith('left') else 'right'

    h = hm * u
    if side is None:
        fw = wm * u
        total = fw
    else:
        fw = wm * u * rng.uniform(0.75, 0.9)  # face foreshortened by the yaw
        total = fw / rng.uniform(0.35, 0.6)
    x1, x2, y2 = x_c - total / 2, x_c + total / 2, y_b
    y1 = y2 - h

    ry_f = max(_TYRE_MIN_RY, 0.11 * h)
    rx_f = max(_TYRE_MIN_RX, 0.085 * fw)
    # Bumper bottom stays >= 4.5 px above the ground so the contact-point neighbourhood
    # under a face is tyre, not body.
    bumper = y2 - max(0.9 * ry_f, 4.5)
    axle = 'rear' if face_type == 'tail' else 'front'
    other = 'front' if axle == 'rear' else 'rear'
    # Image-left / image-right tyre names of the face's axle (see module docstring).
    img_left, img_right = ('left', 'right') if face_type == 'tail' else ('right', 'left')

    tyres: Dict[str, Tuple[float, float, float, float, int, bool]] = {
        n: (0.0, 0.0, 0.0, 0.0, 0, True) for n in KEYPOINTS['vehicle']}
    panel = None
    if side is None:
        fx1, fx2 = x1, x2
        inset = rx_f + 0.05 * fw
        tyres[f'{axle}_{img_left}_tyre'] = (fx1 + inset, y2 - ry_f, rx_f, ry_f, 2, True)
        tyres[f'{axle}_{img_right}_tyre'] = (fx2 - inset, y2 - ry_f, rx_f, ry_f, 2, True)
    else:
        panel_left = (side == 'left') == (face_type == 'tail')
        if panel_left:
            fx1, fx2 = x2 - fw, x2
            panel = (fx1, x1)
        else:
            fx1, fx2 = x1, x1 + fw
            panel = (fx2, x2)
        opp = 'right' if side == 'left' else 'left'
        # Far tyre of the face axle: peeks out under the face's outer corner, its top
        # hidden by the bumper; a little higher, as it stands further away.
        ry_o = max(_TYRE_MIN_RY, 0.9 * ry_f)
        rx_o = max(_TYRE_MIN_RX, 0.8 * rx_f)
        ox = fx2 - rx_o - 0.05 * fw if panel_left else fx1 + rx_o + 0.05 * fw
        tyres[f'{axle}_{opp}_tyre'] = (ox, y2 - 1.0 - ry_o, rx_o, ry_o, 1, True)
        # Near flank tyres, seen side-on: rounder, inside wheel arches.
        ry_s = max(_TYRE_MIN_RY, 0.15 * h)
        rx_s = max(_TYRE_MIN_RX, ry_s * rng.uniform(0.55, 0.8))
        xj, xf = panel
        sw = xf - xj
        d = 1.0 if sw > 0 else -1.0
        off = 0.15 * abs(sw) + 0.5 * rx_s
        near_j = xj + d * off
        near_f = xf - d * off
        # Keep both tyres inside the box even for short flanks.
        near_j = min(max(near_j, x1 + rx_s), x2 - rx_s)
        near_f = min(max(near_f, x1 + rx_s), x2 - rx_s)
        tyres[f'{axle}_{side}_tyre'] = (near_j, y2 - ry_s, rx_s, ry_s, 2, False)
        tyres[f'{other}_{side}_tyre'] = (near_f, y2 - ry_s, rx_s, ry_s, 2, False)

    body, window = _vehicle_colors(rng)
    if face_type == 'tail':
        light = _color((rng.uniform(20, 50), rng.uniform(20, 50), rng.uniform(200, 245)))
    elif rng.random() < 0.6:
        light = _color((rng.uniform(225, 250), ) * 3)
    else:
        light = _color((rng.uniform(90, 140), rng.uniform(215, 240), rng.uniform(235, 255)))
    plate = _color((rng.uniform(215, 245), rng.uniform(225, 245), rng.uniform(225, 245)))
    return _Vehicle(box=(x1, y1, x2, y2), viewpoint=viewpoint, face_type=face_type,
                    face_box=(fx1, y1, fx2, bumper), panel=panel, belt=belt, body=body,
                    window=window, tyre=_tyre_color(rng), light=light, plate=plate,
                    tyres=tyres)


# --------------------------------------------------------------------------- pedestrian


@dataclass
class _Pedestrian(_Object):
    skin: Color = (150, 180, 220)
    hair: Color = (30, 30, 40)
    shirt: Color = (0, 0, 200)
    trousers: Color = (80, 60, 40)
    shoes: Color = (30, 30, 30)
    stride: float = 0.3  # feet half-spread / box half-width
    arm_l: float = 1.0  # hand reach / box half-width, per side
    arm_r: float = 1.0

    def draw(self, p: _Painter) -> None:
        x1, y1, x2, y2 = self.box
        h = y2 - y1
        cx, hw = (x1 + x2) / 2, (x2 - x1) / 2
        limb = max(2, int(round(0.075 * h)))
        arm = max(2, int(round(0.06 * h)))
        shoulder_y, hip_y = y1 + 0.18 * h, y1 + 0.53 * h
        sw, hpw = min(0.11 * h, 0.8 * hw), min(0.08 * h, 0.6 * hw)
        # Legs, then torso over the hip joints, arms, head.
        foot_h = max(1.5, 0.03 * h)
        reach = max(hw * self.stride - limb / 2, 0.0)
        for sgn, shade in ((-1, 0.8), (1, 1.0)):
            hip = (cx + sgn * 0.4 * hpw, hip_y)
            foot = (cx + sgn * reach, y2 - foot_h - limb / 2)
            p.line(hip, foot, _scale(self.trousers, shade), limb)
            p.ellipse((foot[0] + 0.3 * limb * sgn, y2 - foot_h), (limb * 0.7, foot_h),
                      self.shoes)
        p.poly([(cx - sw, shoulder_y), (cx + sw, shoulder_y), (cx + hpw, hip_y + 0.03 * h),
                (cx - hpw, hip_y + 0.03 * h)], self.shirt)
        for sgn, r in ((-1, self.arm_l), (1, self.arm_r)):
            hand = (cx + sgn * (hw * r - arm / 2 - 0.5), y1 + 0.5 * h)
            p.line((cx + sgn * sw * 0.85, shoulder_y + arm / 2), hand,
                   _scale(self.shirt, 0.85), arm)
            p.circle(hand, max(1.0, arm * 0.55), self.skin)
        hr = min(0.08 * h, 0.9 * hw)
        p.circle((cx, y1 + hr), hr, self.skin)
        p.ellipse((cx, y1 + 0.7 * hr), (hr, 0.7 * hr), self.hair)
        p.circle((cx, y1 + 1.15 * hr), 0.8 * hr, self.skin)

    def records(self, ids: np.ndarray, oid: int) -> List[dict]:
        return [_clipped_record('pedestrian', self.box, ids)]


_SKINS = ((150, 180, 225), (120, 150, 200), (80, 110, 160), (60, 80, 120), (170, 200, 235))


def _clothing(rng: np.random.Generator) -> Color:
    return _hsv_color(rng.uniform(0, 1), rng.uniform(0.2, 0.95), rng.uniform(0.25, 0.95))


def _sample_pedestrian(rng: np.random.Generator, ground: _Ground, x_c: float,
                       y_b: float) -> _Pedestrian:
    u = ground.u_at(y_b)
    h = rng.uniform(1.55, 1.9) * u
    w = rng.uniform(0.35, 0.45) * h
    return _Pedestrian(box=(x_c - w / 2, y_b - h, x_c + w / 2, y_b),
                       skin=_SKINS[int(rng.integers(len(_SKINS)))],
                       hair=_color(rng.uniform(15, 60, size=3)),
                       shirt=_clothing(rng), trousers=_clothing(rng),
                       shoes=_color((rng.uniform(20, 50), ) * 3),
                       stride=rng.uniform(0.2, 1.0), arm_l=rng.uniform(0.7, 1.0),
                       arm_r=rng.uniform(0.7, 1.0))


# --------------------------------------------------------------------------- cyclist


@dataclass
class _RiderLook(_Object):
    """A cyclist's colours and pedal angle (2D and pinhole scenes)."""
    frame: Color = (0, 160, 255)
    tyre: Color = (25, 25, 25)
    shirt: Color = (200, 0, 0)
    trousers: Color = (50, 50, 50)
    skin: Color = (150, 180, 225)
    helmet: Color = (240, 240, 240)
    crank: float = 0.0  # pedal angle, rad


def _rider_look(rng: np.random.Generator) -> Dict[str, object]:
    """Random :class:`_RiderLook` fields (the draws in the order the 2D scenes made them)."""
    return dict(frame=_hsv_color(rng.uniform(0, 1), rng.uniform(0.6, 1.0),
                                 rng.uniform(0.6, 1.0)),
                tyre=_tyre_color(rng), shirt=_clothing(rng), trousers=_clothing(rng),
                skin=_SKINS[int(rng.integers(len(_SKINS)))],
                helmet=_hsv_color(rng.uniform(0, 1), rng.uniform(0, 0.8),
                                  rng.uniform(0.6, 1.0)),
                crank=rng.uniform(0, 2 * math.pi))


@dataclass
class _Cyclist(_RiderLook):
    direction: int = 1  # +1: riding towards the image right
    r: float = 10.0  # wheel radius, px

    def drawable(self) -> bool:
        return self.r >= _WHEEL_MIN_R

    def _hubs(self) -> Tuple[float, float, float]:
        x1, _, x2, y2 = self.box
        xl, xr = x1 + self.r, x2 - self.r
        front, rear = (xr, xl) if self.direction > 0 else (xl, xr)
        return front, rear, y2 - self.r

    def draw(self, p: _Painter) -> None:
        x1, y1, x2, y2 = self.box
        h, r, d = y2 - y1, self.r, float(self.direction)
        xf, xr, yh = self._hubs()
        span = abs(xf - xr)
        bb = (xr + d * 0.45 * span, y2 - 0.95 * r)
        seat = (xr + d * 0.28 * span, y2 - 2.05 * r)
        head_tube = (xf - d * 0.12 * span, y2 - 2.0 * r)
        bar = (head_tube[0] + d * 0.03 * span, head_tube[1] - 0.25 * r)
        ft = max(2, int(round(0.12 * r)))
        limb = max(2, int(round(0.07 * h)))
        hr = 0.11 * h
        head = (xr + d * 0.87 * span, y1 + hr)
        shoulder = (head[0] - d * 0.13 * span, y1 + 2.3 * hr)
        hip = (seat[0], seat[1] - 0.15 * r)
        ca, sa = math.cos(self.crank), math.sin(self.crank)
        pedals = [(bb[0] + k * 0.4 * r * ca, bb[1] + k * 0.4 * r * sa) for k in (1, -1)]

        # Far leg (shaded) behind the frame, then wheels and frame, then near leg and rider.
        def leg(pedal: Tuple[float, float], color: Color) -> None:
            knee = ((hip[0] + pedal[0]) / 2 + d * 0.35 * r,
                    (hip[1] + pedal[1]) / 2 - 0.35 * r)
            p.line(hip, knee, color, limb)
            p.line(knee, pedal, color, limb)

        leg(pedals[1], _scale(self.trousers, 0.7))
        t = max(4, int(round(0.22 * r)))  # >= 4 px: 2-3 px above contact is tyre
        for cx in (xf, xr):
            p.circle((cx, yh), r - t / 2, self.tyre, t)
            # Diagonal spokes, kept inside the tyre ring: they must not cross the
            # contact point's column just above the ground.
            sp = 0.7 * max(r - t, 0.0)
            for sx in (-sp, sp):
                p.line((cx - sx, yh - sp), (cx + sx, yh + sp), (160, 160, 160), 1)
        for a, b in ((self._rear_hub(), bb), (self._rear_hub(), seat), (bb, seat),
                     (seat, head_tube), (bb, head_tube), (head_tube, (xf, yh)),
                     (head_tube, bar)):
            p.line(a, b, self.frame, ft)
        leg(pedals[0], self.trousers)
        p.line(hip, shoulder, self.shirt, max(3, int(round(0.13 * h))))
        p.line(shoulder, bar, _scale(self.shirt, 0.85), max(2, int(round(0.05 * h))))
        p.circle(head, hr, self.skin)
        p.ellipse((head[0], head[1] - 0.25 * hr), (hr * 1.05, 0.75 * hr), self.helmet)

    def _rear_hub(self) -> Tuple[float, float]:
        _, xr, yh = self._hubs()
        return (xr, yh)

    def records(self, ids: np.ndarray, oid: int) -> List[dict]:
        xf, xr, _ = self._hubs()
        y2 = self.box[3]
        rec = _clipped_record('cyclist', self.box, ids,
                              direction='right' if self.direction > 0 else 'left')
        rec['keypoints'] = _finish_keypoints([(xf, y2, 2), (xr, y2, 2)], ids, oid)
        return [rec]


def _sample_cyclist(rng: np.random.Generator, ground: _Ground, x_c: float,
                    y_b: float) -> _Cyclist:
    u = ground.u_at(y_b)
    h = rng.uniform(1.7, 1.85) * u
    length = rng.uniform(1.6, 1.8) * u
    r = rng.uniform(0.32, 0.36) * u
    return _Cyclist(box=(x_c - length / 2, y_b - h, x_c + length / 2, y_b),
                    direction=1 if rng.random() < 0.5 else -1, r=r, **_rider_look(rng))


# --------------------------------------------------------------------------- background


def _sample_ground(rng: np.random.Generator, w: int, h: int) -> _Ground:
    return _Ground(w=w, h=h, horizon=h * rng.uniform(0.35, 0.5),
                   vx=w * rng.uniform(0.38, 0.62),
                   u_max=0.2 * min(w, 1.25 * h) * rng.uniform(0.9, 1.1))


def _draw_background(rng: np.random.Generator, g: _Ground) -> np.ndarray:
    """Sky gradient, verge, road with lane markings, roadside clutter. (H, W, 3) uint8."""
    w, h, hz = g.w, g.h, g.horizon
    img = np.empty((h, w, 3), dtype=np.float32)
    hzi = int(math.ceil(hz))
    if rng.random() < 0.75:  # clear sky
        top = np.array([rng.uniform(170, 230), rng.uniform(120, 170), rng.uniform(60, 110)])
    else:  # overcast
        top = np.full(3, rng.uniform(150, 200))
    bottom = np.array([rng.uniform(215, 245), rng.uniform(205, 235), rng.uniform(190, 225)])
    t = np.linspace(0.0, 1.0, max(hzi, 1), dtype=np.float32)[:, None, None]
    img[:hzi] = top * (1 - t) + bottom * t
    verge = np.array([rng.uniform(50, 90), rng.uniform(100, 140), rng.uniform(80, 115)])
    t = np.linspace(0.0, 1.0, h - hzi, dtype=np.float32)[:, None, None]
    img[hzi:] = verge * (0.85 + 0.25 * t)
    img = np.clip(img, 0, 255).astype(np.uint8)

    def col(c: Iterable[float]) -> Color:
        return _color(c)

    # Far clutter standing on the horizon: buildings and tree blobs, all desaturated
    # greys/greens so they never look like the labelled classes.
    if rng.random() < 0.6:
        for _ in range(int(rng.integers(1, 7))):
            bw, bh = w * rng.uniform(0.04, 0.18), h * rng.uniform(0.04, 0.22)
            bx = rng.uniform(-0.05, 1.0) * w
            c = col(np.full(3, rng.uniform(110, 200)) + rng.uniform(-12, 12, size=3))
            cv2.fillPoly(img, [_fx([(bx, hz - bh), (bx + bw, hz - bh), (bx + bw, hz + 1),
                                    (bx, hz + 1)])], c, cv2.LINE_AA, _SHIFT)
    for _ in range(int(rng.integers(0, 9))):
        rr = rng.uniform(0.01, 0.07) * h
        c = col((rng.uniform(35, 75), rng.uniform(85, 135), rng.uniform(40, 80)))
        cv2.ellipse(img, tuple(int(v) for v in _fx([(rng.uniform(0, w), hz - 0.4 * rr)])[0]),
                    (int(rr * rng.uniform(0.8, 1.6) * _ONE), int(rr * _ONE)), 0, 0, 360, c,
                    -1, cv2.LINE_AA, _SHIFT)

    # Road: edges and lane lines are straight rays from the vanishing point, placed in
    # metres so they agree with the objects' perspective.
    def x_at(lat: float, y: float) -> float:
        return g.vx + lat * g.u_at(y)

    left, right = -rng.uniform(5.0, 8.0), rng.uniform(5.0, 8.0)
    yb = h + 2.0
    grey = rng.uniform(85, 125)
    road = col((grey + rng.uniform(-5, 5), grey, grey - rng.uniform(0, 6)))
    cv2.fillPoly(img, [_fx([(x_at(left, hz + 0.5), hz + 0.5), (x_at(right, hz + 0.5), hz + 0.5),
                            (x_at(right, yb), yb), (x_at(left, yb), yb)])], road,
                 cv2.LINE_AA, _SHIFT)
    # Roadside bushes/poles below the horizon, outside the road.
    for _ in range(int(rng.integers(0, 6))):
        s = rng.uniform(0.05, 0.6)
        y = g.y_at(s)
        lat = (left - rng.uniform(1.0, 6.0)) if rng.random() < 0.5 else (
            right + rng.uniform(1.0, 6.0))
        rr = max(2.0, rng.uniform(0.4, 1.2) * g.u_at(y))
        c = col((rng.uniform(40, 80), rng.uniform(90, 140), rng.uniform(45, 85))) if (
            rng.random() < 0.6) else col(np.full(3, rng.uniform(90, 150)))
        cv2.ellipse(img, tuple(int(v) for v in _fx([(x_at(lat, y), y - 0.6 * rr)])[0]),
                    (int(rr * _ONE), int(0.7 * rr * _ONE)), 0, 0, 360, c, -1, cv2.LINE_AA,
                    _SHIFT)

    white = col((rng.uniform(215, 245), ) * 3)
    lw = 0.12  # line width, metres

    def strip(lat: float, s0: float, s1: float) -> None:
        y0, y1 = g.y_at(s0), g.y_at(s1)
        cv2.fillPoly(img, [_fx([(x_at(lat - lw, y0), y0), (x_at(lat + lw, y0), y0),
                                (x_at(lat + lw, y1), y1), (x_at(lat - lw, y1), y1)])], white,
                     cv2.LINE_AA, _SHIFT)

    for lat in (left + 0.3, right - 0.3):
        strip(lat, 0.01, 1.02)
    # Dashes are periodic in ground distance z ~ 1/s (1 = distance of the bottom row).
    offset = rng.uniform(-1.75, 1.75)
    phase = rng.uniform(0, 1.5)
    lanes = [offset + 3.5 * k for k in range(-3, 4)]
    for lat in lanes:
        if not (left + 1.0 < lat < right - 1.0):
            continue
        z = 1.0 - phase
        while z < 40.0:
            z0, z1 = max(z, 0.98), z + 0.5
            if z1 > z0:
                strip(lat, 1.0 / z0, 1.0 / z1)
            z += 1.5
    return img


def _finish(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Per-image brightness and mild Gaussian noise. (H, W, 3) uint8 -> same."""
    gain = rng.uniform(0.75, 1.2)
    sigma = rng.uniform(2.0, 6.0)
    noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)
    out = img.astype(np.float32) * np.float32(gain) + noise
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- scene


_SAMPLERS = {'vehicle': _sample_vehicle, 'pedestrian': _sample_pedestrian,
             'cyclist': _sample_cyclist}
_CATEGORY_P = (('vehicle', 0.5), ('pedestrian', 0.28), ('cyclist', 0.22))


def _acceptable(cand: _Object, placed: List[_Object], g: _Ground) -> bool:
    """Size/visibility limits for ``cand`` and the occlusion limit for every object."""
    w, h = g.w, g.h
    min_side = _MIN_SIDE_REF * min(w / _REF_W, h / _REF_H)
    b = cand.box
    cb = _clip_box(b, w, h)
    if b[1] < 0 or b[3] > h - 1 or not cand.drawable():
        return False
    if min(cb[2] - cb[0], cb[3] - cb[1]) < min_side:
        return False
    if _area(cb) < 0.6 * _area(b) or (b[2] - b[0]) > 0.6 * w or (b[3] - b[1]) > 0.7 * h:
        return False
    return not _too_covered(placed + [cand], w, h)


def _too_covered(objs: Sequence[_Object], w: int, h: int) -> bool:
    """Whether a box of some object is covered more than :data:`_MAX_COVER` by the boxes
    of nearer objects (larger ``depth``)."""
    for o in objs:
        nearer = [_clip_box(q.box, w, h) for q in objs if q.depth > o.depth]
        if not nearer:
            continue
        for ob in o.cover_boxes():
            if _cover_fraction(_clip_box(ob, w, h), nearer) > _MAX_COVER:
                return True
    return False


def _place_objects(rng: np.random.Generator, g: _Ground, n: int) -> List[_Object]:
    names = [c for c, _ in _CATEGORY_P]
    probs = np.array([p for _, p in _CATEGORY_P])
    placed: List[_Object] = []
    for i in range(n):
        cat = names[int(rng.choice(len(names), p=probs))]
        # Vehicles keep to the road; people may also be on the verge.
        lat_max = 5.0 if cat == 'vehicle' else 8.0
        for _ in range(_MAX_TRIES):
            y_b = g.y_at(rng.uniform(0.22, 1.0))
            u = g.u_at(y_b)
            lo = max(-lat_max, (-0.1 * g.w - g.vx) / u)
            hi = min(lat_max, (1.1 * g.w - g.vx) / u)
            x_c = g.vx + rng.uniform(lo, hi) * u
            cand = _SAMPLERS[cat](rng, g, x_c, y_b)
            cand.depth = (y_b, i)
            if _acceptable(cand, placed, g):
                placed.append(cand)
                break
    return placed


def make_scene(rng: np.random.Generator,
               img_size: Tuple[int, int] = (320, 256)) -> Tuple[np.ndarray, List[dict]]:
    """Draws one road scene.

    Args:
        rng (np.random.Generator): source of all randomness; the scene is a deterministic
            function of its state.
        img_size (tuple[int, int]): (W, H), each >= 64.

    Returns:
        tuple:
        - img (np.ndarray): (H, W, 3) uint8 BGR image.
        - objects (list[dict]): visible objects, far to near (a vehicle is followed by its
          ``vehicle_face``). Keys: ``'category'`` (name), ``'bbox'`` [x1, y1, x2, y2] float
          clipped to the image, ``'keypoints'`` list of (x, y, v), one per keypoint of the
          category (empty for categories without any), ``v=0`` points are (0, 0). Vehicles
          and faces also carry ``'viewpoint'`` (one of :data:`VIEWPOINTS`) and
          ``'face_type'`` (``'head'``/``'tail'``); cyclists ``'direction'``
          (``'left'``/``'right'``, the riding direction). These extras are not COCO fields.
    """
    w, h = _checked_size(img_size)
    g = _sample_ground(rng, w, h)
    img = _draw_background(rng, g)
    n = _object_count(rng)
    return _paint(rng, img, sorted(_place_objects(rng, g, n), key=lambda o: o.depth))


def _checked_size(img_size: Tuple[int, int]) -> Tuple[int, int]:
    w, h = int(img_size[0]), int(img_size[1])
    if w < 64 or h < 64:
        raise ValueError(f'img_size must be at least 64x64, got {w}x{h}')
    return w, h


def _object_count(rng: np.random.Generator) -> int:
    """How many objects a scene tries to place (a few scenes are empty)."""
    return 0 if rng.random() < _EMPTY_PROB else int(rng.integers(1, 7))


def _paint(rng: np.random.Generator, img: np.ndarray, placed: Sequence[_Object],
           part_bits: int = 0) -> Tuple[np.ndarray, List[dict]]:
    """Draws ``placed`` (sorted far to near) on the background ``img``, finishes the image
    and collects the objects' records, each object's ``gt`` added to its own record.

    Args:
        part_bits (int): id map values are ``object id << part_bits | part``: 0 for the 2D
            scenes (uint8 map), :data:`_PART_BITS` for the pinhole ones (uint16 map).

    Returns:
        tuple: the (H, W, 3) uint8 image and the records, as :func:`make_scene`.
    """
    ids = np.zeros(img.shape[:2], dtype=np.uint16 if part_bits else np.uint8)
    painter = _Painter(img, ids)
    for oid, o in enumerate(placed, 1):  # painter's order: far first
        painter.oid = oid << part_bits
        o.draw(painter)
    img = _finish(rng, img)
    objects: List[dict] = []
    for oid, o in enumerate(placed, 1):
        records = o.records(ids, oid)
        records[0].update(o.gt)
        objects.extend(records)
    return img, objects


# --------------------------------------------------------------------------- pinhole camera
#
# ``camera='pinhole'`` scenes: a CameraCalibration over a flat road, objects placed in
# metres and drawn by projecting their 3D shapes with ``ground_to_image``, so boxes, tyre
# points, distances and headings agree. World frame as in ``yolox_kpt.runtime.calibration``:
# origin on the road below the camera, x forward, y left, z up. An object's own frame is
# (a forward, b left, z up) with its origin on the ground at its footprint centre.

#: Camera models of :func:`generate_synthetic_driving`: the 2D layout (default) or pinhole.
CAMERAS: Tuple[str, ...] = ('2d', 'pinhole')

# The pinhole id map stores object id << _PART_BITS | part, parts 1.. being tyres/wheels,
# so a contact point counts as visible only where its own tyre's pixels show.
_PART_BITS = 4
_PIN_MIN_SIDE_REF = 10.0  # px at 320x256
_PIN_MAX_TRUNC = 0.5  # objects with more of their box outside the image are re-sampled
_VEHICLE_X = (5.0, 60.0)  # metres ahead of the camera
_PERSON_X = (4.0, 40.0)
_LANE_W = 3.5  # vehicles keep to the 5 lanes around the camera (centres up to 7 m aside)

# (name, length m, width m, height m, hood fraction of the length, trunk fraction, belt z
# as a fraction of the height)
_VEHICLE_SOLIDS = (('car', 4.5, 1.8, 1.45, 0.28, 0.16, 0.55),
                   ('suv', 4.7, 1.9, 1.75, 0.24, 0.08, 0.55),
                   ('van', 5.2, 2.0, 2.1, 0.14, 0.02, 0.5))


def _sample_calibration(rng: np.random.Generator, w: int, h: int):
    """A front camera 1.2-1.8 m above the road, pitched 0-8 deg down, rolled +-1.5 deg,
    focal length 0.8-1.2 x the image width. Values are rounded before use, so the stored
    calibration is exactly the one the scene was projected with."""
    from ..runtime.calibration import CameraCalibration  # only pinhole scenes need it
    f = round(w * rng.uniform(0.8, 1.2), 2)
    return CameraCalibration(
        fx=f, fy=f, cx=round(w / 2 + w * rng.uniform(-0.02, 0.02), 2),
        cy=round(h / 2 + h * rng.uniform(-0.03, 0.03), 2), image_size=(w, h),
        height_m=round(rng.uniform(1.2, 1.8), 3), pitch_deg=round(rng.uniform(0.0, 8.0), 2),
        roll_deg=round(rng.uniform(-1.5, 1.5), 2))


def _pinhole_background(rng: np.random.Generator, calib) -> np.ndarray:
    """The 2D scenes' background drawn for ``calib``: the horizon, road width and lane
    spacing of :class:`_Ground` come from the unrolled camera (for which that linear
    model is exact), then the image is rotated by the roll. (H, W, 3) uint8."""
    from dataclasses import replace
    w, h = calib.image_size
    flat = replace(calib, roll_deg=0.0)
    ref = np.array([[1e5, 0.0, calib.height_m], [20.0, 0.0, 0.0], [20.0, -1.0, 0.0]])
    far, a, b = flat.ground_to_image(ref)
    per_row = abs(b[0] - a[0]) / (a[1] - far[1])  # px per metre, per row below the horizon
    g = _Ground(w=w, h=h, horizon=float(far[1]), vx=float(far[0]),
                u_max=float(per_row * (h - 1 - far[1])))
    img = _draw_background(rng, g)
    if calib.roll_deg:
        pts = np.array([[8.0, 4.0, 0], [8.0, -4.0, 0], [40.0, 6.0, 0], [40.0, -6.0, 0],
                        [1e4, 50.0, calib.height_m], [1e4, -50.0, calib.height_m]])
        src, dst = flat.ground_to_image(pts), calib.ground_to_image(pts)
        m, *_ = np.linalg.lstsq(np.hstack([src, np.ones((len(src), 1))]), dst, rcond=None)
        img = cv2.warpAffine(img, m.T.astype(np.float64), (w, h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    return img


def _to_world(pts: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    """(N, 3) points of an object's frame (a, b, z) -> world (x, y, z)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.stack([x + c * pts[:, 0] - s * pts[:, 1], y + s * pts[:, 0] + c * pts[:, 1],
                     pts[:, 2]], axis=1)


def _to_object(p: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    """A world point (3,) -> the object's frame (a, b, z)."""
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = p[0] - x, p[1] - y
    return np.array([c * dx + s * dy, -s * dx + c * dy, p[2]])


def _prism(a0: float, a1: float, b0: float, b1: float, z0: float, z1: float,
           top: Tuple[float, float, float, float]) -> np.ndarray:
    """(8, 3) vertices: the bottom rectangle, then the top one (``top`` = its a0 a1 b0 b1)
    in the same corner order (a0 b0, a1 b0, a1 b1, a0 b1)."""
    ta0, ta1, tb0, tb1 = top
    return np.array([[a0, b0, z0], [a1, b0, z0], [a1, b1, z0], [a0, b1, z0],
                     [ta0, tb0, z1], [ta1, tb0, z1], [ta1, tb1, z1], [ta0, tb1, z1]])


# Faces of a :func:`_prism` as (bottom-left, bottom-right, top-left, top-right) seen from
# outside; the bottom face is never drawn (it lies on or faces the road).
_PRISM_FACES = {'front': (1, 2, 5, 6), 'rear': (3, 0, 7, 4),
                'right': (0, 1, 4, 5), 'left': (2, 3, 6, 7), 'top': (4, 5, 7, 6)}


def _facing(v: np.ndarray, quad: Sequence[int], cam: np.ndarray) -> bool:
    """Whether the camera (object frame) is on the outer side of a face of a convex solid
    with vertices ``v`` (8, 3)."""
    p = v[list(quad)]
    n = np.cross(p[1] - p[0], p[2] - p[0])
    if np.dot(n, p.mean(axis=0) - v.mean(axis=0)) < 0:
        n = -n
    return float(np.dot(n, cam - p.mean(axis=0))) > 0


def _bilerp(q: np.ndarray, s0: float, s1: float, t0: float, t1: float) -> np.ndarray:
    """(4, 3) corners of the part [s0, s1] x [t0, t1] of a face quad ``q`` (bl, br, tl, tr;
    s runs left to right as seen from outside, t bottom to top)."""
    def at(s, t):
        return (1 - t) * ((1 - s) * q[0] + s * q[1]) + t * ((1 - s) * q[2] + s * q[3])
    return np.array([at(s0, t0), at(s1, t0), at(s1, t1), at(s0, t1)])


@dataclass
class _PinholeObject(_Object):
    """An object of a pinhole scene: a pose on the ground and the camera."""
    calib: object = None
    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0  # rad, CCW from the x axis
    radius: float = 1.0  # footprint radius, m: objects may not overlap on the road

    def project(self, pts: np.ndarray) -> np.ndarray:
        """(N, 3) object-frame points -> (N, 2) pixels."""
        return self.calib.ground_to_image(_to_world(np.asarray(pts, np.float64), self.x,
                                                    self.y, self.yaw))

    def camera(self) -> np.ndarray:
        """The camera centre in the object's frame, (3,)."""
        return _to_object(np.array([0.0, 0.0, self.calib.height_m]), self.x, self.y,
                          self.yaw)

    def px_per_m(self) -> float:
        return self.calib.fx / max(math.hypot(self.x, self.y), 1.0)

    def ground_truth(self, contacts: Optional[np.ndarray] = None,
                     heading: bool = True) -> Dict[str, object]:
        """The labelled pose; ``contacts`` (K, 2) object-frame a, b of keypoints."""
        w, h = self.calib.image_size
        gt: Dict[str, object] = dict(
            distance_m=round(math.hypot(self.x, self.y), 3), lateral_m=round(self.y, 4),
            x_m=round(self.x, 4), y_m=round(self.y, 4),
            truncated=round(1.0 - _area(_clip_box(self.box, w, h)) / _area(self.box), 3))
        if heading:
            deg = math.degrees(self.yaw)
            deg = round(deg - 360.0 * math.ceil((deg - 180.0) / 360.0), 2)
            gt['heading_deg'] = 180.0 if deg <= -180.0 else deg  # (-180, 180]
        if contacts is not None:
            pts = _to_world(np.hstack([contacts, np.zeros((len(contacts), 1))]), self.x,
                            self.y, self.yaw)
            gt['keypoints_m'] = [[round(float(px), 4), round(float(py), 4)]
                                 for px, py, _ in pts]
        return gt

    def contact_keypoints(self, contacts: np.ndarray, rise: Sequence[float],
                          ids: np.ndarray, oid: int) -> List[Tuple[float, float, int]]:
        """(x, y, v) of ground-contact points at object-frame (a, b) ``contacts`` (K, 2).

        v=0 outside the image; v=2 when the pixels just above the point belong to its own
        tyre/wheel (part ``k + 1``), up to ``rise[k]`` px; else v=1 (hidden by the object's
        own body or by a nearer object).
        """
        h, w = ids.shape
        uv = self.project(np.hstack([contacts, np.zeros((len(contacts), 1))]))
        out = []
        for k, (u, v) in enumerate(uv):
            if not (0.0 <= u <= w - 1 and 0.0 <= v <= h - 1):
                out.append((0.0, 0.0, 0))
                continue
            ui, vi = int(round(u)), int(round(v))
            n = int(min(max(round(rise[k]), 1), 3))
            col = ids[max(vi - n, 0):max(vi, 1), ui]
            own = (oid << _PART_BITS) | (k + 1)
            out.append((float(u), float(v), 2 if col.size and np.all(col == own) else 1))
        return out


@dataclass
class _PinholeVehicle(_PinholeObject, _VehicleLook):
    length: float = 4.5
    width: float = 1.8
    height: float = 1.45
    clearance: float = 0.35
    belt: float = 0.8  # z of the lower body's top, m
    hood: float = 1.2  # cabin inset from the front, m
    trunk: float = 0.7  # cabin inset from the rear, m
    wheelbase: float = 2.7
    track: float = 1.55
    r: float = 0.33  # tyre radius, m
    tyre_w: float = 0.2
    face_type: Optional[str] = None  # 'head'/'tail' when that face is seen
    face_box: Optional[Box] = None

    def lower(self) -> np.ndarray:
        l2, w2 = self.length / 2, self.width / 2
        return _prism(-l2, l2, -w2, w2, self.clearance, self.belt, (-l2, l2, -w2, w2))

    def cabin(self) -> np.ndarray:
        l2, w2 = self.length / 2, self.width / 2
        a0, a1 = -l2 + self.trunk, l2 - self.hood
        # Slanted screens and a narrower roof, so the greenhouse reads as a cabin.
        rake = 0.35 * (self.height - self.belt)
        ta0 = a0 + (0.6 * rake if self.trunk > 0.3 else 0.0)
        return _prism(a0, a1, -w2 + 0.05, w2 - 0.05, self.belt, self.height,
                      (ta0, a1 - rake, -w2 + 0.18, w2 - 0.18))

    def contacts(self) -> np.ndarray:
        """(4, 2) a, b of the tyre contacts in :data:`KEYPOINTS` order."""
        a, b = self.wheelbase / 2, self.track / 2
        return np.array([[a, b], [a, -b], [-a, b], [-a, -b]])

    def tyre_points(self, k: int, n: int = 12) -> np.ndarray:
        """(2n, 3) rims of tyre ``k``: its outline is their convex hull."""
        a, b = self.contacts()[k]
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        ring = np.stack([a + self.r * np.cos(t), np.zeros(n), self.r + self.r * np.sin(t)], 1)
        return np.vstack([ring + [0, b - self.tyre_w / 2, 0], ring + [0, b + self.tyre_w / 2, 0]])

    def outline(self) -> np.ndarray:
        """(N, 2) projected points whose bounding box is the vehicle's box."""
        return self.project(np.vstack([self.lower(), self.cabin()] +
                                      [self.tyre_points(k, 8) for k in range(4)]))

    def _face_quad(self, v: np.ndarray, name: str) -> np.ndarray:
        return v[list(_PRISM_FACES[name])]

    def _poly(self, p: _Painter, q: np.ndarray, color: Color) -> None:
        """Fills the projection of the planar 3D polygon ``q`` (N, 3), vertices in order."""
        p.poly([tuple(x) for x in self.project(q)], color)

    def _fill_face(self, p: _Painter, q: np.ndarray, color: Color) -> None:
        self._poly(p, q[[0, 1, 3, 2]], color)  # (bl, br, tl, tr) -> around the outline

    def _details(self, p: _Painter, name: str, q: np.ndarray) -> None:
        if name in ('front', 'rear'):
            self._poly(p, _bilerp(q, 0.0, 1.0, 0.0, 0.14), (40, 40, 45))  # bumper
            for s0 in (0.04, 0.76):
                self._poly(p, _bilerp(q, s0, s0 + 0.2, 0.58, 0.82), self.light)
            if name == 'front':
                self._poly(p, _bilerp(q, 0.32, 0.68, 0.45, 0.78), (38, 38, 42))
            self._poly(p, _bilerp(q, 0.36, 0.64, 0.2, 0.38), self.plate)

    def draw(self, p: _Painter) -> None:
        body_id, cam = p.oid, self.camera()
        lower, cabin = self.lower(), self.cabin()
        side = 'left' if cam[1] > self.width / 2 else 'right' if cam[1] < -self.width / 2 \
            else None
        near = [k for k, (_, b) in enumerate(self.contacts())
                if side is not None and (b > 0) == (side == 'left')]
        for k in range(4):  # far tyres first: the body hides or partly hides them
            if k not in near:
                self._draw_tyre(p, body_id, k, cam)
        p.oid = body_id
        cabin_first = cam[2] < self.belt  # seen from below the belt, the body hides it
        if cabin_first:
            self._draw_cabin(p, cabin, cam)
        shade = {'left': 0.78, 'right': 0.78, 'front': 0.9, 'rear': 0.9, 'top': 1.0}
        for name in ('left', 'right'):
            if _facing(lower, _PRISM_FACES[name], cam):
                self._fill_face(p, self._face_quad(lower, name), _scale(self.body, shade[name]))
        for k in near:
            a, b = self.contacts()[k]
            t = np.linspace(0, 2 * math.pi, 14, endpoint=False)
            arch = np.stack([a + 1.2 * self.r * np.cos(t),
                             np.full(14, math.copysign(self.width / 2, b)),
                             np.maximum(self.r + 1.2 * self.r * np.sin(t), self.clearance)], 1)
            p.oid = body_id
            self._poly(p, arch, _scale(self.body, 0.3))
            self._draw_tyre(p, body_id, k, cam)
        p.oid = body_id
        for name in ('front', 'rear', 'top'):
            if _facing(lower, _PRISM_FACES[name], cam):
                q = self._face_quad(lower, name)
                self._fill_face(p, q, _scale(self.body, shade[name]))
                self._details(p, name, q)
        if not cabin_first:
            self._draw_cabin(p, cabin, cam)

    def _draw_cabin(self, p: _Painter, cabin: np.ndarray, cam: np.ndarray) -> None:
        for name in ('left', 'right', 'front', 'rear', 'top'):
            if not _facing(cabin, _PRISM_FACES[name], cam):
                continue
            q = self._face_quad(cabin, name)
            self._fill_face(p, q, _scale(self.body, 0.95 if name == 'top' else 0.85))
            if name != 'top':
                self._poly(p, _bilerp(q, 0.07, 0.93, 0.1, 0.86), self.window)

    def _draw_tyre(self, p: _Painter, body_id: int, k: int, cam: np.ndarray) -> None:
        p.oid = body_id | (k + 1)
        pts = self.project(self.tyre_points(k)).astype(np.float32)
        hull = cv2.convexHull(pts)[:, 0]
        p.poly([tuple(x) for x in hull], self.tyre)
        a, b = self.contacts()[k]
        outer = b + math.copysign(self.tyre_w / 2, b)
        if (cam[1] - outer) * b > 0 and self.r * self.px_per_m() >= 6:
            t = np.linspace(0, 2 * math.pi, 10, endpoint=False)
            hub = np.stack([a + 0.5 * self.r * np.cos(t), np.full(10, outer),
                            self.r + 0.5 * self.r * np.sin(t)], 1)
            self._poly(p, hub, (150, 150, 150))
        p.oid = body_id

    def cover_boxes(self) -> List[Box]:
        return [self.box] + ([self.face_box] if self.face_box is not None else [])

    def records(self, ids: np.ndarray, oid: int) -> List[dict]:
        h, w = ids.shape
        rise = [0.3 * self.r * self.px_per_m()] * 4
        veh = _clipped_record('vehicle', self.box, ids)
        veh['keypoints'] = self.contact_keypoints(self.contacts(), rise, ids, oid)
        out = [veh]
        if self.face_box is not None:
            veh['face_type'] = self.face_type
            face = _clip_box(self.face_box, w, h)
            if min(face[2] - face[0], face[3] - face[1]) >= 4.0:
                out.append(_clipped_record('vehicle_face', self.face_box, ids,
                                           face_type=self.face_type))
        return out


def _bbox(pts: np.ndarray) -> Box:
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()),
            float(pts[:, 1].max()))


def _sample_pinhole_vehicle(rng: np.random.Generator, calib, x: float, y: float,
                            yaw: float) -> _PinholeVehicle:
    _, length, width, height, hood, trunk, belt = _VEHICLE_SOLIDS[
        int(rng.integers(len(_VEHICLE_SOLIDS)))]
    length *= rng.uniform(0.9, 1.1)
    width *= rng.uniform(0.95, 1.05)
    height *= rng.uniform(0.95, 1.05)
    r = rng.uniform(0.3, 0.36)
    body, window = _vehicle_colors(rng)
    v = _PinholeVehicle(box=(0, 0, 1, 1), calib=calib, x=x, y=y, yaw=yaw,
                        radius=0.5 * math.hypot(length, width), length=length, width=width,
                        height=height, clearance=rng.uniform(0.18, 0.28), belt=belt * height,
                        hood=hood * length, trunk=trunk * length,
                        wheelbase=length * rng.uniform(0.58, 0.64), track=width - 0.25, r=r,
                        body=body, window=window, tyre=_tyre_color(rng),
                        plate=_color((rng.uniform(215, 245), rng.uniform(225, 245),
                                      rng.uniform(225, 245))))
    v.box = _bbox(v.outline())
    cam, lower = v.camera(), v.lower()
    for name, face_type in (('front', 'head'), ('rear', 'tail')):
        if _facing(lower, _PRISM_FACES[name], cam):
            pts = [lower[list(_PRISM_FACES[name])]]
            cabin = v.cabin()
            if _facing(cabin, _PRISM_FACES[name], cam):
                pts.append(cabin[list(_PRISM_FACES[name])])
            v.face_type, v.face_box = face_type, _bbox(v.project(np.vstack(pts)))
    if v.face_type == 'tail' or (v.face_type is None and rng.random() < 0.5):
        v.light = _color((rng.uniform(20, 50), rng.uniform(20, 50), rng.uniform(200, 245)))
    elif rng.random() < 0.6:
        v.light = _color((rng.uniform(225, 250), ) * 3)
    else:
        v.light = _color((rng.uniform(90, 140), rng.uniform(215, 240), rng.uniform(235, 255)))
    v.gt = v.ground_truth(v.contacts())
    return v


@dataclass
class _PinholeCyclist(_PinholeObject, _RiderLook):
    wheelbase: float = 1.04
    r: float = 0.34  # wheel radius, m

    def contacts(self) -> np.ndarray:
        """(2, 2) a, b of the front and rear wheel contacts."""
        return np.array([[self.wheelbase / 2, 0.0], [-self.wheelbase / 2, 0.0]])

    def _joints(self) -> Dict[str, np.ndarray]:
        hw, r = self.wheelbase / 2, self.r
        j = dict(front_hub=(hw, 0, r), rear_hub=(-hw, 0, r), bb=(-0.02, 0, 0.3),
                 seat=(-0.22, 0, 0.95), head_tube=(0.38, 0, 0.92), bar=(0.42, 0, 1.02),
                 hip=(-0.2, 0, 1.02), shoulder=(0.12, 0, 1.5), head=(0.2, 0, 1.68),
                 head_top=(0.2, 0, 1.81))
        c, s = math.cos(self.crank), math.sin(self.crank)
        near = 1.0 if self.camera()[1] > 0 else -1.0
        for name, k in (('near', 1.0), ('far', -1.0)):
            pedal = np.array([-0.02 + k * 0.17 * c, k * near * 0.12, 0.3 + k * 0.17 * s])
            hip = np.array([-0.2, k * near * 0.12, 1.02])
            j[f'{name}_pedal'] = pedal
            j[f'{name}_knee'] = (hip + pedal) / 2 + [0.22, 0, 0.1]
            j[f'{name}_hip'] = hip
        return {k: np.asarray(v, np.float64) for k, v in j.items()}

    def _wheel(self, a: float, n: int = 20) -> np.ndarray:
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        return np.stack([a + self.r * np.cos(t), np.zeros(n), self.r + self.r * np.sin(t)], 1)

    def outline(self) -> np.ndarray:
        j = self._joints()
        return self.project(np.vstack([self._wheel(self.wheelbase / 2, 8),
                                       self._wheel(-self.wheelbase / 2, 8),
                                       np.stack(list(j.values()))]))

    def drawable(self) -> bool:
        return self.r * self.px_per_m() >= 3.0

    def draw(self, p: _Painter) -> None:
        body_id, s = p.oid, self.px_per_m()
        j = self._joints()
        names = list(j)
        uv = dict(zip(names, (tuple(q) for q in self.project(np.stack([j[n] for n in names])))))

        def th(m: float) -> int:
            return max(1, int(round(m * s)))

        def leg(side: str, color: Color) -> None:
            p.line(uv[f'{side}_hip'], uv[f'{side}_knee'], color, th(0.13))
            p.line(uv[f'{side}_knee'], uv[f'{side}_pedal'], color, th(0.11))

        leg('far', _scale(self.trousers, 0.7))
        t = max(2, th(0.06))
        for k, a in enumerate((self.wheelbase / 2, -self.wheelbase / 2)):
            p.oid = body_id | (k + 1)
            p.polyline([tuple(q) for q in self.project(self._wheel(a))], self.tyre, t)
        p.oid = body_id
        for a, b in (('rear_hub', 'bb'), ('rear_hub', 'seat'), ('bb', 'seat'),
                     ('seat', 'head_tube'), ('bb', 'head_tube'), ('head_tube', 'front_hub'),
                     ('head_tube', 'bar')):
            p.line(uv[a], uv[b], self.frame, th(0.04))
        leg('near', self.trousers)
        p.line(uv['hip'], uv['shoulder'], self.shirt, th(0.3))
        p.line(uv['shoulder'], uv['bar'], _scale(self.shirt, 0.85), th(0.1))
        hr = max(1.0, 0.5 * math.dist(uv['head'], uv['head_top']) * 1.6)
        p.circle(uv['head'], hr, self.skin)
        p.ellipse((uv['head'][0], uv['head'][1] - 0.25 * hr), (1.05 * hr, 0.75 * hr),
                  self.helmet)

    def records(self, ids: np.ndarray, oid: int) -> List[dict]:
        rec = _clipped_record('cyclist', self.box, ids)
        t = max(2, int(round(0.06 * self.px_per_m())))
        rec['keypoints'] = self.contact_keypoints(self.contacts(), [t / 2] * 2, ids, oid)
        return [rec]


def _sample_pinhole_cyclist(rng: np.random.Generator, calib, x: float, y: float,
                            yaw: float) -> _PinholeCyclist:
    c = _PinholeCyclist(box=(0, 0, 1, 1), calib=calib, x=x, y=y, yaw=yaw, radius=0.9,
                        wheelbase=rng.uniform(1.0, 1.1), r=rng.uniform(0.32, 0.36),
                        **_rider_look(rng))
    pts = c.outline()
    pad = 0.15 * c.px_per_m()  # head radius and stroke widths around the joints
    x1, y1, x2, y2 = _bbox(pts)
    c.box = (x1 - pad, y1, x2 + pad, y2)
    c.gt = c.ground_truth(c.contacts())
    return c


def _sample_pinhole_pedestrian(rng: np.random.Generator, calib, x: float, y: float,
                               yaw: float) -> _Pedestrian:
    height = rng.uniform(1.55, 1.9)
    (u, vb), (_, vt) = calib.ground_to_image(np.array([[x, y, 0.0], [x, y, height]]))
    w = rng.uniform(0.35, 0.45) * (vb - vt)
    ped = _sample_pedestrian(rng, _Ground(1, 2, 0.0, 0.0, 1.0), u, vb)  # box reset below
    ped.box = (u - w / 2, vt, u + w / 2, vb)
    probe = _PinholeObject(box=ped.box, calib=calib, x=x, y=y)
    ped.gt = probe.ground_truth(heading=False)
    return ped


_PIN_SAMPLERS = {'vehicle': _sample_pinhole_vehicle, 'pedestrian': _sample_pinhole_pedestrian,
                 'cyclist': _sample_pinhole_cyclist}


def _pinhole_acceptable(cand: _Object, placed: List[_Object], w: int, h: int) -> bool:
    """Size and truncation limits for ``cand`` and the occlusion limit for every object."""
    b = cand.box
    cb = _clip_box(b, w, h)
    if not cand.drawable() or _area(cb) < (1 - _PIN_MAX_TRUNC) * _area(b):
        return False
    if min(cb[2] - cb[0], cb[3] - cb[1]) < _PIN_MIN_SIDE_REF * min(w / _REF_W, h / _REF_H):
        return False
    return not _too_covered(placed + [cand], w, h)


def _place_pinhole(rng: np.random.Generator, calib, n: int) -> List[_Object]:
    names = [c for c, _ in _CATEGORY_P]
    probs = np.array([p for _, p in _CATEGORY_P])
    w, h = calib.image_size
    half_fov = math.atan2(max(calib.cx, w - calib.cx), calib.fx)
    placed: List[_Object] = []
    spots: List[Tuple[float, float, float]] = []  # x, y, footprint radius
    for i in range(n):
        cat = names[int(rng.choice(len(names), p=probs))]
        for _ in range(_MAX_TRIES):
            x = rng.uniform(*(_VEHICLE_X if cat == 'vehicle' else _PERSON_X))
            reach = x * math.tan(half_fov) + 2.0
            if cat == 'vehicle':  # in a lane, any heading: ahead, oncoming, crossing
                lanes = [k for k in range(-2, 3) if abs(k * _LANE_W) <= reach]
                y = lanes[int(rng.integers(len(lanes)))] * _LANE_W + rng.normal(0, 0.4)
            else:
                y = rng.uniform(-reach, reach)
            yaw = rng.uniform(-math.pi, math.pi)
            cand = _PIN_SAMPLERS[cat](rng, calib, x, y, yaw)
            radius = getattr(cand, 'radius', 0.4)
            if any(math.hypot(x - sx, y - sy) < radius + sr for sx, sy, sr in spots):
                continue
            cand.depth = (-x, i)
            if _pinhole_acceptable(cand, placed, w, h):
                placed.append(cand)
                spots.append((x, y, radius))
                break
    return placed


def make_pinhole_scene(rng: np.random.Generator, img_size: Tuple[int, int] = (320, 256)
                       ) -> Tuple[np.ndarray, List[dict], object]:
    """Draws one road scene seen by a sampled pinhole camera over a flat road.

    Vehicles are projected 3D shapes (lower body, cabin, four tyres) anywhere 5-60 m
    ahead, in lanes, with any heading; cyclists are projected stick figures on two wheels;
    pedestrians upright boxes of their height. Keypoints are the projections of the
    ground contacts; ``v=2`` where the tyre's own pixels show just above the point, ``v=1``
    where the vehicle's body or a nearer object hides them, ``v=0`` outside the image.

    Args:
        rng (np.random.Generator): source of all randomness.
        img_size (tuple[int, int]): (W, H), each >= 64.

    Returns:
        tuple:
        - img (np.ndarray): (H, W, 3) uint8 BGR image.
        - objects (list[dict]): as :func:`make_scene`'s, without ``viewpoint``/
          ``direction``; a vehicle is followed by its ``vehicle_face`` when its front or
          rear face is seen. Vehicles, cyclists and pedestrians carry their ground truth:
          ``distance_m`` (to the footprint centre, i.e. the centre of the tyre/wheel
          contacts), ``lateral_m``, ``x_m``, ``y_m``, ``truncated`` (fraction of the box
          outside the image) and, except pedestrians, ``heading_deg`` and ``keypoints_m``
          ((x, y) metres of each contact, keypoint order). Vehicles with a seen face and
          their faces carry ``face_type``.
        - calib (CameraCalibration): the camera.
    """
    w, h = _checked_size(img_size)
    calib = _sample_calibration(rng, w, h)
    img = _pinhole_background(rng, calib)
    n = _object_count(rng)
    placed = sorted(_place_pinhole(rng, calib, n), key=lambda o: o.depth)
    img, objects = _paint(rng, img, placed, _PART_BITS)
    return img, objects, calib


# --------------------------------------------------------------------------- COCO files


def _r2(v: float) -> float:
    return round(float(v), 2)


def _coco_annotation(obj: dict, ann_id: int, image_id: int) -> dict:
    x1, y1, x2, y2 = obj['bbox']
    bw, bh = _r2(x2 - x1), _r2(y2 - y1)
    kpts: List[Union[float, int]] = []
    for x, y, v in obj['keypoints']:
        kpts += [_r2(x), _r2(y), int(v)] if v > 0 else [0.0, 0.0, 0]
    return dict(id=ann_id, image_id=image_id,
                category_id=CLASSES.index(obj['category']) + 1,
                bbox=[_r2(x1), _r2(y1), bw, bh], area=_r2(bw * bh), iscrowd=0,
                keypoints=kpts, num_keypoints=sum(1 for *_, v in obj['keypoints'] if v > 0))


def _resolve_progress(progress: Union[bool, ProgressFn]) -> Optional[ProgressFn]:
    if callable(progress):
        return progress
    if not progress:
        return None
    # Padded so the train and val bars line up.
    return lambda it, total, desc: progress_bar(it, total, f'{desc:5s}', 'img')


#: Ground-truth fields of pinhole scenes written into the COCO annotations.
GT_FIELDS: Tuple[str, ...] = ('distance_m', 'lateral_m', 'heading_deg', 'x_m', 'y_m',
                              'truncated', 'keypoints_m', 'face_type')


def _write_split(root: Path, split: str, num: int, img_size: Tuple[int, int], seed: int,
                 base_seed: int, progress: Optional[ProgressFn], camera: str = '2d') -> Path:
    img_dir = root / 'images' / split
    ann_dir = root / 'annotations'
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    it: Iterable[int] = range(num)
    if progress is not None:
        it = progress(it, num, split)
    for i in it:
        calib = None
        if camera == 'pinhole':
            img, objs, calib = make_pinhole_scene(rng, img_size)
        else:
            img, objs = make_scene(rng, img_size)
        name = f'{i:06d}.jpg'
        ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for {img_dir / name}')
        (img_dir / name).write_bytes(buf.tobytes())
        images.append(dict(id=i + 1, file_name=name, width=img.shape[1], height=img.shape[0]))
        if calib is not None:
            images[-1]['camera'] = calib.to_dict()
        parent = None
        for obj in objs:
            ann = _coco_annotation(obj, len(annotations) + 1, i + 1)
            if calib is not None:
                ann.update({k: obj[k] for k in GT_FIELDS if k in obj})
                if obj['category'] == 'vehicle':
                    parent = ann['id']
                elif obj['category'] == 'vehicle_face':
                    ann['parent_id'] = parent  # a face follows its vehicle
            annotations.append(ann)
    # Drop images of an earlier, larger run so the folder matches the JSON.
    for f in img_dir.iterdir():
        if re.fullmatch(r'\d{6}\.jpg', f.name) and int(f.name[:6]) >= num:
            f.unlink()
    cam = '' if camera == '2d' else f', {camera} camera'
    data = dict(
        info=dict(description=(f'yolox_kpt synthetic driving scenes{cam}, split {split}, '
                                f'seed {base_seed} (stream seed {seed})'),
                  # The module's path before it moved to data_tools, kept so that a seed
                  # gives the same bytes as the data sets generated (and measured) before.
                  version='1.0', contributor='yolox_kpt.datasets.synthetic_driving'),
        licenses=[], images=images, annotations=annotations, categories=coco_categories())
    # Written last: a present annotation file means the split is complete.
    return write_json(ann_dir / f'{split}.json', data)


def generate_synthetic_driving(out_dir: Union[str, Path],
                               num_train: int = 240,
                               num_val: int = 60,
                               img_size: Tuple[int, int] = (320, 256),
                               seed: int = 0,
                               progress: Union[bool, ProgressFn] = False,
                               camera: str = '2d') -> Dict[str, Path]:
    """Writes the train and val splits (COCO keypoint JSON + JPEG, quality 95).

    The same arguments always give byte-identical JSON. Train uses ``seed``, val
    ``seed + VAL_SEED_OFFSET``, so val scenes are held out. Existing files are overwritten.

    ``camera='pinhole'`` draws :func:`make_pinhole_scene`\ s instead: every image entry
    gets its camera as ``images[*].camera`` (``CameraCalibration.to_dict()``; read it back
    with ``CameraCalibration.from_dict``), and annotations get the ground-truth fields
    :data:`GT_FIELDS` (those the object has) plus ``parent_id`` (the vehicle's annotation
    id) on ``vehicle_face``\ s. The default, ``'2d'``, writes the same bytes as before
    pinhole scenes existed.

    Args:
        out_dir (str | Path): root; gets ``annotations/{train,val}.json`` and
            ``images/{train,val}/NNNNNN.jpg`` (``file_name`` is relative to the latter).
        num_train (int): train images.
        num_val (int): val images.
        img_size (tuple[int, int]): (W, H) of every image.
        seed (int): non-negative base seed.
        progress (bool | callable): True shows a tqdm bar when tqdm is installed; a
            callable ``(iterable, total, desc) -> iterable`` wraps the loop itself.
        camera (str): one of :data:`CAMERAS`.

    Returns:
        dict: ``{'train': Path, 'val': Path, 'root': Path}`` (annotation files and root).
    """
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    if camera not in CAMERAS:
        raise ValueError(f'camera must be one of {CAMERAS}, got {camera!r}')
    root = Path(out_dir)
    size = (int(img_size[0]), int(img_size[1]))
    prog = _resolve_progress(progress)
    return dict(
        train=_write_split(root, 'train', num_train, size, seed, seed, prog, camera),
        val=_write_split(root, 'val', num_val, size, seed + VAL_SEED_OFFSET, seed, prog,
                         camera),
        root=root)
