"""Does the mining rank pick better frames to label than chance? An active-learning round
on generated data, repeated over seeds, with box and keypoint AP at equal labelling budget.

Per seed: a small labelled set and an unlabelled pool are drawn from the generated train
images; the recipe is trained on the labelled set (model A); model A ranks the pool with
``tools/mining/mine_frames.py --rank --flip`` (the pool is single images, so the temporal
signal does not apply: low margin, keypoint uncertainty, geometry and flip disagreement
do); the top --k frames of that rank and --k frames drawn at random (seeded) are each added
to the labelled set, with their generated labels as a labeller's; model A is fine-tuned
with the same recipe on each (same seed, same --finetune-epochs, the learning rate times
--finetune-lr-scale) and both are scored on one fixed validation set. The table (means over the seeds, their spread, and ranked minus
random seed by seed) is printed and written as a measurement record.

Both arms start from model A (--from-scratch: both from the recipe's initialisation, for
--epochs): the arms then differ in their k frames only, as they would from scratch, and
the short budget goes mostly to model A, which must detect enough for the rank to mean
anything (from scratch, 125 iterations on 40 frames left a model that detected nothing on
the pool, and a rank of ties).

Examples:
    python tools/analysis/active_learning.py --record docs/records/active_learning.json
    python tools/analysis/active_learning.py --seeds 0 --labelled 16 --pool 48 --k 8 \\
        --val 16 --epochs 4 --finetune-epochs 2 --work-dir work_dirs/active_learning_small
    python tools/analysis/active_learning.py --from-scratch --epochs 60
    python tools/analysis/active_learning.py --data data/synthetic_driving \\
        --mine-args="--score-thr 0.4 --weights flip_disagreement=2"

Writes under --work-dir (default work_dirs/active_learning): data/ (the generated set),
seed<S>/ (labelled.json, pool.json and pool/ images, train_<arm>.json, model_a/ and
<arm>/ training runs, mining/ranked.json, the rank, and mining/ranked.jpg, its best
frames, round.json, its results: a run stopped and started again with the same options
skips the seeds it finished) and active_learning.json (the record; --record names another
file).
"""
import json
import os
import os.path as osp
import shlex
import shutil
import sys
import time
from collections import Counter

# Waiting OpenMP threads sleep instead of spinning (set before torch loads OpenMP). On cores
# shared with other jobs a spinning thread burns the time slices its partner needs: measured
# here, nice 5 beside two trainings, 10 s an iteration spinning against about 1.2 s passive.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from yolox_kpt.data_tools import active_learning as al  # noqa: E402
from yolox_kpt.data_tools.coco import load_coco, write_json  # noqa: E402
from yolox_kpt.utils.cli import add_cfg_options, tool_parser  # noqa: E402
from yolox_kpt.utils.records import write_record  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'mining'))
import mine_frames  # noqa: E402

