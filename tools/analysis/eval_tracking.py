"""Does OKS in the matching cost keep track ids better than IoU alone? HOTA, IDF1, MOTA.

Reads a COCO-VID file of video sequences with ground-truth ``track_id``\\ s
(``tools/misc/generate_synthetic_sequences.py`` writes them), makes each frame's
detections, and tracks them with ``yolox_kpt.runtime.tracking.KeypointTracker`` twice in
the same run, on the very same detections:

* ``keypoint``: ByteTrack with ``1 - OKS`` blended into the first association's cost for
  classes with keypoints (``--oks-weight``) and per-track keypoint smoothing;
* ``iou``: the IoU-only baseline (the same tracker with ``oks_weight=0``).

Detections come from

* (default) the ground truth, perturbed like a real detector's output (the record says
  so, with every parameter): box jitter (``--box-jitter``, std as a fraction of the box
  side), missed detections (``--miss-rate``, plus more for occluded objects: an object of
  visibility v is also missed with probability ``max(0, 1 - 2 v)``), detection scores
  that fall with occlusion plus noise (``--score-noise``; those under ``--high-thr`` are
  ByteTrack's second tier), false positives (``--fp-rate`` a frame: random boxes and
  classes with low scores), keypoint jitter (``--kpt-jitter``, std as a fraction of
  sqrt(box area)) and keypoint scores from the labels' visibility (seen points high,
  occluded ones low);
* or an exported model (``--model end2end.onnx``, ``yolox_kpt.runtime.KeypointDetector``)
  run over the sequence frames (``--img-dir``, default ``images/`` beside the file's
  ``annotations/`` folder).

Metrics are TrackEval's (``pip install trackeval``): HOTA (with DetA and AssA), IDF1 and
MOTA with ID switches, per class and over all classes (detection-weighted). Ground truth
with ``visibility < --min-visibility`` is neither required nor counted against a tracker
(outputs on it are dropped, as MOTChallenge does with distractors). Also the keypoint
error (pixels, median over seen ground-truth points) of the returned keypoints, smoothed
and as detected.

Prints a table and writes the JSON (``--out``); ``--record`` writes it as a measurement
record (command, date, machine) for the docs.

Examples:
    python tools/misc/generate_synthetic_sequences.py --out-dir work_dirs/sequences \\
        --sequences 4 --frames-per-sequence 60
    python tools/analysis/eval_tracking.py work_dirs/sequences/annotations/sequences.json \\
        --record docs/records/tracking.json
    python tools/analysis/eval_tracking.py work_dirs/sequences/annotations/sequences.json \\
        --model work_dirs/deploy/end2end.onnx
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from yolox_kpt.data_tools.coco import load_coco  # noqa: E402
from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT  # noqa: E402
from yolox_kpt.runtime.detections import Detections  # noqa: E402
from yolox_kpt.runtime.tracking import (KeypointTracker, box_iou,  # noqa: E402
                                        linear_assignment)
from yolox_kpt.utils.cli import tool_parser  # noqa: E402
from yolox_kpt.utils.progress import progress  # noqa: E402

VARIANTS = ('keypoint', 'iou')
#: (key in the results, TrackEval metric, field, scale) of the table's columns
COLUMNS = (('HOTA', 'HOTA', 'HOTA', 100), ('DetA', 'HOTA', 'DetA', 100),
           ('AssA', 'HOTA', 'AssA', 100), ('IDF1', 'Identity', 'IDF1', 100),
           ('MOTA', 'CLEAR', 'MOTA', 100), ('IDSW', 'CLEAR', 'IDSW', 1))


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('ann_file', help='COCO-VID file with track_id per annotation')
    parser.add_argument('--model', help='exported model (.onnx / .engine): track its '
                        'detections instead of perturbed ground truth')
    parser.add_argument('--img-dir', help='frames root (default: images/ beside the '
                        "file's annotations/ folder)")
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0, help='seed of the perturbations')
    parser.add_argument('--box-jitter', type=float, default=0.04)
    parser.add_argument('--occlusion-cut', type=float, default=1.0,
                        help='how far a partly hidden object\'s box shrinks to its visible '
                        'part (0: amodal box, 1: the visible part\'s box)')
    parser.add_argument('--miss-rate', type=float, default=0.1)
    parser.add_argument('--score-noise', type=float, default=0.15)
    parser.add_argument('--fp-rate', type=float, default=0.5,
                        help='false positives a frame (Poisson mean)')
    parser.add_argument('--kpt-jitter', type=float, default=0.03)
    parser.add_argument('--oks-weight', type=float, default=0.5)
    parser.add_argument('--oks-sigma-scale', type=float, default=4.0,
                        help="matching's OKS sigmas: the layout's times this")
    parser.add_argument('--high-thr', type=float, default=0.5)
    parser.add_argument('--low-thr', type=float, default=0.1)
    parser.add_argument('--min-visibility', type=float, default=0.25)
    parser.add_argument('--out', default='work_dirs/eval_tracking/tracking.json')
    parser.add_argument('--record', help='also write the result as a measurement record '
                        '(docs/records/tracking.json is the one the docs show)')
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- data


def load_sequences(path: str) -> List[dict]:
    """The file's sequences: ``[{'name', 'frames': [{'image', 'anns'}, ...]}]``, frames
    in ``frame_id`` order. SystemExit naming the file and field on a bad file."""
    data = load_coco(path)
    for key in ('videos',):
        if not isinstance(data.get(key), list):
            raise SystemExit(f'{path}: no "{key}" list: not a video (COCO-VID) file; '
                             'tools/misc/generate_synthetic_sequences.py writes one')
    by_image = defaultdict(list)
    for ann in data['annotations']:
        if 'track_id' not in ann:
            raise SystemExit(f'{path}: annotation {ann.get("id")} has no "track_id"')
        by_image[ann['image_id']].append(ann)
    seqs = {v['id']: dict(name=v.get('name', str(v['id'])), frames=[])
            for v in data['videos']}
    for img in data['images']:
        for key in ('video_id', 'frame_id'):
            if key not in img:
                raise SystemExit(f'{path}: image {img["id"]} has no "{key}"')
        if img['video_id'] not in seqs:
            raise SystemExit(f'{path}: image {img["id"]} names video_id '
                             f'{img["video_id"]}, which "videos" does not list')
        seqs[img['video_id']]['frames'].append(dict(image=img, anns=by_image[img['id']]))
    for s in seqs.values():
        s['frames'].sort(key=lambda f: f['image']['frame_id'])
    return list(seqs.values())


def _xyxy(ann: dict) -> List[float]:
    x, y, w, h = ann['bbox']
    return [x, y, x + w, y + h]


def _visible_extent(ann: dict, anns: Sequence[dict]) -> List[float]:
    """The bounding box of the part of ``ann``'s box not covered by the boxes of nearer
    objects (lower box bottom on a flat road; faces are not occluders, nor is a face's own
    vehicle); the whole box when nothing of it shows."""
    x1, y1, x2, y2 = _xyxy(ann)
    ox, oy = int(np.floor(x1)), int(np.floor(y1))
    mask = np.ones((max(int(np.ceil(y2)) - oy, 1), max(int(np.ceil(x2)) - ox, 1)), bool)
    for other in anns:
        if other is ann or other['category_id'] == 2 or other['id'] == ann.get('parent_id'):
            continue
        a1, b1, a2, b2 = _xyxy(other)
        if b2 <= y2:
            continue
        mask[max(int(b1) - oy, 0):max(int(np.ceil(b2)) - oy, 0),
             max(int(a1) - ox, 0):max(int(np.ceil(a2)) - ox, 0)] = False
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return [x1, y1, x2, y2]
    return [max(x1, ox + xs.min()), max(y1, oy + ys.min()), min(x2, ox + xs.max() + 1),
            min(y2, oy + ys.max() + 1)]


def perturbed_detections(anns: Sequence[dict], size, rng: np.random.Generator,
                         args: argparse.Namespace, layout=DRIVING_LAYOUT) -> Detections:
    """A simulated detector's output for one frame's ground truth (see the docstring)."""
    k = layout.num_keypoints
    boxes, scores, labels, kpts, kscores = [], [], [], [], []
    w_img, h_img = size
    for ann in anns:
        vis = float(ann.get('visibility', 1.0))
        x1, y1, x2, y2 = _xyxy(ann)
        if vis < 1.0 and args.occlusion_cut > 0:
            # a detector's box of a partly hidden object hugs its visible part
            vx1, vy1, vx2, vy2 = _visible_extent(ann, anns)
            x1, y1, x2, y2 = (a + args.occlusion_cut * (b - a) for a, b in
                              zip((x1, y1, x2, y2), (vx1, vy1, vx2, vy2)))
        if rng.random() < args.miss_rate or rng.random() < max(0.0, 1.0 - 2.0 * vis):
            continue
        label = ann['category_id'] - 1
        bw, bh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
        box = np.array([x1, y1, x2, y2]) + rng.normal(0, args.box_jitter, 4) * [bw, bh, bw, bh]
        score = float(np.clip(0.35 + 0.55 * vis + rng.normal(0, args.score_noise), 0, 0.99))
        if score < args.low_thr:
            continue
        kp = np.zeros((k, 2))
        ks = np.zeros(k)
        gt = np.asarray(ann.get('keypoints') or [], np.float64).reshape(-1, 3)
        for slot, (x, y, v) in zip(layout.class_slots[label], gt):
            if v > 0:
                kp[slot] = np.array([x, y]) + rng.normal(0, args.kpt_jitter, 2) * np.sqrt(bw * bh)
                ks[slot] = rng.uniform(0.6, 0.95) if v == 2 else rng.uniform(0.2, 0.6)
            else:
                kp[slot] = [(box[0] + box[2]) / 2, box[3]]
                ks[slot] = rng.uniform(0.0, 0.15)
        boxes.append(box)
        scores.append(score)
        labels.append(label)
        kpts.append(kp)
        kscores.append(ks)
    for _ in range(rng.poisson(args.fp_rate)):
        label = int(rng.integers(layout.num_classes))
        bw, bh = rng.uniform(10, 0.3 * w_img), rng.uniform(10, 0.3 * h_img)
        x1, y1 = rng.uniform(0, w_img - bw), rng.uniform(0.3 * h_img, h_img - bh)
        boxes.append([x1, y1, x1 + bw, y1 + bh])
        scores.append(rng.uniform(args.low_thr, 0.65))
        labels.append(label)
        kpts.append(np.stack([rng.uniform(x1, x1 + bw, k), rng.uniform(y1, y1 + bh, k)], 1))
        kscores.append(np.where(layout.class_slot_mask()[label], rng.uniform(0, 0.7, k), 0))
    n = len(boxes)
    return Detections(np.asarray(boxes, np.float32).reshape(n, 4), np.asarray(scores),
                      np.asarray(labels, np.int64), np.asarray(kpts).reshape(n, k, 2),
                      np.asarray(kscores).reshape(n, k), layout)


# --------------------------------------------------------------------------- metrics


def trackeval_data(gt: List[tuple], out: List[tuple]) -> dict:
    """TrackEval's per-sequence data dict for one class.

    Args:
        gt: per frame (ids (G,), boxes (G, 4)).
        out: per frame (ids (T,), boxes (T, 4)).
    """
    gt_map = {v: i for i, v in enumerate(sorted({int(x) for ids, _ in gt for x in ids}))}
    tr_map = {v: i for i, v in enumerate(sorted({int(x) for ids, _ in out for x in ids}))}
    data = dict(num_timesteps=len(gt), num_gt_ids=len(gt_map), num_tracker_ids=len(tr_map),
                num_gt_dets=sum(len(ids) for ids, _ in gt),
                num_tracker_dets=sum(len(ids) for ids, _ in out),
                gt_ids=[], tracker_ids=[], similarity_scores=[])
    for (g_ids, g_boxes), (t_ids, t_boxes) in zip(gt, out):
        data['gt_ids'].append(np.array([gt_map[int(x)] for x in g_ids], int))
        data['tracker_ids'].append(np.array([tr_map[int(x)] for x in t_ids], int))
        data['similarity_scores'].append(box_iou(g_boxes, t_boxes))
    return data


def _drop_on_ignored(keep_boxes, ign_boxes, t_boxes) -> np.ndarray:
    """Mask of tracker boxes to keep: those matched (IoU >= 0.5) to an ignored ground-truth
    box are dropped, the others kept."""
    keep = np.ones(len(t_boxes), bool)
    if len(ign_boxes) == 0 or len(t_boxes) == 0:
        return keep
    all_gt = np.concatenate([keep_boxes.reshape(-1, 4), ign_boxes])
    matches, _, _ = linear_assignment(1.0 - box_iou(all_gt, t_boxes), 0.5)
    for g, t in matches:
        if g >= len(keep_boxes):
            keep[t] = False
    return keep


def compute_metrics(per_class: Dict[str, List[dict]]) -> Dict[str, Dict[str, float]]:
    """``{class or 'all': {column: value}}`` from TrackEval data dicts per class."""
    try:
        from trackeval.metrics import CLEAR, HOTA, Identity
    except ImportError:
        raise SystemExit('eval_tracking needs TrackEval: pip install trackeval') from None
    metrics = {'HOTA': HOTA(), 'CLEAR': CLEAR({'PRINT_CONFIG': False}),
               'Identity': Identity({'PRINT_CONFIG': False})}
    results = {}
    everything = {name: {} for name in metrics}
    for cls, datas in per_class.items():
        if not any(d['num_gt_dets'] for d in datas):
            continue
        combined = {}
        for name, metric in metrics.items():
            seqs = {str(i): metric.eval_sequence(d) for i, d in enumerate(datas)}
            everything[name].update({f'{cls}/{i}': r for i, r in seqs.items()})
            combined[name] = metric.combine_sequences(seqs)
        results[cls] = _columns(combined)
    results['all'] = _columns({name: metric.combine_sequences(everything[name])
                               for name, metric in metrics.items()})
    return results


def _columns(res: dict) -> Dict[str, float]:
    out = {}
    for key, metric, field, scale in COLUMNS:
        value = np.mean(res[metric][field]) * scale  # HOTA's are arrays over alphas
        out[key] = int(value) if key == 'IDSW' else round(float(value), 2)
    return out


# --------------------------------------------------------------------------- main


def evaluate(seqs: List[dict], args: argparse.Namespace, detect=None) -> dict:
    """Tracks every sequence with each variant and measures it. ``detect(frame)`` gives a
    frame's Detections (default: perturbed ground truth)."""
    layout = DRIVING_LAYOUT
    rng = np.random.default_rng(args.seed)
    trackers = {'keypoint': KeypointTracker(layout, oks_weight=args.oks_weight,
                                            high_thr=args.high_thr, low_thr=args.low_thr,
                                            oks_sigma_scale=args.oks_sigma_scale),
                'iou': KeypointTracker(layout, oks_weight=0.0, high_thr=args.high_thr,
                                       low_thr=args.low_thr)}
    per_class = {v: defaultdict(list) for v in VARIANTS}
    kpt_err = {v: [] for v in VARIANTS}
    raw_err = []
    n_frames = sum(len(s['frames']) for s in seqs)
    bar = progress(range(n_frames), n_frames, 'frames', 'frame')
    ticks = iter(bar)
    for seq in seqs:
        for t in trackers.values():
            t.reset()
        gt = {c: [] for c in layout.classes}
        outs = {v: {c: [] for c in layout.classes} for v in VARIANTS}
        for frame in seq['frames']:
            next(ticks, None)
            img = frame['image']
            anns = frame['anns']
            dets = (detect(frame) if detect is not None else
                    perturbed_detections(anns, (img['width'], img['height']), rng, args))
            results = {v: trackers[v].update(dets) for v in VARIANTS}
            for label, cls in enumerate(layout.classes):
                mine = [a for a in anns if a['category_id'] - 1 == label]
                kept = [a for a in mine if a.get('visibility', 1.0) >= args.min_visibility]
                ign = [a for a in mine if a.get('visibility', 1.0) < args.min_visibility]
                g_boxes = np.array([_xyxy(a) for a in kept]).reshape(-1, 4)
                gt[cls].append((np.array([a['track_id'] for a in kept], int), g_boxes))
                i_boxes = np.array([_xyxy(a) for a in ign]).reshape(-1, 4)
                for v, res in results.items():
                    sel = res.detections.labels == label
                    boxes = res.detections.bboxes[sel]
                    keep = _drop_on_ignored(g_boxes, i_boxes, boxes)
                    outs[v][cls].append((res.track_ids[sel][keep], boxes[keep]))
            for v, res in results.items():
                kpt_err[v] += _keypoint_errors(anns, res.detections)
            raw_err.extend(_keypoint_errors(anns, results['keypoint'].detections, dets,
                                            results['keypoint'].indices))
        for v in VARIANTS:
            for cls in layout.classes:
                per_class[v][cls].append(trackeval_data(gt[cls], outs[v][cls]))
    for _ in ticks:
        pass
    out = {}
    for v in VARIANTS:
        out[v] = compute_metrics(per_class[v])
        out[v]['keypoint_error_px'] = _median(kpt_err[v])
    out['keypoint_error_px_as_detected'] = _median(raw_err)
    return out


