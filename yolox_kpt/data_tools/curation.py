"""Curation of COCO keypoint files: choose frames, draw subsets, split by ratio, and check
a file against its image folder.

These work on any COCO file (the driving converter's extra fields ``drive``, ``timestamp``
and ``distance`` make :func:`select_frames` useful, but are not required); they convert
nothing, hence a module apart from ``converters/``. The logic behind
``tools/dataset_converters/{select_frames,coco_subset,check_consistency}.py``; the
camera-label converter splits its output with :func:`assign_by_ratio`.

Imports stay cheap: the standard library, and OpenCV through the image lister.
"""
from __future__ import annotations

import json
import posixpath
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..utils.media import list_folder_images
from ..utils.progress import progress as progress_bar
from .coco import ConverterError, PathLike, json_number

# Greedy thinning compares float timestamps: 10.0 - 9.9 must count as 0.1 s.
_TIME_EPS = 1e-6


# --------------------------------------------------------------------------- splits


def check_ratios(ratios: Sequence[float], what: str = '--ratios') -> List[float]:
    """Ratios normalised to sum 1; each must be finite and >= 0, and their sum > 0."""
    vals = [json_number(r) for r in ratios]
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


# --------------------------------------------------------------------------- selection


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
    if max_distance is not None and not (json_number(max_distance) is not None and
                                         max_distance >= 0):
        raise ConverterError(f'--max-distance must be >= 0, got {max_distance}')
    if interval_s is not None and not (json_number(interval_s) or 0) > 0:
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
        if json_number(dist) is None:
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
            ts = json_number(img.get('timestamp'))
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
        if not (json_number(fraction) is not None and 0 < fraction <= 1):
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


def list_images(img_dir: PathLike) -> List[str]:
    """Image files under ``img_dir`` (sub-folders too), as sorted relative posix paths."""
    root = Path(img_dir)
    return sorted(posixpath.normpath(p.relative_to(root).as_posix())
                  for p in list_folder_images(root, recursive=True))


def check_consistency(coco: dict, img_dir: PathLike) -> ConsistencyReport:
    """Compares ``img_dir`` with the images and annotations of ``coco``.

    ``file_name`` is read relative to ``img_dir`` (as ``data_prefix.img``); only files
    ending in one of :data:`~yolox_kpt.utils.media.IMAGE_EXTENSIONS` count as images on
    disk.
    """
    if not Path(img_dir).is_dir():
        raise ConverterError(f'{img_dir}: no such folder')
    on_disk = set(list_images(img_dir))
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
    for rel in progress_bar(orphans, len(orphans), 'delete', show=progress):
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
