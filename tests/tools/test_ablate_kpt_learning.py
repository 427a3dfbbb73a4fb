"""The ablation tool, short: one row trains and tests with the stock tools and lands in the
table and its JSON."""
import json
import os.path as osp
import subprocess
import sys

from small_run import REPO, small_run_options  # tests/tools/small_run.py


def test_ablation_row_trains_tests_and_reports(synthetic_data, tmp_path):
    data = synthetic_data(num_train=4, num_val=2, seed=61)
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'analysis', 'ablate_kpt_learning.py'),
         '--rows', 'l1+oksa', '--work-dir', str(tmp_path), '--cfg-options',
         *small_run_options(data, epochs=1, batch_size=2)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    table = json.loads((tmp_path / 'ablation.json').read_text())['rows']
    row = table['l1+oksa']
    assert (row['loss'], row['assigner']) == ('L1', 'OKS-aware SimOTA')
    assert 0 <= row['metrics']['bbox_mAP'] <= 1  # one epoch on 4 images: about 0
    assert (tmp_path / 'l1+oksa' / 'results.pkl').is_file()
    # the row's options reached the run: no OKS loss, OKS-aware assignment
    cfg_text = next((tmp_path / 'l1+oksa').glob('*.py')).read_text()
    assert "loss_kpt_oks=None" in cfg_text and "dynamic_k_indicator='oks'" in cfg_text
    assert 'l1+oksa' in proc.stdout and 'table written to' in proc.stdout
