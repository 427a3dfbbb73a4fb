"""Per-frame camera labels (``docs/camera_label_schema.md``) -> COCO keypoint files split
into train/val/test by drive, the logic behind
``tools/dataset_converters/camera_labels_to_coco.py``.

Classes and keypoint names come from a keypoint layout (default: the driving layout of
:mod:`..driving_schema`) and map by name: a label class is the layout class of that name, a
tyre ``front_left`` the layout keypoint ``front_left_tyre`` of the object's class. A class
such as ``truck`` needs only a layout that lists it. Vehicle faces are the ``face`` of their
vehicle object and become ``vehicle_head`` / ``vehicle_tail`` annotations when the layout has
both classes, else ``vehicle_face`` (the driving layout), each linked to its vehicle by
``parent_id``. Every error about the input is a :class:`CameraLabelError` (a
``ValueError``) whose message names the file and, where there is one, the object.

Only the standard library is imported here; Pillow is imported on demand to read image
sizes.
"""
from __future__ import annotations

import json
import posixpath
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ...keypoint_layout import KeypointLayout, KeypointLayoutError
from ...utils.progress import progress as progress_bar
from ..coco import (ConverterError, PathLike, class_counts, coco_categories, json_number,
                    write_json)
from ..curation import assign_by_ratio, check_ratios
from ..driving_schema import DRIVING_LAYOUT, SUPERCATEGORY

FACE_TYPES: Tuple[str, ...] = ('head', 'tail')
#: The one face class of a layout that does not tell head from tail (the driving layout).
MERGED_FACE_CLASS = 'vehicle_face'
#: Per face type, its class in a layout that has both (``driving_layout_head_tail.py``).
FACE_CLASSES: Dict[str, str] = {'head': 'vehicle_head', 'tail': 'vehicle_tail'}
#: Label classes that are never vehicles, so a ``face`` on them is a labelling error.
NO_FACE_CLASSES: Tuple[str, ...] = ('pedestrian', 'cyclist')

#: Label fields holding points, each with the suffix that turns a label name into the
#: layout's keypoint name: ``tyres.front_left`` -> ``front_left_tyre``, ``wheels.rear`` ->
#: ``rear_wheel``, ``keypoints.<name>`` -> ``<name>`` (any keypoint of the class's layout).
POINT_FIELDS: Dict[str, str] = {'tyres': '_tyre', 'wheels': '_wheel', 'keypoints': ''}

SCHEMA_VERSION = 1
SPLITS: Tuple[str, ...] = ('train', 'val', 'test')

_FRAME_KEYS = {'version', 'drive', 'timestamp', 'image', 'width', 'height', 'objects',
               'extra'}
_OBJECT_KEYS = {'class', 'box', 'distance', 'heading', 'track_id', 'face', 'extra',
                *POINT_FIELDS}
#: Labelled geometry -> the COCO annotation's ground-truth field, as the synthetic pinhole
#: scenes name them (``tools/analysis/eval_geometry.py`` reads these).
GEOMETRY_FIELDS: Dict[str, str] = {'distance': 'distance_m', 'heading': 'heading_deg'}
_FACE_KEYS = {'type', 'box'}


class CameraLabelError(ConverterError):
    """A camera label file that does not follow ``docs/camera_label_schema.md``."""


# --------------------------------------------------------------------------- the layout


