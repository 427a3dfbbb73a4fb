"""The benchmark tools run at tiny sizes and write what they say (no timings asserted)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from small_run import REPO  # tests/tools/small_run.py


def run(tool, *args):
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'analysis', tool), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_benchmark_eval_tiny(tmp_path):
    out = tmp_path / 'eval.json'
    stdout = run('benchmark_eval.py', '--num-images', '30', '--dets', '10', '--repeat', '1',
                 '--warmup', '0', '--out', str(out))
    record = json.loads(out.read_text())
    assert record['identical_ap'] is True
    assert [r['what'] for r in record['rows']][:2] == [
        'pycocotools: keypoints', 'pycocotools: keypoints + boxes']
    assert 'x pycocotools kpt' in stdout


def test_benchmark_export_tiny(tmp_path):
    out = tmp_path / 'export.json'
    run('benchmark_export.py', '--sizes', 'nano', '--inputs', '320', '--repeat', '1',
        '--warmup', '0', '--out', str(out))
    rows = json.loads(out.read_text())['rows']
    assert len(rows) == 1 and rows[0]['model'] == 'nano' and rows[0]['onnxruntime_ms'] > 0


def benchmark_suite(tmp_path, *parts):
    out = tmp_path / 'bench.json'
    stdout = run('benchmark.py', '--sizes', 'nano', '--inputs', '160', '--repeat', '1',
                 '--warmup', '0', '--batch-size', '1', '--train-input', '160',
                 '--pipeline-images', '6', '--parts', *parts, '--train-precisions', 'fp32',
                 'bf16-cl', '--out', str(out))
    return json.loads(out.read_text()), stdout


def test_benchmark_suite_tiny_inference_parts(tmp_path):
    """The inference parts of tools/analysis/benchmark.py at tiny sizes (no peer)."""
    record, stdout = benchmark_suite(tmp_path, 'model', 'pipeline', 'postprocess')
    results = record['results']
    assert {r['variant'] for r in results['model']} == {'stock', 'kpt', 'kpt2', 'kpt2-dw',
                                                        'light'}
    model = {r['variant']: r for r in results['model']}
    # nano's stacks are depthwise-separable, and so is its keypoint stack of two by default
    assert model['kpt2-dw']['gflops'] == model['kpt2']['gflops'] == model['kpt']['gflops']
    # the keypoint branch costs something, the light one less, stock nothing
    assert model['stock']['gflops'] < model['light']['gflops'] < model['kpt']['gflops']
    assert model['stock']['mparams'] < model['light']['mparams'] < model['kpt']['mparams']
    assert {r['variant'] for r in results['pipeline']} == {'stock', 'kpt'}
    post = {r['variant']: r for r in results['postprocess']}
    assert post['kpt']['detections'] <= 100 < post['stock']['detections']
    assert '== targets' in stdout and record['checks']


@pytest.mark.slow  # ~2 min: a training step per variant and precision, a process per memory row
def test_benchmark_suite_tiny_training_and_memory(tmp_path):
    """The training and memory parts of tools/analysis/benchmark.py at tiny sizes."""
    record, stdout = benchmark_suite(tmp_path, 'train', 'memory')
    results = record['results']
    assert len(results['train']) == 10 and len(results['memory']) == 10
    assert {r['precision'] for r in results['train']} == {'fp32', 'bf16-cl'}
    assert 'training step nano kpt bf16-cl:' in stdout
    mem = {(r['mode'], r['variant']): r['peak_rss_mib'] for r in results['memory']}
    assert mem[('train', 'stock')] != mem[('inference', 'stock')]  # measured per process
