"""tools/analysis/eval_results.py scores a results.pkl in mmdet's dump format."""
import json
import os.path as osp
import pickle
import subprocess
import sys

import pytest
from mmengine.config import Config

from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.testing import results_from_ground_truth

from small_run import CONFIG, REPO, small_run_options  # tests/tools/small_run.py

TOOL = osp.join(REPO, 'tools', 'analysis', 'eval_results.py')
LAYOUT = KeypointLayout.from_config(Config.fromfile(CONFIG).keypoint_layout)


@pytest.fixture(scope='module')
def data(synthetic_data):
    return synthetic_data(num_train=1, num_val=4, seed=3)


def run_tool(*args):
    proc = subprocess.run([sys.executable, TOOL, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_scores_saved_results(data, tmp_path):
    results, num_gt, num_labelled = results_from_ground_truth(data, 1.0, LAYOUT)
    pkl = tmp_path / 'results.pkl'
    pkl.write_bytes(pickle.dumps(results))
    out = tmp_path / 'metrics.json'
    stdout = run_tool(CONFIG, str(pkl), '--out', str(out), '--cfg-options',
                      *small_run_options(data, 1, 1))
    assert str(out) in stdout
    m = json.loads(out.read_text())
    assert m['coco/bbox_mAP'] == pytest.approx(1.0)
    assert m['coco/kpt_AP_vehicle'] > 0.9
    assert (m['coco/TP'], m['coco/FP'], m['coco/FN']) == (num_gt, 0, 0)
    assert m['coco/kpt_err_px'] == pytest.approx(1.0)
    assert m['coco/kpt_vis_R_front_left_tyre'] == 1.0


def test_format_only_and_wrong_split(data, tmp_path):
    results, num_gt, _ = results_from_ground_truth(data, 0.0, LAYOUT)
    pkl = tmp_path / 'results.pkl'
    pkl.write_bytes(pickle.dumps(results))
    prefix = tmp_path / 'sub' / 'results'
    run_tool(CONFIG, str(pkl), '--format-only', '--outfile-prefix', str(prefix),
             '--cfg-options', *small_run_options(data, 1, 1))
    assert len(json.loads((tmp_path / 'sub' / 'results.bbox.json').read_text())) == num_gt
    results[0]['img_id'] = 99999
    pkl.write_bytes(pickle.dumps(results))
    proc = subprocess.run([sys.executable, TOOL, CONFIG, str(pkl), '--cfg-options',
                           *small_run_options(data, 1, 1)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0 and 'image ids [99999]' in proc.stderr
