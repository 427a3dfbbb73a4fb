"""Seeded synthetic driving *video sequences* with ground-truth track ids, for tracking.

Each sequence is one pinhole camera (:func:`.synthetic_driving.make_pinhole_scene`'s
camera, background and objects) over a flat road, seen for ``T`` frames at ``fps`` frames
per second. Its actors move on the road with a constant velocity and heading plus noise
(heading random walk, speed jitter), so they *cross* and *occlude* each other and *leave
and enter* the frame:

* crossing actors (pedestrians, cyclists and some vehicles) start beside the road, out of
  the picture or at its edge, and cross it, in both directions, at different distances;
* lane actors (vehicles, some cyclists) drive along the lanes, ahead or oncoming, at
  different speeds relative to the camera, so they overtake each other and change size.

Every frame is drawn by the single-image generator's own painter (same objects, looks,
keypoints and visibility rules): an actor is re-sampled at each frame from its own seed at
its new pose, so it keeps its look. An actor is annotated while its centre is more than
its footprint radius + 1.5 m ahead of the camera and its clipped box is at least
``min_side`` px; its ``vehicle_face`` (when the vehicle shows its front or rear) is a
second object with its own track id.

Output (COCO keypoint JSON + JPEG; the COCO-VID layout that mmdet's video datasets read)::

    <out>/annotations/sequences.json
    <out>/images/seq_000/000000.jpg ...
    <out>/videos/seq_000.mp4 ...          (with ``video=True``)

``videos`` lists the sequences (``id``, ``name``, ``fps``, ``camera``); each image has
``video_id``, ``frame_id`` (0-based) and ``file_name`` relative to ``images/``; each
annotation has ``track_id`` (unique in the file; mmdet's ``instance_id`` too),
``visibility`` (the fraction of its box not covered by the boxes of nearer objects) and the
pinhole ground truth of :data:`.synthetic_driving.GT_FIELDS`.

Only numpy, OpenCV and the standard library are imported (tqdm for a bar).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Tuple, Union

import cv2
import numpy as np

from .coco import write_json
from .driving_schema import coco_categories
from .synthetic_driving import (_LANE_W, _PART_BITS, _PIN_SAMPLERS, GT_FIELDS, _area,
                                _checked_size, _clip_box, _coco_annotation,
                                _cover_fraction, _paint, _pinhole_background,
                                _resolve_progress, _sample_calibration)

#: Default frame rate: the motions below are in metres per second.
FPS = 10.0
#: (category, m/s range) of crossing actors; vehicles cross at an intersection.
_CROSS_SPEED = {'pedestrian': (0.9, 1.8), 'cyclist': (2.5, 5.0), 'vehicle': (3.0, 7.0)}
#: probabilities of an actor's kind
_KINDS = (('cross_pedestrian', 0.3), ('cross_cyclist', 0.15), ('cross_vehicle', 0.1),
          ('lane_vehicle', 0.38), ('lane_cyclist', 0.07))
_MIN_AHEAD = 1.5  # m in front of the camera beyond an actor's footprint radius


@dataclass
class Actor:
    """A moving object of a sequence (world frame: x forward, y left, metres)."""
    category: str
    look_seed: int
    x: float
    y: float
    course: float  # rad, direction of motion (CCW from x)
    speed: float  # m/s over the road, relative to the camera
    turn_noise: float  # rad/frame, std of the course's random walk
    backwards: bool = False  # drawn facing against its course (a car ahead that we gain on)
    radius: float = 1.0

    @property
    def yaw(self) -> float:
        """The heading the object is drawn with."""
        return self.course + (math.pi if self.backwards else 0.0)

    def step(self, rng: np.random.Generator, dt: float) -> None:
        self.course += rng.normal(0.0, self.turn_noise)
        v = self.speed * (1.0 + rng.normal(0.0, 0.03))
        self.x += v * dt * math.cos(self.course)
        self.y += v * dt * math.sin(self.course)


def _sample_actor(rng: np.random.Generator, calib, num_frames: int, dt: float,
                  lane_speeds: Dict[int, float]) -> Actor:
    """One actor; ``lane_speeds`` (lane -> signed m/s) is shared by a sequence's lane
    actors, so that traffic in one lane keeps its spacing instead of driving through
    itself."""
    kinds = [k for k, _ in _KINDS]
    kind = kinds[int(rng.choice(len(kinds), p=[p for _, p in _KINDS]))]
    w = calib.image_size[0]
    half_fov = math.atan2(max(calib.cx, w - calib.cx), calib.fx)
    seed = int(rng.integers(2 ** 31))
    duration = num_frames * dt
    if kind.startswith('cross'):
        cat = kind.split('_')[1]
        x = rng.uniform(6.0, 35.0 if cat != 'vehicle' else 45.0)
        speed = rng.uniform(*_CROSS_SPEED[cat])
        reach = x * math.tan(half_fov)
        side = 1.0 if rng.random() < 0.5 else -1.0
        # start somewhere from just out of the picture to mid-crossing, so most cross
        # the image centre during the sequence
        y = side * rng.uniform(-0.2 * reach, min(reach + 2.0, speed * duration * 0.9))
        yaw = -side * math.pi / 2 + rng.normal(0.0, 0.15)
        noise = 0.03 if cat != 'vehicle' else 0.005
    else:
        cat = 'vehicle' if kind == 'lane_vehicle' else 'cyclist'
        lane = int(rng.integers(-2, 3))
        oncoming = cat == 'vehicle' and lane > 0 and rng.random() < 0.7
        x = rng.uniform(8.0, 50.0)
        y = lane * _LANE_W + rng.normal(0.0, 0.3)
        if cat == 'cyclist':
            y = math.copysign(abs(y) + 0.5 * _LANE_W, y if y else 1.0)  # at the road side
        # speeds relative to the (moving) camera: traffic ahead drifts away or back,
        # oncoming traffic approaches
        key = lane if cat == 'vehicle' else 10 * lane
        if key not in lane_speeds:
            lane_speeds[key] = rng.uniform(-6.0, 6.0) if not oncoming else rng.uniform(6.0, 15.0)
        else:
            oncoming = lane_speeds[key] >= 6.0 and lane > 0
        speed = lane_speeds[key]
        yaw = math.pi if oncoming else 0.0
        if speed < 0:  # drifting back towards the camera, still facing along its lane
            return Actor(cat, seed, x, y, yaw + math.pi, -speed, 0.004, backwards=True)
        noise = 0.004
    return Actor(cat, seed, x, y, yaw, speed, noise)


def _visible_objects(actors: List[Actor], calib, min_side: float) -> List[Tuple[int, object]]:
    """(actor index, painted object) of the actors in view at their current poses."""
    w, h = calib.image_size
    out = []
    for k, a in enumerate(actors):
        if a.x - a.radius < _MIN_AHEAD:
            continue
        obj = _PIN_SAMPLERS[a.category](np.random.default_rng(a.look_seed), calib, a.x, a.y,
                                        a.yaw)
        a.radius = getattr(obj, 'radius', 0.4)
        if a.x - a.radius < _MIN_AHEAD or not obj.drawable():
            continue
        cb = _clip_box(obj.box, w, h)
        if min(cb[2] - cb[0], cb[3] - cb[1]) < min_side or _area(cb) < 0.15 * _area(obj.box):
            continue
        obj.depth = (-a.x, k)
        out.append((k, obj))
    return sorted(out, key=lambda ko: ko[1].depth)


def make_sequence(rng: np.random.Generator, num_frames: int,
                  img_size: Tuple[int, int] = (320, 256),
                  num_actors: Union[None, int, Tuple[int, int]] = None,
                  fps: float = FPS, min_side: float = 6.0
                  ) -> Iterator[Tuple[np.ndarray, List[dict], object]]:
    """Draws one sequence, frame by frame.

    Args:
        rng (np.random.Generator): source of all randomness.
        num_frames (int): frames to draw.
        img_size (tuple[int, int]): (W, H), each >= 64.
        num_actors (int | tuple[int, int], optional): moving objects, or the range to draw
            their number from (inclusive); default 4-9.
        fps (float): frames per second (speeds are in m/s).
        min_side (float): an object whose clipped box has a shorter side (px) is not drawn.

    Yields:
        tuple: per frame the (H, W, 3) uint8 BGR image, its objects (as
        :func:`.synthetic_driving.make_pinhole_scene`'s, plus ``'actor'``: the actor's
        index, ``'visibility'`` in [0, 1]) and the camera (the same every frame).
    """
    w, h = _checked_size(img_size)
    calib = _sample_calibration(rng, w, h)
    background = _pinhole_background(rng, calib)
    dt = 1.0 / fps
    lo, hi = (4, 9) if num_actors is None else (
        (num_actors, num_actors) if isinstance(num_actors, int) else num_actors)
    n = int(rng.integers(lo, hi + 1))
    lane_speeds: Dict[int, float] = {}
    actors: List[Actor] = []
    for _ in range(n):
        for _ in range(10):  # keep lane actors apart: they never pass each other
            a = _sample_actor(rng, calib, num_frames, dt, lane_speeds)
            if a.turn_noise > 0.01 or all(
                    abs(a.y - b.y) > 1.5 or abs(a.x - b.x) > 8.0 for b in actors):
                actors.append(a)
                break
    # one exposure and sensor-noise pattern per sequence: the painter draws a gain and
    # noise per call, which would make the frames flicker
    finish_seed = int(rng.integers(2 ** 31))
    for _ in range(num_frames):
        placed = _visible_objects(actors, calib, min_side)
        img, records = _paint(np.random.default_rng(finish_seed), background.copy(),
                              [o for _, o in placed], _PART_BITS)
        # records come in painting order, a vehicle followed by its face
        owners, i = [], -1
        for rec in records:
            i += rec['category'] != 'vehicle_face'
            owners.append(i)
        boxes = [_clip_box(o.box, w, h) for _, o in placed]
        for rec, i in zip(records, owners):
            rec['actor'] = placed[i][0]
            cover = _cover_fraction(_clip_box(rec['bbox'], w, h), boxes[i + 1:]) \
                if i + 1 < len(boxes) else 0.0
            rec['visibility'] = round(1.0 - cover, 3)
        yield img, records, calib
        for a in actors:
            a.step(rng, dt)


def generate_synthetic_sequences(out_dir: Union[str, Path], num_sequences: int = 4,
                                 frames_per_sequence: int = 60,
                                 img_size: Tuple[int, int] = (320, 256), seed: int = 0,
                                 fps: float = FPS, num_actors: Tuple[int, int] = (4, 9),
                                 video: bool = False,
                                 progress: Union[bool, object] = False) -> Dict[str, Path]:
    """Writes ``num_sequences`` sequences (JPEG frames + one COCO-VID annotation file).

    The same arguments give the same JSON. Existing files are overwritten.

    Args:
        out_dir (str | Path): root (see the module docstring for the layout).
        num_sequences (int): sequences, each with its own camera and actors.
        frames_per_sequence (int): frames of each.
        img_size (tuple[int, int]): (W, H).
        seed (int): non-negative seed.
        fps (float): frame rate (motions are in m/s; also the mp4's rate).
        num_actors (tuple[int, int]): range of the number of moving objects a sequence.
        video (bool): also write ``videos/seq_NNN.mp4`` (the frames, mp4v).
        progress (bool | callable): as :func:`.synthetic_driving.generate_synthetic_driving`.

    Returns:
        dict: ``{'annotations': Path, 'images': Path, 'videos': [Path, ...], 'root': Path}``.
    """
    if num_sequences < 0 or frames_per_sequence < 1:
        raise ValueError('num_sequences must be >= 0 and frames_per_sequence >= 1')
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    root = Path(out_dir)
    size = (int(img_size[0]), int(img_size[1]))
    rng = np.random.default_rng(seed)
    prog = _resolve_progress(progress)
    videos, images, annotations, mp4s = [], [], [], []
    next_track = 1
    it = range(num_sequences)
    if prog is not None:
        it = prog(it, num_sequences, 'seq')
    for s in it:
        name = f'seq_{s:03d}'
        seq_dir = root / 'images' / name
        seq_dir.mkdir(parents=True, exist_ok=True)
        writer = None
        if video:
            (root / 'videos').mkdir(parents=True, exist_ok=True)
            mp4s.append(root / 'videos' / f'{name}.mp4')
            writer = cv2.VideoWriter(str(mp4s[-1]), cv2.VideoWriter_fourcc(*'mp4v'), fps, size)
        track_ids: Dict[Tuple[int, str], int] = {}
        seq_rng = np.random.default_rng(rng.integers(2 ** 63))
        for f, (img, objs, calib) in enumerate(
                make_sequence(seq_rng, frames_per_sequence, size, tuple(num_actors), fps)):
            if f == 0:
                videos.append(dict(id=s + 1, name=name, fps=fps, camera=calib.to_dict()))
            file_name = f'{name}/{f:06d}.jpg'
            ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if not ok:
                raise RuntimeError(f'JPEG encoding failed for {root / "images" / file_name}')
            (root / 'images' / file_name).write_bytes(buf.tobytes())
            if writer is not None:
                writer.write(img)
            image_id = len(images) + 1
            images.append(dict(id=image_id, file_name=file_name, width=size[0],
                               height=size[1], video_id=s + 1, frame_id=f))
            parent = None
            for obj in objs:
                key = (obj['actor'], obj['category'])
                if key not in track_ids:
                    track_ids[key] = next_track
                    next_track += 1
                ann = _coco_annotation(obj, len(annotations) + 1, image_id)
                ann.update({k: obj[k] for k in GT_FIELDS if k in obj})
                ann.update(track_id=track_ids[key], instance_id=track_ids[key],
                           visibility=obj['visibility'])
                if obj['category'] == 'vehicle':
                    parent = ann['id']
                elif obj['category'] == 'vehicle_face':
                    ann['parent_id'] = parent
                annotations.append(ann)
        if writer is not None:
            writer.release()
    data = dict(info=dict(description=f'yolox_kpt synthetic driving sequences, seed {seed}, '
                          f'{fps:g} fps', version='1.0',
                          contributor='yolox_kpt.data_tools.synthetic_sequences'),
                licenses=[], videos=videos, images=images, annotations=annotations,
                categories=coco_categories())
    ann_file = write_json(root / 'annotations' / 'sequences.json', data)
    return dict(annotations=ann_file, images=root / 'images', videos=mp4s, root=root)
