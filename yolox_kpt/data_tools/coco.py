"""COCO keypoint files as the data tools read and write them: the error type, reading,
atomic writing, the ``categories`` of a keypoint layout, and counts.

Every converter, the curation functions and the synthetic generator rest on this module,
so it imports only the standard library and the torch-free :mod:`yolox_kpt.keypoint_layout`.
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import List, Optional, Union

from ..keypoint_layout import KeypointLayout

PathLike = Union[str, os.PathLike]


class ConverterError(ValueError):
    """Input a data tool cannot use; the message names the file (and shape or line)."""


class CocoFileError(ConverterError):
    """A COCO file that cannot be read as one."""


def load_coco(path: PathLike) -> dict:
    """A COCO file as a dict with ``images``, ``annotations`` and ``categories`` lists.

    Raises:
        CocoFileError: missing file, not JSON, missing lists, image without ``id``.
    """
    path = Path(path)
    if not path.is_file():
        raise CocoFileError(f'{path}: no such file')
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CocoFileError(f'{path}: not a JSON file ({e})') from e
    if not isinstance(data, dict):
        raise CocoFileError(f'{path}: a COCO file is a JSON object, got {type(data).__name__}')
    missing = [k for k in ('images', 'annotations', 'categories')
               if not isinstance(data.get(k), list)]
    if missing:
        raise CocoFileError(f'{path}: a COCO file needs the lists {missing}')
    for i, img in enumerate(data['images']):
        if not isinstance(img, dict) or 'id' not in img:
            raise CocoFileError(f'{path}: images[{i}] has no "id"')
    for i, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict) or 'image_id' not in ann:
            raise CocoFileError(f'{path}: annotations[{i}] has no "image_id"')
    return data


def write_json(path: PathLike, data: dict) -> Path:
    """Writes ``data`` as compact JSON, creating folders.

    Atomic (a temporary file, then a rename), so a file that exists is complete: a run
    killed while writing leaves the previous file or none, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(data), encoding='utf-8')
    os.replace(tmp, path)
    return path


def coco_categories(layout: KeypointLayout, supercategory: str = 'object') -> List[dict]:
    """COCO ``categories`` of a layout: ids 1..C in class order, each class's own keypoint
    names and its 1-based skeleton.

    Args:
        layout (KeypointLayout): classes, their keypoint slots and skeletons.
        supercategory (str): written into every category.

    Returns:
        list[dict]: ``dict(id, name, supercategory, keypoints, skeleton)`` per class.
    """
    cats = []
    for i, (name, slots, skel) in enumerate(
            zip(layout.classes, layout.class_slots, layout.skeletons or [()] *
                layout.num_classes), 1):
        cats.append(dict(
            id=i, name=name, supercategory=supercategory,
            keypoints=list(layout.class_keypoint_names(i - 1)),
            skeleton=[[slots.index(a) + 1, slots.index(b) + 1] for a, b in skel]))
    return cats


def class_counts(coco: dict) -> Counter:
    """Annotations per category name (``'?'`` for an unknown ``category_id``)."""
    names = {c['id']: c['name'] for c in coco['categories']}
    return Counter(names.get(a.get('category_id'), '?') for a in coco['annotations'])


def summary(coco: dict) -> str:
    """``'N images, M annotations (cyclist 1, vehicle 3)'``: what a tool reports about a
    file it wrote."""
    per_class = ', '.join(f'{c} {k}' for c, k in sorted(class_counts(coco).items()))
    return (f'{len(coco["images"])} images, {len(coco["annotations"])} annotations '
            f'({per_class or "none"})')


def json_number(v) -> Optional[float]:
    """A finite float, or None for anything else (bools are not numbers here, although
    Python counts them as ints: ``"distance": true`` is a labelling error)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None
