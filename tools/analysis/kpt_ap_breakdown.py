"""Where the keypoint AP goes: per class, the AP with one kind of error corrected at a time.

Scores a results.pkl as predicted and then with, one at a time: unmatched detections
dropped, left/right swaps undone, occluded (v=1) points set to the truth, visible (v=2)
points set to the truth, all labelled points set to the truth (the ceiling the boxes and
scores allow). The gain of each row is what that kind of error costs; the table is printed
and saved as JSON.

Examples:
    python tools/test.py CONFIG CKPT --out work_dirs/run/results.pkl
    python tools/analysis/kpt_ap_breakdown.py CONFIG work_dirs/run/results.pkl
    python tools/analysis/kpt_ap_breakdown.py CONFIG work_dirs/run/results.pkl \\
        --out work_dirs/run/kpt_ap_breakdown.json --iou-thr 0.5
"""
import os.path as osp

from yolox_kpt.utils.cli import add_cfg_options, tool_parser
from yolox_kpt.utils.records import write_record


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('config', help='the config the predictions were made with')
    parser.add_argument('results', help='results.pkl from tools/test.py --out')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='box IoU at which a detection counts as an object\'s (0.5)')
    parser.add_argument('--out', help='JSON (default: work_dirs/<config name>/'
                        'kpt_ap_breakdown_<results name>.json)')
    add_cfg_options(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    from yolox_kpt.apis.results import results_and_ground_truth
    from yolox_kpt.evaluation.functional.keypoint_ap_breakdown import (CORRECTIONS,
                                                                      corrected_results)
    from yolox_kpt.evaluation.offline import evaluate_results
    from yolox_kpt.keypoint_layout import KeypointLayout

    cfg, results, gts = results_and_ground_truth(args.config, args.results, args.split,
                                                 args.cfg_options)
    layout = KeypointLayout.from_config(cfg.keypoint_layout)
    classes = [c for c, slots in zip(layout.classes, layout.class_slots) if slots]
    table = {}
    for row in ('as_predicted', ) + CORRECTIONS:
        rows = results if row == 'as_predicted' else corrected_results(
            results, gts, layout, row, args.iou_thr)
        metrics = evaluate_results(cfg, rows, args.split)
        # a class with no labelled object in the split has no keypoint AP
        classes = [c for c in classes if f'coco/kpt_AP_{c}' in metrics]
        table[row] = {c: float(metrics[f'coco/kpt_AP_{c}']) for c in classes}
        print(f'{row:<14}' + ''.join(
            f'  {c} {table[row][c]:.3f} ({table[row][c] - table["as_predicted"][c]:+.3f})'
            for c in classes), flush=True)
    out = args.out or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0],
        f'kpt_ap_breakdown_{osp.splitext(osp.basename(args.results))[0]}.json')
    write_record(out, dict(keypoint_AP=table, iou_thr=args.iou_thr))
    print(f'keypoint AP per correction written to {out}')


if __name__ == '__main__':
    main()
