"""Convert recorded per-frame camera labels (docs/camera_label_schema.md) to COCO keypoint
train/val/test files, split by time: a drive (or, with --window-s, a time window of one)
never straddles two splits; the earliest units go to train, the latest to test.

Examples:
    # the shipped example: sizes are in the labels, no images needed
    python tools/dataset_converters/camera_labels_to_coco.py \\
        resources/examples/camera_labels --no-images --ratios 0.5 0.5 0 \\
        --out-dir work_dirs/camera_labels_coco
    # labels next to their images, 60 s windows as split units
    python tools/dataset_converters/camera_labels_to_coco.py data/drives/labels \\
        --image-root data/drives/images --window-s 60 --out-dir data/drives/coco
    # head and tail faces as two classes (any config or layout file with keypoint_layout)
    python tools/dataset_converters/camera_labels_to_coco.py data/drives/labels \\
        --config configs/_base_/datasets/driving_layout_head_tail.py --out-dir data/drives/coco

Classes and keypoint names come from --config / --layout (default: the driving layout,
configs/_base_/datasets/driving_layout.py) and map to the labels by name; a class the layout
lacks is an error naming the file and object, unless --skip-unknown-classes (then counted).

writes <out-dir>/annotations/{train,val,test}.json; their file_name is relative to
--image-root, which is the data_prefix.img of a CocoKptDataset reading them.
"""
from yolox_kpt.data_tools.converters import load_layout
from yolox_kpt.data_tools.converters.common import add_layout_args
from yolox_kpt.data_tools.converters.driving import (SPLITS, ConverterError,
                                                     convert_camera_labels)
from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('labels', help='folder searched recursively for *.json frame labels')
    parser.add_argument('--image-root', help="folder the labels' image paths are relative "
                        'to (default: the labels folder)')
    parser.add_argument('--out-dir', default='work_dirs/camera_labels_coco',
                        help='output root (default: %(default)s)')
    parser.add_argument('--ratios', type=float, nargs=3, default=(0.9, 0.05, 0.05),
                        metavar=('TRAIN', 'VAL', 'TEST'),
                        help='shares of the frames per split (default: 0.9 0.05 0.05)')
    parser.add_argument('--window-s', type=float,
                        help='cut each drive into windows of this many seconds and split '
                        'windows instead of drives (neighbouring windows of one drive can '
                        'then land in different splits)')
    parser.add_argument('--no-images', action='store_true',
                        help='never open images; every label must give width and height')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing annotation files in --out-dir')
    add_layout_args(parser, 'config (or configs/_base_/datasets/ layout file) whose '
                    'keypoint_layout gives the classes and keypoint names (default: the '
                    'driving layout)')
    parser.add_argument('--skip-unknown-classes', action='store_true',
                        help='leave out objects whose class the layout lacks (and faces when '
                        'it has no face class), with a count, instead of an error')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        layout = load_layout(args.config, args.layout)
        result = convert_camera_labels(
            args.labels, args.out_dir, image_root=args.image_root, ratios=args.ratios,
            window_s=args.window_s, read_images=not args.no_images,
            overwrite=args.overwrite, progress=True, layout=layout,
            skip_unknown_classes=args.skip_unknown_classes,
            layout_source=args.config or args.layout)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    classes = (layout or DRIVING_LAYOUT).classes
    unit = f'{args.window_s:g} s windows' if args.window_s else 'drives'
    for split in SPLITS:
        r = result[split]
        per_class = ', '.join(f'{c} {r["classes"].get(c, 0)}' for c in classes)
        print(f'{split}: wrote {r["path"]}')
        print(f'    frames {r["frames"]}, units ({unit}) {r["units"]}, drives '
              f'{len(r["drives"])}; annotations: {per_class}')
        if not r['frames']:
            print(f'    (empty: too few units for a {split} share; see --ratios / --window-s)')
    if result['skipped']:
        left_out = ', '.join(f'{c} {n}' for c, n in sorted(result['skipped'].items()))
        print(f'left out (not in the layout, --skip-unknown-classes): {left_out}')
    print(f'image paths are relative to {args.image_root or args.labels}')
    return 0


if __name__ == '__main__':
    main()
