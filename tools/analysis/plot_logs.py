"""Plot training logs to PNG: losses per iteration and validation metrics per epoch.

Reads the ``vis_data/scalars.json`` that every run writes under its work dir (one or more
runs, each its own line in the plots). Losses are the keys starting with ``loss`` (or
--keys); metrics the validation keys (``coco/bbox_mAP``, ``coco/kpt_AP`` or --metrics).

Examples:
    python tools/analysis/plot_logs.py work_dirs/demo/20261121_064635/vis_data/scalars.json
    python tools/analysis/plot_logs.py run_a/vis_data/scalars.json run_b/vis_data/scalars.json \\
        --keys loss loss_kpt_oks --metrics coco/kpt_AP_vehicle --out work_dirs/plots/ab.png
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('logs', nargs='+', help='scalars.json files (vis_data/ of a run)')
    parser.add_argument('--keys', nargs='+', help='training keys (default: every loss*)')
    parser.add_argument('--metrics', nargs='+', default=['coco/bbox_mAP', 'coco/kpt_AP'],
                        help='validation keys, plotted per epoch')
    parser.add_argument('--labels', nargs='+', help='legend name per log (default: folder)')
    parser.add_argument('--out', default='work_dirs/plots/training.png')
    return parser.parse_args(argv)


def read_scalars(path: str) -> Tuple[List[dict], List[dict]]:
    """Training records (with ``loss``) and validation records (with ``coco/...``)."""
    if not osp.isfile(path):
        raise SystemExit(f'{path}: not found (a run writes <work_dir>/<time>/vis_data/'
                         'scalars.json)')
    train, val = [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise SystemExit(f'{path}:{n}: not a JSON line ({err})') from None
            (train if 'loss' in rec else val).append(rec)
    return train, val


def main(argv=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    args = parse_args(argv)
    runs: Dict[str, Tuple[List[dict], List[dict]]] = {}
    for i, path in enumerate(args.logs):
        label = args.labels[i] if args.labels and i < len(args.labels) else \
            osp.basename(osp.dirname(osp.dirname(osp.abspath(path))))
        runs[label] = read_scalars(path)
    keys = args.keys or sorted({k for train, _ in runs.values() for r in train for k in r
                                if k.startswith('loss')})
    if not keys:
        raise SystemExit('no loss keys in the logs: pass --keys')
    has_val = any(k in r for _, val in runs.values() for r in val for k in args.metrics)
    # no validation in the logs (e.g. val only after training): the losses alone
    fig, axes = plt.subplots(1, 2 if has_val else 1, figsize=(12 if has_val else 7, 4.5),
                             squeeze=False)
    axes = list(axes[0]) + [None] * (1 - has_val)
    for label, (train, val) in runs.items():
        for key in keys:
            pts = [(r['step'], r[key]) for r in train if key in r]
            if pts:
                axes[0].plot(*zip(*pts), label=f'{label}: {key}' if len(runs) > 1 else key)
        for key in args.metrics if has_val else ():
            pts = [(r['step'], r[key]) for r in val if key in r]
            if pts:
                axes[1].plot(*zip(*pts), marker='o',
                             label=f'{label}: {key}' if len(runs) > 1 else key)
    axes[0].set(xlabel='iteration', ylabel='loss', title='training losses')
    if has_val:
        axes[1].set(xlabel='epoch', ylabel='metric', title='validation', ylim=(0, 1))
    for ax in axes[:1 + has_val]:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f'plot written to {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
