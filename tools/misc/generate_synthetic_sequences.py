"""Writes synthetic driving video sequences with ground-truth track ids (for tracking).

Each sequence is a pinhole camera over a flat road with pedestrians, cyclists and vehicles
that move (cross the road, drive along the lanes), occlude each other and enter and leave
the picture; see ``yolox_kpt/data_tools/synthetic_sequences.py``. Frames are JPEGs (and,
with --video, one mp4 per sequence); one COCO-VID file holds every frame's boxes, keypoints,
``track_id`` and ``visibility``.

Examples:
    python tools/misc/generate_synthetic_sequences.py --out-dir work_dirs/sequences \\
        --sequences 4 --frames-per-sequence 60 --img-size 640 384 --video
    python tools/analysis/eval_tracking.py work_dirs/sequences/annotations/sequences.json

writes:
  <out-dir>/annotations/sequences.json    videos, images (video_id, frame_id), annotations
                                          (track_id, visibility, ground truth)
  <out-dir>/images/seq_000/000000.jpg ...
  <out-dir>/videos/seq_000.mp4 ...        (--video)
"""
import argparse
import json
import os.path as osp
import sys
import time
from collections import Counter
from typing import List, Optional

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from yolox_kpt.data_tools.synthetic_sequences import (  # noqa: E402
    FPS, generate_synthetic_sequences)
from yolox_kpt.utils.cli import tool_parser  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = tool_parser(__doc__)
    parser.add_argument('--out-dir', default='work_dirs/synthetic_sequences')
    parser.add_argument('--sequences', type=int, default=4, help='number of sequences')
    parser.add_argument('--frames-per-sequence', type=int, default=60)
    parser.add_argument('--img-size', type=int, nargs=2, default=(640, 384),
                        metavar=('W', 'H'))
    parser.add_argument('--fps', type=float, default=FPS,
                        help='frame rate; objects move in m/s, so a lower rate means larger '
                        'steps between frames (as mining every N-th frame)')
    parser.add_argument('--actors', type=int, nargs=2, default=(4, 9), metavar=('MIN', 'MAX'),
                        help='moving objects a sequence (drawn in this range)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--video', action='store_true', help='also write one mp4 a sequence')
    args = parser.parse_args(argv)
    if args.sequences < 0 or args.frames_per_sequence < 1:
        parser.error('--sequences must be >= 0 and --frames-per-sequence >= 1')
    if min(args.img_size) < 64:
        parser.error(f'--img-size must be at least 64 64, got {args.img_size}')
    if not 0 <= args.actors[0] <= args.actors[1]:
        parser.error(f'--actors needs 0 <= MIN <= MAX, got {args.actors}')
    if args.seed < 0:
        parser.error(f'--seed must be >= 0, got {args.seed}')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    paths = generate_synthetic_sequences(
        args.out_dir, args.sequences, args.frames_per_sequence, tuple(args.img_size),
        seed=args.seed, fps=args.fps, num_actors=tuple(args.actors), video=args.video,
        progress=True)
    data = json.loads(paths['annotations'].read_text(encoding='utf-8'))
    names = {c['id']: c['name'] for c in data['categories']}
    counts = Counter(names[a['category_id']] for a in data['annotations'])
    tracks = Counter(names[a['category_id']] for a in
                     {a['track_id']: a for a in data['annotations']}.values())
    print(f'{len(data["videos"])} sequences, {len(data["images"])} frames '
          f'({time.perf_counter() - start:.1f} s)')
    print('  boxes: ' + ', '.join(f'{c} {n}' for c, n in sorted(counts.items())))
    print('  tracks: ' + ', '.join(f'{c} {n}' for c, n in sorted(tracks.items())))
    print(f'annotations written to {osp.abspath(paths["annotations"])}')
    print(f'frames written to {osp.abspath(paths["images"])}')
    if paths['videos']:
        print(f'videos written to {osp.abspath(osp.dirname(paths["videos"][0]))}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
