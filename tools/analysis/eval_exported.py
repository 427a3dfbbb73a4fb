"""Evaluate exported models side by side: box AP, keypoint AP per class, latency.

Each model (fp32, fp16, int8 ``.onnx``, or a TensorRT engine on a device) runs through the
mmdet-free runtime (``yolox_kpt.runtime.KeypointDetector``: the model's own preprocessing)
on every image of a COCO keypoint file; the predictions are scored with the project's metric
(``CocoKptMetric``) where mmdet is installed, else with the same COCOeval runs through
``yolox_kpt.evaluation.functional`` and pycocotools (a runtime-only install, e.g. a Jetson:
``pip install pycocotools``). Latency: per frame, after --warmup frames, p50 and p90 of the
network alone (``infer``) and of the whole call (preprocessing, network, decoding), in ms.
Every model after the first is also compared with the first (parity: detections matched
by class and box IoU >= 0.5 above --parity-thr, their largest box and keypoint deviation).

--fp16 first writes an fp16 copy of the first model (float inputs and outputs, NMS and
index operators left in float; onnxconverter-common when installed, else the same converter
that ships inside onnxruntime) and evaluates it second.

Examples:
    python tools/analysis/eval_exported.py work_dirs/deploy/nano-ort/end2end.onnx \\
        work_dirs/deploy/nano-ort/end2end_int8.onnx --fp16 \\
        --ann-file data/synthetic_driving/annotations/val.json \\
        --img-dir data/synthetic_driving/images/val --record docs/records/int8.json
    # a TensorRT engine (on the device) against its ONNX file
    python tools/analysis/eval_exported.py end2end.onnx end2end.engine --device cuda \\
        --ann-file val.json --img-dir images/val
"""
import importlib.util
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Sequence, Union

import numpy as np

from yolox_kpt.utils.cli import tool_parser

#: ``metadata_props`` key tools/misc/quantize_int8.py writes
QUANTIZATION_KEY = 'yolox_kpt_quantization'
#: headline metrics of the side-by-side table (CocoKptMetric's names)
HEADLINE = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'kpt_AP', 'kpt_AP_50', 'kpt_AP_75')
#: NMS, index and shape operators an fp16 graph keeps in float (besides the converter's
#: default block list): boxes, scores and indices must not lose precision there
FP16_KEEP_FLOAT = ('NonMaxSuppression', 'TopK', 'Gather', 'GatherElements', 'GatherND',
                   'ReduceMax', 'ArgMax', 'Range', 'Shape', 'ConstantOfShape', 'Expand')


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('models', nargs='+', help='.onnx files or TensorRT engines; the '
                        'first is the reference of the parity columns')
    parser.add_argument('--ann-file', required=True, help='COCO keypoint JSON (val split)')
    parser.add_argument('--img-dir', required=True, help='folder of its file_names')
    parser.add_argument('--names', nargs='+', help='a name per model (default: the file '
                        'name; with --fp16 the fp16 copy is named fp16)')
    parser.add_argument('--fp16', action='store_true',
                        help='also write and evaluate an fp16 copy of the first model')
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument('--warmup', type=int, default=10, help='untimed frames first')
    parser.add_argument('--max-images', type=int, default=0, help='first N images (0: all)')
    parser.add_argument('--parity-thr', type=float, default=0.3,
                        help='score above which detections are compared with the first '
                        "model's")
    parser.add_argument('--out', default='work_dirs/eval_exported/results.json',
                        help='results JSON (default %(default)s)')
    parser.add_argument('--record', help='also write a measurement record (docs/records/)')
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- fp16
def to_fp16(model: str, out: str) -> str:
    """Write an fp16 copy of ``model`` (float I/O) to ``out``, keeping its runtime meta."""
    import onnx
    try:
        from onnxconverter_common.float16 import DEFAULT_OP_BLOCK_LIST, \
            convert_float_to_float16
    except ImportError:  # the same converter, vendored by onnxruntime
        from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, \
            convert_float_to_float16
    proto = onnx.load(model)
    half = convert_float_to_float16(
        proto, keep_io_types=True,
        op_block_list=sorted(set(DEFAULT_OP_BLOCK_LIST) | set(FP16_KEEP_FLOAT)))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    onnx.save(half, out)
    from yolox_kpt.runtime import RuntimeMeta
    RuntimeMeta.read(model).write_onnx(out)
    return out


