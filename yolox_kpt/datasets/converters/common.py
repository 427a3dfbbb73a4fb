"""What the converters share: the error type, layouts, progress bars, image listing.

Only the standard library and numpy are imported at module level, so the converters load
fast; mmengine (for ``--config``) and tqdm are imported when used.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence, TypeVar, Union

from ...keypoint_layout import KeypointLayout, KeypointLayoutError
from ...utils.media import IMAGE_EXTENSIONS, list_folder_images as list_images  # noqa: F401

PathLike = Union[str, os.PathLike]
T = TypeVar('T')



class ConverterError(ValueError):
    """Input a converter cannot use; the message names the file (and shape or line)."""


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


def load_layout(config: Optional[PathLike] = None,
                layout: Optional[PathLike] = None) -> Optional[KeypointLayout]:
    """The keypoint layout of a config's top-level ``keypoint_layout`` or of a layout JSON.

    Args:
        config (str | PathLike, optional): an mmengine config with ``keypoint_layout``.
        layout (str | PathLike, optional): a JSON file as written by
            :meth:`KeypointLayout.to_json`.

    Returns:
        KeypointLayout | None: None when neither is given.
    """
    if config is not None and layout is not None:
        raise ConverterError('give either --config or --layout, not both')
    if layout is not None:
        if not os.path.isfile(layout):
            raise ConverterError(f'{layout}: no such layout JSON file')
        try:
            return KeypointLayout.from_json(layout)
        except (ValueError, TypeError, KeyError) as e:
            raise ConverterError(f'{layout}: not a keypoint layout JSON ({e})') from e
    if config is not None:
        if not os.path.isfile(config):
            raise ConverterError(f'{config}: no such config file')
        from mmengine.config import Config  # heavy; only when a config is used
        cfg = Config.fromfile(str(config)).get('keypoint_layout')
        if cfg is None:
            raise ConverterError(f'{config}: the config has no top-level keypoint_layout')
        cfg = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
        cfg.pop('_delete_', None)  # a merge directive of mmengine, not part of the layout
        try:
            return KeypointLayout.from_config(cfg)
        except KeypointLayoutError as e:
            raise ConverterError(f'{config}: {e}') from e
    return None


def conversion_layout(classes: Sequence[str],
                      keypoints: Mapping[str, Sequence[str]],
                      flip_pairs: Optional[Sequence[Sequence[str]]] = None,
                      skeletons: Optional[Mapping[str, Sequence[Sequence[int]]]] = None,
                      source: str = 'data') -> KeypointLayout:
    """A layout read from data files, which carry no OKS sigmas.

    Conversion only needs slots, flips and skeletons, so every keypoint gets a placeholder
    sigma rather than failing on names that are not COCO person keypoints. Such a layout is
    never written out with its sigmas.
    """
    names = {n for kpts in keypoints.values() for n in (kpts or ())}
    try:
        return KeypointLayout.build(classes, keypoints, {n: 1.0 for n in names}, flip_pairs,
                                    skeletons, source=source)
    except KeypointLayoutError as e:
        raise ConverterError(str(e)) from e


def coco_categories(layout: KeypointLayout) -> List[dict]:
    """COCO ``categories`` of a layout: ids 1..C in class order, each class's own keypoint
    names and its 1-based skeleton."""
    cats = []
    for i, (name, slots, skel) in enumerate(
            zip(layout.classes, layout.class_slots, layout.skeletons or [()] *
                layout.num_classes), 1):
        cats.append(dict(
            id=i, name=name, supercategory='object',
            keypoints=[layout.keypoint_names[s] for s in slots],
            skeleton=[[slots.index(a) + 1, slots.index(b) + 1] for a, b in skel]))
    return cats


def check_free(path: PathLike, overwrite: bool) -> None:
    """Refuse to replace an existing output unless ``overwrite``."""
    if os.path.lexists(path) and not overwrite:
        raise ConverterError(f'{path} already exists; pass --overwrite to replace it or '
                              'choose another output')


def progress(iterable: Iterable[T], total: Optional[int] = None, desc: str = '',
             unit: str = 'file') -> Iterable[T]:
    """A tqdm progress bar around ``iterable`` (the plain iterable without tqdm)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True)