DEFAULT_CONFIG = 'configs/yolox-kpt/yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'
#: the rows of the printed table, then each class's
HEADLINE = ('bbox_mAP', 'kpt_AP')


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='the recipe trained')
    parser.add_argument('--data', help='a synthetic set to take (annotations/train.json, '
                        'images/train/, annotations/val.json, images/val/); default: '
                        'generated into <work-dir>/data')
    parser.add_argument('--data-seed', type=int, default=0, help='generated set: its seed')
    parser.add_argument('--img-size', type=int, nargs=2, default=(320, 256),
                        metavar=('W', 'H'), help='generated set: image size')
    parser.add_argument('--labelled', type=int, default=80, help='frames labelled at first')
    parser.add_argument('--pool', type=int, default=200, help='unlabelled frames ranked')
    parser.add_argument('--k', type=int, default=40,
                        help='frames each arm adds to the labelled set')
    parser.add_argument('--val', type=int, default=100,
                        help='generated set: validation frames (a taken set: all of them)')
    parser.add_argument('--epochs', type=int, default=40, help='epochs of model A')
    parser.add_argument('--finetune-epochs', type=int, default=15,
                        help='epochs of each arm, fine-tuning model A')
    parser.add_argument('--finetune-lr-scale', type=float, default=0.1,
                        help='the recipe\'s learning rate times this when fine-tuning (its '
                        'peak rate throws a trained model\'s weights far)')
    parser.add_argument('--from-scratch', action='store_true',
                        help='train the arms from the recipe\'s initialisation for --epochs '
                        'instead of fine-tuning model A')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='one round each: the draw of the sets, the training seed and '
                        'the random pick')
    parser.add_argument('--mine-args', default='--score-thr 0.3',
                        help='more options of mine_frames.py for the ranking (one string; '
                        'write --mine-args="..." when it starts with a dash; default: '
                        '%(default)s, the threshold the project\'s tools cut detections at); '
                        '--rank --flip are always given')
    parser.add_argument('--work-dir', default='work_dirs/active_learning')
    parser.add_argument('--record', help='the record to write (default: '
                        '<work-dir>/active_learning.json; docs/records/active_learning.json '
                        'is the one the docs show)')
    parser.add_argument('--verbose', action='store_true',
                        help="show mmengine's training logs (default: warnings and a bar)")
    add_cfg_options(parser)
    args = parser.parse_args(argv)
    for name in ('labelled', 'pool', 'k', 'val'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be at least 1')
    if min(args.epochs, args.finetune_epochs) < 2:
        parser.error('--epochs and --finetune-epochs must be at least 2 (the recipe\'s '
                     'cosine starts after one)')
    if args.k > args.pool:
        parser.error(f'--k {args.k} is more than the --pool {args.pool} it picks from')
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        parser.error('--seeds must be distinct and >= 0')
    return args


def read_json(path: str):
    with open(path) as f:
        return json.load(f)


def dataset(args) -> dict:
    """The set the experiment draws from: --data, or one generated into the work dir (kept
    and reused while its options are the same)."""
    if args.data:
        root, generated = osp.abspath(args.data), None
    else:
        from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving
        root = osp.abspath(osp.join(args.work_dir, 'data'))
        generated = dict(num_train=args.labelled + args.pool, num_val=args.val,
                         img_size=list(args.img_size), seed=args.data_seed)
        stamp = osp.join(root, 'generated.json')
        if not (osp.isfile(stamp) and read_json(stamp) == generated):
            print(f'generating {generated["num_train"]} + {args.val} synthetic frames '
                  f'into {root}', flush=True)
            generate_synthetic_driving(root, **{**generated, 'img_size': tuple(args.img_size)},
                                       progress=True)
            with open(stamp, 'w') as f:
                json.dump(generated, f)
    paths = dict(root=root, generated=generated,
                 train_ann=osp.join(root, 'annotations', 'train.json'),
                 train_img=osp.join(root, 'images', 'train'),
                 val_ann=osp.join(root, 'annotations', 'val.json'),
                 val_img=osp.join(root, 'images', 'val'))
    paths['train'] = load_coco(paths['train_ann'])
    paths['classes'] = [c['name'] for c in paths['train']['categories']]
    paths['val_images'] = len(load_coco(paths['val_ann'])['images'])
    return paths


def train(args, data: dict, ann: str, num_images: int, seed: int, work_dir: str,
          name: str, epochs: int, load_from=None, lr_scale: float = 1.0) -> tuple:
    """Train the recipe on ``ann`` (from ``load_from``'s weights if given) and score it:
    ``(kept metrics, checkpoint, config file, minutes)``."""
    start = time.time()
    cfg = al.experiment_config(args.recipe, ann, data['train_img'], data['val_ann'],
                               data['val_img'], epochs, num_images, seed, work_dir,
                               f'{name}_{time.strftime("%Y%m%d_%H%M%S")}', load_from,
                               lr_scale)
    os.makedirs(work_dir, exist_ok=True)
    config_file = osp.join(work_dir, 'config.py')
    cfg.dump(config_file)
    metrics, checkpoint = al.train_and_evaluate(cfg, desc=f'{name:<14}',
                                                quiet=not args.verbose)
    return (al.kept_metrics(metrics, data['classes']), checkpoint, config_file,
            (time.time() - start) / 60)


def rank_pool(args, pool_dir: str, config_file: str, checkpoint: str, out_dir: str) -> dict:
    """mine_frames.py --rank --flip over the pool with model A: its ranking JSON."""
    ranked = osp.join(out_dir, 'ranked.json')
    argv = [pool_dir, config_file, checkpoint, '--rank', '--flip',
            '--out', osp.join(out_dir, 'hits.json'), '--rank-out', ranked,
            '--rank-sheet', osp.join(out_dir, 'ranked.jpg'), '--top', str(min(args.k, 24))]
    mine_frames.main(argv + shlex.split(args.mine_args))
    return dict(read_json(ranked), file=ranked)


def round_options(args, data: dict, seed: int) -> dict:
    """What decides a seed's results: a finished seed with the same is not run again."""
    keys = ('config', 'cfg_options', 'labelled', 'pool', 'k', 'epochs', 'finetune_epochs',
            'finetune_lr_scale', 'from_scratch', 'mine_args')
    return dict({k: getattr(args, k) for k in keys}, seed=seed, data=data['root'],
                generated=data['generated'])


def one_round(args, data: dict, seed: int) -> dict:
    """One seed (or its results from an earlier run with the same options)."""
    done = osp.abspath(osp.join(args.work_dir, f'seed{seed}', 'round.json'))
    options = round_options(args, data, seed)
    if osp.isfile(done) and read_json(done)['options'] == options:
        print(f'seed {seed}: done before, results taken from {done}')
        return read_json(done)['result']
    result = run_round(args, data, seed)
    write_json(done, dict(options=options, result=result))
    return result


def run_round(args, data: dict, seed: int) -> dict:
    """One seed: the sets, model A, the rank, the two picks and their trainings."""
    out = osp.abspath(osp.join(args.work_dir, f'seed{seed}'))
    labelled, pool = al.split_labelled_pool(data['train'], args.labelled, args.pool, seed,
                                            data['train_ann'])
    pool_dir = osp.join(out, 'pool')
    shutil.rmtree(pool_dir, ignore_errors=True)
    os.makedirs(pool_dir)
    for img in pool['images']:  # the folder mine_frames looks at
        shutil.copy2(osp.join(data['train_img'], img['file_name']), pool_dir)
    write_json(osp.join(out, 'labelled.json'), labelled)
    write_json(osp.join(out, 'pool.json'), pool)

    metrics, minutes = {}, {}
    print(f'\nseed {seed}: model A on the {args.labelled} labelled frames', flush=True)
    metrics['labelled'], ckpt, config_file, minutes['labelled'] = train(
        args, data, osp.join(out, 'labelled.json'), args.labelled, seed,
        osp.join(out, 'model_a'), f'seed {seed} A', args.epochs)
    print(f'seed {seed}: ranking the {args.pool} pool frames with model A', flush=True)
    start = time.time()
    ranking = rank_pool(args, pool_dir, config_file, ckpt, osp.join(out, 'mining'))
    minutes['mining'] = (time.time() - start) / 60
    names = [img['file_name'] for img in pool['images']]
    scored = sum(f['score'] > 0 for f in ranking['frames'])
    if scored < args.k:
        print(f'warning: model A scored only {scored} of the {args.pool} pool frames above 0; '
              'the rest of the ranked pick is in file-name order (train model A longer?)',
              flush=True)
    picks = dict(ranked=al.pick_ranked(ranking, args.k, names),
                 random=al.pick_random(names, args.k, seed))
    frames = {f['frame']: f for f in ranking['frames']}
    arm_schedule = ((args.epochs, None, 1.0) if args.from_scratch else
                    (args.finetune_epochs, ckpt, args.finetune_lr_scale))
    for arm in ('ranked', 'random'):
        ann = osp.join(out, f'train_{arm}.json')
        write_json(ann, al.with_frames(labelled, pool, picks[arm],
                                       f'labelled set + {args.k} {arm} pool frames'))
        print(f'seed {seed}: {arm} arm, {args.labelled} + {args.k} frames', flush=True)
        metrics[arm], _, _, minutes[arm] = train(
            args, data, ann, args.labelled + args.k, seed, osp.join(out, arm),
            f'seed {seed} {arm}', *arm_schedule)
    return dict(
        seed=seed, labelled=sorted(img['file_name'] for img in labelled['images']),
        picks=picks, ranking_file=ranking['file'], scored_frames=scored,
        ranked_scores=[frames[n]['score'] for n in picks['ranked']],
        random_scores=[frames[n]['score'] for n in picks['random']],
        overlap=len(set(picks['ranked']) & set(picks['random'])),
        picked_by_signal=dict(Counter(
            (frames[n]['reasons'] or ['none: '])[0].split(':')[0] for n in picks['ranked'])),
        labels=dict(labelled=al.label_counts(labelled),
                    ranked=al.label_counts(pool, picks['ranked']),
                    random=al.label_counts(pool, picks['random'])),
        metrics=metrics, minutes={k: round(v, 2) for k, v in minutes.items()})


def table(summary: dict, diff: dict, classes, k: int) -> str:
    """The printed table: per metric, each arm's mean +- std and ranked - random."""
    keys = [m for m in HEADLINE if m in diff] + [
        m for c in classes for m in (f'bbox_AP_{c}', f'kpt_AP_{c}') if m in diff]
    head = (f"{'metric':<22}{'labelled only':>18}{f'+{k} ranked':>18}{f'+{k} random':>18}"
            f"{'ranked - random [min, max] wins':>40}")
    lines = [head, '-' * len(head)]
    for m in keys:
        cells = [f"{summary[a][m]['mean']:.3f} +- {summary[a][m]['std']:.3f}"
                 for a in al.ARMS]
        d = diff[m]
        lines.append(f'{m:<22}' + ''.join(f'{c:>18}' for c in cells) +
                     f"{d['mean']:+.3f} [{d['min']:+.3f}, {d['max']:+.3f}] "
                     f"{d['wins']}/{d['seeds']}".rjust(40))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    start = time.time()
    # read once: every training of the experiment is the same recipe
    args.recipe = Config.fromfile(osp.join(REPO, args.config))
    args.recipe.merge_from_dict(args.cfg_options)
    data = dataset(args)
    runs = [one_round(args, data, seed) for seed in args.seeds]
    summary, diff = al.summarize_runs(runs), al.paired_difference(runs)
    minutes = (time.time() - start) / 60
    labels = {arm: al.summarize([r['labels'][arm]['objects'] for r in runs])
              for arm in ('ranked', 'random')}
    cfg = args.recipe
    ranking = read_json(runs[0]['ranking_file'])
    result = dict(
        config=args.config, cfg_options=args.cfg_options,
        arms_start='from scratch' if args.from_scratch else 'from model A',
        input_size=list(cfg.img_scale), batch_size=cfg.train_dataloader.batch_size,
        epochs=dict(model_a=args.epochs,
                    arms=args.epochs if args.from_scratch else args.finetune_epochs),
        finetune_lr_scale=None if args.from_scratch else args.finetune_lr_scale,
        seeds=args.seeds,
        sizes=dict(labelled=args.labelled, pool=args.pool, k=args.k, val=data['val_images']),
        data=dict(root=osp.relpath(data['root'], REPO), generated=data['generated']),
        classes=data['classes'],
        mining=dict(options=['--rank', '--flip'] + shlex.split(args.mine_args),
                    score_thr=ranking['score_thr'], kpt_thr=ranking['kpt_thr'],
                    weights=ranking['weights'], signals=ranking['signals']),
        summary=summary, difference=diff, picked_objects=labels, runs=runs,
        minutes=round(minutes, 1))
    record = write_record(args.record or osp.join(args.work_dir, 'active_learning.json'),
                          result)
    epochs = result['epochs']
    print(f'\n{len(runs)} seed(s): {args.labelled} labelled frames, + {args.k} of '
          f'{args.pool} pool frames each arm; model A {epochs["model_a"]} epochs, the arms '
          f'{epochs["arms"]} {result["arms_start"]}; {data["val_images"]} val frames '
          f'({minutes:.1f} min)')
    print(table(summary, diff, data['classes'], args.k))
    print(f"objects in the picked frames: ranked {labels['ranked']['mean']:.1f}, random "
          f"{labels['random']['mean']:.1f} (mean over seeds)")
    print(f'record written to {record}')
    print(f'runs, rankings and sets under {osp.abspath(args.work_dir)}')


if __name__ == '__main__':
    main()