def _median(values: List[float]) -> Optional[float]:
    return round(float(np.median(values)), 2) if values else None


def _keypoint_errors(anns, tracked: Detections, raw: Optional[Detections] = None,
                     indices=None, kpt_thr: float = 0.3) -> List[float]:
    """Pixel errors of the returned keypoints (or, with ``raw`` and ``indices``, of the
    same detections' keypoints as detected) at ground-truth points with v > 0, for outputs
    matched to a ground-truth box of their class (IoU >= 0.5)."""
    if not len(tracked) or not anns:
        return []
    kpts = raw.keypoints[indices] if raw is not None else tracked.keypoints
    gt_boxes = np.array([_xyxy(a) for a in anns])
    iou = box_iou(tracked.bboxes, gt_boxes)
    same = tracked.labels[:, None] == np.array([a['category_id'] - 1 for a in anns])[None]
    matches, _, _ = linear_assignment(np.where(same, 1.0 - iou, np.inf), 0.5)
    errors = []
    layout = tracked.layout
    for t, g in matches:
        ann = anns[g]
        gt = np.asarray(ann.get('keypoints') or [], np.float64).reshape(-1, 3)
        for slot, (x, y, v) in zip(layout.class_slots[ann['category_id'] - 1], gt):
            if v > 0 and tracked.keypoint_scores[t, slot] >= kpt_thr:
                errors.append(float(np.hypot(*(kpts[t, slot] - (x, y)))))
    return errors


