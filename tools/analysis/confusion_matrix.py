"""Confusion matrix of a results.pkl against its ground truth, as PNG and JSON.

Rows are labelled classes plus "background" (false positives), columns predicted classes
plus "background" (missed objects). Per image, detections with score >= --score-thr are
taken from the most confident down; each is matched to the unmatched labelled object it
overlaps most (IoU >= --iou-thr, any class), which counts the pair (label, prediction); a
detection without such an object counts as (background, prediction); labelled objects
left unmatched count as (label, background). Crowd regions are left out.

Examples:
    python tools/analysis/confusion_matrix.py CONFIG work_dirs/run/results.pkl
    python tools/analysis/confusion_matrix.py CONFIG results.pkl --score-thr 0.5 \\
        --out-dir work_dirs/confusion
"""
import json
import os
import os.path as osp

import numpy as np

from yolox_kpt.utils.cli import add_cfg_options, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('results', help='results.pkl from tools/test.py --out')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--iou-thr', type=float, default=0.5)
    parser.add_argument('--out-dir', default='work_dirs/confusion_matrix')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def confusion_matrix(results, gts, num_classes, score_thr, iou_thr) -> np.ndarray:
    """(C + 1, C + 1) counts, rows labelled class, columns predicted class; index C is
    background."""
    from mmdet.structures.bbox import bbox_overlaps

    from yolox_kpt.apis import prediction_instances
    matrix = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    for r in results:
        gt = gts[int(r['img_id'])][1]
        pred = prediction_instances(r, score_thr)
        order = pred.scores.argsort(descending=True)
        ious = bbox_overlaps(pred.bboxes[order], gt.bboxes).numpy() if len(gt) and len(
            pred) else np.zeros((len(pred), len(gt)))
        taken = np.zeros(len(gt), bool)
        for row, p_label in zip(ious, pred.labels[order].tolist()):
            row = np.where(taken, -1.0, row)
            j = int(row.argmax()) if len(row) else -1
            if j >= 0 and row[j] >= iou_thr:
                taken[j] = True
                matrix[int(gt.labels[j]), p_label] += 1
            else:
                matrix[num_classes, p_label] += 1
        for j in np.flatnonzero(~taken):
            matrix[int(gt.labels[j]), num_classes] += 1
    return matrix


def plot(matrix, names, path, title):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 1.1 * len(names) + 1.5))
    ax.imshow(rows, cmap='Blues', vmin=0, vmax=1)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f'{matrix[i, j]}\n{100 * rows[i, j]:.0f}%', ha='center',
                    va='center', fontsize=8, color='white' if rows[i, j] > 0.5 else 'black')
    ax.set_xticks(range(len(names)), names, rotation=45, ha='right')
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel='predicted', ylabel='labelled', title=title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None):
    args = parse_args(argv)

    from yolox_kpt.apis import results_and_ground_truth
    from yolox_kpt.keypoint_layout import KeypointLayout

    cfg, results, gts = results_and_ground_truth(args.config, args.results, args.split,
                                                 args.cfg_options)
    classes = list(KeypointLayout.from_config(cfg.keypoint_layout).classes)
    matrix = confusion_matrix(results, gts, len(classes), args.score_thr, args.iou_thr)
    names = classes + ['background']
    print(f"{'labelled / predicted':<22}" + ''.join(f'{n[:12]:>13}' for n in names))
    for name, row in zip(names, matrix):
        print(f'{name:<22}' + ''.join(f'{v:>13}' for v in row))
    os.makedirs(args.out_dir, exist_ok=True)
    png = osp.join(args.out_dir, 'confusion_matrix.png')
    plot(matrix, names, png, f'score >= {args.score_thr}, IoU >= {args.iou_thr}')
    with open(osp.join(args.out_dir, 'confusion_matrix.json'), 'w') as f:
        json.dump(dict(classes=names, rows='labelled', columns='predicted',
                       score_thr=args.score_thr, iou_thr=args.iou_thr,
                       matrix=matrix.tolist()), f, indent=1)
    print(f'confusion matrix written to {osp.abspath(png)} and confusion_matrix.json')


if __name__ == '__main__':
    main()
