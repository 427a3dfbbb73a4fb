"""COCO keypoint files <-> Ultralytics YOLO pose datasets.

A YOLO pose label file has one line per object::

    cls cx cy w h  x1 y1 v1 ... xK yK vK

with coordinates normalised by the image size and one K for every class (the data yaml's
``kpt_shape: [K, 3]``). With per-class keypoint sets, K is the number of slots of the
:class:`~yolox_kpt.keypoint_layout.KeypointLayout` (the union of all classes' keypoints) and
a class's foreign slots are ``0 0 0``. The data yaml also gets a ``yolox_kpt`` entry (the
per-class keypoint names) that Ultralytics ignores and :func:`yolo_pose_to_coco` reads back.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...keypoint_layout import KeypointLayout
from ...utils.media import list_folder_images
from ...utils.progress import progress
from ..coco import ConverterError, PathLike, coco_categories, load_coco
from .common import check_free, conversion_layout

#: The data yaml key holding the per-class keypoint names (ignored by Ultralytics).
LAYOUT_KEY = 'yolox_kpt'


# --------------------------------------------------------------------------- helpers
def layout_from_coco(data: dict, source: str) -> KeypointLayout:
    """The layout of a COCO file's categories (classes in category id order)."""
    cats = sorted(data['categories'], key=lambda c: c['id'])
    return conversion_layout([c['name'] for c in cats],
                             {c['name']: list(c.get('keypoints') or []) for c in cats},
                             skeletons={c['name']: c.get('skeleton') or [] for c in cats},
                             source=source)


def _num(v: float, decimals: int) -> str:
    return '0' if v == 0 else f'{v:.{decimals}f}'


def write_data_yaml(path: PathLike, root: PathLike, splits: Sequence[str],
                    layout: KeypointLayout) -> None:
    """An Ultralytics pose data yaml for ``<root>/images/<split>``."""
    import yaml  # only when writing a yaml
    data = dict(path=os.path.abspath(root))
    data.update({s: f'images/{s}' for s in splits})
    data.update(
        kpt_shape=[layout.num_keypoints, 3], flip_idx=list(layout.flip_indices),
        names={i: c for i, c in enumerate(layout.classes)})
    cfg = layout.to_config()
    data[LAYOUT_KEY] = dict(
        keypoint_names=list(layout.keypoint_names),
        keypoints={c: list(k) for c, k in cfg['keypoints'].items()},
        flip_pairs=cfg['flip_pairs'], skeletons=cfg['skeletons'],
        share_keypoints=cfg['share_keypoints'])
    head = ('# Ultralytics YOLO pose dataset written by yolox_kpt '
            '(tools/dataset_converters/coco_to_yolo_pose.py).\n'
            f'# Keypoint slots: {", ".join(layout.keypoint_names)}; a class\'s foreign '
            'slots are 0 0 0.\n')
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)  # short lists inline
    Path(path).write_text(head + body, encoding='utf-8')