class LabelLayout:
    """How camera labels map onto a keypoint layout, checked once per conversion.

    Args:
        layout (KeypointLayout | Mapping, optional): the target layout, or its config form
            (``keypoint_layout`` of a config). Default: the driving layout.
        source (str): where the layout came from, quoted in errors.

    Raises:
        ConverterError: a layout with only one of ``vehicle_head`` / ``vehicle_tail``, with
            both and ``vehicle_face``, or with keypoints on a face class.
    """

    def __init__(self, layout: Union[KeypointLayout, Mapping, None] = None,
                 source: str = 'the driving layout'):
        if layout is None:
            layout = DRIVING_LAYOUT
        elif not isinstance(layout, KeypointLayout):
            try:
                layout = KeypointLayout.from_config(layout)
            except KeypointLayoutError as e:
                raise ConverterError(f'{source}: {e}') from e
        self.layout, self.source = layout, source
        classes = set(layout.classes)
        split = [c for c in FACE_CLASSES.values() if c in classes]
        if split and len(split) != len(FACE_CLASSES):
            missing = sorted(set(FACE_CLASSES.values()) - set(split))
            raise ConverterError(
                f'{source}: has {split[0]!r} but not {missing}; faces are split into both '
                f'{list(FACE_CLASSES.values())} or merged into {MERGED_FACE_CLASS!r}')
        if split and MERGED_FACE_CLASS in classes:
            raise ConverterError(
                f'{source}: has both {MERGED_FACE_CLASS!r} and {split}; a face can go to only '
                'one of them, so keep either the merged class or the split ones')
        #: face type -> layout class ({} when the layout has no face class).
        self.face_class: Dict[str, str] = (
            dict(FACE_CLASSES) if split else
            {t: MERGED_FACE_CLASS for t in FACE_TYPES} if MERGED_FACE_CLASS in classes else {})
        for cls in set(self.face_class.values()):
            if layout.class_keypoint_names(layout.classes.index(cls)):
                raise ConverterError(f'{source}: face class {cls!r} has keypoints; faces are '
                                     'boxes only')
        face_names = {MERGED_FACE_CLASS, *FACE_CLASSES.values()}
        #: Classes a label object may have (a face is its vehicle's ``face``, not an object).
        self.label_classes: Tuple[str, ...] = tuple(c for c in layout.classes
                                                    if c not in face_names)
        self.face_names = face_names
        self.category_id: Dict[str, int] = {c: i for i, c in enumerate(layout.classes, 1)}

    def keypoints(self, cls: str) -> Tuple[str, ...]:
        """The layout's keypoint names of class ``cls``, in its COCO order."""
        return self.layout.class_keypoint_names(self.layout.classes.index(cls))

    def categories(self) -> List[dict]:
        """COCO ``categories``: ids 1..C in layout order."""
        return coco_categories(self.layout, SUPERCATEGORY)


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
    #: Objects (by class) and faces (``'<type> face'``) left out by ``skip_unknown``.
    skipped: Counter = field(default_factory=Counter)


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


def _points(obj: dict, cls: str, labels: LabelLayout, where: str) -> List[tuple]:
    """The object's points in its class's keypoint order, unlabelled ones ``(0, 0, 0)``."""
    names = labels.keypoints(cls)
    points: Dict[str, tuple] = {}
    for fld, suffix in POINT_FIELDS.items():
        if fld not in obj or obj[fld] is None:
            continue
        short = [n[:len(n) - len(suffix)] for n in names if n.endswith(suffix)]
        if not short:
            owners = [c for c in labels.label_classes
                      if any(n.endswith(suffix) for n in labels.keypoints(c))]
            raise CameraLabelError(
                f'{where}: only {", ".join(owners) or "no"} objects have "{fld}" (class '
                f'{cls!r} has no such keypoints in {labels.source})')
        raw = obj[fld]
        if not isinstance(raw, dict):
            raise CameraLabelError(f'{where}: "{fld}" maps names {short} to [x, y, v], '
                                   f'got {raw!r}')
        unknown = sorted(set(raw) - set(short))
        if unknown:
            item = fld[:-1] if fld.endswith('s') else fld
            raise CameraLabelError(f'{where}: unknown {item} name(s) {unknown}; use {short}')
        for n, v in raw.items():
            name = n + suffix
            if name in points:
                raise CameraLabelError(f'{where}: keypoint {name!r} is given twice')
            points[name] = _point(v, f'{where} {fld}.{n}')
    return [points.get(n, (0.0, 0.0, 0)) for n in names]


def _parse_object(obj, where: str, labels: LabelLayout, skip_unknown: bool = False,
                  skipped: Optional[Counter] = None) -> Optional[dict]:
    """One label object as ``dict(cls, box, ...)``, or None when skipped (counted)."""
    if not isinstance(obj, dict):
        raise CameraLabelError(f'{where}: an object is a JSON object, got {obj!r}')
    unknown = sorted(set(obj) - _OBJECT_KEYS)
    if unknown:
        raise CameraLabelError(f'{where}: unknown field(s) {unknown}; an object has '
                               f'{sorted(_OBJECT_KEYS)}')
    cls = obj.get('class')
    if cls in labels.face_names:
        raise CameraLabelError(f'{where}: class {cls!r} is not an object class; a vehicle '
                               'face is the "face" of its vehicle object')
    if cls not in labels.label_classes:
        if skip_unknown and isinstance(cls, str):
            skipped[cls] += 1
            return None
        raise CameraLabelError(f'{where}: unknown class {cls!r}; {labels.source} has '
                               f'{list(labels.label_classes)} (add the class to the layout, '
                               'or pass --skip-unknown-classes to leave such objects out)')
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
    if obj.get('face') is not None:
        if cls in NO_FACE_CLASSES:
            raise CameraLabelError(f'{where}: only vehicle objects have a "face"')
        face = obj['face']
        if not isinstance(face, dict) or set(face) - _FACE_KEYS or 'box' not in face:
            raise CameraLabelError(f'{where}: face must be {{"type": "head"|"tail", '
                                   f'"box": [x1, y1, x2, y2]}}, got {face!r}')
        if face.get('type') not in FACE_TYPES:
            raise CameraLabelError(f'{where}: face type must be one of {list(FACE_TYPES)}, '
                                   f'got {face.get("type")!r}')
        box = _box(face['box'], f'{where} face')
        if labels.face_class:
            out['face'] = dict(type=face['type'], box=box, cls=labels.face_class[face['type']])
        elif skip_unknown:
            skipped[f'{face["type"]} face'] += 1
        else:
            raise CameraLabelError(
                f'{where}: has a face, but {labels.source} has no face class '
                f'({MERGED_FACE_CLASS!r}, or {list(FACE_CLASSES.values())}); add one, or '
                'pass --skip-unknown-classes to leave faces out')
    if labels.keypoints(cls) or any(obj.get(f) is not None for f in POINT_FIELDS):
        out['points'] = _points(obj, cls, labels, where)
    return out


