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

Only numpy, OpenCV and the standard library are imported (tqdm when a bar is shown), so
the module loads fast.
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
class _Vehicle(_Object):
    viewpoint: str = 'rear'
    face_type: str = 'tail'  # 'tail' (rear face) or 'head' (front face)
    face_box: Box = (0, 0, 0, 0)  # [x1, roof, x2, bumper bottom]
    panel: Optional[Tuple[float, float]] = None  # (junction x, far-end x) of the flank
    belt: float = 0.45
    body: Color = (0, 0, 255)
    window: Color = (60, 50, 40)
    tyre: Color = (25, 25, 25)
    light: Color = (30, 30, 220)
    plate: Color = (230, 230, 230)
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
class _Cyclist(_Object):
    direction: int = 1  # +1: riding towards the image right
    r: float = 10.0  # wheel radius, px
    frame: Color = (0, 160, 255)
    tyre: Color = (25, 25, 25)
    shirt: Color = (200, 0, 0)
    trousers: Color = (50, 50, 50)
    skin: Color = (150, 180, 225)
    helmet: Color = (240, 240, 240)
    crank: float = 0.0  # pedal angle, rad

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
                    direction=1 if rng.random() < 0.5 else -1, r=r,
                    frame=_hsv_color(rng.uniform(0, 1), rng.uniform(0.6, 1.0),
                                     rng.uniform(0.6, 1.0)),
                    tyre=_tyre_color(rng), shirt=_clothing(rng), trousers=_clothing(rng),
                    skin=_SKINS[int(rng.integers(len(_SKINS)))],
                    helmet=_hsv_color(rng.uniform(0, 1), rng.uniform(0, 0.8),
                                      rng.uniform(0.6, 1.0)),
                    crank=rng.uniform(0, 2 * math.pi))


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
    objs = placed + [cand]
    for o in objs:
        nearer = [_clip_box(q.box, w, h) for q in objs if q.depth > o.depth]
        if not nearer:
            continue
        for ob in o.cover_boxes():
            if _cover_fraction(_clip_box(ob, w, h), nearer) > _MAX_COVER:
                return False
    return True


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
    w, h = int(img_size[0]), int(img_size[1])
    if w < 64 or h < 64:
        raise ValueError(f'img_size must be at least 64x64, got {w}x{h}')
    g = _sample_ground(rng, w, h)
    img = _draw_background(rng, g)
    n = 0 if rng.random() < _EMPTY_PROB else int(rng.integers(1, 7))
    placed = sorted(_place_objects(rng, g, n), key=lambda o: o.depth)
    ids = np.zeros((h, w), dtype=np.uint8)
    painter = _Painter(img, ids)
    for oid, o in enumerate(placed, 1):  # painter's order: far first
        painter.oid = oid
        o.draw(painter)
    img = _finish(rng, img)
    objects: List[dict] = []
    for oid, o in enumerate(placed, 1):
        objects.extend(o.records(ids, oid))
    return img, objects


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


def _write_split(root: Path, split: str, num: int, img_size: Tuple[int, int], seed: int,
                 base_seed: int, progress: Optional[ProgressFn]) -> Path:
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
        img, objs = make_scene(rng, img_size)
        name = f'{i:06d}.jpg'
        ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for {img_dir / name}')
        (img_dir / name).write_bytes(buf.tobytes())
        images.append(dict(id=i + 1, file_name=name, width=img.shape[1], height=img.shape[0]))
        for obj in objs:
            annotations.append(_coco_annotation(obj, len(annotations) + 1, i + 1))
    # Drop images of an earlier, larger run so the folder matches the JSON.
    for f in img_dir.iterdir():
        if re.fullmatch(r'\d{6}\.jpg', f.name) and int(f.name[:6]) >= num:
            f.unlink()
    data = dict(
        info=dict(description=(f'yolox_kpt synthetic driving scenes, split {split}, '
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
                               progress: Union[bool, ProgressFn] = False) -> Dict[str, Path]:
    """Writes the train and val splits (COCO keypoint JSON + JPEG, quality 95).

    The same arguments always give byte-identical JSON. Train uses ``seed``, val
    ``seed + VAL_SEED_OFFSET``, so val scenes are held out. Existing files are overwritten.

    Args:
        out_dir (str | Path): root; gets ``annotations/{train,val}.json`` and
            ``images/{train,val}/NNNNNN.jpg`` (``file_name`` is relative to the latter).
        num_train (int): train images.
        num_val (int): val images.
        img_size (tuple[int, int]): (W, H) of every image.
        seed (int): non-negative base seed.
        progress (bool | callable): True shows a tqdm bar when tqdm is installed; a
            callable ``(iterable, total, desc) -> iterable`` wraps the loop itself.

    Returns:
        dict: ``{'train': Path, 'val': Path, 'root': Path}`` (annotation files and root).
    """
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    root = Path(out_dir)
    size = (int(img_size[0]), int(img_size[1]))
    prog = _resolve_progress(progress)
    return dict(
        train=_write_split(root, 'train', num_train, size, seed, seed, prog),
        val=_write_split(root, 'val', num_val, size, seed + VAL_SEED_OFFSET, seed, prog),
        root=root)
