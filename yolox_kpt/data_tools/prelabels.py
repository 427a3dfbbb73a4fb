"""Pre-labels: a model's detections as files a labelling tool opens with the guesses on them.

Two targets:

* COCO keypoints (:func:`detections_to_coco`): every class a category (ids 1..C in layout
  order, each with its own ``keypoints`` and ``skeleton``, as :func:`coco.coco_categories`
  writes them), every detection an annotation. The project's dataset reads it back, and CVAT
  imports it. CVAT's importers (``cvat/apps/dataset_manager/formats/coco.py``, through
  Datumaro's COCO extractor) need, per annotation, ``id``, ``image_id``, ``category_id``,
  ``iscrowd``, ``segmentation`` (``[]``: then ``bbox`` is read) and, for "COCO Keypoints
  1.0", ``keypoints`` as x, y, v triplets in the category's keypoint order; a top-level
  ``score`` becomes the shape's ``score`` attribute (dropped unless the CVAT label declares
  one); images are matched to the task's frames by ``file_name`` without its extension.
  "COCO Keypoints 1.0" imports skeletons only (it removes the boxes, whose labels would be
  skeleton labels), so :func:`cvat_keypoint_coco` keeps the categories that have keypoints,
  and the boxes of every class go through "COCO 1.0" (the full file). An upload replaces a
  task's annotations, so each of the two goes to its own task.
* LabelMe (:func:`detections_to_labelme`): one file per image in the shapes the project's
  LabelMe converter reads (:mod:`yolox_kpt.data_tools.converters.labelme`): a rectangle per
  detection (label: the class), a point per kept keypoint (label: the keypoint name,
  ``group_id``: its rectangle's), ``flags.occluded`` for v=1.

A keypoint is kept (v=2) when its score is at least ``kpt_thr`` and it lies in the image;
with a visibility state (COCO's 0/1/2 per slot: ``visibility`` when given, else the model's
own, ``Detections.keypoint_states``, when it predicts ``keypoint_visibility``) a kept
keypoint takes that state (1: occluded; 0: left out). Slots the detection's class does not
own are never written. Boxes are
clipped to the image; a detection with no part in it is left out.
"""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..keypoint_layout import KeypointLayout, KeypointLayoutError
from ..runtime.detections import Detections
from ..utils.progress import progress
from .coco import ConverterError, PathLike, coco_categories

#: One image to pre-label: ``(file_name, width, height, detections)``.
Frame = Tuple[str, int, int, Detections]

#: The LabelMe version written into the files (the format of LabelMe 5).
LABELME_VERSION = '5.4.1'


def _r(v: float, digits: int = 2) -> float:
    return round(float(v), digits)


def keypoint_states(dets: Detections, width: int, height: int, kpt_thr: float,
                    visibility: Optional[np.ndarray] = None) -> np.ndarray:
    """COCO visibility of every slot of every detection.

    Args:
        dets (Detections): N detections, K_total slots.
        width (int): image width; keypoints outside ``[0, width] x [0, height]`` get v=0
            (the dataset's rule for labelled points outside the image).
        height (int): image height.
        kpt_thr (float): keypoint score from which a keypoint is kept.
        visibility (np.ndarray, optional): (N, K_total) int, a state per slot (2 visible,
            1 occluded, 0 absent); None: the detections' own ``keypoint_states`` (from
            the model's ``keypoint_visibility``) when they have them, else every kept
            keypoint is visible.

    Returns:
        np.ndarray: (N, K_total) int64 in {0, 1, 2}; 0 in slots the class does not own.
    """
    n, k = len(dets), dets.layout.num_keypoints
    if visibility is None:
        visibility = dets.keypoint_states
    if visibility is None:
        state = np.full((n, k), 2, np.int64)
    else:
        state = np.asarray(visibility, dtype=np.int64).reshape(n, k)
    xy = dets.keypoints
    inside = ((xy[..., 0] >= 0) & (xy[..., 0] <= width) &
              (xy[..., 1] >= 0) & (xy[..., 1] <= height))
    owned = dets.layout.class_slot_mask()[dets.labels] if n else np.zeros((0, k), bool)
    keep = owned & inside & (dets.keypoint_scores >= kpt_thr)
    return np.where(keep, np.clip(state, 0, 2), 0)


