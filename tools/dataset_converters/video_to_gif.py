"""Turn a video (or part of one) into an animated GIF for a README: frames sampled at --fps
from --start for --duration seconds, optionally scaled; Pillow writes the GIF.

Examples:
    python tools/dataset_converters/video_to_gif.py work_dirs/videos/vis.mp4 --fps 8 \\
        --width 480
    python tools/dataset_converters/video_to_gif.py work_dirs/videos/vis.mp4 --start 2 \\
        --duration 3 --scale 0.5 --out work_dirs/videos/teaser.gif
"""
import os
from pathlib import Path

from yolox_kpt.data_tools.coco import ConverterError
from yolox_kpt.data_tools.converters.common import check_free
from yolox_kpt.data_tools.video import video_to_gif
from yolox_kpt.utils.cli import tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('video', help='input video (mp4 or anything OpenCV reads)')
    parser.add_argument('--out', help='GIF file (default: work_dirs/videos/<video name>.gif)')
    parser.add_argument('--fps', type=float, default=10.0,
                        help='GIF frames per second, at most the video\'s (default: '
                        '%(default)s)')
    parser.add_argument('--start', type=float, default=0.0,
                        help='first second to take (default: %(default)s)')
    parser.add_argument('--duration', type=float,
                        help='seconds to take (default: to the end)')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--scale', type=float, help='resize factor, e.g. 0.5')
    size.add_argument('--width', type=int, help='output width in pixels (keeps aspect ratio)')
    parser.add_argument('--loop', type=int, default=0,
                        help='times to loop, 0 forever (default: %(default)s)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing GIF')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out or os.path.join('work_dirs', 'videos',
                                        f'{Path(args.video).stem}.gif'))
    try:
        check_free(out, args.overwrite)
        out.parent.mkdir(parents=True, exist_ok=True)
        r = video_to_gif(args.video, out, args.fps, args.start, args.duration, args.scale,
                         args.width, args.loop)
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    w, h = r['size']
    print(f'wrote {out}: {r["frames"]} frames, {w}x{h}, {r["bytes"] / 1024:.1f} KiB '
          f'(source {r["source_fps"]:g} fps)')
    return 0


if __name__ == '__main__':
    main()
