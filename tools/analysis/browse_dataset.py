"""Look at what training sees: images after the config's training pipeline (Mosaic, affine,
flips, resizing...) with their boxes, keypoints and skeletons drawn.

Writes one picture per sample to --out-dir (named by image id and sample index).

Examples:
    python tools/analysis/browse_dataset.py \\
        configs/yolox-kpt/yolox-kpt_tiny_8xb8-300e_synthetic-driving.py --num 8
    python tools/analysis/browse_dataset.py CONFIG --split val --out-dir work_dirs/browse_val
"""
import os
import os.path as osp

import cv2
import numpy as np
from tqdm import tqdm

from yolox_kpt.utils.cli import add_cfg_options, tool_parser


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--num', type=int, default=10, help='samples to draw')
    parser.add_argument('--out-dir', default='work_dirs/browse_dataset')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmdet.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import yolox_kpt  # noqa: F401
    from yolox_kpt.keypoint_layout import KeypointLayout
    from yolox_kpt.visualization import draw_frame, frame_visualizer

    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    vis = frame_visualizer(KeypointLayout.from_config(cfg.keypoint_layout))
    os.makedirs(args.out_dir, exist_ok=True)
    for i in tqdm(range(min(args.num, len(dataset))), desc='samples'):
        item = dataset[i]
        sample = item['data_samples']
        image = np.ascontiguousarray(item['inputs'].permute(1, 2, 0).numpy())  # BGR
        drawn = draw_frame(vis, image, sample.gt_instances)
        cv2.imwrite(osp.join(args.out_dir, f'{i:04d}_img{sample.img_id}.jpg'), drawn)
    print(f'{min(args.num, len(dataset))} samples of {len(dataset)} ({args.split}) drawn to '
          f'{osp.abspath(args.out_dir)}')


if __name__ == '__main__':
    main()
