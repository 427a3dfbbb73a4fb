"""Recompute every metric from a saved results.pkl, without the model.

Box AP, per-class keypoint AP, counts at a score threshold and per-keypoint errors, as
``CocoKptMetric`` computes them during ``tools/test.py``; written to a JSON file.

Examples:
    python tools/test.py CONFIG CKPT --out work_dirs/run/results.pkl
    python tools/analysis/eval_results.py CONFIG work_dirs/run/results.pkl
    python tools/analysis/eval_results.py CONFIG work_dirs/run/results.pkl --score-thr 0.5
    python tools/analysis/eval_results.py CONFIG work_dirs/run/results.pkl \\
        --format-only --outfile-prefix work_dirs/run/submission
"""
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.fileio import load

from yolox_kpt.utils.cli import tool_parser


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the config the predictions were made with')
    parser.add_argument('results', help='results.pkl from tools/test.py --out')
    parser.add_argument('--split', choices=['test', 'val'], default='test',
                        help="which dataloader/evaluator of the config (default: test)")
    parser.add_argument('--score-thr', type=float, help='operating point for TP/FP/FN and '
                        'keypoint errors (default: the evaluator\'s, 0.3)')
    parser.add_argument('--iou-thr', type=float, help='box IoU of a match at the operating '
                        'point (default 0.5)')
    parser.add_argument('--backend', choices=['auto', 'faster_coco_eval', 'pycocotools'],
                        help='COCO evaluation backend (same numbers; default auto)')
    parser.add_argument('--format-only', action='store_true',
                        help='only write COCO result JSON files (needs --outfile-prefix)')
    parser.add_argument('--outfile-prefix', help='write <prefix>.bbox.json and '
                        '<prefix>.keypoints.json')
    parser.add_argument('--out', help='metrics JSON (default: work_dirs/<config name>/'
                        'eval_<results name>.json)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/test.py')
    return parser.parse_args()


def main():
    args = parse_args()
    from yolox_kpt.evaluation.offline import evaluate_results

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not osp.isfile(args.results):
        raise SystemExit(f'{args.results}: no such file (make it with tools/test.py CONFIG '
                         'CKPT --out results.pkl)')
    results = load(args.results)
    options = {k: v for k, v in dict(score_thr=args.score_thr, iou_thr=args.iou_thr,
                                     backend=args.backend,
                                     outfile_prefix=args.outfile_prefix).items()
               if v is not None}
    if args.format_only:
        options['format_only'] = True
    metrics = evaluate_results(cfg, results, args.split, options)
    if args.format_only:
        print(f'wrote {args.outfile_prefix}.bbox.json and {args.outfile_prefix}.keypoints.json')
        return
    out = args.out or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0],
        f'eval_{osp.splitext(osp.basename(args.results))[0]}.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(metrics, f, indent=1)
    headline = [k for k in metrics if k.split('/')[-1] in (
        'bbox_mAP', 'kpt_AP', 'precision', 'recall', 'F1', 'kpt_err_px', 'kpt_PCK@0.1')]
    for k in headline:
        print(f'{k:<24} {metrics[k]:.4f}')
    print(f'{len(metrics)} metrics written to {out}')


if __name__ == '__main__':
    main()
