"""Draw boxes, keypoints and skeletons on images: a PyTorch checkpoint or an exported model.

MODEL is a config (then give CHECKPOINT) or an exported model (end2end.onnx, or a TensorRT
engine with yolox_kpt_runtime.json beside it, as tools/deploy.py writes). INPUT is an image
or a folder of images. Pictures go to --out-dir with the input's file names, and with
--out-json the detections (original pixels) too. A config whose classes or keypoints differ
from the checkpoint's is refused. With --calibration (a camera calibration JSON, see
docs/geometry.md) every vehicle, cyclist and pedestrian gets its distance (and heading) on
the road, drawn under its box and written to the JSON as "ground".

Examples:
    python tools/demo/image_demo.py data/synthetic_driving/images/val \\
        configs/yolox-kpt/yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py \\
        work_dirs/demo/best_coco_kpt_AP_epoch_20.pth --out-dir work_dirs/image_demo
    python tools/demo/image_demo.py frame.jpg work_dirs/deploy/end2end.onnx --score-thr 0.5
    python tools/demo/image_demo.py frame.jpg work_dirs/deploy/end2end.onnx \
        --calibration configs/calibration/example_1280x720.json --out-json work_dirs/f.json
"""
import json
import os
import os.path as osp
import time

import cv2
from tqdm import tqdm

from yolox_kpt.runtime import estimate_labels, estimates_json, ground_estimates, load_calibration
from yolox_kpt.utils.cli import add_model_args, tool_parser
from yolox_kpt.utils.media import list_images, read_image


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('input', help='image file or folder')
    add_model_args(parser)
    parser.add_argument('--out-dir', default='work_dirs/image_demo')
    parser.add_argument('--out-json', help='also write the detections to this JSON file')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='keypoint score to draw')
    parser.add_argument('--calibration', help='camera calibration JSON: distances on the road')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from yolox_kpt.apis import tool_inferencer
    from yolox_kpt.visualization import draw_frame, frame_visualizer

    files = list_images(args.input)
    calib = load_calibration(args.calibration) if args.calibration else None
    inferencer = tool_inferencer(args, 'tools/demo/image_demo.py')
    vis = frame_visualizer(inferencer.layout, kpt_score_thr=args.kpt_thr)
    os.makedirs(args.out_dir, exist_ok=True)
    records, seconds = [], 0.0
    for path in tqdm(files, desc='images'):
        image = read_image(path)
        start = time.perf_counter()
        dets = inferencer(image, score_thr=args.score_thr)
        seconds += time.perf_counter() - start
        records.append(dict(file=osp.basename(path), detections=dets.to_json()))
        ground = calib and ground_estimates(dets, calib, score_thr=args.kpt_thr,
                                            image_size=image.shape[1::-1])
        for det, est in zip(records[-1]['detections'], estimates_json(ground or [])):
            det['ground'] = est
        cv2.imwrite(osp.join(args.out_dir, osp.basename(path)),
                    draw_frame(vis, image, dets, texts=ground and estimate_labels(ground)))
    print(f'{len(files)} images, {sum(len(r["detections"]) for r in records)} detections, '
          f'{1000 * seconds / len(files):.1f} ms per image (model and post-processing)')
    print(f'pictures written to {osp.abspath(args.out_dir)}')
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(records, f, indent=1)
        print(f'detections written to {osp.abspath(args.out_json)}')


if __name__ == '__main__':
    main()