# ---------------------------------------------------------------------------- running
class _Timed:
    """Wraps a backend callable and keeps the seconds of each call."""

    def __init__(self, fn) -> None:
        self.fn, self.seconds = fn, []

    def __call__(self, *args):
        start = time.perf_counter()
        out = self.fn(*args)
        self.seconds.append(time.perf_counter() - start)
        return out


def load_images(ann_file: str, img_dir: str, max_images: int = 0) -> List[dict]:
    """The ``images`` entries of a COCO file (with ``path``), first ``max_images``."""
    with open(ann_file) as f:
        images = json.load(f)['images']
    images = images[:max_images] if max_images > 0 else images
    for image in images:
        image['path'] = osp.join(img_dir, image['file_name'])
        if not osp.isfile(image['path']):
            raise FileNotFoundError(f'{ann_file}: image id {image["id"]}: {image["path"]} '
                                    'not found (check --img-dir)')
    return images


def read_frames(images: Sequence[dict]) -> List[tuple]:
    """(image id, BGR array) of each of ``images`` (:func:`load_images`' entries)."""
    import cv2
    frames = []
    for image in images:
        frame = cv2.imread(image['path'])
        if frame is None:
            raise ValueError(f'{image["path"]}: not a readable image (image id {image["id"]})')
        frames.append((image['id'], frame))
    return frames


def run_model(model: str, frames: Sequence[tuple], device: str = 'cpu', show: bool = True):
    """Predictions of one model on ``frames`` (:func:`read_frames`).

    Returns:
        tuple: (results, detector): per image ``img_id``, ``bboxes`` (N, 4), ``scores``,
        ``labels``, ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K), in original pixels,
        and ``keypoint_visibility`` (N, K, 3) for a model that outputs it; every detection
        the graph keeps (score threshold 0); the ``KeypointDetector``.
    """
    from yolox_kpt.runtime import KeypointDetector
    from yolox_kpt.utils.progress import progress
    detector = KeypointDetector(model, device=device)
    results = []
    for img_id, frame in progress(frames, desc=osp.basename(model), unit='img', show=show):
        det = detector(frame, score_thr=0.0)
        results.append(dict(img_id=img_id, **{k: np.asarray(v) for k, v in det.items()}))
    return results, detector


