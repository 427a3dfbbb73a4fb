"""How far off are distances and headings from tyre points, against the box-bottom baseline?

Reads a COCO keypoint file whose annotations carry ground truth (``distance_m``,
``heading_deg``, ``x_m``, ``y_m``, ``truncated``: ``tools/misc/generate_synthetic_driving.py
--camera pinhole`` writes them, ``tools/dataset_converters/camera_labels_to_coco.py`` keeps
labelled distances and headings) and the camera (each image's ``camera`` entry, or
``--calib FILE`` for all), and estimates every vehicle's footprint centre and heading twice
with ``yolox_kpt.runtime.geometry``:

* tyre-based: ``vehicle_ground_estimate`` from the contact points (and the face type);
* box bottom: ``box_bottom_estimate``, the box's bottom centre plus half a prior length.

The points and boxes are either the labels themselves (default: oracle points and boxes,
optionally with Gaussian pixel noise on every point and box coordinate alike,
``--pixel-noise``; one run per value) or a detector's
(``--results results.pkl`` from ``tools/test.py --out``, matched to the labels by box IoU).
Errors: relative distance error ``|d - d_gt| / d_gt`` and heading error
``|wrap(h - h_gt)|`` in degrees (the box bottom assumes heading 0), median and p90,
overall and per bucket:

* ``angle to line of sight``: the acute angle between the vehicle's axis and the viewing
  ray from the camera to its footprint centre (0 = seen end-on from behind or ahead,
  90 = side-on), in <30, 30-60, 60-90 degrees and >=30;
* ``angle to camera axis``: the same against the camera's forward axis (``|heading|``
  folded to 0-90);
* distance: <20, 20-40, >=40 m;
* truncation: box cut by the image border (``truncated > 0``) or not;
* contact points: all visible (every v=2), some occluded (a v=1, no v=0), some absent
  (a v=0: outside the image or unlabelled).

Prints a table per run and writes the JSON (``--out``, default
``work_dirs/eval_geometry/geometry.json``); ``--record`` writes it as a measurement record
(command, date, machine) that ``tools/misc/render_doc_tables.py`` shows (view ``geometry``).

Examples:
    python tools/misc/generate_synthetic_driving.py --camera pinhole \\
        --out-dir work_dirs/pinhole --num-train 0 --num-val 400 --img-size 640 384
    python tools/analysis/eval_geometry.py work_dirs/pinhole/annotations/val.json \\
        --pixel-noise 0 2
    python tools/analysis/eval_geometry.py data/driving/annotations/val.json \\
        --calib configs/calibration/example_1280x720.json --results work_dirs/run/results.pkl
"""
import argparse
import json
import math
import os
import os.path as osp
import pickle
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from yolox_kpt.runtime.calibration import CameraCalibration, load_calibration  # noqa: E402
from yolox_kpt.runtime.geometry import (box_bottom_estimate, ground_estimates,  # noqa: E402
                                        vehicle_ground_estimate)
from yolox_kpt.utils.cli import tool_parser  # noqa: E402
from yolox_kpt.utils.progress import progress  # noqa: E402

ESTIMATES = ('tyres', 'box_bottom')
#: (group, bucket) in table order; 'all' first.
BUCKETS = (('all', 'all'),
           ('angle to line of sight', '<30'), ('angle to line of sight', '30-60'),
           ('angle to line of sight', '60-90'), ('angle to line of sight', '>=30'),
           ('angle to camera axis', '<30'), ('angle to camera axis', '30-60'),
           ('angle to camera axis', '60-90'), ('angle to camera axis', '>=30'),
           ('distance', '<20 m'), ('distance', '20-40 m'), ('distance', '>=40 m'),
           ('truncated', 'no'), ('truncated', 'yes'),
           ('contact points', 'all visible'), ('contact points', 'some occluded'),
           ('contact points', 'some absent'))


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('ann_file', help='COCO keypoint JSON with distance_m / heading_deg')
    parser.add_argument('--calib', help='calibration JSON for every image (default: each '
                        "image's \"camera\" entry)")
    parser.add_argument('--pixel-noise', type=float, nargs='+', default=[0.0], metavar='PX',
                        help='Gaussian sigma (pixels) added to the labelled points and box '
                        'coordinates; one run per value (default: 0, the exact labels)')
    parser.add_argument('--results', help='results.pkl of tools/test.py: estimate from the '
                        'predictions instead of the labels')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='box IoU for a prediction to match a label (default 0.5)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='minimum detection and keypoint score (default 0.3)')
    parser.add_argument('--classes', nargs='+', default=['vehicle'],
                        help='classes to measure (default: vehicle)')
    parser.add_argument('--seed', type=int, default=0, help='noise seed (default 0)')
    parser.add_argument('--out', default=osp.join('work_dirs', 'eval_geometry',
                                                  'geometry.json'),
                        help='result JSON (default: %(default)s)')
    parser.add_argument('--record', help='also write the result as a measurement record '
                        '(docs/records/geometry.json is the one the docs show)')
    args = parser.parse_args(argv)
    if any(not (s >= 0) for s in args.pixel_noise):
        parser.error(f'--pixel-noise must be >= 0, got {args.pixel_noise}')
    if args.results and args.pixel_noise != [0.0]:
        parser.error('--pixel-noise applies to the labelled points, not to --results')
    return args


