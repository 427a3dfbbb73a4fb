"""Test with MMDetection's own ``tools/test.py``, with yolox-kpt registered.

This runs mmdet's stock script (shipped in its wheel as ``mmdet/.mim/tools/test.py``)
unchanged after ``import yolox_kpt``: the command line is mmdet's, by construction. Before
it runs, a checkpoint trained with other classes or keypoints (names or order) than the
config describes is refused, naming both; a checkpoint without a layout (stock mmdet) is
tested as the config says.

Example:
    python tools/test.py configs/yolox-kpt/yolox-kpt_tiny_8xb8-300e_synthetic-driving.py \
        work_dirs/tiny_synth/epoch_300.pth --out work_dirs/tiny_synth/results.pkl \
        --show-dir vis    # pictures go under the run's work_dir/<timestamp>/vis
    bash tools/dist_test.sh CONFIG CHECKPOINT 2             # 2 processes (torchrun)

Run ``python tools/test.py --help`` for mmdet's full option list.
"""
import os.path as osp
import sys

from yolox_kpt.utils import run_mmdet_tool


def refuse_layout_mismatch(args) -> None:
    """Exit before any work if the checkpoint's keypoint layout differs from the config's.

    The weights' class and keypoint slots are fixed by training: testing them under another
    layout would score every class and keypoint under the wrong name. The checkpoint is read
    once here and again by mmdet's script.

    Args:
        args (argparse.Namespace): mmdet's test.py arguments (config, checkpoint,
            cfg_options).
    """
    from mmengine.config import Config

    from yolox_kpt.apis.layout import resolve_layout
    from yolox_kpt.keypoint_layout import KeypointLayoutError

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    head = (cfg.get('model') or {}).get('bbox_head') or {}
    if cfg.get('keypoint_layout') is None and head.get('keypoint_layout') is None:
        return  # a detector config of mmdet's: no layout to compare
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        return  # mmdet's script says the file is missing
    try:
        resolve_layout(cfg, args.checkpoint, config_name=args.config,
                       checkpoint_name=args.checkpoint)
    except KeypointLayoutError as err:
        sys.exit(f'tools/test.py refuses to run: {err}')


if __name__ == '__main__':
    run_mmdet_tool('test.py', before=refuse_layout_mismatch)
