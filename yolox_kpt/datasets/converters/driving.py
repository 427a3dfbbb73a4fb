"""Driving-data converters: camera labels to COCO keypoints, frame selection, subsets and
image-folder checks.

The logic behind ``tools/dataset_converters/{camera_labels_to_coco,select_frames,
coco_subset,check_consistency}.py``; kept here so it can be imported and tested. The
per-frame camera label schema is documented in ``docs/camera_label_schema.md``; classes and
keypoint names are those of :mod:`yolox_kpt.datasets.synthetic_driving`.

Every error about the input is a :class:`ConverterError` (a ``ValueError``) whose message
names the file and, where there is one, the object, image or annotation.

Only the standard library is imported here (plus the synthetic-driving constants, which
need numpy and OpenCV); Pillow is imported on demand to read image sizes.
"""
from __future__ import annotations

import json
import math
import os
import posixpath
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from ..synthetic_driving import CLASSES, KEYPOINTS, coco_categories
from .common import CocoFileError, ConverterError, load_coco, progress  # noqa: F401 (re-exported)

PathLike = Union[str, Path]

#: Classes a camera label object may have; ``vehicle_face`` comes from a vehicle's ``face``.
LABEL_CLASSES: Tuple[str, ...] = tuple(c for c in CLASSES if c != 'vehicle_face')
FACE_CLASS = 'vehicle_face'
FACE_TYPES: Tuple[str, ...] = ('head', 'tail')

#: Per class with keypoints: (label field, suffix that turns a label name into the COCO
#: keypoint name). ``tyres.front_left`` -> ``front_left_tyre``, ``wheels.rear`` ->
#: ``rear_wheel``; the short names are derived from :data:`KEYPOINTS` so they cannot drift.
POINT_FIELDS: Dict[str, Tuple[str, str]] = {'vehicle': ('tyres', '_tyre'),
                                             'cyclist': ('wheels', '_wheel')}
POINT_NAMES: Dict[str, Tuple[str, ...]] = {
    cls: tuple(k[:-len(suffix)] for k in KEYPOINTS[cls])
    for cls, (_, suffix) in POINT_FIELDS.items()}

SCHEMA_VERSION = 1
SPLITS: Tuple[str, ...] = ('train', 'val', 'test')
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp')

_FRAME_KEYS = {'version', 'drive', 'timestamp', 'image', 'width', 'height', 'objects',
               'extra'}
_OBJECT_KEYS = {'class', 'box', 'distance', 'track_id', 'face', 'tyres', 'wheels', 'extra'}
_FACE_KEYS = {'type', 'box'}
# Greedy thinning compares float timestamps: 10.0 - 9.9 must count as 0.1 s.
_TIME_EPS = 1e-6


class CameraLabelError(ConverterError):
    """A camera label file that does not follow ``docs/camera_label_schema.md``."""


# --------------------------------------------------------------------------- helpers


def _bar(it: Iterable, total: Optional[int], desc: str, show: bool,
         unit: str = 'file') -> Iterable:
    return progress(it, total, desc, unit) if show else it


def _number(v) -> Optional[float]:
    """A finite float, or None for anything else (bools are not numbers here)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def check_ratios(ratios: Sequence[float], what: str = '--ratios') -> List[float]:
    """Ratios normalised to sum 1; each must be finite and >= 0, and their sum > 0."""
    vals = [_number(r) for r in ratios]
    if not vals or any(v is None or v < 0 for v in vals) or sum(vals) <= 0:
        raise ConverterError(f'{what} must be numbers >= 0 with a positive sum, got '
                             f'{list(ratios)}')
    total = sum(vals)
    return [v / total for v in vals]


def assign_by_ratio(sizes: Sequence[int], ratios: Sequence[float]) -> List[int]:
    """Part index of each unit, units taken in the given order and kept whole.

    Part ``i`` owns the stretch ``[sum(r[:i]), sum(r[:i+1])) * total`` of the cumulative
    size; a unit goes to the part whose stretch holds its middle. With units of size 1
    this gives each part ``ratio * total`` units to within one. A middle exactly on a
    border goes to the earlier part.

    Args:
        sizes (Sequence[int]): size of each unit (frames, images), in order.
        ratios (Sequence[float]): share of each part (normalised here).

    Returns:
        list[int]: the part of each unit.
    """
    shares = check_ratios(ratios)
    total = sum(sizes)
    bounds, acc = [], 0.0
    for s in shares:
        acc += s
        bounds.append(acc * total)
    out, pos = [], 0
    for size in sizes:
        mid = pos + size / 2
        out.append(next((i for i, b in enumerate(bounds) if mid <= b), len(bounds) - 1))
        pos += size
    return out


def write_json(path: PathLike, data: dict) -> Path:
    """Writes ``data`` atomically (temporary file, then rename), creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(data), encoding='utf-8')
    os.replace(tmp, path)
    return path


