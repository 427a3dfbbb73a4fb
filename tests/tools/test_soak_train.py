"""The soak tool, short (CI's version): runs, samples memory, judges growth."""
import json
import os.path as osp
import subprocess
import sys

from small_run import REPO  # tests/tools/small_run.py


def test_soak_short(tmp_path):
    out = tmp_path / 'soak.json'
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'misc', 'soak_train.py'),
                           '--iters', '30', '--warmup', '10', '--every', '5', '--batch-size',
                           '2', '--num-images', '8', '--max-growth', '0.5', '--out', str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    record = json.loads(out.read_text())
    steps = [s for s, _ in record['samples']]
    assert steps == [5, 10, 15, 20, 25, 30]
    assert all(rss > 100 for _, rss in record['samples'])  # MiB: a real process was measured
    assert record['growth'] < 0.5
