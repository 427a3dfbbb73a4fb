"""A camera's calibration for a flat road: image pixels <-> points on the road in metres.

numpy and the standard library only (OpenCV, imported inside the functions that need it,
undistorts pixels when distortion coefficients are given).

Frames, units and signs:

* **Ground (world) frame**: origin on the road directly below the camera's optical centre;
  ``x`` forward (the optical axis projected onto the road), ``y`` to the *left*, ``z`` up;
  metres. The camera sits at ``(0, 0, height_m)``. The road is the plane ``z = 0``.
* **Image**: pixels, ``u`` to the right, ``v`` down, OpenCV's pinhole model
  ``u = fx * X / Z + cx``, ``v = fy * Y / Z + cy`` in the camera frame (``X`` right,
  ``Y`` down, ``Z`` along the optical axis), after OpenCV's distortion model if ``dist``
  is given. Intrinsics are for frames of ``image_size`` (width, height);
  :meth:`CameraCalibration.scaled_to` adapts them to resized frames.
* **Pitch** (degrees): rotation about the camera's ``X`` axis; **positive looks down**
  (the horizon moves up in the image, above ``cy``).
* **Roll** (degrees), applied after the pitch, about the optical axis: **positive = the
  camera turned clockwise as seen from behind it** (looking where it looks, as the driver
  does), so its ``X`` axis (image right) dips towards the road; the horizon then rises
  towards the image's right side (the picture turns counter-clockwise).
* No yaw: ``x`` is defined by the optical axis.

Instead of the pose (``height_m``, ``pitch_deg``, ``roll_deg``) a ``homography`` (3x3,
undistorted image pixels -> ground ``(x, y)`` metres, in the frame above) may be given, e.g.
from four marked road points (``cv2.findHomography``); when given, it is what maps.

The file is JSON (``configs/calibration/example_1280x720.json``, ``docs/geometry.md``)::

    {"image_size": [1280, 720], "fx": 1000, "fy": 1000, "cx": 640, "cy": 360,
     "dist": [-0.1, 0.01, 0, 0, 0], "height_m": 1.5, "pitch_deg": 2.0, "roll_deg": 0.0}

Example:
    >>> calib = load_calibration('configs/calibration/example_1280x720.json')
    >>> calib.image_to_ground(np.array([[640., 460.]]))   # (1, 2) x forward, y left, metres
"""
import json
import math
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

#: Keys of a calibration file, in the order :meth:`CameraCalibration.to_dict` writes them.
FIELDS: Tuple[str, ...] = ('image_size', 'fx', 'fy', 'cx', 'cy', 'dist', 'height_m',
                           'pitch_deg', 'roll_deg', 'homography')
#: Keys that document a file and are ignored (as is any key starting with ``_``).
COMMENT_KEYS: Tuple[str, ...] = ('comment', 'description', 'camera', 'date')
#: Lengths of OpenCV's distortion vectors (k1 k2 p1 p2 [k3 [k4 k5 k6 [s1..s4 [tx ty]]]]).
DIST_LENGTHS: Tuple[int, ...] = (4, 5, 8, 12, 14)
#: A camera mounted higher than this is almost certainly given in millimetres or centimetres.
MAX_HEIGHT_M = 50.0
_POSE = ('fx', 'fy', 'cx', 'cy', 'height_m')


class CalibrationError(ValueError):
    """A calibration that is missing a field or holds an impossible value; the message names
    the file (or ``<dict>``) and the field."""


def _fail(source: str, name: str, problem: str) -> None:
    raise CalibrationError(f'{source}: field {name!r}: {problem}')