def class_counts(coco: dict) -> Counter:
    """Annotations per category name."""
    names = {c['id']: c['name'] for c in coco['categories']}
    return Counter(names.get(a.get('category_id'), '?') for a in coco['annotations'])


def _with_images(coco: dict, images: List[dict], info: str) -> dict:
    """A copy of ``coco`` holding ``images`` and their annotations; ids kept."""
    keep = {img['id'] for img in images}
    out = {k: v for k, v in coco.items()
           if k not in ('images', 'annotations', 'categories', 'info')}
    out['info'] = dict(coco.get('info') or {}, description=info)
    out['images'] = images
    out['annotations'] = [a for a in coco['annotations'] if a['image_id'] in keep]
    out['categories'] = coco['categories']
    return out


# --------------------------------------------------------------------------- camera labels


@dataclass
class Frame:
    """One validated camera label file."""
    label_file: str  # path relative to the label folder, for messages and the image record
    drive: str
    timestamp: float
    image: str
    width: Optional[int]
    height: Optional[int]
    objects: List[dict] = field(default_factory=list)


def _box(v, where: str) -> Tuple[float, float, float, float]:
    nums = [_number(x) for x in v] if isinstance(v, list) else []
    if len(nums) != 4 or any(x is None for x in nums):
        raise CameraLabelError(f'{where}: box must be 4 finite numbers [x1, y1, x2, y2], '
                               f'got {v!r}')
    x1, y1, x2, y2 = nums
    if x2 <= x1 or y2 <= y1:
        raise CameraLabelError(f'{where}: box [x1, y1, x2, y2] needs x2 > x1 and y2 > y1, '
                               f'got {v!r}')
    return x1, y1, x2, y2


def _point(v, where: str) -> Tuple[float, float, int]:
    nums = [_number(x) for x in v] if isinstance(v, list) else []
    if len(nums) != 3 or any(x is None for x in nums) or nums[2] not in (0, 1, 2):
        raise CameraLabelError(f'{where}: a point is [x, y, v] with finite x, y and v in '
                               f'0/1/2 (COCO visibility), got {v!r}')
    x, y, vis = nums
    return (x, y, int(vis)) if vis > 0 else (0.0, 0.0, 0)


