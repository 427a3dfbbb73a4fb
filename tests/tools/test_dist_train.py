"""tools/dist_train.sh: 2 processes on PyTorch's distributed engine (gloo on CPU)."""
import os
import subprocess
import sys

from yolox_kpt.datasets.synthetic_driving import generate_synthetic_driving

from small_run import CONFIG, REPO, small_run_options  # tests/tools/small_run.py

def test_two_process_training_shards_the_data(tmp_path):
    root = tmp_path / 'data'
    generate_synthetic_driving(root, num_train=8, num_val=2, seed=2)
    options = small_run_options(root, epochs=1, batch_size=2)
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