# ------------------------------------------------------------------------------- input
def load_ground_truth(ann_file: str, calib_file: Optional[str], classes: Sequence[str]):
    """The annotation file, its cameras per image id and the measured annotations.

    Returns:
        tuple: (coco dict, {image_id: CameraCalibration}, list of annotations of
        ``classes`` with a ``distance_m``).

    Raises:
        SystemExit: naming the file (and image / annotation id) for missing cameras or
            ground-truth fields.
    """
    with open(ann_file, encoding='utf-8') as f:
        coco = json.load(f)
    names = {c['id']: c['name'] for c in coco.get('categories', [])}
    unknown = sorted(set(classes) - set(names.values()))
    if unknown:
        raise SystemExit(f'{ann_file}: no categor(ies) {unknown}; it has '
                         f'{sorted(names.values())}')
    fixed = load_calibration(calib_file) if calib_file else None
    cameras: Dict[int, CameraCalibration] = {}
    for img in coco['images']:
        size = (int(img['width']), int(img['height']))
        if fixed is not None:
            cameras[img['id']] = fixed.scaled_to(*size)
        elif 'camera' in img:
            cameras[img['id']] = CameraCalibration.from_dict(
                img['camera'], f'{ann_file}: image {img["id"]} camera').scaled_to(*size)
        else:
            raise SystemExit(f'{ann_file}: image {img["id"]} ({img.get("file_name")}) has no '
                             '"camera"; pass --calib FILE')
    anns = []
    for a in coco['annotations']:
        if names.get(a['category_id']) not in classes or a.get('distance_m') is None:
            continue
        if a['image_id'] not in cameras:
            raise SystemExit(f'{ann_file}: annotation {a["id"]}: image {a["image_id"]} is '
                             'not in "images"')
        anns.append(a)
    if not anns:
        raise SystemExit(f'{ann_file}: no {"/".join(classes)} annotation has "distance_m" '
                         '(generate with --camera pinhole, or label distances)')
    return coco, cameras, anns


def _category_layout(coco: dict):
    """The KeypointLayout of the file's categories (labels of results.pkl index it)."""
    from yolox_kpt.keypoint_layout import KeypointLayout
    cats = sorted(coco['categories'], key=lambda c: c['id'])
    kpts = {c['name']: c.get('keypoints', []) for c in cats}
    sigmas = {n: 0.05 for names in kpts.values() for n in names}  # unused here
    return KeypointLayout.build([c['name'] for c in cats], kpts, sigmas, source='categories')


# ------------------------------------------------------------------------------- geometry
def _wrap(deg: float) -> float:
    return 180.0 - (180.0 - deg) % 360.0


def _fold90(deg: float) -> float:
    """An axis direction's acute angle (0-90) to a line, from a signed angle difference."""
    a = abs(_wrap(deg))
    return min(a, 180.0 - a)


def _angle_bucket(deg: float) -> str:
    return '<30' if deg < 30 else '30-60' if deg < 60 else '60-90'


