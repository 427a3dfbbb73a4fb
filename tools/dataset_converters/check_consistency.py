"""Compare an image folder with a COCO file: orphan images (on disk, not in the file),
missing images (in the file, not on disk), annotations on unknown image ids, and images
without annotations (reported only; they are fine for training). Exits with 1 when there
are problems, so CI can run it; --fix repairs them.

Examples:
    # report only (deletes and writes nothing)
    python tools/dataset_converters/check_consistency.py \\
        data/synthetic_driving/annotations/train.json data/synthetic_driving/images/train
    # delete orphan images, write the file without missing images to --out
    python tools/dataset_converters/check_consistency.py ANN.json IMG_DIR --fix \\
        --out work_dirs/check_consistency/train_fixed.json
    # same, but rewrite ANN.json in place (the old one is kept as ANN.json.bak)
    python tools/dataset_converters/check_consistency.py ANN.json IMG_DIR --fix --overwrite

file_name is read relative to IMG_DIR (the data_prefix.img of the dataset). Only files with
an image suffix (.jpg .jpeg .png .bmp .gif .tif .tiff .webp) count as images.
"""
import shutil
from pathlib import Path

from yolox_kpt.data_tools.coco import ConverterError, load_coco, write_json
from yolox_kpt.data_tools.curation import check_consistency, delete_orphans, fixed_coco
from yolox_kpt.utils.cli import tool_parser

_SHOW = 20  # names listed per problem; the counts are always complete


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('ann_file', help='COCO file')
    parser.add_argument('img_dir', help='image folder that file_name is relative to')
    parser.add_argument('--fix', action='store_true',
                        help='delete orphan image files and write the file without missing '
                        'images, their annotations and annotations on unknown image ids')
    parser.add_argument('--out', help='where --fix writes the repaired file (default: '
                        'work_dirs/check_consistency/<name>_fixed.json)')
    parser.add_argument('--overwrite', action='store_true',
                        help='with --fix and no --out: rewrite ann_file in place, keeping '
                        '<ann_file>.bak; with --out: replace an existing --out')
    parser.add_argument('--verbose', action='store_true', help='list every problem file')
    return parser.parse_args(argv)


def _listing(title, items, verbose):
    print(f'{title}: {len(items)}')
    shown = items if verbose else items[:_SHOW]
    for item in shown:
        print(f'    {item}')
    if len(shown) < len(items):
        print(f'    ... and {len(items) - len(shown)} more (--verbose lists all)')


def _fixed_file_path(args, ann):
    """Where --fix writes the repaired file; backs up ann_file when that is rewritten."""
    if args.out:
        out = Path(args.out)
        if out.exists() and not args.overwrite:
            raise SystemExit(f'error: {out} exists; pass --overwrite to replace it')
        return out
    if args.overwrite:
        backup = ann.with_name(ann.name + '.bak')
        if backup.exists():
            raise SystemExit(f'error: {backup} exists; move it away first so the previous '
                             'backup is not lost')
        shutil.copy2(ann, backup)
        print(f'kept the original as {backup}')
        return ann
    out = Path(f'work_dirs/check_consistency/{ann.stem}_fixed.json')
    if out.exists():
        raise SystemExit(f'error: {out} exists; give --out, or --overwrite to rewrite {ann} '
                         'in place')
    return out


def main(argv=None):
    args = parse_args(argv)
    ann = Path(args.ann_file)
    try:
        coco = load_coco(ann)
        report = check_consistency(coco, args.img_dir)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    print(f'{ann}: {len(coco["images"])} images, {len(coco["annotations"])} annotations; '
          f'{args.img_dir}')
    _listing('orphan images (on disk, not in the file)', report.orphans, args.verbose)
    _listing('missing images (in the file, not on disk)',
             [f'id {i["id"]}: {i.get("file_name")}' for i in report.missing], args.verbose)
    _listing('annotations on unknown image ids',
             [f'annotation id {a.get("id")}: image id {a["image_id"]}'
              for a in report.unknown_image_anns], args.verbose)
    print(f'images without annotations (not a problem): {len(report.unannotated)}')

    what = (f'delete {len(report.orphans)} orphan image file(s) and write the file without '
            f'{len(report.missing)} missing image(s) ({report.missing_anns} annotations) and '
            f'{len(report.unknown_image_anns)} annotation(s) on unknown image ids')
    if not report.problems:
        print('consistent')
        return 0
    if not args.fix:
        print(f'--fix would {what}')
        raise SystemExit(1)

    if report.missing or report.unknown_image_anns:
        out = _fixed_file_path(args, ann)
        fixed = fixed_coco(coco, report)
        write_json(out, fixed)
        print(f'wrote {out}: {len(fixed["images"])} images, {len(fixed["annotations"])} '
              'annotations')
    else:
        print(f'{ann} needs no change')
    deleted = delete_orphans(args.img_dir, report.orphans)
    print(f'deleted {deleted} orphan image file(s) from {args.img_dir}')
    return 0


if __name__ == '__main__':
    main()