def _objects(dets: Detections, width: int, height: int, kpt_thr: float,
             visibility: Optional[np.ndarray]) -> Iterator[dict]:
    """Per detection with a box in the image: class index, clipped x1 y1 x2 y2, score, and
    its class's keypoints as ``(K_class, 3)`` x y v with ``(K_class,)`` scores; v=0 rows are
    zeros (COCO's unlabelled point)."""
    states = keypoint_states(dets, width, height, kpt_thr, visibility)
    layout = dets.layout
    for i in range(len(dets)):
        label = int(dets.labels[i])
        slots = list(layout.class_slots[label])
        x1, y1, x2, y2 = dets.bboxes[i].tolist()
        box = (min(max(x1, 0.0), width), min(max(y1, 0.0), height),
               min(max(x2, 0.0), width), min(max(y2, 0.0), height))
        if box[2] <= box[0] or box[3] <= box[1]:
            continue  # nothing of it in the image: nothing to correct
        kpts = np.zeros((len(slots), 3))
        v = states[i, slots]
        kpts[:, :2] = dets.keypoints[i, slots]
        kpts[:, 2] = v
        kpts[v == 0] = 0
        yield dict(label=label, box=box, score=float(dets.scores[i]), keypoints=kpts,
                   keypoint_scores=np.where(v > 0, dets.keypoint_scores[i, slots], 0.0))


def _check_layout(dets: Detections, layout: KeypointLayout, where: str) -> None:
    """Refuse detections whose classes or keypoint slots differ (sigmas and skeletons may:
    they change no written value)."""
    for field in ('classes', 'keypoint_names', 'class_slots'):
        if getattr(dets.layout, field) != getattr(layout, field):
            raise ConverterError(
                f'the detections of {where} have {field} {getattr(dets.layout, field)}, the '
                f'pre-label layout {getattr(layout, field)}')


def detections_to_coco(frames: Sequence[Frame], layout: KeypointLayout, kpt_thr: float = 0.3,
                       visibility: Optional[Sequence[Optional[np.ndarray]]] = None,
                       description: str = 'pre-labels by yolox_kpt') -> dict:
    """Detections of several images as one COCO keypoint dict (project- and CVAT-readable).

    Args:
        frames (Sequence[Frame]): ``(file_name, width, height, Detections)`` per image; image
            ids follow this order, from 1.
        layout (KeypointLayout): classes and keypoints; categories are ids 1..C in its class
            order, keypoint-less classes with empty ``keypoints`` and ``skeleton``.
        kpt_thr (float): keypoint score from which a keypoint is written (v > 0).
        visibility (Sequence, optional): per frame, None or (N, K_total) visibility states
            (None: the detections' own, see :func:`keypoint_states`).
        description (str): ``info.description``.

    Returns:
        dict: ``info``, ``licenses``, ``images``, ``annotations`` (``bbox`` x y w h, ``area``,
        ``iscrowd`` 0, ``segmentation`` [], ``keypoints`` x y v of the class's own keypoints,
        ``num_keypoints``, ``score``, ``keypoint_scores``), ``categories``.

    Raises:
        ConverterError: detections of another layout, or a file name listed twice.
    """
    images, annotations, seen = [], [], set()
    for image_id, (file_name, width, height, dets) in enumerate(frames, 1):
        if file_name in seen:
            raise ConverterError(f'image {file_name!r} is listed twice')
        seen.add(file_name)
        _check_layout(dets, layout, file_name)
        images.append(dict(id=image_id, file_name=file_name, width=int(width),
                           height=int(height)))
        vis = visibility[image_id - 1] if visibility is not None else None
        for obj in _objects(dets, width, height, kpt_thr, vis):
            x1, y1, x2, y2 = obj['box']
            kpts = obj['keypoints']
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=obj['label'] + 1,
                bbox=[_r(x1), _r(y1), _r(x2 - x1), _r(y2 - y1)],
                area=_r((x2 - x1) * (y2 - y1)), iscrowd=0, segmentation=[],
                keypoints=[_r(v) if j % 3 < 2 else int(v)
                           for j, v in enumerate(kpts.reshape(-1))],
                num_keypoints=int((kpts[:, 2] > 0).sum()), score=_r(obj['score'], 4),
                keypoint_scores=[_r(s, 4) for s in obj['keypoint_scores']]))
    return dict(info=dict(description=description), licenses=[], images=images,
                annotations=annotations, categories=coco_categories(layout))


