"""Test with MMDetection's own ``tools/test.py``, with yolox-kpt registered.

This runs mmdet's stock script (shipped in its wheel as ``mmdet/.mim/tools/test.py``)
unchanged after ``import yolox_kpt``: the command line is mmdet's, by construction.

Example:
    python tools/test.py configs/yolox-kpt/yolox-kpt_tiny_8xb8-300e_synthetic-driving.py \
        work_dirs/tiny_synth/epoch_300.pth --out work_dirs/tiny_synth/results.pkl \
        --show-dir vis    # pictures go under the run's work_dir/<timestamp>/vis
    bash tools/dist_test.sh CONFIG CHECKPOINT 2             # 2 processes (torchrun)

Run ``python tools/test.py --help`` for mmdet's full option list.
"""
from yolox_kpt.utils import run_mmdet_tool

if __name__ == '__main__':
    run_mmdet_tool('test.py')
