"""LabelMe JSON files (one per image) -> one COCO keypoint file.

LabelMe conventions read here:

* a ``rectangle`` shape is an object; its ``label`` is the class;
* a ``point`` shape is a keypoint; its ``label`` is the keypoint name and its ``group_id``
  the ``group_id`` of its object's rectangle;
* a point whose ``flags`` has ``occluded: true``, or whose ``description`` says
  ``occluded``, is labelled but hidden (COCO v=1); other points are visible (v=2); a
  keypoint of the class without a point is unlabelled (0, 0, 0);
* other shape types (polygons, lines, ...) are skipped and counted.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...keypoint_layout import KeypointLayout
from ...utils.progress import progress
from ..coco import ConverterError, PathLike, coco_categories

_OCCLUDED = re.compile(r'\boccluded\b', re.IGNORECASE)


def _xy(shape: dict, num: int, where: str) -> List[Tuple[float, float]]:
    """The ``num`` finite (x, y) points of a shape, or an error naming it."""
    pts = shape.get('points')
    try:
        out = [(float(p[0]), float(p[1])) for p in pts]
    except (TypeError, ValueError, IndexError, KeyError):
        raise ConverterError(f'{where}: points must be [[x, y], ...], got {pts!r}') from None
    if len(out) != num or not all(math.isfinite(v) for p in out for v in p):
        raise ConverterError(
            f'{where}: a {shape.get("shape_type")} needs {num} finite point(s), got {pts!r}')
    return out


def _occluded(shape: dict) -> bool:
    flags = shape.get('flags') or {}
    if isinstance(flags, dict) and flags.get('occluded'):
        return True
    return bool(_OCCLUDED.search(str(shape.get('description') or '')))


def parse_labelme_shapes(data: dict, layout: KeypointLayout, source: str,
                         skipped: Optional[Counter] = None) -> List[dict]:
    """Objects of one LabelMe file: their class label, box and own keypoints.

    Args:
        data (dict): the loaded LabelMe JSON.
        layout (KeypointLayout): classes and per-class keypoint names.
        source (str): the file, quoted in errors.
        skipped (Counter, optional): counts skipped shape types into it.

    Returns:
        list[dict]: ``dict(label, bbox=[x, y, w, h], keypoints=(K_class, 3) array)`` in the
        order of the rectangles in the file.

    Raises:
        ConverterError: unknown class, a point without a rectangle of its group, a
            keypoint name its class does not own, or the same keypoint twice; the message
            names the file and the shape index.
    """
    shapes = data.get('shapes')
    if not isinstance(shapes, list):
        raise ConverterError(f'{source}: a LabelMe file needs a "shapes" list')
    objects: Dict[object, dict] = {}
    ordered: List[dict] = []
    points = []
    for i, shape in enumerate(shapes):
        where = f'{source}: shape {i}'
        if not isinstance(shape, dict):
            raise ConverterError(f'{where}: not a JSON object')
        kind = shape.get('shape_type') or 'polygon'  # LabelMe's default type
        label = shape.get('label')
        gid = shape.get('group_id')
        if not isinstance(kind, str):
            raise ConverterError(f'{where}: shape_type must be a string, got {kind!r}')
        if kind in ('point', 'rectangle') and not isinstance(label, str):
            raise ConverterError(f'{where}: a {kind} needs a string label, got {label!r}')
        if gid is not None and (isinstance(gid, bool) or not isinstance(gid, (int, str))):
            raise ConverterError(f'{where}: group_id must be a number, got {gid!r}')
        if kind == 'point':
            points.append((i, shape))
            continue
        if kind != 'rectangle':
            if skipped is not None:
                skipped[kind] += 1
            continue
        where = f'{where} (rectangle {label!r})'
        if label not in layout.classes:
            raise ConverterError(f'{where}: {label!r} is not a class of the keypoint layout '
                                  f'{list(layout.classes)}')
        (x1, y1), (x2, y2) = _xy(shape, 2, where)
        cls = layout.classes.index(label)
        obj = dict(label=cls, index=i,
                   bbox=[min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1)],
                   keypoints=np.zeros((len(layout.class_slots[cls]), 3)))
        gid = shape.get('group_id')
        if gid is not None:
            if gid in objects:
                raise ConverterError(
                    f'{where}: group_id {gid} is also the group of rectangle shape '
                    f'{objects[gid]["index"]}; each object needs its own group_id')
            objects[gid] = obj
        ordered.append(obj)
    for i, shape in points:
        name, gid = shape.get('label'), shape.get('group_id')
        where = f'{source}: shape {i} (point {name!r}, group_id {gid})'
        if gid is None:
            raise ConverterError(
                f'{where}: the point has no group_id, so it belongs to no object; give it the '
                "group_id of its object's rectangle")
        if gid not in objects:
            raise ConverterError(f'{where}: no rectangle has group_id {gid}')
        obj = objects[gid]
        cls_name = layout.classes[obj['label']]
        names = layout.class_keypoint_names(obj['label'])
        if name not in names:
            raise ConverterError(
                f'{where}: class {cls_name!r} (rectangle shape {obj["index"]}) has no keypoint '
                f'{name!r}; its keypoints are {list(names)}')
        k = names.index(name)
        if obj['keypoints'][k, 2] > 0:
            raise ConverterError(
                f'{where}: keypoint {name!r} of rectangle shape {obj["index"]} is given twice')
        [(x, y)] = _xy(shape, 1, where)
        obj['keypoints'][k] = (x, y, 1 if _occluded(shape) else 2)
    return ordered


def _image_size(data: dict, image_path: Path, source: str) -> Tuple[int, int]:
    """(width, height) from the LabelMe file, else from the image itself."""
    w, h = data.get('imageWidth'), data.get('imageHeight')
    if isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0:
        return int(w), int(h)
    import cv2  # only for files without imageWidth/imageHeight
    img = cv2.imread(str(image_path)) if image_path.is_file() else None
    if img is None and data.get('imageData'):
        buf = np.frombuffer(base64.b64decode(data['imageData']), np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise ConverterError(f'{source}: no imageWidth/imageHeight and the image '
                              f'{image_path} cannot be read to find them')
    return img.shape[1], img.shape[0]


def _r(v: float) -> float:
    return round(float(v), 3)


def labelme_to_coco(json_files: Sequence[PathLike], layout: KeypointLayout,
                    image_root: PathLike, copy_images_to: Optional[PathLike] = None,
                    show_progress: bool = True) -> Tuple[dict, dict]:
    """Convert LabelMe files to one COCO keypoint dict.

    Args:
        json_files (Sequence[PathLike]): LabelMe JSON files, one per image; image ids follow
            this order.
        layout (KeypointLayout): classes and per-class keypoint names (categories are
            written in its class order, ids from 1).
        image_root (PathLike): ``file_name`` is the image path relative to this folder (the
            dataset's ``data_prefix.img``), unless images are copied.
        copy_images_to (PathLike, optional): copy each image into this folder, keeping its
            path relative to ``image_root`` (its name when outside), and make ``file_name``
            relative to it. Images only embedded in the file (``imageData``) are decoded.
        show_progress (bool): show a progress bar.

    Returns:
        tuple[dict, dict]: the COCO dict and counts (``images``, ``annotations``,
        ``keypoints``, ``occluded``, ``missing_images``, ``skipped_shapes``).
    """
    image_root = Path(image_root)
    images, annotations = [], []
    skipped: Counter = Counter()
    seen: Dict[str, str] = {}
    missing = []
    files = [Path(f) for f in json_files]
    it = progress(files, len(files), 'labelme', 'file', show=show_progress)
    for json_path in it:
        source = str(json_path)
        try:
            data = json.loads(json_path.read_text(encoding='utf-8'))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConverterError(f'{source}: not a readable JSON file ({e})') from e
        if not isinstance(data, dict) or not isinstance(data.get('imagePath'), str) or not \
                data['imagePath']:
            raise ConverterError(f'{source}: not a LabelMe file (no "imagePath")')
        # LabelMe on Windows writes backslashes; the path is relative to the JSON's folder.
        img_path = json_path.parent / str(data['imagePath']).replace('\\', '/')
        rel = os.path.relpath(os.path.abspath(img_path), os.path.abspath(image_root))
        if copy_images_to is not None and rel.startswith('..'):
            rel = img_path.name
        rel = Path(rel).as_posix()
        if rel in seen:
            raise ConverterError(f'{source}: image {rel!r} is also the image of {seen[rel]}')
        seen[rel] = source
        width, height = _image_size(data, img_path, source)
        objects = parse_labelme_shapes(data, layout, source, skipped)
        if copy_images_to is not None:
            dst = Path(copy_images_to) / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if img_path.is_file():
                shutil.copy2(img_path, dst)
            elif data.get('imageData'):
                dst.write_bytes(base64.b64decode(data['imageData']))
            else:
                raise ConverterError(f'{source}: image {img_path} does not exist and the '
                                      'file embeds no imageData')
        elif not img_path.is_file():
            missing.append(str(img_path))
        image_id = len(images) + 1
        images.append(dict(id=image_id, file_name=rel, width=width, height=height))
        for obj in objects:
            x, y, w, h = obj['bbox']
            kpts = obj['keypoints']
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=obj['label'] + 1,
                bbox=[_r(x), _r(y), _r(w), _r(h)], area=_r(w * h), iscrowd=0,
                keypoints=[_r(v) if j % 3 < 2 else int(v)
                           for j, v in enumerate(kpts.reshape(-1))],
                num_keypoints=int((kpts[:, 2] > 0).sum())))
    coco = dict(info=dict(description='converted from LabelMe by yolox_kpt'), licenses=[],
                images=images, annotations=annotations, categories=coco_categories(layout))
    kp = [a['keypoints'][2::3] for a in annotations]
    counts = dict(images=len(images), annotations=len(annotations),
                  keypoints=sum(sum(1 for v in k if v > 0) for k in kp),
                  occluded=sum(sum(1 for v in k if v == 1) for k in kp),
                  missing_images=missing, skipped_shapes=dict(skipped))
    return coco, counts
