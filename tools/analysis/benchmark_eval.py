"""Time CocoKptMetric against pycocotools on the same generated predictions.

Generates a COCO person file with ``--num-images`` images and ``--dets`` detections per image
(misses, duplicates, crowd regions, invisible keypoints), then times, as medians of
``--repeat`` runs after ``--warmup``:
  * pycocotools keypoint evaluation (loadRes + evaluate + accumulate + summarize): the reference;
  * pycocotools keypoint + box evaluation (what a box metric plus a keypoint metric costs);
  * CocoKptMetric.compute_metrics with each backend: box AP, keypoint AP, the operating-point
    counts and per-keypoint errors, all in one call.
and checks the keypoint AP is the same number. Prints a table, writes JSON.

Examples:
    python tools/analysis/benchmark_eval.py                      # 5,000 images x 100 dets
    python tools/analysis/benchmark_eval.py --num-images 500 --repeat 1 --warmup 0
"""
import contextlib
import io
import json
import os.path as osp
import tempfile

from yolox_kpt.utils.cli import median_seconds, tool_parser
from yolox_kpt.utils.records import write_record


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('--num-images', type=int, default=5000)
    parser.add_argument('--dets', type=int, default=100, help='detections per image')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='work_dirs/benchmarks/eval_speed.json')
    return parser.parse_args()


def main():
    args = parse_args()
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from yolox_kpt.evaluation import CocoKptMetric
    from yolox_kpt.evaluation.functional import resolve_backend
    from yolox_kpt.keypoint_layout import COCO_PERSON_KEYPOINTS, KeypointLayout
    from yolox_kpt.testing import make_person_case

    gt, preds = make_person_case(args.num_images, args.dets, args.seed)
    # the generated ground truth is regenerated from the seed: not kept beside the record
    tmp = tempfile.TemporaryDirectory()
    gt_path = osp.join(tmp.name, 'gt.json')
    with open(gt_path, 'w') as f:
        json.dump(gt, f)
    layout = KeypointLayout.build(('person', ), dict(person=COCO_PERSON_KEYPOINTS))
    meta = dict(classes=('person', ), keypoint_layout=layout.to_config())
    converter = CocoKptMetric(ann_file=gt_path, backend='pycocotools')
    converter.dataset_meta = meta
    dets = converter.results_to_coco(preds, layout)
    kpt_dets = [{k: v for k, v in d.items() if k != 'bbox'} for d in dets]
    box_dets = [{k: v for k, v in d.items() if k != 'keypoints'} for d in dets]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_path)

    def pycocotools_eval(which):
        def run():
            stats = []
            with contextlib.redirect_stdout(io.StringIO()):
                for iou_type, d in which:
                    ev = COCOeval(coco_gt, coco_gt.loadRes(d), iou_type)
                    ev.evaluate()
                    ev.accumulate()
                    ev.summarize()
                    stats.append(ev.stats[0])
            return stats[0]
        return run

    rows = []
    print(f'{args.num_images} images x {args.dets} detections = {len(dets)} detections, '
          f'{len(gt["annotations"])} ground-truth objects', flush=True)
    t_ref, ap_ref = median_seconds(pycocotools_eval([('keypoints', kpt_dets)]), args.repeat,
                          args.warmup)
    rows.append(('pycocotools: keypoints', t_ref, ap_ref))
    print(f'  {rows[-1][0]}: {t_ref:.2f} s', flush=True)
    t, ap = median_seconds(pycocotools_eval([('keypoints', kpt_dets), ('bbox', box_dets)]),
                  args.repeat, args.warmup)
    rows.append(('pycocotools: keypoints + boxes', t, ap))
    print(f'  {rows[-1][0]}: {t:.2f} s', flush=True)
    for backend in ('faster_coco_eval', 'pycocotools'):
        if resolve_backend('auto') != 'faster_coco_eval' and backend == 'faster_coco_eval':
            continue
        metric = CocoKptMetric(ann_file=gt_path, backend=backend)
        metric.dataset_meta = meta
        with contextlib.redirect_stderr(io.StringIO()):
            t, m = median_seconds(lambda: metric.compute_metrics(preds), args.repeat, args.warmup)
        rows.append((f'CocoKptMetric ({backend}): all metrics', t, m['kpt_AP']))
        print(f'  {rows[-1][0]}: {t:.2f} s', flush=True)

    header = f'{"what":<44}{"median s":>10}{"x pycocotools kpt":>19}{"kpt AP":>10}'
    print('\n' + header + '\n' + '-' * len(header))
    for name, t, ap in rows:
        print(f'{name:<44}{t:>10.2f}{t / t_ref:>19.2f}{ap:>10.4f}')
    same = all(abs(ap - ap_ref) < 1e-9 for _, _, ap in rows)
    print(f'keypoint AP identical to pycocotools (1e-9): {same}')
    record = dict(num_images=args.num_images, dets_per_image=args.dets, repeat=args.repeat,
                  warmup=args.warmup, num_detections=len(dets),
                  num_objects=len(gt['annotations']),
                  rows=[dict(what=n, median_s=t, ratio_to_pycocotools_kpt=t / t_ref,
                             kpt_AP=ap) for n, t, ap in rows], identical_ap=same)
    write_record(args.out, record)
    tmp.cleanup()
    print(f'wrote {args.out}')
    if not same:
        raise SystemExit('keypoint AP differs from pycocotools')


if __name__ == '__main__':
    main()
