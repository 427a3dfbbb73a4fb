"""`make demo`: generate the synthetic driving set, train YOLOX-nano with keypoints on CPU,
test with the stock test script, print box AP and keypoint AP, save a few pictures, and
write the metrics as a JSON record (``<work-dir>/demo.json``: command, date, machine).

Example:
    python tools/demo_synthetic.py                       # everything under work_dirs/demo
    python tools/demo_synthetic.py --epochs 10 --work-dir work_dirs/demo_short
"""
import os
import os.path as osp
import pickle
import subprocess
import sys
import time

from yolox_kpt.utils.cli import tool_parser
from yolox_kpt.utils.records import write_record

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt', 'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('--work-dir', default='work_dirs/demo', help='where everything goes')
    parser.add_argument('--data-root', default='data/synthetic_driving',
                        help='synthetic data folder (generated if missing)')
    parser.add_argument('--num-train', type=int, default=800,
                        help='training images to generate (if the data is missing)')
    parser.add_argument('--num-val', type=int, default=100,
                        help='validation images to generate (if the data is missing)')
    parser.add_argument('--epochs', type=int, default=None,
                        help='override the config\'s epochs (default: 20)')
    parser.add_argument('--num-pictures', type=int, default=4)
    parser.add_argument('--record', default=None,
                        help='where to write the metrics record (default: <work-dir>/demo.json;'
                        ' docs/records/demo.json is the one the docs show)')
    return parser.parse_args()


def run(cmd):
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main():
    args = parse_args()
    os.chdir(REPO)  # paths below and in the config are relative to the repository
    start = time.time()
    data_root = args.data_root.rstrip('/') + '/'
    if not osp.exists(osp.join(REPO, data_root, 'annotations', 'val.json')):
        run([sys.executable, 'tools/misc/generate_synthetic_driving.py', '--out-dir', data_root,
             '--num-train', str(args.num_train), '--num-val', str(args.num_val)])
    options = [
        f'train_dataloader.dataset.dataset.data_root={data_root}',
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
    run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', args.work_dir,
         '--cfg-options', *options, 'val_cfg=None', 'val_dataloader=None',
         'val_evaluator=None'])
    checkpoint = open(osp.join(REPO, args.work_dir, 'last_checkpoint')).read().strip()
    results_pkl = osp.join(args.work_dir, 'results.pkl')
    run([sys.executable, 'tools/test.py', CONFIG, checkpoint, '--work-dir', args.work_dir,
         '--out', results_pkl, '--cfg-options', *options])
    report(args, options, results_pkl, time.time() - start)


def report(args, options, results_pkl, seconds):
    import cv2
    from mmengine.config import Config

    from yolox_kpt.evaluation.offline import evaluate_results
    from yolox_kpt.keypoint_layout import KeypointLayout

    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options))
    layout = KeypointLayout.from_config(cfg.keypoint_layout)
    with open(osp.join(REPO, results_pkl), 'rb') as f:
        results = pickle.load(f)
    # the same numbers as `tools/analysis/eval_results.py CONFIG results.pkl`
    metrics = {k.split('/')[-1]: v for k, v in evaluate_results(cfg, results).items()}

    pic_dir = osp.join(REPO, args.work_dir, 'pictures')
    os.makedirs(pic_dir, exist_ok=True)
    colours = [(60, 200, 60), (60, 160, 255), (255, 120, 60), (200, 60, 220)]
    for r in results[:args.num_pictures]:
        img = cv2.imread(r['img_path'])
        pred = r['pred_instances']
        keep = pred['scores'].numpy() >= 0.3
        for box, label, kpts, kscores in zip(pred['bboxes'].numpy()[keep],
                                             pred['labels'].numpy()[keep],
                                             pred['keypoints'].numpy()[keep],
                                             pred['keypoint_scores'].numpy()[keep]):
            colour = colours[int(label) % len(colours)]
            x1, y1, x2, y2 = box.astype(int)
            cv2.rectangle(img, (x1, y1), (x2, y2), colour, 1)
            cv2.putText(img, layout.classes[label], (x1, max(y1 - 2, 8)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.3, colour, 1)
            for slot in layout.class_slots[label]:
                if kscores[slot] >= 0.3:
                    cv2.circle(img, tuple(int(v) for v in kpts[slot]), 2, (0, 0, 255), -1)
        out = osp.join(pic_dir, osp.basename(r['img_path']))
        cv2.imwrite(out, cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))

    print('\n==== yolox-kpt demo (synthetic driving, validation split) ====')
    print(f"box mAP              {metrics['bbox_mAP']:.3f}")
    print(f"keypoint AP (mean)   {metrics.get('kpt_AP', 0):.3f}")
    print(f"tyre keypoint AP     {metrics.get('kpt_AP_vehicle', 0):.3f}")
    print(f"cyclist wheel kpt AP {metrics.get('kpt_AP_cyclist', 0):.3f}")
    for cls in layout.classes:
        print(f"  box AP {cls:<13}{metrics.get('bbox_AP_' + cls, 0):.3f}")
    record = write_record(osp.join(REPO, args.record or osp.join(args.work_dir, 'demo.json')), dict(
        config=osp.relpath(CONFIG, REPO), cfg_options=options, epochs=args.epochs,
        minutes=seconds / 60, metrics={k: float(v) for k, v in metrics.items()}))
    print(f'results (with keypoints): {osp.join(REPO, results_pkl)}')
    print(f'pictures:                 {pic_dir}')
    print(f'metrics record:           {record}')
    print(f'total time:               {seconds / 60:.1f} min')


if __name__ == '__main__':
    main()
