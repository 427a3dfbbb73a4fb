"""Convert an Ultralytics YOLO pose dataset (data.yaml + labels/*.txt) to COCO keypoint files,
one per split, each class getting its own keypoints only. The keypoint layout (which slots
each class owns) comes from --config or --layout, or from the data.yaml when
coco_to_yolo_pose.py wrote it; a class with a non-zero keypoint in a slot it does not own is
an error naming the label file and line.

Examples:
    python tools/dataset_converters/yolo_pose_to_coco.py datasets/my_pose/data.yaml \\
        --config configs/yolox-kpt/yolox-kpt_s_8xb8-300e_synthetic-driving.py \\
        --out-dir work_dirs/yolo_pose_to_coco/my_pose
    # back from coco_to_yolo_pose.py output (its data.yaml carries the layout)
    python tools/dataset_converters/yolo_pose_to_coco.py \\
        work_dirs/yolo_pose/synthetic_driving/data.yaml --splits val
"""
import os
from pathlib import Path

from yolox_kpt.data_tools.converters import ConverterError, load_layout, yolo_pose_to_coco
from yolox_kpt.data_tools.converters.common import add_layout_args
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('data', help='Ultralytics data yaml')
    add_layout_args(parser, 'config whose keypoint_layout gives classes (in names order) '
                    'and the slot order of the labels')
    parser.add_argument('--splits', nargs='+',
                        help='splits to convert (default: train, val, test of the yaml)')
    parser.add_argument('--out-dir', help='writes <out-dir>/annotations/<split>.json '
                        '(default: work_dirs/yolo_pose_to_coco/<folder of the yaml>)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing annotation files')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = args.out_dir or os.path.join('work_dirs', 'yolo_pose_to_coco',
                                       Path(args.data).resolve().parent.name)
    try:
        if not os.path.isfile(args.data):
            raise ConverterError(f'{args.data}: no such file')
        layout = load_layout(args.config, args.layout)
        result = yolo_pose_to_coco(args.data, out, layout, args.splits, args.overwrite)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    for w in result.pop('warnings'):
        print(f'warning: {w}')
    for split, r in result.items():
        print(f'{split}: {r["num_images"]} images, {r["num_objects"]} objects; wrote '
              f'{r["ann_file"]} (file_name relative to {r["image_root"]}, use it as '
              'data_prefix.img)')
        if r['missing_labels']:
            print(f'  {len(r["missing_labels"])} images have no label file (kept without '
                  f'objects), e.g. {r["missing_labels"][0]}')
    return 0


if __name__ == '__main__':
    main()