# --------------------------------------------------------------------------- COCO -> YOLO
def coco_to_yolo_pose(splits: Sequence[Tuple[str, PathLike, PathLike]], out_dir: PathLike,
                      layout: Optional[KeypointLayout] = None, copy_images: bool = False,
                      decimals: int = 6, overwrite: bool = False,
                      show_progress: bool = True) -> dict:
    """Write ``<out>/labels/<split>/*.txt``, ``<out>/images/<split>/`` and
    ``<out>/data.yaml``.

    Args:
        splits (Sequence[tuple]): ``(split name, COCO annotation file, image folder)``; the
            COCO ``file_name`` is relative to the image folder.
        out_dir (PathLike): the YOLO dataset root.
        layout (KeypointLayout, optional): default: the first file's categories. Each file's
            categories must list the layout's keypoints for every class they share;
            annotations of other categories are skipped and counted.
        copy_images (bool): copy images instead of symlinking them.
        decimals (int): decimals of the normalised numbers; 6 keeps a COCO -> YOLO -> COCO
            round trip within 0.01 px for images up to 8000 px.
        overwrite (bool): replace the output's ``labels/<split>``, ``images/<split>`` and
            ``data.yaml``.
        show_progress (bool): show progress bars.

    Returns:
        dict: ``data_yaml`` path and per split ``dict(labels, images, num_images,
        num_objects, skipped)``.
    """
    out = Path(out_dir)
    names = [s[0] for s in splits]
    if not splits or len(set(names)) != len(names):
        raise ConverterError(f'give each split once, got {names}')
    data_yaml = out / 'data.yaml'
    targets = [data_yaml] + [out / d / s for s in names for d in ('labels', 'images')]
    for t in targets:
        check_free(t, overwrite)
    loaded = [(name, ann, Path(img_dir), load_coco(ann)) for name, ann, img_dir in splits]
    if layout is None:
        layout = layout_from_coco(loaded[0][3], str(loaded[0][1]))
    elif not any(layout.skeletons):
        # Configs usually leave skeletons to the COCO file (as CocoKptDataset does); keep
        # them so a round trip gives the same categories.
        file_skel = {c['name']: c.get('skeleton') or [] for c in loaded[0][3]['categories']
                     if c.get('name') in layout.classes}
        cfg = dict(layout.to_config(), skeletons=file_skel)
        try:
            layout = KeypointLayout.from_config(cfg)
        except ValueError as e:
            raise ConverterError(f'{loaded[0][1]}: {e}') from e
    for t in targets[1:]:
        # Only reached with overwrite (checked above); stale labels would mix in otherwise.
        if t.is_symlink() or t.is_file():
            t.unlink()
        elif t.exists():
            shutil.rmtree(t)
    result = dict(data_yaml=data_yaml)
    for name, ann_file, img_dir, data in loaded:
        result[name] = _split_to_yolo(name, ann_file, img_dir, data, out, layout,
                                      copy_images, decimals, show_progress)
    out.mkdir(parents=True, exist_ok=True)
    write_data_yaml(data_yaml, out, names, layout)
    return result


def _split_to_yolo(split: str, ann_file: PathLike, img_dir: Path, data: dict, out: Path,
                   layout: KeypointLayout, copy_images: bool, decimals: int,
                   show_progress: bool) -> dict:
    label_of: Dict[object, int] = {}
    for cat in data['categories']:
        if cat.get('name') not in layout.classes:
            continue
        label = layout.classes.index(cat['name'])
        own = list(layout.class_keypoint_names(label))
        if list(cat.get('keypoints') or []) != own:
            raise ConverterError(
                f'{ann_file}: category {cat["name"]!r} has keypoints '
                f'{list(cat.get("keypoints") or [])} but the keypoint layout says {own}')
        label_of[cat['id']] = label
    images = {img['id']: img for img in data['images']}
    by_image: Dict[object, List[dict]] = {i: [] for i in images}
    for ann in data['annotations']:
        if ann.get('image_id') not in by_image:
            raise ConverterError(f'{ann_file}: annotation id {ann.get("id")} is on image id '
                                  f'{ann.get("image_id")}, which is not in "images"')
        by_image[ann['image_id']].append(ann)

    label_dir, image_dir = out / 'labels' / split, out / 'images' / split
    skipped: Counter = Counter()
    stems: Dict[Path, str] = {}
    num_objects = 0
    items = list(images.values())
    it = progress(items, len(items), f'{split} -> yolo', 'img', show=show_progress)
    for img in it:
        where = f'{ann_file}: image id {img["id"]} ({img.get("file_name")})'
        w, h = img.get('width'), img.get('height')
        if not (isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0
                and h > 0):
            raise ConverterError(f'{where}: needs a positive width and height, got {w}x{h}')
        rel = Path(str(img['file_name']))
        label_path = (label_dir / rel).with_suffix('.txt')
        if label_path in stems:
            raise ConverterError(f'{where}: its label file {label_path} is also that of '
                                  f'{stems[label_path]} (same name, other extension)')
        stems[label_path] = str(rel)
        lines = []
        for ann in by_image[img['id']]:
            if ann.get('category_id') not in label_of:
                skipped['annotations of categories not in the layout'] += 1
                continue
            if ann.get('iscrowd', 0):
                skipped['crowd annotations (YOLO has none)'] += 1
                continue
            lines.append(_yolo_line(ann, label_of[ann['category_id']], layout, w, h,
                                    decimals, f'{where}, annotation id {ann.get("id")}'))
        num_objects += len(lines)
        label_path.parent.mkdir(parents=True, exist_ok=True)
        # Images without objects get an empty file: background for Ultralytics, and the
        # image list survives a round trip.
        label_path.write_text(''.join(line + '\n' for line in lines), encoding='utf-8')
        src, dst = img_dir / rel, image_dir / rel
        if not src.is_file():
            raise ConverterError(f'{where}: image file {src} does not exist')
        dst.parent.mkdir(parents=True, exist_ok=True)
        if copy_images:
            shutil.copy2(src, dst)
        else:
            os.symlink(os.path.abspath(src), dst)
    return dict(labels=label_dir, images=image_dir, num_images=len(items),
                num_objects=num_objects, skipped=dict(skipped))


