"""tools/dist_train.sh: 2 processes on PyTorch's distributed engine (gloo on CPU)."""
import os
import os.path as osp
import subprocess
import sys

from yolox_kpt.datasets.synthetic_driving import generate_synthetic_driving

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = 'configs/yolox-kpt/yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'


def test_two_process_training_shards_the_data(tmp_path):
    root = tmp_path / 'data'
    generate_synthetic_driving(root, num_train=8, num_val=2, seed=2)
    d = f'{root}/'
    options = [f'train_dataloader.dataset.dataset.data_root={d}',
               f'val_dataloader.dataset.data_root={d}', f'test_dataloader.dataset.data_root={d}',
               f'val_evaluator.ann_file={d}annotations/val.json',
               f'test_evaluator.ann_file={d}annotations/val.json', 'train_cfg.max_epochs=1',
               'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
               'val_dataloader.persistent_workers=False']
    env = dict(os.environ, PYTHON=sys.executable, PORT='29517')
    proc = subprocess.run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
                           str(tmp_path / 'work'), '--cfg-options', *options],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'Distributed training: True' in out
    # 8 images over 2 processes x batch 2: each process runs 2 iterations, not 4.
    assert 'Epoch(train) [1][2/2]' in out
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
