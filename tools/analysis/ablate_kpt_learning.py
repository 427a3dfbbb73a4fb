"""Keypoint-learning ablation: keypoint loss (L1 / OKS / both) x assignment (SimOTA /
OKS-aware SimOTA), each row trained and tested with the stock tools on one config.

Each row runs ``tools/train.py CONFIG`` and ``tools/test.py --out`` with the row's
``--cfg-options``, then scores the saved results; the table (box AP and keypoint AP per
class, training minutes) is printed and saved as JSON.

Example:
    python tools/misc/generate_synthetic_driving.py --out-dir data/synthetic_driving
    python tools/analysis/ablate_kpt_learning.py                 # 5 rows, about 40 min
    python tools/analysis/ablate_kpt_learning.py --rows l1 oks --work-dir work_dirs/abl2
"""
import os
import os.path as osp
import pickle
import subprocess
import sys
import time

from yolox_kpt.utils.cli import tool_parser
from yolox_kpt.utils.records import write_record

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = 'configs/yolox-kpt/ablations/yolox-kpt_tiny_1xb8-6e_synthetic-driving-cpu.py'
# the stock SimOTA is KptSimOTAAssigner switched off (tests prove them equal)
SIMOTA = ['model.train_cfg.assigner.oks_weight=0',
          'model.train_cfg.assigner.dynamic_k_indicator=iou']
OKS_SIMOTA = ['model.train_cfg.assigner.oks_weight=3.0',
              'model.train_cfg.assigner.dynamic_k_indicator=oks']
L1_ONLY = ['model.bbox_head.loss_kpt_oks=None']
OKS_ONLY = ['model.bbox_head.loss_kpt_l1=None']
ROWS = {
    'l1': ('L1', 'SimOTA', L1_ONLY + SIMOTA),
    'oks': ('OKS', 'SimOTA', OKS_ONLY + SIMOTA),
    'l1+oksa': ('L1', 'OKS-aware SimOTA', L1_ONLY + OKS_SIMOTA),
    'oks+oksa': ('OKS', 'OKS-aware SimOTA', OKS_ONLY + OKS_SIMOTA),
    'both+oksa': ('L1 + OKS', 'OKS-aware SimOTA', OKS_SIMOTA),
}


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    parser.add_argument('--rows', nargs='+', choices=list(ROWS), default=list(ROWS))
    parser.add_argument('--work-dir', default='work_dirs/ablation_kpt_learning')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='applied to every row (e.g. data paths)')
    return parser.parse_args()


def run(cmd):
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def run_row(args, name, options):
    from mmengine.config import Config

    from yolox_kpt.evaluation.offline import evaluate_results

    work_dir = osp.join(args.work_dir, name)
    options = options + args.cfg_options
    start = time.time()
    run([sys.executable, 'tools/train.py', args.config, '--work-dir', work_dir,
         '--cfg-options', *options, 'train_cfg.val_begin=100000'])
    minutes = (time.time() - start) / 60
    checkpoint = open(osp.join(REPO, work_dir, 'last_checkpoint')).read().strip()
    results_pkl = osp.join(work_dir, 'results.pkl')
    run([sys.executable, 'tools/test.py', args.config, checkpoint, '--work-dir', work_dir,
         '--out', results_pkl, '--cfg-options', *options])
    cfg = Config.fromfile(osp.join(REPO, args.config))
    cfg.merge_from_dict(dict(o.split('=', 1) for o in args.cfg_options))
    with open(osp.join(REPO, results_pkl), 'rb') as f:
        metrics = evaluate_results(cfg, pickle.load(f))
    metrics = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    return dict(train_minutes=minutes, metrics=metrics)


def main():
    args = parse_args()
    os.chdir(REPO)
    table = {}
    for name in args.rows:
        loss, assigner, options = ROWS[name]
        table[name] = dict(loss=loss, assigner=assigner, **run_row(args, name, options))
    keys = ['bbox_mAP', 'kpt_AP_vehicle', 'kpt_AP_cyclist'] + sorted(
        k for k in next(iter(table.values()))['metrics'] if k.startswith('bbox_AP_'))
    header = f"{'row':<10}{'kpt loss':<10}{'assignment':<18}" + ''.join(
        f'{k.replace("bbox_", "box_"):>16}' for k in keys) + f"{'train min':>10}"
    print('\n' + header)
    for name, row in table.items():
        print(f"{name:<10}{row['loss']:<10}{row['assigner']:<18}" + ''.join(
            f"{row['metrics'].get(k, float('nan')):>16.3f}" for k in keys) +
            f"{row['train_minutes']:>10.1f}")
    out = write_record(osp.join(REPO, args.work_dir, 'ablation.json'),
                       dict(config=args.config, rows=table))
    print(f'table written to {out}')


if __name__ == '__main__':
    main()
