"""Keep the frames of a COCO file that show a near object of some classes, at most one per
--interval-s seconds of each drive; writes a new COCO file with all annotations of the kept
frames (ids, categories and extra fields unchanged).

Examples:
    # frames with a vehicle or cyclist within 30 m, at most one every 2 s per drive
    python tools/dataset_converters/select_frames.py \\
        work_dirs/camera_labels_coco/annotations/train.json \\
        --classes vehicle cyclist --max-distance 30 --interval-s 2 \\
        --out work_dirs/select_frames/train_near.json
    # a file without drive/timestamp: every 5th frame with a pedestrian
    python tools/dataset_converters/select_frames.py data/x/annotations/train.json \\
        --classes pedestrian --every 5

Objects without a "distance" never count within --max-distance unless
--keep-unknown-distance is given. Distances, drives and timestamps are the extra fields that
camera_labels_to_coco.py writes. With --interval-s, frames without drive/timestamp are
thinned by --every N (every N-th in file order), which is then required.
"""
from pathlib import Path

from yolox_kpt.data_tools.coco import ConverterError, load_coco, summary, write_json
from yolox_kpt.data_tools.curation import select_frames
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('ann_file', help='input COCO file')
    parser.add_argument('--classes', nargs='+', help='classes whose objects select a frame '
                        '(default: all categories)')
    parser.add_argument('--max-distance', type=float,
                        help='only objects at most this many metres away select a frame')
    parser.add_argument('--keep-unknown-distance', action='store_true',
                        help='objects without a distance count as near (default: they do '
                        'not, when --max-distance is given)')
    parser.add_argument('--interval-s', type=float,
                        help='keep at most one frame per this many seconds of each drive')
    parser.add_argument('--every', type=int,
                        help='keep every N-th selected frame (with --interval-s: of those '
                        'without drive/timestamp)')
    parser.add_argument('--out', help='output COCO file (default: work_dirs/select_frames/'
                        '<input name>_selected.json)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing --out')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out or f'work_dirs/select_frames/{Path(args.ann_file).stem}_selected.json')
    try:
        if out.exists() and not args.overwrite:
            raise ConverterError(f'{out} exists; pass --overwrite to replace it')
        if out.resolve() == Path(args.ann_file).resolve():
            raise ConverterError(f'--out {out} is the input file; choose another')
        coco = load_coco(args.ann_file)
        selected, n = select_frames(coco, args.classes, args.max_distance,
                                    args.keep_unknown_distance, args.interval_s, args.every,
                                    source=args.ann_file)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    write_json(out, selected)
    print(f'{args.ann_file}: {n["images"]} frames, {n["candidates"]} with a selected object, '
          f'{n["kept"]} kept after thinning')
    print(f'wrote {out}: {summary(selected)}')
    return 0


if __name__ == '__main__':
    main()