def cvat_keypoint_coco(coco: dict) -> dict:
    """The part of :func:`detections_to_coco`'s dict that CVAT's "COCO Keypoints 1.0" import
    can use: the categories with keypoints (one CVAT skeleton label each, ids unchanged) and
    their annotations; every image stays listed."""
    cats = [c for c in coco['categories'] if c.get('keypoints')]
    ids = {c['id'] for c in cats}
    return dict(coco, categories=cats,
                annotations=[a for a in coco['annotations'] if a['category_id'] in ids])


def _skeleton_svg(names: Sequence[str], skeleton: Sequence[Sequence[int]]) -> str:
    """A CVAT skeleton label's ``svg``: one ``circle`` per keypoint (``data-node-id`` its
    1-based index, ``data-label-name`` its name) on a ring, one ``line`` per skeleton pair
    (``data-node-from`` / ``data-node-to``), in CVAT's 100 x 100 drawing box."""
    pos = [(50 + 35 * np.cos(2 * np.pi * i / len(names)),
            50 + 35 * np.sin(2 * np.pi * i / len(names))) for i in range(len(names))]
    lines = [f'<line x1="{pos[a - 1][0]:.1f}" y1="{pos[a - 1][1]:.1f}" '
             f'x2="{pos[b - 1][0]:.1f}" y2="{pos[b - 1][1]:.1f}" stroke="black" '
             f'data-type="edge" data-node-from="{a}" stroke-width="0.5" data-node-to="{b}">'
             '</line>' for a, b in skeleton]
    circles = [f'<circle r="1.5" stroke="black" fill="#b3b3b3" cx="{x:.1f}" cy="{y:.1f}" '
               f'stroke-width="0.1" data-type="element node" data-element-id="{i}" '
               f'data-node-id="{i}" data-label-name="{name}"></circle>'
               for i, (name, (x, y)) in enumerate(zip(names, pos), 1)]
    return ''.join(lines + circles)


def cvat_labels(layout: KeypointLayout) -> List[dict]:
    """The labels of a CVAT task that takes the pre-labels, in CVAT's label JSON (what its
    "Raw" label editor and its API accept): a ``skeleton`` label per class with keypoints
    (its keypoints as ``points`` sublabels, named as in the COCO file, which is how the
    import finds them), a ``rectangle`` label per other class; each with a ``score`` number
    attribute so the model's score is kept on import."""
    score = dict(name='score', mutable=False, input_type='number', default_value='0',
                 values=['0', '1', '0.0001'])
    labels = []
    for cat in coco_categories(layout):
        if cat['keypoints']:
            labels.append(dict(
                name=cat['name'], type='skeleton', attributes=[score],
                sublabels=[dict(name=n, type='points', attributes=[])
                           for n in cat['keypoints']],
                svg=_skeleton_svg(cat['keypoints'], cat['skeleton'])))
        else:
            labels.append(dict(name=cat['name'], type='rectangle', attributes=[score]))
    return labels


def detections_to_labelme(file_name: str, width: int, height: int, dets: Detections,
                          layout: KeypointLayout, kpt_thr: float = 0.3,
                          visibility: Optional[np.ndarray] = None) -> dict:
    """One image's detections as a LabelMe file written beside the image.

    Args:
        file_name (str): the image; ``imagePath`` is its base name (the JSON sits beside it).
        width (int): image width.
        height (int): image height.
        dets (Detections): the image's detections.
        layout (KeypointLayout): classes and keypoint names.
        kpt_thr (float): keypoint score from which a keypoint becomes a point.
        visibility (np.ndarray, optional): (N, K_total) visibility states (None: the
            detections' own, see :func:`keypoint_states`).

    Returns:
        dict: LabelMe JSON (``imageData`` None): per detection a ``rectangle`` (label the
        class, ``group_id`` i + 1, ``description`` its score) and its kept keypoints as
        ``point`` shapes of the same ``group_id`` (``flags.occluded`` for v=1).
    """
    _check_layout(dets, layout, file_name)
    shapes = []
    for i, obj in enumerate(_objects(dets, width, height, kpt_thr, visibility)):
        x1, y1, x2, y2 = obj['box']
        shapes.append(dict(label=layout.classes[obj['label']], group_id=i + 1,
                           shape_type='rectangle', flags={},
                           description=f'score {obj["score"]:.4f}',
                           points=[[_r(x1), _r(y1)], [_r(x2), _r(y2)]]))
        names = layout.class_keypoint_names(obj['label'])
        for name, (x, y, v), s in zip(names, obj['keypoints'], obj['keypoint_scores']):
            if v > 0:
                shapes.append(dict(label=name, group_id=i + 1, shape_type='point',
                                   flags={'occluded': True} if v == 1 else {},
                                   description=f'score {s:.4f}', points=[[_r(x), _r(y)]]))
    return dict(version=LABELME_VERSION, flags={}, shapes=shapes,
                imagePath=osp.basename(file_name), imageData=None,
                imageHeight=int(height), imageWidth=int(width))


