"""Draw a smaller random subset of a COCO file, optionally split into several files; image
and annotation ids are kept and the categories copied, so subsets of one file never clash.

Examples:
    # 200 random images, one file work_dirs/coco_subset/subset.json
    python tools/dataset_converters/coco_subset.py data/coco/annotations/train.json \\
        --num-images 200
    # 10 % of the frames, whole drives only, split 80/20 into train.json and val.json
    python tools/dataset_converters/coco_subset.py \\
        work_dirs/camera_labels_coco/annotations/train.json --fraction 0.1 \\
        --by-key drive --ratios 0.8 0.2 --names train val --seed 1 \\
        --out-dir work_dirs/coco_subset/small

With --by-key, images sharing that image field (e.g. drive) are drawn and split together,
so the subset can exceed the asked size by less than one group.
"""
from pathlib import Path

from yolox_kpt.data_tools.coco import ConverterError, load_coco, summary, write_json
from yolox_kpt.data_tools.curation import coco_subset
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('ann_file', help='input COCO file')
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument('--num-images', type=int, help='number of images to draw')
    size.add_argument('--fraction', type=float, help='share of the images to draw, (0, 1]')
    parser.add_argument('--ratios', type=float, nargs='+', default=[1.0],
                        help='split the subset into files with these shares (default: 1)')
    parser.add_argument('--names', nargs='+', help='output file names, one per ratio '
                        '(default: subset; or train val [test] for 2-3 ratios)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draw (default: 0)')
    parser.add_argument('--by-key', help='image field whose groups stay together, e.g. drive')
    parser.add_argument('--out-dir', default='work_dirs/coco_subset',
                        help='output folder (default: %(default)s)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing output files')
    args = parser.parse_args(argv)
    n = len(args.ratios)
    if args.names is None:
        args.names = (['subset'] if n == 1 else ['train', 'val', 'test'][:n] if n <= 3 else
                      [f'part{i}' for i in range(1, n + 1)])
    if len(args.names) != n or len(set(args.names)) != n:
        parser.error(f'--names needs {n} distinct names (one per ratio), got {args.names}')
    return args


def main(argv=None):
    args = parse_args(argv)
    outs = [Path(args.out_dir) / f'{name}.json' for name in args.names]
    try:
        existing = [str(p) for p in outs if p.exists()]
        if existing and not args.overwrite:
            raise ConverterError(f'{existing} already exist; pass --overwrite to replace them')
        coco = load_coco(args.ann_file)
        parts = coco_subset(coco, args.num_images, args.fraction, args.ratios, args.seed,
                            args.by_key, source=args.ann_file)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    total = sum(len(p['images']) for p in parts)
    print(f'{args.ann_file}: {len(coco["images"])} images; drew {total} (seed {args.seed}'
          + (f', whole {args.by_key} groups' if args.by_key else '') + ')')
    for out, part in zip(outs, parts):
        write_json(out, part)
        print(f'wrote {out}: {summary(part)}')
    return 0


if __name__ == '__main__':
    main()
