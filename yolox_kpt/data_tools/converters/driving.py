"""Per-frame camera labels (``docs/camera_label_schema.md``) -> COCO keypoint files split
into train/val/test by drive, the logic behind
``tools/dataset_converters/camera_labels_to_coco.py``.

Classes and keypoint names are those of :mod:`..driving_schema`. Every error about the input
is a :class:`CameraLabelError` (a ``ValueError``) whose message names the file and, where
there is one, the object.

Only the standard library is imported here; Pillow is imported on demand to read image
sizes.
"""
from __future__ import annotations

import json
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from ...utils.progress import progress as progress_bar
from ..coco import ConverterError, PathLike, class_counts, json_number, write_json
from ..curation import assign_by_ratio, check_ratios
from ..driving_schema import CLASSES, KEYPOINTS, coco_categories

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

_FRAME_KEYS = {'version', 'drive', 'timestamp', 'image', 'width', 'height', 'objects',
               'extra'}
_OBJECT_KEYS = {'class', 'box', 'distance', 'heading', 'track_id', 'face', 'tyres', 'wheels',
                'extra'}
#: Labelled geometry -> the COCO annotation's ground-truth field, as the synthetic pinhole
#: scenes name them (``tools/analysis/eval_geometry.py`` reads these).
GEOMETRY_FIELDS: Dict[str, str] = {'distance': 'distance_m', 'heading': 'heading_deg'}
_FACE_KEYS = {'type', 'box'}


class CameraLabelError(ConverterError):
    """A camera label file that does not follow ``docs/camera_label_schema.md``."""


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
    nums = [json_number(x) for x in v] if isinstance(v, list) else []
    if len(nums) != 4 or any(x is None for x in nums):
        raise CameraLabelError(f'{where}: box must be 4 finite numbers [x1, y1, x2, y2], '
                               f'got {v!r}')
    x1, y1, x2, y2 = nums
    if x2 <= x1 or y2 <= y1:
        raise CameraLabelError(f'{where}: box [x1, y1, x2, y2] needs x2 > x1 and y2 > y1, '
                               f'got {v!r}')
    return x1, y1, x2, y2


def _point(v, where: str) -> Tuple[float, float, int]:
    nums = [json_number(x) for x in v] if isinstance(v, list) else []
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
        dist = json_number(obj['distance'])
        if dist is None or dist < 0:
            raise CameraLabelError(f'{where}: distance must be a number of metres >= 0, '
                                   f'got {obj["distance"]!r}')
        out['distance'] = dist
    if obj.get('heading') is not None:
        heading = json_number(obj['heading'])
        if heading is None:
            raise CameraLabelError(f'{where}: heading must be a number of degrees, got '
                                   f'{obj["heading"]!r}')
        out['heading'] = 180.0 - (180.0 - heading) % 360.0  # (-180, 180]
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
    ts = json_number(data['timestamp'])
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
        for key, name in GEOMETRY_FIELDS.items():
            if key in obj:
                ann[name] = obj[key]
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
    if window_s is not None and not (json_number(window_s) or 0) > 0:
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
    for path in progress_bar(files, len(files), 'labels', show=progress):
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
                               contributor='yolox_kpt.data_tools.converters.driving'),
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
