"""Writes the synthetic driving dataset (COCO keypoint JSON + JPEG) used by the demo.

See ``yolox_kpt/data_tools/synthetic_driving.py`` for what the scenes contain and for the
left/right tyre naming convention. ``--camera pinhole`` draws the scenes through a sampled
pinhole camera over a flat road instead, with each image's calibration and every object's
ground-truth distance and heading in the annotation file (what
``tools/analysis/eval_geometry.py`` measures against).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import List, Optional

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from yolox_kpt.data_tools.driving_schema import CLASSES  # noqa: E402
from yolox_kpt.data_tools.synthetic_driving import (  # noqa: E402
    CAMERAS, generate_synthetic_driving)

EPILOG = """\
example:
  python tools/misc/generate_synthetic_driving.py --out-dir data/synthetic_driving \\
      --num-train 240 --num-val 60 --img-size 320 256 --seed 0
  python tools/misc/generate_synthetic_driving.py --out-dir data/synthetic_pinhole \
      --camera pinhole --num-train 0 --num-val 400 --img-size 640 384

writes:
  <out-dir>/annotations/{train,val}.json   COCO keypoints (file_name relative to images/<split>/)
  <out-dir>/images/{train,val}/000000.jpg ...
The same seed always gives byte-identical annotation files; val uses its own random stream.
With --camera pinhole every image entry has a "camera" (its calibration, as a calibration
file holds it) and vehicles/cyclists/pedestrians have distance_m, lateral_m, x_m, y_m,
truncated and (not pedestrians) heading_deg and keypoints_m.
"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate seeded synthetic front-camera road scenes with vehicle, '
        'vehicle_face, pedestrian and cyclist boxes and tyre/wheel keypoints.',
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out-dir', default='data/synthetic_driving',
                        help='output root (default: %(default)s)')
    parser.add_argument('--num-train', type=int, default=240,
                        help='number of train images (default: %(default)s)')
    parser.add_argument('--num-val', type=int, default=60,
                        help='number of val images (default: %(default)s)')
    parser.add_argument('--img-size', type=int, nargs=2, default=(320, 256),
                        metavar=('W', 'H'), help='image width and height (default: 320 256)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: %(default)s)')
    parser.add_argument('--camera', choices=CAMERAS, default='2d',
                        help="'2d': the scenes' 2D perspective layout (default, the demo's "
                        "data); 'pinhole': a sampled calibrated camera over a flat road, with "
                        'ground-truth distances and headings')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing dataset in --out-dir')
    args = parser.parse_args(argv)
    if args.num_train < 0 or args.num_val < 0:
        parser.error('--num-train and --num-val must be >= 0')
    if min(args.img_size) < 64:
        w, h = args.img_size
        parser.error(f'--img-size must be at least 64 64, got {w} {h}')
    if args.seed < 0:
        parser.error(f'--seed must be >= 0, got {args.seed}')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    out = Path(args.out_dir)
    existing = [p for p in (out / 'annotations' / 'train.json', out / 'annotations' / 'val.json')
                if p.exists()]
    if existing and not args.overwrite:
        print(f'error: {out} already holds a dataset ({", ".join(str(p) for p in existing)}); '
              'pass --overwrite to replace it or choose another --out-dir', file=sys.stderr)
        return 1

    start = time.perf_counter()
    paths = generate_synthetic_driving(out, num_train=args.num_train, num_val=args.num_val,
                                       img_size=tuple(args.img_size), seed=args.seed,
                                       progress=True, camera=args.camera)
    elapsed = time.perf_counter() - start

    print(f'wrote synthetic driving dataset to {paths["root"]} '
          f'({args.img_size[0]}x{args.img_size[1]}, {args.camera} camera, seed {args.seed}, '
          f'{elapsed:.1f} s)')
    for split in ('train', 'val'):
        data = json.loads(paths[split].read_text(encoding='utf-8'))
        names = {c['id']: c['name'] for c in data['categories']}
        counts = Counter(names[a['category_id']] for a in data['annotations'])
        empty = len({i['id'] for i in data['images']} -
                    {a['image_id'] for a in data['annotations']})
        per_class = ', '.join(f'{c} {counts.get(c, 0)}' for c in CLASSES)
        print(f'  {split}: {paths[split]}')
        print(f'    images: {len(data["images"])} in {paths["root"] / "images" / split} '
              f'({empty} without objects)')
        print(f'    instances: {per_class}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
