"""`make demo`: the whole path in one command, on built-in synthetic driving data.

generate data -> train (``tools/train.py``) -> test (``tools/test.py --out results.pkl``)
-> export to ONNX (``tools/deploy.py``) -> evaluate the ONNX file through the mmdet-free
runtime (``tools/analysis/eval_exported.py``) -> a per-class table with PyTorch's and
ONNX Runtime's AP side by side, pictures drawn by the project's visualizer, and whether the
run reached the demo's floor (with ``--check-floor``, exit status 3 if not). Every step is a
command you can run yourself: each is printed before it runs. The metrics go to a JSON
record (``<work-dir>/demo.json``: command, date, machine, minutes per step).

Example:
    python tools/demo_synthetic.py                       # everything under work_dirs/demo
    python tools/demo_synthetic.py --check-floor             # exit status 3 below the floor
    python tools/demo_synthetic.py --epochs 4 --work-dir work_dirs/demo_short
"""
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
import time

from yolox_kpt.utils.cli import tool_parser
from yolox_kpt.utils.records import write_record

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/yolox-kpt/yolox-kpt_nano-conv_1xb16-bf16-10e_synthetic-driving-2400-cpu.py'
DEPLOY_CONFIG = 'deploy_configs/keypoint-detection_onnxruntime_dynamic.py'
#: What the demo aims at (issue 16): box mAP over all classes and the keypoint AP of every
#: class that has keypoints. The recipe lands close to it (docs/records/demo.json).
FLOOR = dict(bbox_mAP=0.75, kpt_AP=0.5)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo', help='where everything goes')
    parser.add_argument('--data-root', default='data/synthetic_driving_2400',
                        help='synthetic data folder (generated if missing)')
    parser.add_argument('--num-train', type=int, default=2400,
                        help='training images to generate (if the data is missing)')
    parser.add_argument('--num-val', type=int, default=100,
                        help='validation images to generate (if the data is missing)')
    parser.add_argument('--epochs', type=int, default=None,
                        help="override the recipe's epochs (its cosine follows)")
    parser.add_argument('--num-pictures', type=int, default=4)
    parser.add_argument('--check-floor', action='store_true',
                        help='exit with status 3 when the floor is missed (it is always '
                        'reported)')
    parser.add_argument('--record', default=None,
                        help='where to write the metrics record (default: <work-dir>/demo.json;'
                        ' docs/records/demo.json is the one the docs show)')
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 2:
        parser.error('--epochs must be at least 2 (the cosine schedule starts after epoch 1)')
    return args


class Steps:
    """Runs the demo's commands in the repository, printing each, timing each."""

    def __init__(self) -> None:
        self.minutes = {}

    def run(self, name: str, cmd) -> None:
        print(f'\n[{name}] + ' + ' '.join(cmd), flush=True)
        start = time.time()
        subprocess.run(cmd, check=True, cwd=REPO)
        self.minutes[name] = round((time.time() - start) / 60, 2)


def main(argv=None):
    args = parse_args(argv)
    os.chdir(REPO)  # paths below and in the config are relative to the repository
    start = time.time()
    steps = Steps()
    py = sys.executable
    data_root = args.data_root.rstrip('/') + '/'
    train_json = osp.join(data_root, 'annotations', 'train.json')
    if osp.exists(train_json):  # kept as it is (nothing is overwritten), but said
        with open(train_json) as f:
            have = len(json.load(f)['images'])
        if have != args.num_train:
            print(f'note: {data_root} has {have} training images, not --num-train '
                  f'{args.num_train}: training on them as they are (another --data-root '
                  'generates a new set)', flush=True)
    if not osp.exists(osp.join(data_root, 'annotations', 'val.json')):
        steps.run('generate', [py, 'tools/misc/generate_synthetic_driving.py', '--out-dir',
                               data_root, '--num-train', str(args.num_train), '--num-val',
                               str(args.num_val)])
    options = [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'val_evaluator.ann_file={data_root}annotations/val.json',
        f'test_evaluator.ann_file={data_root}annotations/val.json',
    ]
    if args.epochs:  # the recipe's cosine ends with its max_epochs: it must follow
        options += [f'train_cfg.max_epochs={args.epochs}',
                    f'param_scheduler.1.T_max={args.epochs - 1}',
                    f'param_scheduler.1.end={args.epochs}']
    # tools/test.py evaluates right after training, so the loop's own validation would
    # only repeat it.
    steps.run('train', [py, 'tools/train.py', CONFIG, '--work-dir', args.work_dir,
                        '--cfg-options', *options, 'val_cfg=None', 'val_dataloader=None',
                        'val_evaluator=None'])
    checkpoint = open(osp.join(args.work_dir, 'last_checkpoint')).read().strip()
    results_pkl = osp.join(args.work_dir, 'results.pkl')
    steps.run('test', [py, 'tools/test.py', CONFIG, checkpoint, '--work-dir', args.work_dir,
                       '--out', results_pkl, '--cfg-options', *options])
    onnx_dir = osp.join(args.work_dir, 'onnx')
    val_images = osp.join(data_root, 'images', 'val')
    trace_img = osp.join(val_images, sorted(os.listdir(val_images))[0])
    steps.run('export', [py, 'tools/deploy.py', DEPLOY_CONFIG, CONFIG, checkpoint, trace_img,
                         '--work-dir', onnx_dir, '--onnx-only'])
    exported_json = osp.join(onnx_dir, 'eval_exported.json')
    steps.run('verify', [py, 'tools/analysis/eval_exported.py',
                         osp.join(onnx_dir, 'end2end.onnx'), '--names', 'onnxruntime',
                         '--ann-file', f'{data_root}annotations/val.json', '--img-dir',
                         val_images, '--warmup', '2', '--out', exported_json])
    return report(args, options, results_pkl, exported_json, steps, time.time() - start)


