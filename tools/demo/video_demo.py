"""Run a model over a video and write the annotated video (boxes, keypoints, skeletons).

MODEL is a config (then give CHECKPOINT; a config whose classes or keypoints differ from the
checkpoint's is refused) or an exported model (end2end.onnx, or a TensorRT engine with
yolox_kpt_runtime.json beside it). Prints the frames per second of the model
(pre-processing, network, post-processing) and of the whole loop (with decoding, drawing,
encoding). With --calibration (a camera calibration JSON, see docs/geometry.md) every
vehicle, cyclist and pedestrian gets its distance (and heading) on the road drawn under its
box. With --track every object keeps an id over the frames (``#12`` under its box):
yolox_kpt.runtime.tracking's ByteTrack-style tracker, with the tyre and wheel keypoints
in the matching and smoothed per track; the model then also runs down to score 0.1 for
the tracker's second tier, and only tracked objects are drawn.

Examples:
    python tools/demo/video_demo.py drive.mp4 \\
        configs/yolox-kpt/yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py \\
        work_dirs/demo/best_coco_kpt_AP_epoch_20.pth --out work_dirs/video_demo/drive.mp4
    python tools/demo/video_demo.py drive.mp4 work_dirs/deploy/end2end.onnx --every 2 \
        --calibration configs/calibration/example_1280x720.json
    python tools/demo/video_demo.py drive.mp4 work_dirs/deploy/end2end.onnx --track
"""
import os
import os.path as osp
import time

import cv2
from tqdm import tqdm

from yolox_kpt.runtime import estimate_labels, ground_estimates, load_calibration
from yolox_kpt.runtime.tracking import KeypointTracker, track_labels
from yolox_kpt.utils.cli import add_model_args, tool_parser
from yolox_kpt.utils.media import open_video


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('video', help='input video (mp4, avi, ...)')
    add_model_args(parser)
    parser.add_argument('--out', help='output mp4 (default work_dirs/video_demo/<name>.mp4)')
    parser.add_argument('--kpt-thr', type=float, default=0.3)
    parser.add_argument('--every', type=int, default=1, help='process every N-th frame')
    parser.add_argument('--mmdet-draw', action='store_true',
                        help="draw with mmdet's matplotlib visualizer (slower, nicer labels)")
    parser.add_argument('--max-frames', type=int, default=None)
    parser.add_argument('--calibration', help='camera calibration JSON: distances on the road')
    parser.add_argument('--track', action='store_true',
                        help='track objects over the frames and draw their ids')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from yolox_kpt.apis import tool_inferencer
    from yolox_kpt.visualization import draw_frame, frame_visualizer

    calib = load_calibration(args.calibration) if args.calibration else None
    inferencer = tool_inferencer(args, 'tools/demo/video_demo.py')
    cap, fps, size, total = open_video(args.video)
    out = args.out or osp.join('work_dirs', 'video_demo',
                               osp.splitext(osp.basename(args.video))[0] + '.mp4')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    vis = frame_visualizer(inferencer.layout, kpt_score_thr=args.kpt_thr)
    tracker = args.track and KeypointTracker.for_score_thr(inferencer.layout, args.score_thr,
                                                           kpt_thr=args.kpt_thr)
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'), fps / args.every, size)
    model_s, frames, index = 0.0, 0, 0
    start = time.perf_counter()
    with tqdm(total=total or None, desc='frames') as bar:
        while args.max_frames is None or frames < args.max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            bar.update(1)
            index += 1
            if (index - 1) % args.every:
                continue
            t0 = time.perf_counter()
            dets = inferencer(frame, score_thr=tracker.low_thr if tracker else args.score_thr)
            model_s += time.perf_counter() - t0
            if tracker:
                tracked = tracker.update(dets)
                dets, ids = tracked.detections, tracked.track_ids
            texts = calib and estimate_labels(ground_estimates(
                dets, calib, score_thr=args.kpt_thr, image_size=frame.shape[1::-1]))
            if tracker:
                texts = track_labels(ids, texts)
            writer.write(draw_frame(vis, frame, dets, fast=not args.mmdet_draw, texts=texts))
            frames += 1
    total_s = time.perf_counter() - start
    cap.release()
    writer.release()
    if frames == 0:
        raise SystemExit(f'{args.video}: no frame could be read')
    print(f'{frames} frames: model {frames / model_s:.1f} fps, '
          f'whole loop {frames / total_s:.1f} fps')
    print(f'annotated video written to {osp.abspath(out)}')


if __name__ == '__main__':
    main()