def time_models(detectors: Sequence, frames: Sequence[tuple], warmup: int = 10) -> List[dict]:
    """Latency of each detector, in ms: p50 and p90 of the network alone (``infer_*``) and
    of the whole call (``total_*``: preprocessing, network, decoding) over ``frames``.

    The models take turns on each frame (after ``warmup`` untimed frames each), so that a
    machine's varying load weighs on all of them alike and their ratios hold.
    """
    timed = []
    for detector in detectors:
        timed.append(_Timed(detector.backend))
        detector.backend = timed[-1]
        for _, frame in (list(frames) * (1 + warmup // max(len(frames), 1)))[:warmup]:
            detector(frame, score_thr=0.0)
        timed[-1].seconds.clear()
    totals: List[List[float]] = [[] for _ in detectors]
    for _, frame in frames:
        for detector, total in zip(detectors, totals):
            start = time.perf_counter()
            detector(frame, score_thr=0.0)
            total.append(time.perf_counter() - start)
    latencies = []
    for detector, t, total in zip(detectors, timed, totals):
        detector.backend = t.fn
        ms = dict(infer=1000 * np.asarray(t.seconds), total=1000 * np.asarray(total))
        latency = {f'{name}_p{q}': round(float(np.percentile(v, q)), 3)
                   for name, v in ms.items() for q in (50, 90)}
        latency['frames'] = len(total)
        latencies.append(latency)
    return latencies


# ---------------------------------------------------------------------------- metrics
def evaluate(results: List[dict], ann_file: str, layout) -> Dict[str, float]:
    """Box and keypoint AP of ``results``: ``CocoKptMetric`` where mmdet is installed,
    else :func:`evaluate_runtime_only` (the same COCOeval runs)."""
    if importlib.util.find_spec('mmdet') is None:
        return evaluate_runtime_only(results, ann_file, layout)
    from mmengine.logging import MMLogger

    from yolox_kpt.evaluation import CocoKptMetric
    # the metric logs its tables to the current logger: this one keeps them quiet
    if not MMLogger.check_instance_created('eval_exported'):
        MMLogger.get_instance('eval_exported', log_level='WARNING')
    metric = CocoKptMetric(ann_file=ann_file)
    metric.dataset_meta = dict(classes=layout.classes, keypoint_layout=layout.to_config())
    return {k: float(v) for k, v in metric.compute_metrics(results).items()}


def evaluate_runtime_only(results: List[dict], ann_file: str, layout) -> Dict[str, float]:
    """``CocoKptMetric``'s box and keypoint AP without mmdet/mmengine: box AP over all
    classes and per class, keypoint AP (OKS) per class with keypoints on its own slots and
    sigmas, and their mean (``kpt_AP`` ...). Needs pycocotools (or faster-coco-eval)."""
    from yolox_kpt.evaluation.functional import (BOX_SUMMARY, KPT_SUMMARY, box_results,
                                                 keypoint_results, load_coco,
                                                 resolve_backend, run_cocoeval, summarize)
    backend = resolve_backend('auto')
    coco = load_coco(ann_file, backend)
    name2id = {c['name']: c['id'] for c in coco.dataset['categories']}
    missing = [c for c in layout.classes if c not in name2id]
    if missing:
        raise KeyError(f'{ann_file}: classes {missing} of the model are not categories')
    cat_ids = [name2id[c] for c in layout.classes]
    img_ids = sorted({int(r['img_id']) for r in results})
    cat = lambda key: np.concatenate([np.asarray(r[key], np.float64) for r in results])  # noqa
    labels = np.concatenate([np.asarray(r['labels'], np.int64).reshape(-1) for r in results])
    ids = np.concatenate([np.full(len(r['scores']), int(r['img_id'])) for r in results])
    scores, boxes = cat('scores'), cat('bboxes').reshape(-1, 4)
    kpts, kpt_scores = cat('keypoints'), cat('keypoint_scores')
    metrics: Dict[str, float] = {}
    box = run_cocoeval(coco, box_results(ids, np.asarray(cat_ids)[labels], scores, boxes),
                       'bbox', cat_ids, img_ids, backend, max_dets=(100, 300, 1000))
    for key in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'):
        metrics[f'bbox_{key}'] = summarize(box, BOX_SUMMARY)[key]
    for name, cid in zip(layout.classes, cat_ids):
        metrics[f'bbox_AP_{name}'] = summarize(box, BOX_SUMMARY,
                                               sorted(cat_ids).index(cid))['mAP']
    per_class = []
    for label, (name, cid) in enumerate(zip(layout.classes, cat_ids)):
        slots = list(layout.class_slots[label])
        if not slots or not coco.getAnnIds(imgIds=img_ids, catIds=[cid]):
            continue
        rows = np.where(labels == label)[0]
        dets = keypoint_results(ids[rows], cid, scores[rows], np.concatenate(
            [kpts[rows][:, slots], kpt_scores[rows][:, slots, None]], -1))
        s = summarize(run_cocoeval(coco, dets, 'keypoints', [cid], img_ids, backend,
                                   layout.sigmas[slots])) if dets else {
                                       k: 0.0 for k, *_ in KPT_SUMMARY}
        per_class.append(s)
        metrics[f'kpt_AP_{name}'] = s['AP']
    for key, *_ in KPT_SUMMARY:
        vals = [s[key] for s in per_class if s[key] > -1]
        if per_class:
            metrics[f'kpt_{key}'] = float(np.mean(vals)) if vals else -1.0
    return metrics


def parity(reference: List[dict], results: List[dict], score_thr: float = 0.3) -> dict:
    """How closely ``results`` follow ``reference`` (same images, same order).

    Detections above ``score_thr`` are matched greedily (reference in score order) to one of
    the same class at box IoU >= 0.5.

    Returns:
        dict: ``ref_dets``, ``matched`` (fraction of the reference's), ``extra`` (unmatched
        detections of ``results``), ``box_max_px`` / ``kpt_max_px`` (largest coordinate
        difference of matched pairs), ``box_mean_px``, ``score_max_diff``.
    """
    from yolox_kpt.evaluation.functional import box_iou_xyxy
    n_ref = n_match = n_extra = 0
    box_d, kpt_d, score_d = [], [], []
    for ref, out in zip(reference, results):
        if ref['img_id'] != out['img_id']:
            raise ValueError('parity: the two runs saw different images')
        r, o = ref['scores'] > score_thr, out['scores'] > score_thr
        iou = box_iou_xyxy(np.asarray(ref['bboxes'][r], np.float64),
                           np.asarray(out['bboxes'][o], np.float64), np.zeros(o.sum(), bool))
        iou[ref['labels'][r][:, None] != out['labels'][o][None, :]] = 0
        taken = np.zeros(iou.shape[1], bool)
        for i in np.argsort(-ref['scores'][r]):
            cand = np.where(~taken & (iou[i] >= 0.5))[0]
            if not len(cand):
                continue
            j = cand[iou[i, cand].argmax()]
            taken[j] = True
            box_d.append(np.abs(ref['bboxes'][r][i] - out['bboxes'][o][j]))
            kpt_d.append(np.abs(ref['keypoints'][r][i] - out['keypoints'][o][j]).reshape(-1))
            score_d.append(abs(ref['scores'][r][i] - out['scores'][o][j]))
        n_ref += int(r.sum())
        n_match += int(taken.sum())
        n_extra += int((~taken).sum())
    box_all = np.concatenate(box_d) if box_d else np.zeros(0)
    kpt_all = np.concatenate(kpt_d) if kpt_d else np.zeros(0)
    top = lambda x: round(float(x.max()), 3) if len(x) else 0.0  # noqa: E731
    return dict(ref_dets=n_ref, matched=round(n_match / max(n_ref, 1), 4), extra=n_extra,
                box_max_px=top(box_all),
                box_mean_px=round(float(box_all.mean()), 3) if len(box_all) else 0.0,
                kpt_max_px=top(kpt_all), score_max_diff=top(np.asarray(score_d)))


def quantization_info(model: str):
    """What ``tools/misc/quantize_int8.py`` stored in an int8 ONNX file (its settings and
    command), else None."""
    if not model.endswith('.onnx') or importlib.util.find_spec('onnx') is None:
        return None
    import onnx
    props = {p.key: p.value for p in onnx.load(model, load_external_data=False).metadata_props}
    return json.loads(props[QUANTIZATION_KEY]) if QUANTIZATION_KEY in props else None


# ---------------------------------------------------------------------------- report
def compare(models: Sequence[str], names: Sequence[str], images: Sequence[dict],
            ann_file: str, device: Union[str, Sequence[str]] = 'cpu', warmup: int = 10,
            parity_thr: float = 0.3, show: bool = True) -> dict:
    """Run, score and compare ``models`` (the first is the parity reference) on ``device``
    (one for all, or one per model).

    Returns:
        dict: ``models``: per name ``file``, ``metrics`` (headline and per class),
        ``latency_ms``, ``latency_ratio`` (infer p50 over the first model's) and, after the
        first, ``parity``; ``classes``, ``images``, ``ann_file``, ``warmup`` and
        ``parity_thr``.
    """
    frames = read_frames(images)
    devices = [device] * len(models) if isinstance(device, str) else list(device)
    runs = [run_model(model, frames, dev, show) for model, dev in zip(models, devices)]
    latencies = time_models([detector for _, detector in runs], frames, warmup)
    out = {}
    reference, layout = runs[0][0], runs[0][1].layout
    for model, name, dev, (results, _), latency in zip(models, names, devices, runs,
                                                       latencies):
        metrics = evaluate(results, ann_file, layout)
        keep = [k for k in HEADLINE if k in metrics] + [
            k for k in metrics if k.startswith(('bbox_AP_', 'kpt_AP_'))
            and k[len('bbox_AP_' if k.startswith('bbox') else 'kpt_AP_'):] in
            layout.classes]
        entry = dict(file=model, device=dev,
                     metrics={k: round(metrics[k], 4) for k in keep}, latency_ms=latency,
                     latency_ratio=round(latency['infer_p50'] / latencies[0]['infer_p50'], 3))
        if name != names[0]:
            entry['parity'] = parity(reference, results, parity_thr)
        made = quantization_info(model)
        if made is not None:
            entry['quantization'] = made
        out[name] = entry
    return dict(models=out, classes=list(layout.classes), images=len(images),
                ann_file=ann_file, warmup=warmup, parity_thr=parity_thr)


def print_table(report: dict) -> None:
    """The side-by-side table: headline metrics, per-class AP, latency, parity."""
    names = list(report['models'])
    rows = sorted({k for m in report['models'].values() for k in m['metrics']},
                  key=lambda k: (k not in HEADLINE, HEADLINE.index(k) if k in HEADLINE
                                 else 0, k))
    width = max(12, *(len(n) for n in names))
    print(f'{"":<24}' + ''.join(f'{n:>{width + 2}}' for n in names))
    for key in rows:
        print(f'{key:<24}' + ''.join(
            f'{report["models"][n]["metrics"].get(key, float("nan")):>{width + 2}.4f}'
            for n in names))
    for key in ('infer_p50', 'infer_p90', 'total_p50'):
        print(f'{key + " ms":<24}' + ''.join(
            f'{report["models"][n]["latency_ms"][key]:>{width + 2}.2f}' for n in names))
    print(f'{"latency ratio":<24}' + ''.join(
        f'{report["models"][n]["latency_ratio"]:>{width + 2}.3f}' for n in names))
    for key in ('matched', 'box_max_px', 'kpt_max_px'):
        print(f'{"parity " + key:<24}' + ''.join(
            f'{report["models"][n].get("parity", {}).get(key, float("nan")):>{width + 2}}'
            for n in names))


def main(argv=None):
    args = parse_args(argv)
    for model in args.models:
        if not osp.isfile(model):
            sys.exit(f'eval_exported.py: {model}: no such model file')
    if not osp.isfile(args.ann_file):
        sys.exit(f'eval_exported.py: {args.ann_file}: no such annotation file')
    models = list(args.models)
    if args.fp16:
        half = osp.splitext(models[0])[0] + '_fp16.onnx'
        models.insert(1, to_fp16(models[0], half))
        print(f'fp16 model written to {osp.abspath(half)}')
    names = args.names or [osp.splitext(osp.basename(m))[0] for m in models]
    if args.fp16 and not args.names:
        names[1] = 'fp16'
    if len(names) != len(models) or len(set(names)) != len(names):
        sys.exit(f'eval_exported.py: --names needs {len(models)} distinct names, got {names}')
    try:
        images = load_images(args.ann_file, args.img_dir, args.max_images)
    except FileNotFoundError as e:
        sys.exit(f'eval_exported.py: {e}')
    report = compare(models, names, images, args.ann_file, args.device, args.warmup,
                     args.parity_thr)
    write_report(report, args.out, args.record)
    return report


def write_report(report: dict, out: str, record=None) -> None:
    """Print the table, write ``report`` as JSON to ``out`` and, when given, as a
    measurement record (``yolox_kpt.utils.records``) to ``record``."""
    print_table(report)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(report, f, indent=1)
    print(f'results written to {osp.abspath(out)}')
    if record:
        from yolox_kpt.utils.records import write_record
        print(f'record written to {write_record(record, report)}')


if __name__ == '__main__':
    main()
