"""Write a folder of images, sorted by file name, as an mp4 video (OpenCV, mp4v codec).
All images must have the first one's size unless --resize-to-first.

Examples:
    python tools/dataset_converters/images_to_video.py work_dirs/demo/vis --fps 10
    python tools/dataset_converters/images_to_video.py data/synthetic_driving/images/val \\
        --pattern '*.jpg' --fps 5 --out work_dirs/videos/val.mp4 --resize-to-first
"""
import os
from pathlib import Path

from yolox_kpt.data_tools.coco import ConverterError
from yolox_kpt.data_tools.converters.common import check_free
from yolox_kpt.data_tools.video import images_to_video
from yolox_kpt.utils.media import list_folder_images
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('input', help='folder of images')
    parser.add_argument('--pattern', help="glob of the images, e.g. '*.png' (default: all "
                        'jpg, jpeg, png, bmp, webp, tif, tiff files)')
    parser.add_argument('--fps', type=float, default=10.0,
                        help='frames per second (default: %(default)s)')
    parser.add_argument('--out', help='video file (default: work_dirs/videos/<folder '
                        'name>.mp4)')
    parser.add_argument('--resize-to-first', action='store_true',
                        help="resize images to the first image's size instead of failing")
    parser.add_argument('--overwrite', action='store_true', help='replace an existing video')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    root = Path(args.input)
    out = Path(args.out or os.path.join('work_dirs', 'videos', f'{root.resolve().name}.mp4'))
    try:
        if not root.is_dir():
            raise ConverterError(f'{root}: no such folder')
        images = list_folder_images(root, args.pattern)
        if not images:
            raise ConverterError(f'{root}: no images' + (
                f' match {args.pattern!r}' if args.pattern else ''))
        check_free(out, args.overwrite)
        out.parent.mkdir(parents=True, exist_ok=True)
        r = images_to_video(images, out, args.fps, args.resize_to_first)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    w, h = r['size']
    print(f'wrote {out}: {r["frames"]} frames, {w}x{h}, {args.fps:g} fps'
          + (f' ({r["resized"]} resized)' if r['resized'] else ''))
    return 0


if __name__ == '__main__':
    main()
