"""Find the frames worth labelling: run a model over a folder of images or a video and list
the frames with chosen classes above a score and a size.

MODEL is a config (then give CHECKPOINT; a config whose classes or keypoints differ from the
checkpoint's is refused) or an exported model. A frame is a hit when at
least one detection has a class in --classes (all classes by default), a score >= --score-thr
and a box at least --min-height pixels tall and --min-area pixels^2 large. Writes JSON (every
hit with its detections), and optionally --list (one frame per line), --copy-to (the hit
frames as image files; video frames are written as JPEG named by frame index) and --sheet
(the first hits with their detections drawn, in one picture). With --calibration (a camera
calibration JSON, see docs/geometry.md) each hit detection carries "ground": its distance,
lateral offset and heading on the road from its contact points (and the box-bottom
baseline), so hits can also be chosen by distance afterwards. With --track (a video, or a
folder of frames in name order) the objects are tracked over the frames looked at
(yolox_kpt.runtime.tracking: ByteTrack-style, tyre and wheel keypoints in the matching):
each hit detection carries its "track_id", only tracked detections count, and "tracks"
sums up each hit track (class, frames, first and last frame), so a long sequence gives
each object once instead of once a frame.

Examples:
    python tools/mining/mine_frames.py recordings/drive03.mp4 work_dirs/deploy/end2end.onnx \\
        --classes cyclist pedestrian --score-thr 0.5 --min-height 40 --every 5 \\
        --copy-to work_dirs/mining/drive03_frames
    python tools/mining/mine_frames.py data/new_frames/ CONFIG CHECKPOINT --classes vehicle \\
        --out work_dirs/mining/vehicles.json --list work_dirs/mining/vehicles.txt \
        --calibration configs/calibration/example_1280x720.json
    python tools/mining/mine_frames.py recordings/drive03.mp4 work_dirs/deploy/end2end.onnx \\
        --classes cyclist --every 2 --track --out work_dirs/mining/cyclists.json
"""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
from tqdm import tqdm

from yolox_kpt.runtime import estimate_labels, estimates_json, ground_estimates, load_calibration
from yolox_kpt.runtime.tracking import KeypointTracker, track_labels
from yolox_kpt.utils.cli import add_model_args, tool_parser
from yolox_kpt.utils.media import iter_frames


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('source', help='folder of images or a video file')
    add_model_args(parser, score_thr=0.5)
    parser.add_argument('--classes', nargs='+', help='class names to look for (default all)')
    parser.add_argument('--min-height', type=float, default=0, help='box height, pixels')
    parser.add_argument('--min-area', type=float, default=0, help='box area, pixels^2')
    parser.add_argument('--every', type=int, default=1, help='video: look at every N-th frame')
    parser.add_argument('--out', default='work_dirs/mining/hits.json')
    parser.add_argument('--list', help='also write the hit frames, one per line')
    parser.add_argument('--copy-to', help='also copy (images) or write (video) the hit frames')
    parser.add_argument('--sheet', help='also write a contact sheet: the first --sheet-size '
                        'hit frames with their hits drawn, in one image')
    parser.add_argument('--sheet-size', type=int, default=12)
    parser.add_argument('--calibration', help='camera calibration JSON: distances on the road')
    parser.add_argument('--track', action='store_true',
                        help='track objects over the frames: hits carry a track_id')
    return parser.parse_args(argv)


def contact_sheet(tiles, columns=4, width=320):
    """One BGR image of ``tiles`` (BGR images) resized to ``width``, ``columns`` a row."""
    tiles = [cv2.resize(t, (width, round(t.shape[0] * width / t.shape[1]))) for t in tiles]
    height = max(t.shape[0] for t in tiles)
    rows = [tiles[i:i + columns] for i in range(0, len(tiles), columns)]
    blank = np.full((height, width, 3), 255, np.uint8)
    return np.vstack([np.hstack([cv2.copyMakeBorder(t, 0, height - t.shape[0], 0, 0,
                                                    cv2.BORDER_CONSTANT, value=(255, 255, 255))
                                 for t in row] + [blank] * (columns - len(row)))
                      for row in rows])


