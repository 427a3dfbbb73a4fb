"""Train with MMDetection's own ``tools/train.py``, with yolox-kpt registered.

This runs mmdet's stock script (shipped in its wheel as ``mmdet/.mim/tools/train.py``)
unchanged after ``import yolox_kpt``: the command line is mmdet's, by construction.

Example:
    python tools/train.py configs/yolox-kpt/yolox-kpt_tiny_8xb8-300e_synthetic-driving.py \
        --work-dir work_dirs/tiny_synth --cfg-options train_dataloader.batch_size=4
    python tools/train.py CONFIG --resume                  # from work_dir's latest checkpoint
    python tools/train.py CONFIG --resume work_dirs/x/epoch_10.pth
    bash tools/dist_train.sh CONFIG 2                       # 2 processes (torchrun)

Run ``python tools/train.py --help`` for mmdet's full option list.
"""
from yolox_kpt.utils import run_mmdet_tool

if __name__ == '__main__':
    run_mmdet_tool('train.py')