# ---------------------------------------------------------------- mine_frames' hits JSON
def load_hits(path: PathLike) -> dict:
    """``tools/mining/mine_frames.py``'s JSON, checked for its ``hits`` list.

    Raises:
        ConverterError: not a readable JSON object with a ``hits`` list of objects that
            each have a ``frame`` name and a ``detections`` list.
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConverterError(f'{path}: not a readable JSON file ({e})') from e
    if not isinstance(data, dict) or not isinstance(data.get('hits'), list):
        raise ConverterError(f'{path}: not a mine_frames hits file (no "hits" list)')
    for i, hit in enumerate(data['hits']):
        if not (isinstance(hit, dict) and isinstance(hit.get('frame'), str)
                and isinstance(hit.get('detections'), list)):
            raise ConverterError(f'{path}: hits[{i}] needs a "frame" name and a '
                                 '"detections" list')
    return data


def hits_layout(hits: dict, source: str, config: Optional[PathLike] = None,
                layout_file: Optional[PathLike] = None) -> KeypointLayout:
    """The layout the hits were found with.

    In order: ``config`` or ``layout_file`` when given; the hits file's own
    ``keypoint_layout``; its ``model``: an exported model's runtime meta (ONNX metadata, or
    ``yolox_kpt_runtime.json`` beside it), or a config's ``keypoint_layout``.

    Raises:
        ConverterError: no layout found; the message names the file and what to pass.
    """
    from .converters.common import load_layout
    if config is not None or layout_file is not None:
        return load_layout(config, layout_file)
    if hits.get('keypoint_layout'):
        try:
            return KeypointLayout.from_config(hits['keypoint_layout'])
        except (KeypointLayoutError, TypeError) as e:
            raise ConverterError(f'{source}: keypoint_layout: {e}') from e
    model = hits.get('model')
    hint = 'pass --config or --layout'
    if not isinstance(model, str) or not osp.isfile(model):
        raise ConverterError(f'{source}: its model {model!r} is not a file here, so its '
                             f'keypoint layout is unknown; {hint}')
    if model.endswith('.py'):
        return load_layout(config=model)
    from ..runtime import RuntimeMeta
    try:
        return RuntimeMeta.read(model).layout
    except (ValueError, OSError) as e:
        raise ConverterError(f'{source}: no keypoint layout in its model {model} ({e}); '
                             f'{hint}') from e


def _number_list(value, num: int, where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64) if isinstance(value, list) else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.size != num or not np.all(np.isfinite(arr)):
        raise ConverterError(f'{where}: expected {num} finite numbers, got {value!r:.120}')
    return arr


def hit_detections(dets: Sequence[dict], layout: KeypointLayout, where: str
                   ) -> Tuple[Detections, Optional[np.ndarray]]:
    """A hit's ``detections`` list as :class:`Detections` (and visibility states).

    Each detection has ``label`` (a class name), ``score`` and ``bbox`` (x1 y1 x2 y2), and
    optionally keypoints, either as the demos write them, ``keypoints: {name: [x, y,
    score]}`` (``visibility: {name: v}`` optional, which ``Detections.to_json`` writes for a
    model that predicts visibility), or per slot, ``keypoints: [[x, y], ...]``
    with ``keypoint_scores: [...]`` (``keypoint_visibility: [...]`` optional). Without
    keypoints, every keypoint score is 0 (boxes only).

    Raises:
        ConverterError: an unknown class or keypoint name, or a malformed field; the message
            names ``where`` and the detection index.
    """
    n, k = len(dets), layout.num_keypoints
    boxes, scores, labels = np.zeros((n, 4)), np.zeros(n), np.zeros(n, np.int64)
    kpts, kscores = np.zeros((n, k, 2)), np.zeros((n, k))
    vis, has_vis = np.full((n, k), 2, np.int64), False
    # per class: every slot name, then the keys Detections.to_json writes (the class's own
    # names: 'nose' is slot 'animal.nose' for an animal)
    slots_by_name = [
        {**{name: j for j, name in enumerate(layout.keypoint_names)},
         **{key: j for j, key in enumerate(layout.slot_keys(label))}}
        for label in range(layout.num_classes)]
    for i, det in enumerate(dets):
        at = f'{where}, detection {i}'
        if not isinstance(det, dict) or det.get('label') not in layout.classes:
            label = det.get('label') if isinstance(det, dict) else det
            raise ConverterError(f'{at}: label {label!r} is not a class of the layout '
                                 f'{list(layout.classes)}')
        labels[i] = layout.classes.index(det['label'])
        boxes[i] = _number_list(det.get('bbox'), 4, f'{at}: bbox')
        scores[i] = _number_list([det.get('score')], 1, f'{at}: score')[0]
        raw = det.get('keypoints')
        if isinstance(raw, dict):
            states = det.get('visibility') or {}
            slot_of = slots_by_name[labels[i]]
            for name, value in raw.items():
                if name not in slot_of:
                    raise ConverterError(f'{at}: keypoint {name!r} is not in the layout '
                                         f'{list(layout.keypoint_names)}')
                s = slot_of[name]
                x, y, ks = _number_list(value, 3, f'{at}: keypoint {name!r}')
                kpts[i, s], kscores[i, s] = (x, y), ks
                if name in states:
                    vis[i, s] = _number_list([states[name]], 1, f'{at}: visibility {name!r}')[0]
                    has_vis = True
        elif raw is not None:
            kpts[i] = _number_list(raw, 2 * k, f'{at}: keypoints').reshape(k, 2)
            kscores[i] = _number_list(det.get('keypoint_scores'), k,
                                      f'{at}: keypoint_scores')
            if det.get('keypoint_visibility') is not None:
                vis[i] = _number_list(det['keypoint_visibility'], k,
                                      f'{at}: keypoint_visibility')
                has_vis = True
    return (Detections(boxes, scores, labels, kpts, kscores, layout),
            vis if has_vis else None)


def hits_frames(hits: dict, frames_dir: PathLike, layout: KeypointLayout, source: str,
                show_progress: bool = True) -> Tuple[List[Frame], List[Optional[np.ndarray]]]:
    """The hit frames, read from the ``--copy-to`` folder of mine_frames, as frames.

    Args:
        hits (dict): :func:`load_hits`' result.
        frames_dir (PathLike): the folder with the hit frames (their ``frame`` names).
        layout (KeypointLayout): :func:`hits_layout`'s result.
        source (str): the hits file, quoted in errors.
        show_progress (bool): show a progress bar.

    Returns:
        tuple: the frames (``file_name`` the hit's ``frame``, size read from the image) and
        their visibility states (None where the hits carry none).

    Raises:
        ConverterError: a hit frame missing from ``frames_dir`` or not an image.
    """
    import cv2  # only here: the rest of the module needs numpy only
    frames, states = [], []
    for i, hit in enumerate(progress(hits['hits'], len(hits['hits']), 'frames', 'frame',
                                     show=show_progress)):
        where = f'{source}: hits[{i}] ({hit["frame"]})'
        path = os.path.join(frames_dir, hit['frame'])
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED) if osp.isfile(path) else None
        if image is None:
            raise ConverterError(f'{where}: the frame {path} is missing or not an image; '
                                 "give the folder mine_frames wrote with --copy-to")
        dets, vis = hit_detections(hit['detections'], layout, where)
        frames.append((hit['frame'], image.shape[1], image.shape[0], dets))
        states.append(vis)
    return frames, states