def main(argv=None):
    args = parse_args(argv)
    from yolox_kpt.apis import tool_inferencer
    from yolox_kpt.visualization import draw_frame, frame_visualizer

    calib = load_calibration(args.calibration) if args.calibration else None
    inferencer = tool_inferencer(args, 'tools/mining/mine_frames.py')
    names = inferencer.layout.classes
    wanted = args.classes or list(names)
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise SystemExit(f'--classes {unknown} not in the model\'s classes {list(names)}')
    wanted_ids = np.array([names.index(c) for c in wanted])
    if args.copy_to:
        os.makedirs(args.copy_to, exist_ok=True)
    hits, seen, tiles = [], 0, []
    vis = frame_visualizer(inferencer.layout) if args.sheet else None
    tracker = args.track and KeypointTracker.for_score_thr(inferencer.layout, args.score_thr)
    tracks = {}
    for name, seconds, image in tqdm(iter_frames(args.source, args.every), desc='frames'):
        seen += 1
        dets = inferencer(image, score_thr=tracker.low_thr if tracker else args.score_thr)
        track_ids = None
        if tracker:
            tracked = tracker.update(dets)
            dets, track_ids = tracked.detections, tracked.track_ids
        wh = dets.bboxes[:, 2:] - dets.bboxes[:, :2]
        keep = (np.isin(dets.labels, wanted_ids) & (dets.scores >= args.score_thr) &
                (wh[:, 1] >= args.min_height) & (wh[:, 0] * wh[:, 1] >= args.min_area))
        if not keep.any():
            continue
        hits.append(dict(frame=name, seconds=seconds, detections=dets[keep].to_json()))
        # estimated over all detections: a vehicle's face may be one that is not a hit
        ground = calib and [g for g, k in zip(ground_estimates(
            dets, calib, image_size=image.shape[1::-1]), keep) if k]
        for det, est in zip(hits[-1]['detections'], estimates_json(ground or [])):
            det['ground'] = est
        if tracker:
            for det, tid in zip(hits[-1]['detections'], track_ids[keep]):
                det['track_id'] = int(tid)
                t = tracks.setdefault(int(tid), dict(label=det['label'], frames=0,
                                                     first=name, last=name))
                t['frames'] += 1
                t['last'] = name
        if args.sheet and len(tiles) < args.sheet_size:
            texts = ground and estimate_labels(ground)
            if tracker:
                texts = track_labels(track_ids[keep], texts)
            tiles.append(draw_frame(vis, image, dets[keep], fast=True, texts=texts))
        if args.copy_to:
            target = osp.join(args.copy_to, name)
            if osp.isdir(args.source):
                shutil.copy2(osp.join(args.source, name), target)
            else:
                cv2.imwrite(target, image)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(source=args.source, model=args.model, classes=wanted,
                       score_thr=args.score_thr, min_height=args.min_height,
                       min_area=args.min_area, every=args.every, frames_seen=seen,
                       calibration=calib and calib.to_dict(), track=args.track,
                       tracks={str(k): v for k, v in sorted(tracks.items())} if tracker
                       else None, keypoint_layout=inferencer.layout.to_config(), hits=hits),
                  f, indent=1)
    print(f'{len(hits)} of {seen} frames have {", ".join(wanted)} '
          f'(score >= {args.score_thr}, height >= {args.min_height} px)')
    if tracker:
        print(f'{len(tracks)} tracked objects in the hits')
    print(f'hits written to {osp.abspath(args.out)}')
    if args.list:
        with open(args.list, 'w') as f:
            f.writelines(h['frame'] + '\n' for h in hits)
        print(f'frame list written to {osp.abspath(args.list)}')
    if args.copy_to:
        print(f'hit frames written to {osp.abspath(args.copy_to)}')
    if args.sheet and tiles:
        os.makedirs(osp.dirname(osp.abspath(args.sheet)), exist_ok=True)
        cv2.imwrite(args.sheet, contact_sheet(tiles))
        print(f'contact sheet of {len(tiles)} hit frames written to {osp.abspath(args.sheet)}')


if __name__ == '__main__':
    main()
