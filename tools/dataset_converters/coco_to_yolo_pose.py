"""Convert COCO keypoint files to an Ultralytics YOLO pose dataset: <out>/labels/<split>/*.txt
(cls cx cy w h x1 y1 v1 ... xK yK vK, normalised), <out>/images/<split>/ (symlinks, or
copies) and <out>/data.yaml (kpt_shape, flip_idx, names). K is the number of keypoint slots
of the layout (the union of all classes' keypoints); a class's foreign slots are 0 0 0.

Examples:
    python tools/dataset_converters/coco_to_yolo_pose.py \\
        --split train data/synthetic_driving/annotations/train.json \\
        data/synthetic_driving/images/train \\
        --split val data/synthetic_driving/annotations/val.json \\
        data/synthetic_driving/images/val \\
        --out-dir work_dirs/yolo_pose/synthetic_driving
    # check the categories against a config's keypoint_layout and copy the images
    python tools/dataset_converters/coco_to_yolo_pose.py \\
        --split train data/synthetic_driving/annotations/train.json \\
        data/synthetic_driving/images/train --copy-images \\
        --config configs/yolox-kpt/yolox-kpt_s_8xb8-300e_synthetic-driving.py
"""
from yolox_kpt.data_tools.converters import ConverterError, coco_to_yolo_pose, load_layout
from yolox_kpt.data_tools.converters.common import add_layout_args
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('--split', nargs=3, action='append', required=True,
                        metavar=('NAME', 'ANN_FILE', 'IMG_DIR'),
                        help='a split: its name (train, val, test), COCO file and the image '
                        'folder file_name is relative to; repeat for more splits')
    add_layout_args(parser, 'config whose keypoint_layout fixes classes and slots '
                    "(default: the first COCO file's categories)")
    parser.add_argument('--out-dir', default='work_dirs/yolo_pose/dataset',
                        help='YOLO dataset root (default: %(default)s)')
    parser.add_argument('--copy-images', action='store_true',
                        help='copy images instead of symlinking them')
    parser.add_argument('--decimals', type=int, default=6,
                        help='decimals of normalised numbers; 6 keeps a round trip within '
                        '0.01 px up to 8000 px images (default: %(default)s)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing labels/<split>, images/<split> and data.yaml')
    args = parser.parse_args(argv)
    if not 1 <= args.decimals <= 12:
        parser.error(f'--decimals must be 1..12, got {args.decimals}')
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        layout = load_layout(args.config, args.layout)
        result = coco_to_yolo_pose([tuple(s) for s in args.split], args.out_dir, layout,
                                   copy_images=args.copy_images, decimals=args.decimals,
                                   overwrite=args.overwrite)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    for name, *_ in args.split:
        r = result[name]
        print(f'{name}: {r["num_images"]} images, {r["num_objects"]} objects; wrote labels to '
              f'{r["labels"]}, images ({"copies" if args.copy_images else "symlinks"}) to '
              f'{r["images"]}')
        for what, n in sorted(r['skipped'].items()):
            print(f'  skipped {n} {what}')
    print(f'wrote {result["data_yaml"]}')
    return 0


if __name__ == '__main__':
    main()