def floor_misses(metrics: dict, classes_with_keypoints) -> list:
    """Which of :data:`FLOOR` ``metrics`` (``CocoKptMetric``'s names) miss, as text."""
    misses = []
    if metrics.get('bbox_mAP', 0.0) < FLOOR['bbox_mAP']:
        misses.append(f"box mAP {metrics.get('bbox_mAP', 0.0):.3f} < {FLOOR['bbox_mAP']}")
    for cls in classes_with_keypoints:
        value = metrics.get(f'kpt_AP_{cls}', 0.0)
        if value < FLOOR['kpt_AP']:
            misses.append(f"{cls} keypoint AP {value:.3f} < {FLOOR['kpt_AP']}")
    return misses


def draw_pictures(results, layout, pic_dir: str, num: int) -> None:
    """The first ``num`` results drawn by the project's visualizer (score >= 0.3)."""
    import cv2

    from yolox_kpt.visualization.local_visualizer import draw_frame, frame_visualizer
    os.makedirs(pic_dir, exist_ok=True)
    vis = frame_visualizer(layout)
    for r in results[:num]:
        pred = r['pred_instances']
        keep = pred['scores'] >= 0.3
        instances = {k: v[keep] for k, v in pred.items()}
        drawn = draw_frame(vis, cv2.imread(r['img_path']), instances)
        cv2.imwrite(osp.join(pic_dir, osp.basename(r['img_path'])), drawn)


def report(args, options, results_pkl, exported_json, steps, seconds) -> int:
    from mmengine.config import Config

    from yolox_kpt.evaluation.offline import evaluate_results
    from yolox_kpt.keypoint_layout import KeypointLayout

    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options))
    layout = KeypointLayout.from_config(cfg.keypoint_layout)
    with open(results_pkl, 'rb') as f:
        results = pickle.load(f)
    # the same numbers as `tools/analysis/eval_results.py CONFIG results.pkl`
    metrics = {k.split('/')[-1]: float(v) for k, v in evaluate_results(cfg, results).items()}
    with open(exported_json) as f:
        exported = json.load(f)['models']['onnxruntime']['metrics']
    pic_dir = osp.join(args.work_dir, 'pictures')
    draw_pictures(results, layout, pic_dir, args.num_pictures)

    with_kpts = [c for c, slots in zip(layout.classes, layout.class_slots) if len(slots)]
    print('\n==== yolox-kpt demo: synthetic driving, validation split ====')
    print(f"{'':<16}{'box AP':>9}{'box AP':>9}{'kpt AP':>9}{'kpt AP':>9}")
    print(f"{'class':<16}{'PyTorch':>9}{'ONNX':>9}{'PyTorch':>9}{'ONNX':>9}")
    rows = [('all', 'bbox_mAP', 'kpt_AP')] + [
        (c, f'bbox_AP_{c}', f'kpt_AP_{c}') for c in layout.classes]
    for name, box_key, kpt_key in rows:
        kpt = (f"{metrics.get(kpt_key, 0.0):>9.3f}{exported.get(kpt_key, 0.0):>9.3f}"
               if name == 'all' or name in with_kpts else f"{'-':>9}{'-':>9}")
        print(f'{name:<16}{metrics.get(box_key, 0.0):>9.3f}{exported.get(box_key, 0.0):>9.3f}'
              + kpt)
    misses = floor_misses(metrics, with_kpts)
    floor = (f"box mAP >= {FLOOR['bbox_mAP']}, every class's keypoint AP >= {FLOOR['kpt_AP']}")
    print(f'expected floor ({floor}): ' + ('reached' if not misses else
                                           'MISSED: ' + '; '.join(misses)))
    record = write_record(args.record or osp.join(args.work_dir, 'demo.json'), dict(
        config=CONFIG, cfg_options=options, epochs=args.epochs, minutes=seconds / 60,
        step_minutes=steps.minutes, floor=FLOOR, floor_reached=not misses,
        metrics=metrics, onnx_metrics=exported))
    print(f'results.pkl (mmdet format, with keypoints): {osp.join(REPO, results_pkl)}')
    print(f"ONNX model and its evaluation:              {osp.join(REPO, osp.dirname(exported_json))}")
    print(f'pictures:                                   {osp.join(REPO, pic_dir)}')
    print(f'metrics record:                             {osp.join(REPO, record)}')
    print(f'total time: {seconds / 60:.1f} min ('
          + ', '.join(f'{k} {v:.1f}' for k, v in steps.minutes.items()) + ')')
    return 3 if misses and args.check_floor else 0


if __name__ == '__main__':
    sys.exit(main())
