"""Convert LabelMe JSON files (one per image) to one COCO keypoint file: each rectangle is an
object (its label the class), each point a keypoint (its label the keypoint name) of the
rectangle with the same group_id; a point flagged occluded (flags {"occluded": true} or
"occluded" in its description) gets v=1, other points v=2. The classes and their keypoints
come from --config (its keypoint_layout) or --layout (a layout JSON).

Examples:
    # file_name relative to the LabelMe folder (use it as data_prefix.img)
    python tools/dataset_converters/labelme_to_coco.py data/my_labelme \\
        --config configs/yolox-kpt/yolox-kpt_s_8xb8-300e_synthetic-driving.py
    # also copy the images: work_dirs/labelme_to_coco/train/{annotations.json,images/}
    python tools/dataset_converters/labelme_to_coco.py data/my_labelme --layout layout.json \\
        --out work_dirs/labelme_to_coco/train/annotations.json --copy-images
"""
import json
import os
import shutil
from pathlib import Path

from yolox_kpt.data_tools.converters import ConverterError, labelme_to_coco, load_layout
from yolox_kpt.data_tools.converters.common import add_layout_args
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('input', help='folder of LabelMe JSON files')
    add_layout_args(parser, 'config whose keypoint_layout gives classes and keypoints',
                    required=True)
    parser.add_argument('--pattern', default='*.json',
                        help='glob of the LabelMe files (default: %(default)s)')
    parser.add_argument('--recursive', action='store_true', help='also search sub-folders')
    parser.add_argument('--out', help='COCO file to write (default: work_dirs/labelme_to_coco/'
                        '<input folder name>/annotations.json)')
    parser.add_argument('--copy-images', action='store_true',
                        help='copy the images to images/ beside --out; file_name is then '
                        'relative to that folder')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output file (and images/ folder)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    root = Path(args.input)
    out = Path(args.out or os.path.join('work_dirs', 'labelme_to_coco',
                                        root.resolve().name, 'annotations.json'))
    img_out = out.parent / 'images' if args.copy_images else None
    try:
        if not root.is_dir():
            raise ConverterError(f'{root}: no such folder')
        files = sorted(root.rglob(args.pattern) if args.recursive else root.glob(args.pattern))
        if not files:
            raise ConverterError(f'{root}: no files match {args.pattern!r}')
        for p in (out, img_out):
            if p is not None and p.exists() and not args.overwrite:
                raise ConverterError(f'{p} already exists; pass --overwrite to replace it')
        layout = load_layout(args.config, args.layout)
        if img_out is not None and img_out.exists():
            shutil.rmtree(img_out)  # --overwrite: no stale images from an earlier run
        coco, counts = labelme_to_coco(files, layout, root, img_out)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(coco), encoding='utf-8')
    print(f'{len(files)} LabelMe files: {counts["images"]} images, {counts["annotations"]} '
          f'objects, {counts["keypoints"]} labelled keypoints ({counts["occluded"]} occluded)')
    if counts['skipped_shapes']:
        skipped = ', '.join(f'{n} {k}' for k, n in sorted(counts['skipped_shapes'].items()))
        print(f'skipped shapes that are neither rectangle nor point: {skipped}')
    if counts['missing_images']:
        print(f'warning: {len(counts["missing_images"])} images are not at their imagePath, '
              f'e.g. {counts["missing_images"][0]}')
    print(f'wrote {out}')
    if img_out is not None:
        print(f'copied images to {img_out} (use it as data_prefix.img)')
    else:
        print(f'file_name is relative to {root} (use it as data_prefix.img)')
    return 0


if __name__ == '__main__':
    main()