def _yolo_line(ann: dict, label: int, layout: KeypointLayout, w: float, h: float,
               decimals: int, where: str) -> str:
    try:
        x, y, bw, bh = (float(v) for v in ann['bbox'])
    except (KeyError, TypeError, ValueError):
        raise ConverterError(f'{where}: bbox must be [x, y, w, h], got '
                              f'{ann.get("bbox")!r}') from None
    slots = layout.class_slots[label]
    raw = ann.get('keypoints') or []
    if len(raw) not in (0, 3 * len(slots)):
        raise ConverterError(
            f'{where}: category {layout.classes[label]!r} has {len(slots)} keypoints, so '
            f'its keypoint list needs {3 * len(slots)} numbers, got {len(raw)}')
    kpts = np.zeros((layout.num_keypoints, 3))
    if raw:
        kpts[list(slots)] = np.asarray(raw, dtype=np.float64).reshape(-1, 3)
    nums = [str(label)] + [_num(v, decimals) for v in
                           ((x + bw / 2) / w, (y + bh / 2) / h, bw / w, bh / h)]
    for kx, ky, v in kpts:
        nums += [_num(kx / w, decimals), _num(ky / h, decimals), str(int(v))]
    return ' '.join(nums)


# --------------------------------------------------------------------------- YOLO -> COCO
def read_data_yaml(path: PathLike) -> dict:
    """An Ultralytics data yaml, with ``names`` as a list and ``kpt_shape`` checked."""
    import yaml  # only when reading a yaml
    try:
        data = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConverterError(f'{path}: not a readable YAML file ({e})') from e
    if not isinstance(data, dict):
        raise ConverterError(f'{path}: not an Ultralytics data yaml (a mapping)')
    shape = data.get('kpt_shape')
    if not (isinstance(shape, (list, tuple)) and len(shape) == 2 and shape[1] in (2, 3)
            and isinstance(shape[0], int) and shape[0] >= 0):
        raise ConverterError(f'{path}: kpt_shape must be [K, 2] or [K, 3], got {shape!r}')
    names = data.get('names')
    if isinstance(names, dict):
        try:
            names = [names[i] for i in range(len(names))]
        except KeyError:
            raise ConverterError(f'{path}: names must be indexed 0..{len(names) - 1}, got '
                                  f'{sorted(data["names"])}') from None
    data['names'] = list(names) if names is not None else None
    return data


def layout_from_data_yaml(data: dict, source: str) -> Optional[KeypointLayout]:
    """The layout stored by :func:`write_data_yaml`, or None for a plain Ultralytics yaml."""
    info = data.get(LAYOUT_KEY)
    if not isinstance(info, dict) or not data.get('names'):
        return None
    return conversion_layout(data['names'], info.get('keypoints') or {},
                             info.get('flip_pairs'), info.get('skeletons'), source=source,
                             share_keypoints=info.get('share_keypoints'))


def _label_path(image: Path) -> Path:
    """Ultralytics' rule: the last ``/images/`` of the path becomes ``/labels/``."""
    parts = image.parts
    if 'images' not in parts[:-1]:
        raise ConverterError(f'{image}: Ultralytics finds labels by replacing "images" in '
                              'the image path with "labels", but this path has no "images" '
                              'folder')
    i = len(parts) - 2 - parts[:-1][::-1].index('images')
    return Path(*parts[:i], 'labels', *parts[i + 1:]).with_suffix('.txt')