def describe(ann: dict, names: Sequence[str]) -> Dict[str, object]:
    """Ground truth and the buckets of one annotation."""
    heading = ann.get('heading_deg')
    x, y = ann.get('x_m'), ann.get('y_m')
    out: Dict[str, object] = dict(id=ann['id'], distance_m=float(ann['distance_m']),
                                  heading_deg=None if heading is None else float(heading))
    d = out['distance_m']
    buckets = {'all': 'all', 'distance': '<20 m' if d < 20 else '20-40 m' if d < 40
               else '>=40 m'}
    if heading is not None:
        buckets['angle to camera axis'] = _angle_bucket(_fold90(heading))
        if x is not None and y is not None:
            ray = math.degrees(math.atan2(y, x))
            buckets['angle to line of sight'] = _angle_bucket(_fold90(heading - ray))
    if ann.get('truncated') is not None:
        buckets['truncated'] = 'yes' if float(ann['truncated']) > 0 else 'no'
    vis = [int(v) for v in ann['keypoints'][2::3]]
    if vis:
        buckets['contact points'] = ('some absent' if 0 in vis else 'some occluded'
                                     if 1 in vis else 'all visible')
    out['buckets'] = buckets
    return out


def label_estimates(ann: dict, calib: CameraCalibration, names: Sequence[str],
                    class_name: str, noise: float, rng: np.random.Generator) -> dict:
    """Tyre-based and box-bottom estimates from the labelled box and points, each
    coordinate of both moved by Gaussian noise of sigma ``noise`` pixels."""
    x, y, w, h = ann['bbox']
    box = np.array([x, y, x + w, y + h], np.float64)
    k = np.asarray(ann['keypoints'], np.float64).reshape(-1, 3)
    vis = k[:, 2].astype(int)
    pts = k[:, :2].copy()
    if noise > 0:
        pts[vis > 0] += rng.normal(0.0, noise, size=(int((vis > 0).sum()), 2))
        box += rng.normal(0.0, noise, size=4)
        box[2:] = np.maximum(box[2:], box[:2] + 1.0)
    face = ann.get('face_type') if class_name == 'vehicle' else None
    tyres = vehicle_ground_estimate(box, pts, (vis > 0).astype(float), names, calib,
                                    visibility=vis, face=face, class_name=class_name)
    return dict(tyres=tyres, box_bottom=box_bottom_estimate(box, calib, class_name))


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) xyxy -> (N, M)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = lambda x: (x[:, 2] - x[:, 0]) * (x[:, 3] - x[:, 1])  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None] - inter, 1e-9)


def prediction_estimates(results: list, coco: dict, cameras: dict, anns: List[dict],
                         iou_thr: float, score_thr: float) -> Dict[int, Optional[dict]]:
    """Per annotation id: the estimates of the prediction matched to it (greedy by score,
    same class, IoU >= ``iou_thr``), or None when no prediction matched."""
    from yolox_kpt.runtime.detections import Detections
    layout = _category_layout(coco)
    cat_label = {c['id']: i for i, c in enumerate(sorted(coco['categories'],
                                                         key=lambda c: c['id']))}
    by_image: Dict[int, List[dict]] = {}
    for a in anns:
        by_image.setdefault(a['image_id'], []).append(a)
    out: Dict[int, Optional[dict]] = {a['id']: None for a in anns}
    for res in results:
        img_id = int(res['img_id'])
        if img_id not in by_image:
            continue
        dets = Detections.from_instances(_Fields(res['pred_instances']), layout)
        keep = dets.scores >= score_thr
        if not keep.any():
            continue
        est = ground_estimates(dets, cameras[img_id], score_thr=score_thr)
        order = [i for i in np.argsort(-dets.scores) if keep[i] and est[i] is not None]
        gts = by_image[img_id]
        gt_boxes = np.array([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                              a['bbox'][1] + a['bbox'][3]] for a in gts])
        ious = _iou(dets.bboxes.astype(np.float64), gt_boxes)
        taken = set()
        for i in order:
            same = [j for j, a in enumerate(gts) if j not in taken
                    and cat_label[a['category_id']] == dets.labels[i]]
            if not same:
                continue
            j = max(same, key=lambda j: ious[i, j])
            if ious[i, j] >= iou_thr:
                taken.add(j)
                out[gts[j]['id']] = dict(tyres=est[i]['estimate'],
                                         box_bottom=est[i]['box_bottom'])
    return out


