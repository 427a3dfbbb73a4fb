"""Can the model learn these few images? Train a config on a handful of images (no
augmentation, constant learning rate) and evaluate on the same images.

A model that cannot overfit five images will not learn from five thousand: a wrong keypoint
layout, flipped left/right names, a broken transform or a loss that does not reach the
keypoint branch all show up here in minutes. Prints box AP and keypoint AP on the training
images and writes them to JSON.

Examples:
    python tools/misc/overfit_check.py configs/yolox-kpt/yolox-kpt_tiny_8xb8-300e_coco-person.py \\
        --ann-file data/coco/annotations/person_keypoints_val2017_5img.json \\
        --img-dir data/coco/val2017 --iters 300
    python tools/misc/overfit_check.py CONFIG --ann-file my.json --img-dir images/ --size 640
    # the real mixed-class set (tools/dataset_converters/build_mixed_real.py builds it)
    python tools/misc/overfit_check.py work_dirs/mixed_real/mixed_real_tiny.py \
        --ann-file work_dirs/mixed_real/annotations.json \
        --img-dir work_dirs/mixed_real/images --iters 600 --work-dir work_dirs/mixed_real/overfit

Per-class box and keypoint AP are printed too: a class that stays near 0 while the others
fit (the animal of the mixed set when it shared slots with the person) is the finding.
"""
import os.path as osp
import time

from yolox_kpt.utils.cli import add_cfg_options, tool_parser
from yolox_kpt.utils.records import write_record


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('--ann-file', required=True, help='COCO keypoint file of the images')
    parser.add_argument('--img-dir', required=True, help='folder of its images')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=0.002,
                        help='AdamW peak learning rate (warm-up, then cosine to 5%%)')
    parser.add_argument('--size', type=int, default=416, help='input side (images padded)')
    parser.add_argument('--work-dir', default='work_dirs/overfit_check')
    parser.add_argument('--seed', type=int, default=0)
    add_cfg_options(parser)
    return parser.parse_args(argv)


def overfit_config(cfg, args):
    """The config's model and metric; data, schedule and hooks of the overfit run."""
    scale = (args.size, args.size)
    steps = [dict(type='LoadImageFromFile'), dict(type='LoadKptAnnotations', with_bbox=True),
             dict(type='Resize', scale=scale, keep_ratio=True),
             dict(type='Pad', size=scale, pad_val=dict(img=(114.0, 114.0, 114.0)))]
    dataset = dict(type='CocoKptDataset', keypoint_layout=cfg.keypoint_layout,
                   ann_file=osp.abspath(args.ann_file),
                   data_prefix=dict(img=osp.abspath(args.img_dir) + '/'), data_root='')
    cfg.model.data_preprocessor.batch_augments = None
    cfg.train_dataloader = dict(
        batch_size=args.batch_size, num_workers=0, persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(dataset, filter_cfg=dict(filter_empty_gt=True),
                     pipeline=steps + [dict(type='PackKptDetInputs')]))
    cfg.val_dataloader = dict(
        batch_size=args.batch_size, num_workers=0, persistent_workers=False, drop_last=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(dataset, test_mode=True, pipeline=steps + [dict(
            type='PackKptDetInputs',
            meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))]))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator = dict(cfg.val_evaluator, ann_file=osp.abspath(args.ann_file))
    cfg.test_evaluator = cfg.val_evaluator
    # evaluated once, after training, by main()
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=args.iters,
                         val_interval=args.iters + 1)
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=dict(
        type='AdamW', lr=args.lr, weight_decay=0.0))
    # warm-up, then cosine down to 5%: a constant rate left the loss bouncing on a plateau
    warmup = min(50, args.iters // 2)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', eta_min=0.05 * args.lr, by_epoch=False, begin=warmup,
             T_max=args.iters - warmup, end=args.iters)]
    cfg.custom_hooks = [dict(type='SafeCheckpointHook'), dict(type='KeypointLayoutCheckHook')]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=args.iters,
                                        by_epoch=False, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=25)
    cfg.log_processor = dict(by_epoch=False)
    cfg.auto_scale_lr = dict(enable=False)
    cfg.load_from = None
    cfg.randomness = dict(seed=args.seed)
    cfg.work_dir = args.work_dir
    return cfg


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.runner import Runner

    import yolox_kpt  # noqa: F401
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg = overfit_config(cfg, args)
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = {k.split('/')[-1]: float(v) for k, v in runner.val_loop.run().items()}
    minutes = (time.time() - start) / 60
    out = write_record(osp.join(args.work_dir, 'overfit_check.json'),
                       dict(config=args.config, ann_file=args.ann_file, iters=args.iters,
                            size=args.size, minutes=minutes, metrics=metrics))
    print(f"\noverfit check, {args.iters} iterations ({minutes:.1f} min) on the training "
          f"images: box mAP {metrics['bbox_mAP']:.3f}, keypoint AP "
          f"{metrics.get('kpt_AP', -1):.3f}")
    for name in cfg.keypoint_layout['classes']:
        kpt = metrics.get(f'kpt_AP_{name}')
        print(f"  {name}: box AP {metrics.get(f'bbox_AP_{name}', float('nan')):.3f}"
              + (f', keypoint AP {kpt:.3f}' if kpt is not None else ''))
    print(f'written to {osp.abspath(out)}')


if __name__ == '__main__':
    main()
