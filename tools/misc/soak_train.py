"""Soak test: train many iterations and check resident memory stops growing.

Trains the CPU recipe (YOLOX-nano with keypoints, full training pipeline, keypoint losses)
on generated data for --iters iterations in this process (dataloader workers 0, so the data
pipeline's memory is counted too), samples resident memory (RSS) every --every iterations,
and compares the end with the value after --warmup iterations. Prints a table, writes JSON,
exits 1 if the growth exceeds --max-growth.

Examples:
    python tools/misc/soak_train.py                          # 1,000 iterations, ~8 min on 2 cores
    python tools/misc/soak_train.py --iters 60 --warmup 20 --max-growth 0.5   # a quick look
"""
import os
import os.path as osp
import tempfile

from yolox_kpt.utils.cli import tool_parser
from yolox_kpt.utils.records import write_record

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt', 'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('--iters', type=int, default=1000)
    parser.add_argument('--warmup', type=int, default=100,
                        help='iterations before the reference sample')
    parser.add_argument('--every', type=int, default=10, help='sample interval (iterations)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-images', type=int, default=64, help='generated images')
    parser.add_argument('--max-growth', type=float, default=0.10,
                        help='allowed RSS growth after warm-up (fraction, default 0.10)')
    parser.add_argument('--out', default='work_dirs/soak/soak.json')
    return parser.parse_args()


def rss_mib() -> float:
    """Resident memory of this process in MiB (Linux /proc)."""
    with open('/proc/self/statm') as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def main():
    args = parse_args()
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving

    samples = []

    class RSSHook(Hook):
        priority = 'LOWEST'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            step = runner.iter + 1
            if step % args.every == 0 or step == args.warmup:
                samples.append((step, rss_mib()))

    with tempfile.TemporaryDirectory() as tmp:
        generate_synthetic_driving(tmp, num_train=args.num_images, num_val=1, seed=0)
        cfg = Config.fromfile(CONFIG)
        cfg.work_dir = osp.join(tmp, 'work')
        cfg.train_dataloader.dataset.dataset.data_root = tmp + '/'
        cfg.train_dataloader.update(batch_size=args.batch_size, num_workers=0,
                                    persistent_workers=False,
                                    sampler=dict(type='InfiniteSampler', shuffle=True))
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                             val_interval=10**9)
        cfg.param_scheduler = []
        cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
        cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
        cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=10**9)
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
        cfg.log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
        runner = Runner.from_cfg(cfg)
        runner.register_hook(RSSHook())
        runner.train()

    ref = next(rss for step, rss in samples if step >= args.warmup)
    end = samples[-1][1]
    growth = (end - ref) / ref
    print(f'\n{"iteration":>10}{"RSS MiB":>10}')
    for step, rss in samples[::max(len(samples) // 20, 1)] + [samples[-1]]:
        print(f'{step:>10}{rss:>10.1f}')
    print(f'RSS after {args.warmup} iterations {ref:.1f} MiB, after {samples[-1][0]}: '
          f'{end:.1f} MiB, growth {growth * 100:+.1f}% (allowed {args.max_growth * 100:.0f}%)')
    write_record(args.out, dict(iters=args.iters, warmup=args.warmup,
                                batch_size=args.batch_size, samples=samples, growth=growth,
                                max_growth=args.max_growth))
    print(f'wrote {args.out}')
    if growth > args.max_growth:
        raise SystemExit(f'RSS grew {growth * 100:.1f}% after warm-up')


if __name__ == '__main__':
    main()
