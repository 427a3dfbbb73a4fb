"""`make demo`'s tool, shortened (8 generated training images, 2 epochs): every step runs
as the printed command (generate, train, test, export, verify), the per-class table shows
PyTorch's and ONNX Runtime's AP, pictures and the record are written, and a run that misses
the floor says so (and with --check-floor exits with status 3)."""
import json
import subprocess
import sys

from small_run import REPO  # tests/tools/small_run.py


def test_demo_runs_every_step_and_reports_a_missed_floor(tmp_path):
    data, work = tmp_path / 'data', tmp_path / 'demo'
    proc = subprocess.run(
        [sys.executable, 'tools/demo_synthetic.py', '--data-root', str(data), '--num-train',
         '8', '--num-val', '3', '--epochs', '2', '--work-dir', str(work), '--num-pictures',
         '2', '--check-floor'], cwd=REPO, capture_output=True, text=True, timeout=900)
    out = proc.stdout
    assert proc.returncode == 3, out[-3000:] + proc.stderr[-3000:]
    for step in ('generate', 'train', 'test', 'export', 'verify'):
        assert f'[{step}] + ' in out
    assert 'expected floor' in out and 'MISSED' in out
    table = out[out.index('==== yolox-kpt demo'):]
    for cls in ('all', 'vehicle', 'vehicle_face', 'pedestrian', 'cyclist'):
        assert f'\n{cls} ' in table
    record = json.loads((work / 'demo.json').read_text())
    assert record['floor_reached'] is False
    assert set(record['step_minutes']) == {'generate', 'train', 'test', 'export', 'verify'}
    # the two evaluations scored the same images with the same metric names
    assert set(record['onnx_metrics']) <= set(record['metrics'])
    assert 'kpt_AP_vehicle' in record['onnx_metrics']
    assert (work / 'onnx' / 'end2end.onnx').is_file()
    assert len(list((work / 'pictures').glob('*.jpg'))) == 2