def _split_images(entry, root: Path, source: str, split: str) -> Tuple[List[Path], Path]:
    """Images of a data yaml split entry (folder, list file or list of them) and the
    folder ``file_name`` is relative to."""
    entries = entry if isinstance(entry, (list, tuple)) else [entry]
    images: List[Path] = []
    for e in entries:
        p = Path(str(e))
        p = p if p.is_absolute() else root / p
        if p.is_dir():
            images += list_folder_images(p, recursive=True)
        elif p.is_file() and p.suffix == '.txt':
            for line in p.read_text(encoding='utf-8').splitlines():
                line = line.strip()
                if line:
                    q = Path(line)
                    images.append(q if q.is_absolute() else (p.parent / q if
                                                             line.startswith('./') else
                                                             root / q))
        else:
            raise ConverterError(f'{source}: {split}: {p} is neither an image folder nor a '
                                  '.txt list of images')
    if not images:
        raise ConverterError(f'{source}: {split}: no images in {entries}')
    first = Path(str(entries[0]))
    first = first if first.is_absolute() else root / first
    return images, first if len(entries) == 1 and first.is_dir() else root


def yolo_pose_to_coco(data_yaml: PathLike, out_dir: PathLike,
                      layout: Optional[KeypointLayout] = None,
                      splits: Optional[Sequence[str]] = None, overwrite: bool = False,
                      show_progress: bool = True) -> dict:
    """Write ``<out>/annotations/<split>.json`` from an Ultralytics pose dataset.

    Args:
        data_yaml (PathLike): the dataset's data yaml (``path``, splits, ``names``,
            ``kpt_shape``).
        out_dir (PathLike): output root.
        layout (KeypointLayout, optional): classes (in ``names`` order) and the slot order
            of the label files; default: the yaml's ``yolox_kpt`` entry written by
            :func:`coco_to_yolo_pose`.
        splits (Sequence[str], optional): default: those of train, val, test in the yaml.
        overwrite (bool): replace existing annotation files.
        show_progress (bool): show progress bars.

    Returns:
        dict: per split ``dict(ann_file, image_root, num_images, num_objects,
        missing_labels)``, plus ``warnings`` (list of str).
    """
    source = str(data_yaml)
    data = read_data_yaml(data_yaml)
    if layout is None:
        layout = layout_from_data_yaml(data, source)
    if layout is None:
        raise ConverterError(
            f'{source}: an Ultralytics data yaml does not say which keypoints each class '
            'owns; pass --config CONFIG (with keypoint_layout) or --layout layout.json')
    k, ndim = data['kpt_shape']
    if k != layout.num_keypoints:
        raise ConverterError(
            f'{source}: kpt_shape says {k} keypoints per object but the keypoint layout has '
            f'{layout.num_keypoints} slots {list(layout.keypoint_names)}')
    if data['names'] is not None and list(data['names']) != list(layout.classes):
        raise ConverterError(f'{source}: names {data["names"]} differ from the keypoint '
                              f'layout classes {list(layout.classes)} (order matters)')
    warnings = []
    flip = data.get('flip_idx')
    if flip is not None and list(flip) != list(layout.flip_indices):
        warnings.append(f'{source}: flip_idx {list(flip)} differs from the layout\'s '
                        f'{list(layout.flip_indices)}; check that the label files use the '
                        f'slot order {list(layout.keypoint_names)} (or give the layout '
                        'flip_pairs)')
    yaml_dir = Path(data_yaml).resolve().parent
    root = Path(str(data.get('path') or yaml_dir))
    if not root.is_absolute():
        root = yaml_dir / root if (yaml_dir / root).is_dir() else Path.cwd() / root
    if splits is None:
        splits = [s for s in ('train', 'val', 'test') if data.get(s)]
    if not splits:
        raise ConverterError(f'{source}: lists no split (train, val or test)')
    out = Path(out_dir)
    for s in splits:
        if not data.get(s):
            raise ConverterError(f'{source}: has no split {s!r}')
        check_free(out / 'annotations' / f'{s}.json', overwrite)
    result = dict(warnings=warnings)
    for s in splits:
        images, base = _split_images(data[s], root, source, s)
        coco, counts = _split_to_coco(images, base, layout, ndim, s, show_progress)
        ann_file = out / 'annotations' / f'{s}.json'
        ann_file.parent.mkdir(parents=True, exist_ok=True)
        ann_file.write_text(json.dumps(coco), encoding='utf-8')
        result[s] = dict(ann_file=ann_file, image_root=base, **counts)
    return result