def _parse_object(obj, where: str) -> dict:
    if not isinstance(obj, dict):
        raise CameraLabelError(f'{where}: an object is a JSON object, got {obj!r}')
    unknown = sorted(set(obj) - _OBJECT_KEYS)
    if unknown:
        raise CameraLabelError(f'{where}: unknown field(s) {unknown}; an object has '
                               f'{sorted(_OBJECT_KEYS)}')
    cls = obj.get('class')
    if cls not in LABEL_CLASSES:
        hint = (' (a vehicle face is the "face" of its vehicle object)'
                if cls == FACE_CLASS else '')
        raise CameraLabelError(f'{where}: unknown class {cls!r}; use one of '
                               f'{list(LABEL_CLASSES)}{hint}')
    where = f'{where} ({cls})'
    if 'box' not in obj:
        raise CameraLabelError(f'{where}: no "box"')
    out = dict(cls=cls, box=_box(obj['box'], where))
    if obj.get('distance') is not None:
        dist = _number(obj['distance'])
        if dist is None or dist < 0:
            raise CameraLabelError(f'{where}: distance must be a number of metres >= 0, '
                                   f'got {obj["distance"]!r}')
        out['distance'] = dist
    if obj.get('track_id') is not None:
        out['track_id'] = obj['track_id']
    for key, (fld, _) in POINT_FIELDS.items():
        if fld in obj and cls != key:
            raise CameraLabelError(f'{where}: only {key} objects have "{fld}"')
    if 'face' in obj and obj['face'] is not None:
        if cls != 'vehicle':
            raise CameraLabelError(f'{where}: only vehicle objects have a "face"')
        face = obj['face']
        if not isinstance(face, dict) or set(face) - _FACE_KEYS or 'box' not in face:
            raise CameraLabelError(f'{where}: face must be {{"type": "head"|"tail", '
                                   f'"box": [x1, y1, x2, y2]}}, got {face!r}')
        if face.get('type') not in FACE_TYPES:
            raise CameraLabelError(f'{where}: face type must be one of {list(FACE_TYPES)}, '
                                   f'got {face.get("type")!r}')
        out['face'] = dict(type=face['type'], box=_box(face['box'], f'{where} face'))
    if cls in POINT_FIELDS:
        fld, _ = POINT_FIELDS[cls]
        names = POINT_NAMES[cls]
        raw = obj.get(fld) or {}
        if not isinstance(raw, dict):
            raise CameraLabelError(f'{where}: "{fld}" maps names {list(names)} to [x, y, v], '
                                   f'got {raw!r}')
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise CameraLabelError(f'{where}: unknown {fld[:-1]} name(s) {unknown}; '
                                   f'use {list(names)}')
        out['points'] = [_point(raw[n], f'{where} {fld}.{n}') if n in raw else (0.0, 0.0, 0)
                         for n in names]
    return out


def parse_frame(data, label_file: str) -> Frame:
    """Validates one decoded label file against the schema.

    Args:
        data: the decoded JSON.
        label_file (str): its path, used in every error message.

    Raises:
        CameraLabelError: naming ``label_file`` and, for objects, their index.
    """
    if not isinstance(data, dict):
        raise CameraLabelError(f'{label_file}: a frame label is a JSON object')
    unknown = sorted(set(data) - _FRAME_KEYS)
    if unknown:
        raise CameraLabelError(f'{label_file}: unknown field(s) {unknown}; a frame has '
                               f'{sorted(_FRAME_KEYS)} (free-form data goes in "extra")')
    if data.get('version', SCHEMA_VERSION) != SCHEMA_VERSION:
        raise CameraLabelError(f'{label_file}: schema version {data["version"]!r}; this '
                               f'converter reads version {SCHEMA_VERSION}')
    for key in ('drive', 'timestamp', 'image', 'objects'):
        if data.get(key) is None:
            raise CameraLabelError(f'{label_file}: missing "{key}"')
    if not isinstance(data['drive'], str) or not data['drive']:
        raise CameraLabelError(f'{label_file}: drive must be a non-empty string')
    ts = _number(data['timestamp'])
    if ts is None:
        raise CameraLabelError(f'{label_file}: timestamp must be a number of seconds, got '
                               f'{data["timestamp"]!r}')
    if not isinstance(data['image'], str) or not data['image']:
        raise CameraLabelError(f'{label_file}: image must be a path relative to the image '
                               'root')
    size = []
    for key in ('width', 'height'):
        v = data.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise CameraLabelError(f'{label_file}: {key} must be a positive integer, got '
                                   f'{v!r}')
        size.append(v)
    if (size[0] is None) != (size[1] is None):
        raise CameraLabelError(f'{label_file}: give both width and height, or neither')
    if not isinstance(data['objects'], list):
        raise CameraLabelError(f'{label_file}: objects must be a list (may be empty)')
    objects = [_parse_object(o, f'{label_file}: object {i}')
               for i, o in enumerate(data['objects'])]
    image = posixpath.normpath(data['image'].replace('\\', '/'))
    return Frame(label_file, data['drive'], ts, image, size[0], size[1], objects)


