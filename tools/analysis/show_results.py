"""Read a results.pkl (tools/test.py --out): a summary per class, and pictures with ground
truth and predictions side by side (left: labels, right: the model's output).

Examples:
    python tools/test.py CONFIG CKPT --out work_dirs/run/results.pkl
    python tools/analysis/show_results.py CONFIG work_dirs/run/results.pkl --num 20
    python tools/analysis/show_results.py CONFIG results.pkl --summary-only --score-thr 0.5
"""
import json
import os
import os.path as osp
from collections import Counter

import cv2
from tqdm import tqdm

from yolox_kpt.utils.cli import add_cfg_options, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the config the results were made with')
    parser.add_argument('results', help='results.pkl from tools/test.py --out')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--num', type=int, default=20, help='pictures to draw (0: none)')
    parser.add_argument('--img-ids', type=int, nargs='+', help='draw these images only')
    parser.add_argument('--summary-only', action='store_true')
    parser.add_argument('--out-dir', default='work_dirs/show_results')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def summarise(results, gts, classes, score_thr):
    """Per class: labelled objects, detections >= score_thr, their mean score."""
    from yolox_kpt.apis import prediction_instances
    labelled, detected, score_sum = Counter(), Counter(), Counter()
    for r in results:
        pred = prediction_instances(r, score_thr)
        for lb, s in zip(pred.labels.tolist(), pred.scores.tolist()):
            detected[lb] += 1
            score_sum[lb] += s
        labelled.update(gts[int(r['img_id'])][1].labels.tolist())
    return {c: dict(labelled=labelled[i], detections=detected[i],
                    mean_score=score_sum[i] / detected[i] if detected[i] else 0.0)
            for i, c in enumerate(classes)}


def main(argv=None):
    args = parse_args(argv)
    from mmdet.structures import DetDataSample

    from yolox_kpt.apis import prediction_instances, results_and_ground_truth
    from yolox_kpt.keypoint_layout import KeypointLayout
    from yolox_kpt.visualization import frame_visualizer

    cfg, results, gts = results_and_ground_truth(args.config, args.results, args.split,
                                                 args.cfg_options)
    layout = KeypointLayout.from_config(cfg.keypoint_layout)
    summary = summarise(results, gts, layout.classes, args.score_thr)
    print(f'{len(results)} images, score >= {args.score_thr}')
    print(f"{'class':<16}{'labelled':>9}{'detected':>9}{'mean score':>11}")
    for c, row in summary.items():
        print(f"{c:<16}{row['labelled']:>9}{row['detections']:>9}{row['mean_score']:>11.3f}")
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'summary.json'), 'w') as f:
        json.dump(dict(results=args.results, score_thr=args.score_thr, classes=summary), f,
                  indent=1)
    if args.summary_only or args.num == 0:
        print(f'summary written to {osp.abspath(osp.join(args.out_dir, "summary.json"))}')
        return
    chosen = [r for r in results if not args.img_ids or int(r['img_id']) in args.img_ids]
    vis = frame_visualizer(layout)
    for r in tqdm(chosen[:args.num], desc='pictures'):
        img_path, gt = gts[int(r['img_id'])]
        sample = DetDataSample(gt_instances=gt, pred_instances=prediction_instances(r))
        image = cv2.imread(img_path)
        if image is None:
            raise SystemExit(f'{img_path}: not a readable image (image id {r["img_id"]})')
        vis.add_datasample('pair', image[..., ::-1], sample, show=False,
                           pred_score_thr=args.score_thr,
                           out_file=osp.join(args.out_dir, f'{int(r["img_id"]):06d}.jpg'))
    print(f'summary and {min(len(chosen), args.num)} pictures (ground truth | prediction) '
          f'written to {osp.abspath(args.out_dir)}')


if __name__ == '__main__':
    main()