def _split_to_coco(images: List[Path], base: Path, layout: KeypointLayout, ndim: int,
                   split: str, show_progress: bool) -> Tuple[dict, dict]:
    from PIL import Image  # reads the size from the header only
    k = layout.num_keypoints
    owned = layout.class_slot_mask()
    coco_images, annotations, missing = [], [], []
    seen = set()
    it = progress(images, len(images), f'{split} -> coco', 'img', show=show_progress)
    for img_path in it:
        rel = Path(os.path.relpath(os.path.abspath(img_path), os.path.abspath(base)))
        if rel.as_posix() in seen:
            continue  # listed twice (overlapping folders or list files)
        seen.add(rel.as_posix())
        try:
            with Image.open(img_path) as im:
                width, height = im.size
        except (OSError, ValueError) as e:
            raise ConverterError(f'{img_path}: not a readable image ({e})') from e
        image_id = len(coco_images) + 1
        coco_images.append(dict(id=image_id, file_name=rel.as_posix(), width=width,
                                height=height))
        label_path = _label_path(img_path)
        if not label_path.is_file():
            missing.append(str(label_path))  # Ultralytics: an image without objects
            continue
        try:
            text = label_path.read_text(encoding='utf-8')
        except UnicodeDecodeError as e:
            raise ConverterError(f'{label_path}: not a UTF-8 text label file ({e})') from e
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f'{label_path}, line {n}'
            annotations.append(_coco_annotation(line, where, layout, owned, k, ndim, width,
                                                height, len(annotations) + 1, image_id))
    coco = dict(info=dict(description='converted from YOLO pose labels by yolox_kpt'),
                licenses=[], images=coco_images, annotations=annotations,
                categories=coco_categories(layout))
    return coco, dict(num_images=len(coco_images), num_objects=len(annotations),
                      missing_labels=missing)


def _coco_annotation(line: str, where: str, layout: KeypointLayout, owned: np.ndarray,
                     k: int, ndim: int, width: int, height: int, ann_id: int,
                     image_id: int) -> dict:
    tokens = line.split()
    if len(tokens) != 5 + ndim * k:
        raise ConverterError(
            f'{where}: expected 5 + {k} x {ndim} = {5 + ndim * k} numbers (class, box, '
            f'keypoints), got {len(tokens)}')
    try:
        vals = [float(t) for t in tokens]
    except ValueError:
        raise ConverterError(f'{where}: not all numbers: {line.strip()!r}') from None
    if not all(math.isfinite(v) for v in vals):
        raise ConverterError(f'{where}: NaN or inf in {line.strip()!r}')
    cls = vals[0]
    if cls != int(cls) or not 0 <= cls < layout.num_classes:
        raise ConverterError(f'{where}: class {tokens[0]} is not one of 0..'
                              f'{layout.num_classes - 1} ({list(layout.classes)})')
    cls = int(cls)
    kp = np.asarray(vals[5:], dtype=np.float64).reshape(k, ndim)
    if ndim == 2:  # no visibility column: a point at (0, 0) is unlabelled
        kp = np.concatenate([kp, 2.0 * np.any(kp != 0, axis=1, keepdims=True)], axis=1)
    foreign = ~owned[cls] & np.any(kp != 0, axis=1)
    if foreign.any():
        bad = [layout.keypoint_names[i] for i in np.flatnonzero(foreign)]
        raise ConverterError(
            f'{where}: class {layout.classes[cls]!r} does not own keypoint slots {bad} but '
            f'they are not 0 0 0 (it owns {list(layout.class_keypoint_names(cls))})')
    if not np.isin(kp[:, 2], (0, 1, 2)).all():
        raise ConverterError(f'{where}: keypoint visibility must be 0, 1 or 2, got '
                              f'{sorted(set(kp[:, 2].tolist()))}')
    cx, cy, bw, bh = vals[1:5]
    bw, bh = bw * width, bh * height
    own = kp[list(layout.class_slots[cls])]
    flat = []
    for x, y, v in own:
        flat += [round(x * width, 3), round(y * height, 3), int(v)]
    return dict(id=ann_id, image_id=image_id, category_id=cls + 1,
                bbox=[round(cx * width - bw / 2, 3), round(cy * height - bh / 2, 3),
                      round(bw, 3), round(bh, 3)],
                area=round(bw * bh, 3), iscrowd=0, keypoints=flat,
                num_keypoints=int((own[:, 2] > 0).sum()))