def model_detector(args: argparse.Namespace):
    """``detect(frame)`` running ``args.model`` on the frame's image file."""
    import cv2

    from yolox_kpt.runtime import KeypointDetector
    detector = KeypointDetector(args.model, device=args.device)
    detector.layout.check_same(DRIVING_LAYOUT, args.model, 'the driving layout')
    img_dir = args.img_dir or osp.join(osp.dirname(osp.dirname(osp.abspath(args.ann_file))),
                                       'images')

    def detect(frame):
        path = osp.join(img_dir, frame['image']['file_name'])
        image = cv2.imread(path)
        if image is None:
            raise SystemExit(f'{path}: cannot read frame (image id {frame["image"]["id"]})')
        return detector(image, score_thr=args.low_thr)
    return detect


def _version(package: str) -> Optional[str]:
    """The installed version of ``package`` (the record's machine block lists others)."""
    import importlib.metadata
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def format_table(result: dict) -> str:
    """One row per variant and class group."""
    head = ['variant', 'classes'] + [c for c, *_ in COLUMNS] + ['kpt err px']
    rows = []
    for v in VARIANTS:
        for cls, vals in result['variants'][v].items():
            if not isinstance(vals, dict):
                continue
            rows.append([v, cls] + [str(vals[c]) for c, *_ in COLUMNS] +
                        [str(result['variants'][v]['keypoint_error_px']) if cls == 'all'
                         else ''])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ['  '.join(x.ljust(w) for x, w in zip(r, widths)) for r in [head] + rows]
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    seqs = load_sequences(args.ann_file)
    detect = model_detector(args) if args.model else None
    variants = evaluate(seqs, args, detect)
    source = (dict(kind='model', model=args.model) if args.model else dict(
        kind='ground truth perturbed by a simulated detector', box_jitter=args.box_jitter,
        occlusion_cut=args.occlusion_cut,
        miss_rate=args.miss_rate, occlusion_miss='p = max(0, 1 - 2 * visibility)',
        score='0.35 + 0.55 * visibility + N(0, score_noise), clipped',
        score_noise=args.score_noise, false_positives_per_frame=args.fp_rate,
        kpt_jitter=args.kpt_jitter, seed=args.seed))
    result = dict(
        data=dict(ann_file=args.ann_file, sequences=len(seqs),
                  frames=sum(len(s['frames']) for s in seqs),
                  tracks=len({a['track_id'] for s in seqs for f in s['frames']
                              for a in f['anns']}),
                  min_visibility=args.min_visibility),
        detections=source,
        tracker=dict(oks_weight=args.oks_weight, oks_sigma_scale=args.oks_sigma_scale,
                     high_thr=args.high_thr,
                     low_thr=args.low_thr, baseline='iou: the same tracker, oks_weight=0'),
        metrics='TrackEval HOTA (mean over alpha), DetA, AssA, IDF1, MOTA, IDSW; x100 '
                'except IDSW',
        libraries={name: _version(name) for name in ('trackeval', 'scipy')},
        variants=variants)
    print(format_table(result))
    print(f'keypoint error as detected: {variants["keypoint_error_px_as_detected"]} px')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'results written to {osp.abspath(args.out)}')
    if args.record:
        from yolox_kpt.utils.records import write_record
        print(f'wrote record {write_record(args.record, result)}')
    return result


if __name__ == '__main__':
    main()
