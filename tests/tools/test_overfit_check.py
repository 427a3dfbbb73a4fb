"""tools/misc/overfit_check.py: trains on a few generated images and scores them."""
import json
import os.path as osp
import subprocess
import sys

from small_run import CONFIG, REPO  # tests/tools/small_run.py


def test_overfit_check_runs_and_reports(synthetic_data, tmp_path):
    root = synthetic_data(num_train=1, num_val=4, seed=41)
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'misc', 'overfit_check.py'), CONFIG,
         '--ann-file', str(root / 'annotations' / 'val.json'), '--img-dir',
         str(root / 'images' / 'val'), '--iters', '4', '--batch-size', '2', '--size', '320',
         '--work-dir', str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / 'overfit_check.json').read_text())
    assert record['iters'] == 4
    metrics = record['metrics']
    assert 0 <= metrics['bbox_mAP'] <= 1 and 'kpt_AP_vehicle' in metrics
    # each class's APs are printed: a class left behind shows (a class without keypoints has
    # box AP only)
    assert f"vehicle: box AP {metrics['bbox_AP_vehicle']:.3f}, keypoint AP " in proc.stdout
    pedestrian = [ln for ln in proc.stdout.splitlines() if ln.startswith('  pedestrian:')]
    assert pedestrian == [f"  pedestrian: box AP {metrics['bbox_AP_pedestrian']:.3f}"]
    from yolox_kpt.checkpoint import safe_torch_load
    assert safe_torch_load(str(tmp_path / 'iter_4.pth'))['meta']['iter'] == 4