class _Fields:
    """Attribute access to a results.pkl ``pred_instances`` dict (or InstanceData)."""

    def __init__(self, inst):
        self._inst = inst

    def __getattr__(self, name):
        inst = self.__dict__['_inst']
        return inst[name] if isinstance(inst, dict) else getattr(inst, name)


# ------------------------------------------------------------------------------- statistics
def errors(gt: dict, est) -> Dict[str, float]:
    """Relative distance error and heading error (degrees; NaN without a GT heading)."""
    if not math.isfinite(est.distance_m):
        return dict(distance=math.nan, heading=math.nan)
    rel = abs(est.distance_m - gt['distance_m']) / gt['distance_m']
    head = math.nan
    if gt['heading_deg'] is not None and math.isfinite(est.heading_deg):
        head = abs(_wrap(est.heading_deg - gt['heading_deg']))
    return dict(distance=rel, heading=head)


def _stats(values: List[float]) -> Dict[str, Optional[float]]:
    v = np.asarray([x for x in values if math.isfinite(x)], np.float64)
    if not len(v):
        return dict(median=None, p90=None)
    return dict(median=round(float(np.median(v)), 4),
                p90=round(float(np.percentile(v, 90)), 4))


def summarise(rows: List[dict]) -> List[dict]:
    """Per bucket of :data:`BUCKETS`: counts and error statistics of both estimates."""
    out = []
    for group, bucket in BUCKETS:
        sel = [r for r in rows if _in_bucket(r['buckets'].get(group), bucket)]
        entry: Dict[str, object] = dict(group=group, bucket=bucket, n=len(sel))
        for name in ESTIMATES:
            errs = [r['errors'][name] for r in sel if r['errors'][name] is not None]
            entry[name] = dict(
                n_estimated=sum(1 for e in errs if math.isfinite(e['distance'])),
                distance_rel=_stats([e['distance'] for e in errs]),
                heading_deg=_stats([e['heading'] for e in errs]))
        t, b = entry['tyres']['distance_rel']['median'], entry['box_bottom']['distance_rel'][
            'median']
        entry['box_over_tyres'] = round(b / t, 2) if t and b is not None else None
        out.append(entry)
    return out


def _in_bucket(value: Optional[str], bucket: str) -> bool:
    if bucket == '>=30':
        return value in ('30-60', '60-90')
    return value == bucket


def evaluate(coco: dict, cameras: dict, anns: List[dict], noise: float, seed: int,
             results: Optional[list] = None, iou_thr: float = 0.5,
             score_thr: float = 0.3, show_progress: bool = True) -> dict:
    """One run: per-annotation errors summarised by bucket, plus the goal checks."""
    cats = {c['id']: c for c in coco['categories']}
    rng = np.random.default_rng(seed)
    matched = None
    if results is not None:
        matched = prediction_estimates(results, coco, cameras, anns, iou_thr, score_thr)
    rows, methods, missed = [], {}, 0
    for a in progress(anns, len(anns), 'objects', 'obj', show=show_progress):
        cat = cats[a['category_id']]
        gt = describe(a, cat.get('keypoints', []))
        if matched is None:
            est = label_estimates(a, cameras[a['image_id']], cat.get('keypoints', []),
                                  cat['name'], noise, rng)
        else:
            est = matched[a['id']]
            if est is None:
                missed += 1
                continue
        methods[est['tyres'].method] = methods.get(est['tyres'].method, 0) + 1
        gt['errors'] = {name: errors(gt, est[name]) for name in ESTIMATES}
        rows.append(gt)
    buckets = summarise(rows)
    by = {(b['group'], b['bucket']): b for b in buckets}

    def better(key, factor):
        b = by[key]
        t, bb = b['tyres']['distance_rel']['median'], b['box_bottom']['distance_rel']['median']
        return None if t is None or bb is None else bool(bb >= factor * t)

    goal = {'tyres beat box bottom overall': better(('all', 'all'), 1.0 + 1e-9),
            'box bottom >= 2x tyres, >=30 deg to the camera axis':
                better(('angle to camera axis', '>=30'), 2.0),
            'box bottom >= 2x tyres, >=30 deg to the line of sight':
                better(('angle to line of sight', '>=30'), 2.0)}
    return dict(source='predictions' if results is not None else 'labels',
                pixel_noise_px=noise, objects=len(rows), unmatched=missed,
                tyre_methods=dict(sorted(methods.items())), buckets=buckets, goal=goal)