def _number(source: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        _fail(source, name, f'expected a number, got {value!r}')
    value = float(value)
    if math.isinf(value):
        _fail(source, name, f'must be finite, got {value}')
    return value


def _check(values: Mapping[str, Any], source: str) -> Dict[str, Any]:
    """Validated, normalised constructor arguments from a file's (or a constructor's) values.

    Missing pose fields are NaN when a homography is given (the homography maps alone).
    """
    out: Dict[str, Any] = {}
    size = values.get('image_size')
    if size is None:
        _fail(source, 'image_size', 'missing: [width, height] in pixels of the frames the '
              'intrinsics are for')
    if (not isinstance(size, (list, tuple, np.ndarray)) or len(size) != 2
            or not all(isinstance(s, (int, float, np.integer, np.floating))
                       and not isinstance(s, bool) and float(s).is_integer() and s > 0
                       for s in size)):
        _fail(source, 'image_size', f'expected [width, height], two positive integers, got '
              f'{size!r}')
    width, height = int(size[0]), int(size[1])
    out['image_size'] = (width, height)

    homography = values.get('homography')
    for name in _POSE:
        value = values.get(name)
        if value is None or (homography is not None and isinstance(value, float)
                             and math.isnan(value)):
            if homography is None:
                _fail(source, name, 'missing (needed unless a "homography" is given)')
            out[name] = math.nan
            continue
        value = _number(source, name, value)
        if math.isnan(value):
            _fail(source, name, 'is NaN')
        out[name] = value
    for name in ('fx', 'fy', 'height_m'):
        if not math.isnan(out[name]) and out[name] <= 0:
            _fail(source, name, f'must be > 0, got {out[name]}')
    if not math.isnan(out['height_m']) and out['height_m'] > MAX_HEIGHT_M:
        _fail(source, 'height_m', f'{out["height_m"]} m above the road: the height is in '
              f'metres (at most {MAX_HEIGHT_M})')
    for name, limit in (('cx', width), ('cy', height)):
        if not math.isnan(out[name]) and not 0 <= out[name] <= limit:
            _fail(source, name, f'principal point {out[name]} lies outside the {width}x{height} '
                  f'image ({"width" if name == "cx" else "height"} {limit})')

    for name in ('pitch_deg', 'roll_deg'):
        value = values.get(name, 0.0)
        value = 0.0 if value is None else _number(source, name, value)
        if math.isnan(value):
            _fail(source, name, 'is NaN')
        # pitched 90 degrees or more, a camera looks straight down or backwards
        if name == 'pitch_deg' and not -90.0 < value < 90.0:
            _fail(source, name, f'{value} degrees is impossible: the pitch lies strictly '
                  'between -90 and 90 (+ looks down)')
        if name == 'roll_deg' and not -180.0 <= value <= 180.0:
            _fail(source, name, f'{value} degrees is impossible: the roll lies within '
                  '[-180, 180]')
        out[name] = value

    dist = values.get('dist', ()) or ()
    if not isinstance(dist, (list, tuple, np.ndarray)):
        _fail(source, 'dist', f'expected a list of OpenCV distortion coefficients, got {dist!r}')
    dist = tuple(_number(source, 'dist', d) for d in dist)
    if dist and len(dist) not in DIST_LENGTHS:
        _fail(source, 'dist', f'OpenCV takes {", ".join(map(str, DIST_LENGTHS))} coefficients '
              f'(k1 k2 p1 p2 [k3 ...]), got {len(dist)}')
    if dist and any(math.isnan(out[n]) for n in ('fx', 'fy', 'cx', 'cy')):
        _fail(source, 'dist', 'undistortion needs the intrinsics fx, fy, cx, cy')
    out['dist'] = dist if any(dist) else ()

    out['homography'] = None
    if homography is not None:
        try:
            hom = np.array(homography, dtype=np.float64)
        except (TypeError, ValueError):
            _fail(source, 'homography', f'expected a 3x3 matrix of numbers, got {homography!r}')
        if hom.shape != (3, 3):
            _fail(source, 'homography', f'expected a 3x3 matrix, got shape {hom.shape}')
        if not np.isfinite(hom).all():
            _fail(source, 'homography', 'holds NaN or infinite values')
        if np.linalg.matrix_rank(hom) < 3 or np.linalg.cond(hom) > 1e12:
            _fail(source, 'homography', 'is not invertible (singular matrix)')
        # The sign of a homography is free; fix it so that w > 0 for road in front of the
        # camera, taking the bottom centre of the image as a pixel that sees the road.
        w = hom[2] @ (width / 2.0, height - 1.0, 1.0)
        if w == 0:
            _fail(source, 'homography', 'maps the bottom centre of the image to infinity')
        hom = hom * np.sign(w)
        x = (hom[0] @ (width / 2.0, height - 1.0, 1.0)) / abs(w)
        if not x > 0:
            _fail(source, 'homography', f'maps the bottom centre of the image to x = {x:.3g} m, '
                  'not in front of the camera (the ground frame is x forward, y left, origin '
                  'below the camera)')
        hom = hom / np.abs(hom).max()
        hom.setflags(write=False)
        out['homography'] = hom
    return out


@dataclass(frozen=True)
class CameraCalibration:
    """A calibrated camera above a flat road (see the module docstring for frames and signs).

    Attributes:
        fx, fy (float): focal lengths, pixels (NaN when only a homography is known).
        cx, cy (float): principal point, pixels.
        image_size (tuple[int, int]): (width, height) of the frames the intrinsics are for.
        height_m (float): optical centre above the road, metres, > 0.
        pitch_deg (float): + looks down.
        roll_deg (float): + is the camera turned clockwise as seen from behind it.
        dist (tuple[float, ...]): OpenCV distortion coefficients k1 k2 p1 p2 [k3 ...];
            ``()`` for none.
        homography (np.ndarray, optional): (3, 3) undistorted image pixels -> ground
            ``(x, y)``; maps instead of the pose when given. Read-only, sign-normalised.
    """
    fx: float
    fy: float
    cx: float
    cy: float
    image_size: Tuple[int, int]
    height_m: float
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    dist: Tuple[float, ...] = ()
    homography: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        checked = _check({f: getattr(self, f) for f in FIELDS}, 'CameraCalibration')
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ file format
    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = '<dict>') -> 'CameraCalibration':
        """From a calibration file's JSON object; :class:`CalibrationError` names ``source``
        and the field for a missing field, an unknown key or an impossible value."""
        if not isinstance(d, Mapping):
            raise CalibrationError(f'{source}: expected a JSON object with the fields '
                                   f'{", ".join(FIELDS)}, got {type(d).__name__}')
        for key in d:
            if key not in FIELDS and key not in COMMENT_KEYS and not str(key).startswith('_'):
                _fail(source, key, f'unknown field; a calibration has {", ".join(FIELDS)} '
                      f'(and {", ".join(COMMENT_KEYS)} or "_..." keys for notes)')
        return cls(**_check(d, source))

    def to_dict(self) -> Dict[str, Any]:
        """The file's JSON object (unknown pose fields and empty distortion left out)."""
        out: Dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if name == 'image_size':
                out[name] = list(value)
            elif name == 'dist':
                if value:
                    out[name] = list(value)
            elif name == 'homography':
                if value is not None:
                    out[name] = value.tolist()
            elif not math.isnan(value):
                out[name] = value
        return out

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, CameraCalibration) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    # ------------------------------------------------------------------ geometry
    @property
    def camera_matrix(self) -> np.ndarray:
        """(3, 3) the intrinsic matrix K."""
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], np.float64)

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) camera-from-ground rotation R: ``R @ (p - (0, 0, height_m))`` is ``p`` in
        the camera frame (X right, Y down, Z along the optical axis)."""
        p, r = math.radians(self.pitch_deg), math.radians(self.roll_deg)
        # rows: the camera's axes in the ground frame, pitched down by p
        pitched = np.array([[0.0, -1.0, 0.0],
                            [-math.sin(p), 0.0, -math.cos(p)],
                            [math.cos(p), 0.0, -math.sin(p)]])
        # then turned clockwise (seen from behind) about the optical axis: X dips towards Y
        rolled = np.array([[math.cos(r), math.sin(r), 0.0],
                           [-math.sin(r), math.cos(r), 0.0],
                           [0.0, 0.0, 1.0]])
        return rolled @ pitched

    @property
    def ground_homography(self) -> np.ndarray:
        """(3, 3) undistorted pixels -> ground ``(x, y, 1)`` (homogeneous), w > 0 in front."""
        if self.homography is not None:
            return self.homography
        # ground (x, y, 1) -> pixels: K [r1 r2 t] with t = -R @ camera position
        rot = self.rotation
        to_image = self.camera_matrix @ np.column_stack(
            [rot[:, 0], rot[:, 1], -rot @ (0.0, 0.0, self.height_m)])
        return np.linalg.inv(to_image)

    def scaled_to(self, width: int, height: int) -> 'CameraCalibration':
        """The same camera for frames resized from ``image_size`` to ``width`` x ``height``
        (focal lengths and principal point scale with the axes; distortion is unchanged)."""
        sx, sy = width / self.image_size[0], height / self.image_size[1]
        if (int(width), int(height)) == tuple(self.image_size):
            return self
        hom = None
        if self.homography is not None:
            hom = self.homography @ np.diag([1.0 / sx, 1.0 / sy, 1.0])
        return CameraCalibration(
            fx=self.fx * sx, fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy,
            image_size=(int(width), int(height)), height_m=self.height_m,
            pitch_deg=self.pitch_deg, roll_deg=self.roll_deg, dist=self.dist, homography=hom)

    def _through_lens(self, points: np.ndarray, convert) -> np.ndarray:
        """``convert(cv2, finite (M, 2) pixels) -> (M, 2)`` over (N, 2) ``points``; NaN rows
        stay NaN, and a camera without distortion returns them unchanged."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        if not self.dist or not len(points):
            return points
        import cv2  # only cameras with distortion need OpenCV
        out = np.full_like(points, np.nan)
        ok = np.isfinite(points).all(1)
        if ok.any():
            out[ok] = convert(cv2, points[ok]).reshape(-1, 2)
        return out

    def undistort(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) pixels -> (N, 2) the pixels an ideal pinhole camera would see."""
        def convert(cv2, pts):
            criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-10)
            # OpenCV >= 5 takes the criteria here (4.x spells this undistortPointsIter);
            # the default 5 iterations leave pixels off under strong distortion
            undistort = getattr(cv2, 'undistortPointsIter', cv2.undistortPoints)
            return undistort(pts.reshape(-1, 1, 2), self.camera_matrix, np.array(self.dist),
                             R=np.eye(3), P=self.camera_matrix, criteria=criteria)
        return self._through_lens(points, convert)

    def distort(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) ideal pinhole pixels -> (N, 2) the pixels this lens produces."""
        def convert(cv2, pts):
            norm = (pts - (self.cx, self.cy)) / (self.fx, self.fy)
            rays = np.column_stack([norm, np.ones(len(norm))]).reshape(-1, 1, 3)
            return cv2.projectPoints(rays, np.zeros(3), np.zeros(3), self.camera_matrix,
                                     np.array(self.dist))[0]
        return self._through_lens(points, convert)

    def image_to_ground(self, points: np.ndarray) -> np.ndarray:
        """Where the pixels' viewing rays meet the road.

        Args:
            points (np.ndarray): (N, 2) pixels ``u, v`` in frames of ``image_size``.

        Returns:
            np.ndarray: (N, 2) float64 ground ``x`` (forward), ``y`` (left), metres; NaN rows
            for pixels at or above the horizon (their rays never reach the road) and NaN
            input.
        """
        pts = self.undistort(points)
        homog = np.column_stack([pts, np.ones(len(pts))]) @ self.ground_homography.T
        with np.errstate(divide='ignore', invalid='ignore'):
            ground = homog[:, :2] / homog[:, 2:]
        ground[~(homog[:, 2] > 1e-12 * np.abs(homog).max(1, initial=0))] = np.nan
        return ground

    def ground_to_image(self, points: np.ndarray) -> np.ndarray:
        """Pixels of ground or world points.

        Args:
            points (np.ndarray): (N, 2) ground ``x, y`` (on the road, ``z = 0``) or (N, 3)
                world ``x, y, z`` (``z`` up from the road), metres.

        Returns:
            np.ndarray: (N, 2) float64 pixels; NaN rows for points behind the camera (or in
            its plane). A homography-only calibration maps road points (``z = 0``) only.
        """
        points = np.asarray(points, np.float64)
        points = points.reshape(-1, points.shape[-1]) if points.size else points.reshape(0, 2)
        if points.shape[1] not in (2, 3):
            raise ValueError(f'ground_to_image: expected (N, 2) or (N, 3) points, got shape '
                             f'{points.shape}')
        if points.shape[1] == 3:
            if self.homography is not None:
                if np.any(points[:, 2] != 0):
                    raise ValueError('ground_to_image: a homography calibration maps road '
                                     'points (z = 0) only')
            else:
                cam = (points - (0.0, 0.0, self.height_m)) @ self.rotation.T
                return self.distort(self._project(cam @ self.camera_matrix.T))
            points = points[:, :2]
        homog = np.column_stack([points, np.ones(len(points))]) @ np.linalg.inv(
            self.ground_homography).T
        return self.distort(self._project(homog))

    @staticmethod
    def _project(homog: np.ndarray) -> np.ndarray:
        with np.errstate(divide='ignore', invalid='ignore'):
            pix = homog[:, :2] / homog[:, 2:]
        pix[~(homog[:, 2] > 1e-12 * np.abs(homog).max(1, initial=0))] = np.nan
        return pix

    def horizon_v(self, u: float) -> float:
        """Image row of the horizon at column ``u`` (undistorted pixels); rows below it see
        the road."""
        hom = self.ground_homography
        # w(u, v) = hom[2] @ (u, v, 1) = 0 on the horizon
        if hom[2, 1] == 0:
            return math.nan
        return float(-(hom[2, 0] * u + hom[2, 2]) / hom[2, 1])


def load_calibration(path: str) -> CameraCalibration:
    """Read and validate a calibration JSON file (:class:`CalibrationError` names the file)."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except OSError as e:
        raise CalibrationError(f'{path}: cannot read the calibration file: {e.strerror}') from e
    except json.JSONDecodeError as e:
        raise CalibrationError(f'{path}: not valid JSON: {e}') from e
    return CameraCalibration.from_dict(data, source=str(path))