def read_frame(path: Path, root: Path) -> Frame:
    """Reads and validates one label file; ``root`` makes the path in messages short."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = str(path)
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CameraLabelError(f'{path}: not a JSON file ({e})') from e
    frame = parse_frame(data, str(path))
    frame.label_file = rel
    return frame


def image_size(path: Path) -> Tuple[int, int]:
    """(width, height) from the image header, without decoding the pixels."""
    from PIL import Image  # installed with the package's dependencies; only needed here
    with Image.open(path) as im:
        return im.size


def _clip(box, w: int, h: int, where: str) -> List[float]:
    x1, y1, x2, y2 = max(box[0], 0.0), max(box[1], 0.0), min(box[2], w), min(box[3], h)
    if x2 <= x1 or y2 <= y1:
        raise CameraLabelError(f'{where}: box {list(box)} lies outside the {w}x{h} image')
    return [x1, y1, x2 - x1, y2 - y1]


def frame_annotations(frame: Frame, image_id: int, first_ann_id: int) -> List[dict]:
    """COCO annotations of one frame: one per object plus one ``vehicle_face`` per face.

    Boxes are clipped to the image (a box entirely outside it is an error). Labelled
    points (v > 0) are kept as given; the dataset loader unlabels those outside the image.
    """
    cat_id = {c: i for i, c in enumerate(CLASSES, 1)}
    anns: List[dict] = []
    for i, obj in enumerate(frame.objects):
        where = f'{frame.label_file}: object {i} ({obj["cls"]})'
        bbox = _clip(obj['box'], frame.width, frame.height, where)
        points = obj.get('points', [])
        ann = dict(id=first_ann_id + len(anns), image_id=image_id,
                   category_id=cat_id[obj['cls']], bbox=bbox, area=bbox[2] * bbox[3],
                   iscrowd=0, keypoints=[c for p in points for c in p],
                   num_keypoints=sum(1 for p in points if p[2] > 0))
        for key in ('distance', 'track_id'):
            if key in obj:
                ann[key] = obj[key]
        anns.append(ann)
        if 'face' in obj:
            face = obj['face']
            ann['face_type'] = face['type']
            fbox = _clip(face['box'], frame.width, frame.height, f'{where} face')
            fann = dict(id=first_ann_id + len(anns), image_id=image_id,
                        category_id=cat_id[FACE_CLASS], bbox=fbox, area=fbox[2] * fbox[3],
                        iscrowd=0, keypoints=[], num_keypoints=0, face_type=face['type'],
                        parent_id=ann['id'])
            if 'distance' in obj:
                fann['distance'] = obj['distance']
            anns.append(fann)
    return anns


def time_units(frames: Sequence[Frame], window_s: Optional[float] = None
               ) -> List[List[Frame]]:
    """Frames grouped into split units, units in chronological order of their start.

    A unit is a drive, or with ``window_s`` the frames of one drive whose time since the
    drive's first frame falls in the same ``window_s``-long window.
    """
    if window_s is not None and not (_number(window_s) or 0) > 0:
        raise ConverterError(f'--window-s must be > 0, got {window_s}')
    by_drive: Dict[str, List[Frame]] = defaultdict(list)
    for f in frames:
        by_drive[f.drive].append(f)
    units: Dict[Tuple[str, int], List[Frame]] = defaultdict(list)
    for drive, fs in by_drive.items():
        fs.sort(key=lambda f: (f.timestamp, f.label_file))
        start = fs[0].timestamp
        for f in fs:
            idx = 0 if window_s is None else int((f.timestamp - start) // window_s)
            units[(drive, idx)].append(f)
    return [units[k] for k in sorted(units, key=lambda k: (units[k][0].timestamp, k))]


def convert_camera_labels(label_dir: PathLike,
                          out_dir: PathLike,
                          image_root: Optional[PathLike] = None,
                          ratios: Sequence[float] = (0.9, 0.05, 0.05),
                          window_s: Optional[float] = None,
                          read_images: bool = True,
                          overwrite: bool = False,
                          progress: bool = False) -> Dict[str, dict]:
    """Converts a folder of per-frame camera labels to COCO train/val/test files.

    Args:
        label_dir (str | Path): searched recursively for ``*.json`` label files.
        out_dir (str | Path): gets ``annotations/{train,val,test}.json``.
        image_root (str | Path, optional): the labels' ``image`` paths are relative to it
            (and so are the COCO ``file_name``\\ s). Default: ``label_dir``.
        ratios (Sequence[float]): train/val/test shares of the frames.
        window_s (float, optional): cut drives into windows of this many seconds.
        read_images (bool): read the size of images whose label has no width/height.
            False never touches images (such labels are then an error).
        overwrite (bool): replace existing output files.
        progress (bool): show a progress bar while reading labels.

    Returns:
        dict: per split ``dict(path, frames, units, drives, classes)`` (``classes`` is a
        Counter of annotations per class).
    """
    label_dir, out_dir = Path(label_dir), Path(out_dir)
    image_root = Path(image_root) if image_root is not None else label_dir
    shares = check_ratios(ratios)
    if len(shares) != len(SPLITS):
        raise ConverterError(f'--ratios needs {len(SPLITS)} numbers (train val test), got '
                             f'{list(ratios)}')
    outs = {s: out_dir / 'annotations' / f'{s}.json' for s in SPLITS}
    existing = [str(p) for p in outs.values() if p.exists()]
    if existing and not overwrite:
        raise ConverterError(f'{existing} already exist; pass --overwrite to replace them')
    if not label_dir.is_dir():
        raise ConverterError(f'{label_dir}: no such folder')
    files = sorted(p for p in label_dir.rglob('*.json')
                   if out_dir.resolve() not in p.resolve().parents)
    if not files:
        raise ConverterError(f'{label_dir}: no *.json label files in it or below')

    frames: List[Frame] = []
    seen_image: Dict[str, str] = {}
    seen_time: Dict[Tuple[str, float], str] = {}
    for path in _bar(files, len(files), 'labels', progress):
        f = read_frame(path, label_dir)
        if f.image in seen_image:
            raise CameraLabelError(f'{f.label_file}: image {f.image!r} is also labelled by '
                                   f'{seen_image[f.image]}')
        if (f.drive, f.timestamp) in seen_time:
            raise CameraLabelError(f'{f.label_file}: drive {f.drive!r} already has a frame at '
                                   f'timestamp {f.timestamp} ({seen_time[f.drive, f.timestamp]})')
        seen_image[f.image] = seen_time[f.drive, f.timestamp] = f.label_file
        if f.width is None:
            img = image_root / f.image
            if not read_images:
                raise CameraLabelError(f'{f.label_file}: no width/height, and --no-images '
                                       'forbids reading them from the image')
            if not img.is_file():
                raise CameraLabelError(f'{f.label_file}: no width/height, and its image '
                                       f'{img} does not exist (give the size in the label, '
                                       'or --image-root)')
            try:
                f.width, f.height = image_size(img)
            except OSError as e:
                raise CameraLabelError(f'{f.label_file}: cannot read the size of {img} '
                                       f'({e})') from e
        frames.append(f)

    units = time_units(frames, window_s)
    parts = assign_by_ratio([len(u) for u in units], shares)
    split_of = {id(f): parts[i] for i, u in enumerate(units) for f in u}
    # Ids run over all splits in time order, so split files can be merged without clashes.
    ordered = sorted(frames, key=lambda f: (f.timestamp, f.drive, f.label_file))
    cocos = {s: dict(info=dict(description=f'camera labels from {label_dir}, split {s}',
                               contributor='yolox_kpt.datasets.converters.driving'),
                     licenses=[], images=[], annotations=[], categories=coco_categories())
             for s in SPLITS}
    next_ann = 1
    for image_id, f in enumerate(ordered, 1):
        coco = cocos[SPLITS[split_of[id(f)]]]
        coco['images'].append(dict(id=image_id, file_name=f.image, width=f.width,
                                   height=f.height, drive=f.drive, timestamp=f.timestamp,
                                   label_file=f.label_file))
        anns = frame_annotations(f, image_id, next_ann)
        coco['annotations'] += anns
        next_ann += len(anns)

    result = {}
    for k, s in enumerate(SPLITS):
        split_units = [u for u, p in zip(units, parts) if p == k]
        result[s] = dict(path=write_json(outs[s], cocos[s]), frames=len(cocos[s]['images']),
                         units=len(split_units),
                         drives=sorted({u[0].drive for u in split_units}),
                         classes=class_counts(cocos[s]))
    return result


# --------------------------------------------------------------------------- selection


def _category_ids(coco: dict, classes: Optional[Sequence[str]], source: str) -> set:
    names = {c['name']: c['id'] for c in coco['categories']}
    if classes is None:
        return set(names.values())
    unknown = [c for c in classes if c not in names]
    if unknown:
        raise ConverterError(f'{source}: classes {unknown} are not categories of the file, '
                             f'which has {sorted(names)}')
    return {names[c] for c in classes}


def select_frames(coco: dict,
                  classes: Optional[Sequence[str]] = None,
                  max_distance: Optional[float] = None,
                  keep_unknown_distance: bool = False,
                  interval_s: Optional[float] = None,
                  every: Optional[int] = None,
                  source: str = '<coco>') -> Tuple[dict, dict]:
    """Keeps frames with a near object of some classes, then thins them out in time.

    1. An image is a candidate when one of its annotations is of ``classes`` (default all)
       and, with ``max_distance``, has ``distance <= max_distance``; annotations without a
       ``distance`` count only with ``keep_unknown_distance``.
    2. With ``interval_s``, per drive and in timestamp order, a candidate is kept when it is
       the drive's first or at least ``interval_s`` after the last kept one. Candidates
       without ``drive``/``timestamp`` need ``every``: every N-th of them (file order) is
       kept. Without ``interval_s``, ``every`` thins all candidates that way.

    Args:
        coco (dict): a loaded COCO file (see :func:`load_coco`).
        source (str): the file's name, for messages.

    Returns:
        tuple[dict, dict]: the new COCO dict (kept images with all their annotations;
        ids, categories and extra fields kept) and counts ``dict(images, candidates,
        kept, annotations)``.
    """
    if max_distance is not None and not (_number(max_distance) is not None and
                                         max_distance >= 0):
        raise ConverterError(f'--max-distance must be >= 0, got {max_distance}')
    if interval_s is not None and not (_number(interval_s) or 0) > 0:
        raise ConverterError(f'--interval-s must be > 0, got {interval_s}')
    if every is not None and (not isinstance(every, int) or every < 1):
        raise ConverterError(f'--every must be an integer >= 1, got {every}')
    cats = _category_ids(coco, classes, source)

    def qualifies(ann: dict) -> bool:
        if ann.get('category_id') not in cats:
            return False
        if max_distance is None:
            return True
        dist = ann.get('distance')
        if dist is None:
            return keep_unknown_distance
        if _number(dist) is None:
            raise ConverterError(f'{source}: annotation id {ann.get("id")} (image id '
                                 f'{ann["image_id"]}): distance {dist!r} is not a number')
        return dist <= max_distance

    hit = {a['image_id'] for a in coco['annotations'] if qualifies(a)}
    candidates = [img for img in coco['images'] if img['id'] in hit]

    keep_ids = set()
    if interval_s is None:
        step = every or 1
        keep_ids = {img['id'] for img in candidates[::step]}
    else:
        timed: Dict[str, List[Tuple[float, dict]]] = defaultdict(list)
        untimed = []
        for img in candidates:
            ts = _number(img.get('timestamp'))
            if ts is None or img.get('drive') is None:
                untimed.append(img)
            else:
                timed[str(img['drive'])].append((ts, img))
        if untimed and every is None:
            img = untimed[0]
            raise ConverterError(
                f'{source}: image id {img["id"]} ({img.get("file_name")}) has no '
                f'"drive"/"timestamp" (and {len(untimed) - 1} more), so --interval-s cannot '
                'space it; pass --every N to keep every N-th such image')
        keep_ids = {img['id'] for img in untimed[::every or 1]}
        for items in timed.values():
            items.sort(key=lambda t: (t[0], t[1]['id']))
            last = None
            for ts, img in items:
                if last is None or ts - last >= interval_s - _TIME_EPS:
                    keep_ids.add(img['id'])
                    last = ts
    kept = [img for img in coco['images'] if img['id'] in keep_ids]
    desc = (f'{source}: frames with {list(classes) if classes else "any class"}'
            + (f' within {max_distance} m' if max_distance is not None else '')
            + (f', one per {interval_s} s per drive' if interval_s else '')
            + (f', every {every}th' if every else ''))
    out = _with_images(coco, kept, desc)
    return out, dict(images=len(coco['images']), candidates=len(candidates), kept=len(kept),
                     annotations=len(out['annotations']))


def coco_subset(coco: dict,
                num_images: Optional[int] = None,
                fraction: Optional[float] = None,
                ratios: Sequence[float] = (1.0, ),
                seed: int = 0,
                by_key: Optional[str] = None,
                source: str = '<coco>') -> List[dict]:
    """A random subset of the images, split into parts; ids and categories kept.

    Images are drawn in groups (each image alone, or with ``by_key`` all images sharing
    that image field, e.g. ``drive``) in a seeded random order until at least the asked
    number is reached, so with groups the subset can be larger by less than one group.
    The drawn groups are split into parts by ``ratios`` with :func:`assign_by_ratio`
    (groups kept whole). Within a part, images keep the file's order.

    Args:
        coco (dict): a loaded COCO file.
        num_images (int, optional): subset size; exactly one of it and ``fraction``.
        fraction (float, optional): subset size as a share of the images, in (0, 1].
        ratios (Sequence[float]): share of each part.
        seed (int): seed of the draw.
        by_key (str, optional): image field whose groups stay together.
        source (str): the file's name, for messages.

    Returns:
        list[dict]: one COCO dict per part.
    """
    total = len(coco['images'])
    if (num_images is None) == (fraction is None):
        raise ConverterError('give exactly one of --num-images and --fraction')
    if fraction is not None:
        if not (_number(fraction) is not None and 0 < fraction <= 1):
            raise ConverterError(f'--fraction must be in (0, 1], got {fraction}')
        num_images = max(1, round(fraction * total)) if total else 0
    if not isinstance(num_images, int) or num_images < 0:
        raise ConverterError(f'--num-images must be an integer >= 0, got {num_images}')
    if num_images > total:
        raise ConverterError(f'{source}: asked for {num_images} images but the file has '
                             f'{total}')
    shares = check_ratios(ratios)
    groups: Dict[object, List[dict]] = {}
    for img in coco['images']:
        if by_key is None:
            key = img['id']
        elif img.get(by_key) is None:
            raise ConverterError(f'{source}: image id {img["id"]} ({img.get("file_name")}) '
                                 f'has no "{by_key}" for --by-key')
        else:
            key = json.dumps(img[by_key], sort_keys=True)
        groups.setdefault(key, []).append(img)
    # Sorted first, so the draw depends on the seed and the content, not on dict order.
    order = sorted(groups, key=str)
    random.Random(seed).shuffle(order)
    drawn, count = [], 0
    for key in order:
        if count >= num_images:
            break
        drawn.append(key)
        count += len(groups[key])
    parts = assign_by_ratio([len(groups[k]) for k in drawn], shares)
    part_of = {img['id']: p for k, p in zip(drawn, parts) for img in groups[k]}
    out = []
    for p in range(len(shares)):
        imgs = [img for img in coco['images'] if part_of.get(img['id']) == p]
        out.append(_with_images(coco, imgs, f'{source}: subset part {p + 1}/{len(shares)} '
                                f'(seed {seed})'))
    return out


# --------------------------------------------------------------------------- consistency


@dataclass
class ConsistencyReport:
    """What differs between an image folder and a COCO file."""
    orphans: List[str]  # image files on disk (relative posix paths) not in the file
    missing: List[dict]  # image records whose file is not on disk
    unknown_image_anns: List[dict]  # annotations whose image_id is not an image of the file
    unannotated: List[dict]  # images without annotations (fine for training; reported)
    missing_anns: int = 0  # annotations of the missing images

    @property
    def problems(self) -> bool:
        return bool(self.orphans or self.missing or self.unknown_image_anns)


def list_images(img_dir: PathLike, progress: bool = False) -> List[str]:
    """Image files (by suffix) under ``img_dir``, as sorted relative posix paths."""
    img_dir = Path(img_dir)
    found = []
    for root, dirs, files in _bar(os.walk(img_dir), None, 'scan', progress, unit='dir'):
        dirs.sort()
        rel = Path(root).relative_to(img_dir)
        found += [(rel / f).as_posix() for f in files
                  if os.path.splitext(f)[1].lower() in IMAGE_SUFFIXES]
    return sorted(posixpath.normpath(p) for p in found)


def check_consistency(coco: dict, img_dir: PathLike, progress: bool = False
                      ) -> ConsistencyReport:
    """Compares ``img_dir`` with the images and annotations of ``coco``.

    ``file_name`` is read relative to ``img_dir`` (as ``data_prefix.img``); only files with
    an image suffix (:data:`IMAGE_SUFFIXES`) count as images on disk.
    """
    if not Path(img_dir).is_dir():
        raise ConverterError(f'{img_dir}: no such folder')
    on_disk = set(list_images(img_dir, progress))
    listed = set()
    missing = []
    for img in coco['images']:
        name = posixpath.normpath(str(img.get('file_name', '')).replace('\\', '/'))
        listed.add(name)
        if name not in on_disk:
            missing.append(img)
    image_ids = {img['id'] for img in coco['images']}
    missing_ids = {img['id'] for img in missing}
    annotated = {a['image_id'] for a in coco['annotations']}
    return ConsistencyReport(
        orphans=sorted(on_disk - listed),
        missing=missing,
        unknown_image_anns=[a for a in coco['annotations'] if a['image_id'] not in image_ids],
        unannotated=[img for img in coco['images'] if img['id'] not in annotated],
        missing_anns=sum(1 for a in coco['annotations'] if a['image_id'] in missing_ids))


def fixed_coco(coco: dict, report: ConsistencyReport) -> dict:
    """``coco`` without the missing images, their annotations and annotations on unknown
    image ids; everything else (ids included) unchanged."""
    drop = {img['id'] for img in report.missing}
    out = dict(coco)
    out['images'] = [img for img in coco['images'] if img['id'] not in drop]
    keep = {img['id'] for img in out['images']}
    out['annotations'] = [a for a in coco['annotations'] if a['image_id'] in keep]
    return out


def delete_orphans(img_dir: PathLike, orphans: Sequence[str],
                   log: Callable[[str], None] = print, progress: bool = False) -> int:
    """Deletes the orphan files (paths relative to ``img_dir``), logging each one.

    Returns:
        int: the number deleted.
    """
    root = Path(img_dir)
    done = 0
    for rel in _bar(orphans, len(orphans), 'delete', progress):
        rel = posixpath.normpath(rel)
        path = root / rel
        # Only plain files (or links themselves, never their targets) inside the folder.
        if rel.startswith(('../', '/')) or rel == '..' or not (path.is_symlink() or
                                                               path.is_file()):
            log(f'skipped (not a file inside {root}): {path}')
            continue
        path.unlink()
        log(f'deleted {path}')
        done += 1
    return done