def parse_frame(data, label_file: str, labels: Optional[LabelLayout] = None,
                skip_unknown: bool = False) -> Frame:
    """Validates one decoded label file against the schema.

    Args:
        data: the decoded JSON.
        label_file (str): its path, used in every error message.
        labels (LabelLayout, optional): the target layout (default: the driving layout).
        skip_unknown (bool): leave out objects whose class the layout lacks (and faces when
            it has no face class), counted in ``Frame.skipped``, instead of an error.

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
    labels = labels or LabelLayout()
    skipped: Counter = Counter()
    objects = [_parse_object(o, f'{label_file}: object {i}', labels, skip_unknown, skipped)
               for i, o in enumerate(data['objects'])]
    image = posixpath.normpath(data['image'].replace('\\', '/'))
    return Frame(label_file, data['drive'], ts, image, size[0], size[1],
                 [o for o in objects if o is not None], skipped)


def read_frame(path: Path, root: Path, labels: Optional[LabelLayout] = None,
               skip_unknown: bool = False) -> Frame:
    """Reads and validates one label file; ``root`` makes the path in messages short."""
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = str(path)
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CameraLabelError(f'{path}: not a JSON file ({e})') from e
    frame = parse_frame(data, str(path), labels, skip_unknown)
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


def frame_annotations(frame: Frame, image_id: int, first_ann_id: int,
                      labels: Optional[LabelLayout] = None) -> List[dict]:
    """COCO annotations of one frame: one per object plus one face annotation per face
    (``vehicle_face``, or ``vehicle_head`` / ``vehicle_tail`` by the face's type, as
    :class:`LabelLayout` decided), linked to its vehicle by ``parent_id``.

    Boxes are clipped to the image (a box entirely outside it is an error). Labelled
    points (v > 0) are kept as given; the dataset loader unlabels those outside the image.
    """
    cat_id = (labels or LabelLayout()).category_id
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
                        category_id=cat_id[face['cls']], bbox=fbox, area=fbox[2] * fbox[3],
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
                          progress: bool = False,
                          layout: Union[KeypointLayout, Mapping, None] = None,
                          skip_unknown_classes: bool = False,
                          layout_source: Optional[str] = None) -> Dict[str, dict]:
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
        layout (KeypointLayout | Mapping, optional): the classes and keypoints to write,
            matched to the labels by name (default: the driving layout).
        skip_unknown_classes (bool): leave out objects whose class the layout lacks (and
            faces when it has no face class) instead of stopping at the first one.
        layout_source (str, optional): where ``layout`` came from, quoted in errors.

    Returns:
        dict: per split ``dict(path, frames, units, drives, classes)`` (``classes`` is a
        Counter of annotations per class), and ``skipped``: a Counter of the objects left
        out per label class (faces as ``'head face'`` / ``'tail face'``).
    """
    labels = LabelLayout(layout, layout_source or ('the driving layout' if layout is None
                                                   else 'the layout'))
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
    skipped: Counter = Counter()
    for path in progress_bar(files, len(files), 'labels', show=progress):
        f = read_frame(path, label_dir, labels, skip_unknown_classes)
        skipped.update(f.skipped)
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
                     licenses=[], images=[], annotations=[], categories=labels.categories())
             for s in SPLITS}
    next_ann = 1
    for image_id, f in enumerate(ordered, 1):
        coco = cocos[SPLITS[split_of[id(f)]]]
        coco['images'].append(dict(id=image_id, file_name=f.image, width=f.width,
                                   height=f.height, drive=f.drive, timestamp=f.timestamp,
                                   label_file=f.label_file))
        anns = frame_annotations(f, image_id, next_ann, labels)
        coco['annotations'] += anns
        next_ann += len(anns)

    result = {}
    for k, s in enumerate(SPLITS):
        split_units = [u for u, p in zip(units, parts) if p == k]
        result[s] = dict(path=write_json(outs[s], cocos[s]), frames=len(cocos[s]['images']),
                         units=len(split_units),
                         drives=sorted({u[0].drive for u in split_units}),
                         classes=class_counts(cocos[s]))
    result['skipped'] = skipped
    return result