# ------------------------------------------------------------------------------- output
def _fmt(x: Optional[float], pct: bool) -> str:
    if x is None:
        return '-'
    return f'{100 * x:.1f}%' if pct else f'{x:.1f}'


def table_rows(run: dict) -> List[List[str]]:
    """Rows of the printed and rendered table (both estimates side by side)."""
    rows = []
    for b in run['buckets']:
        if not b['n']:
            continue
        t, bb = b['tyres'], b['box_bottom']
        rows.append([b['group'] if b['group'] != 'all' else 'all', b['bucket'], str(b['n']),
                     _fmt(t['distance_rel']['median'], True), _fmt(t['distance_rel']['p90'], True),
                     _fmt(bb['distance_rel']['median'], True),
                     _fmt(bb['distance_rel']['p90'], True),
                     '-' if b['box_over_tyres'] is None else f"{b['box_over_tyres']:.1f}x",
                     _fmt(t['heading_deg']['median'], False), _fmt(t['heading_deg']['p90'], False),
                     _fmt(bb['heading_deg']['median'], False),
                     _fmt(bb['heading_deg']['p90'], False)])
    return rows


TABLE_HEADER = ['split', 'bucket', 'n', 'tyres: dist. err. median', 'p90',
                'box bottom: dist. err. median', 'p90', 'box / tyres (median)',
                'tyres: heading err. median (deg)', 'p90', 'box bottom: heading err. median '
                '(deg)', 'p90']


def run_title(run: dict) -> str:
    if run['source'] == 'predictions':
        return (f"predictions ({run['objects']} matched, {run['unmatched']} labels without a "
                'match)')
    noise = run['pixel_noise_px']
    return (f"labelled points{'' if not noise else f' + {noise:g} px Gaussian noise'} "
            f"({run['objects']} objects)")


def print_run(run: dict) -> None:
    short = ['split', 'bucket', 'n', 'tyre d med', 'p90', 'box d med', 'p90', 'box/tyre',
             'tyre h med', 'p90', 'box h med', 'p90']
    rows = [short] + table_rows(run)
    widths = [max(len(r[i]) for r in rows) for i in range(len(short))]
    print(run_title(run))
    for r in rows:
        print('  ' + '  '.join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    print('  methods of the tyre-based estimate: ' +
          ', '.join(f'{k} {v}' for k, v in run['tyre_methods'].items()))
    for what, ok in run['goal'].items():
        print(f"  {what}: {'-' if ok is None else 'yes' if ok else 'NO'}")


def main(argv=None) -> int:
    args = parse_args(argv)
    coco, cameras, anns = load_ground_truth(args.ann_file, args.calib, args.classes)
    results = None
    if args.results:
        if not osp.isfile(args.results):
            raise SystemExit(f'{args.results}: no such file (make it with tools/test.py '
                             'CONFIG CKPT --out results.pkl)')
        with open(args.results, 'rb') as f:
            results = pickle.load(f)
    runs = [evaluate(coco, cameras, anns, noise, args.seed, results, args.iou_thr,
                     args.score_thr) for noise in (args.pixel_noise if results is None
                                                  else [0.0])]
    out = dict(ann_file=args.ann_file, classes=list(args.classes),
               calibration=args.calib or 'per image ("camera" of each image entry)',
               images=len(coco['images']), seed=args.seed, runs=runs,
               definitions=dict(
                   distance_rel='|estimated - true distance| / true distance; distance from '
                   'the road point below the camera to the footprint centre (centre of the '
                   'contact points)',
                   heading_deg='|estimated - true heading| wrapped to 0-180 deg; the box '
                   'bottom assumes heading 0 (driving away)',
                   angle_to_line_of_sight='acute angle between the vehicle axis and the '
                   'ground ray from the camera to its footprint centre',
                   angle_to_camera_axis='acute angle between the vehicle axis and the '
                   'camera forward axis',
                   contact_points='all visible: every point v=2; some occluded: a v=1 and '
                   'no v=0; some absent: a v=0'))
    for run in runs:
        print_run(run)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {args.out}')
    if args.record:
        from yolox_kpt.utils.records import write_record
        print(f'wrote record {write_record(args.record, out)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
