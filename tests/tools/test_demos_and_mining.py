"""Image and video demos and the mining tool, each with a PyTorch checkpoint and with the
exported ONNX model: outputs exist, sizes and counts are right, keypoints are painted where
the model put them, and PyTorch and ONNX Runtime demos agree."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from yolox_kpt.testing import confident_random_checkpoint
from yolox_kpt.visualization import score_color

from small_run import CONFIG, REPO  # tests/tools/small_run.py

ORT_DYNAMIC = osp.join(REPO, 'deploy_configs', 'keypoint-detection_onnxruntime_dynamic.py')


def run(tool, *args):
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', *tool.split('/')),
                           *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def models(synthetic_data, tmp_path_factory):
    """Val images, a confident random nano checkpoint and its ONNX export."""
    from yolox_kpt.deploy.export import export_onnx
    root = synthetic_data(num_train=1, num_val=3, seed=21)
    images = sorted(str(p) for p in (root / 'images' / 'val').glob('*.jpg'))
    tmp = tmp_path_factory.mktemp('demo_models')
    cfg = Config.fromfile(CONFIG)
    ckpt = confident_random_checkpoint(cfg, str(tmp / 'model.pth'), images[0])
    onnx = export_onnx(CONFIG, ORT_DYNAMIC, ckpt, images[0], str(tmp / 'deploy'))
    return dict(root=root, images=images, image_dir=str(root / 'images' / 'val'),
                ckpt=ckpt, onnx=onnx)


def test_image_demo_pytorch_and_onnx(models, tmp_path):
    outs = {}
    for name, model in (('pytorch', [CONFIG, models['ckpt']]), ('onnx', [models['onnx']])):
        out_dir = tmp_path / name
        log = run('demo/image_demo.py', models['image_dir'], *model, '--out-dir', out_dir,
                  '--out-json', tmp_path / f'{name}.json', '--score-thr', 0.3)
        assert f'pictures written to {out_dir}' in log
        for img in models['images']:
            drawn = cv2.imread(str(out_dir / osp.basename(img)))
            assert drawn.shape == cv2.imread(img).shape
        outs[name] = json.loads((tmp_path / f'{name}.json').read_text())
    assert [r['file'] for r in outs['pytorch']] == [osp.basename(p) for p in models['images']]
    dets = [d for r in outs['pytorch'] for d in r['detections']]
    assert len(dets) > 5
    # PyTorch and the exported model: the same detections through the same tool
    for pt, ort in zip(outs['pytorch'], outs['onnx']):
        assert len(pt['detections']) == len(ort['detections'])
        def order(dets):
            return sorted(dets, key=lambda d: (d['label'], d['bbox']))
        for a, b in zip(order(pt['detections']), order(ort['detections'])):
            assert a['label'] == b['label']
            assert np.allclose(a['bbox'], b['bbox'], atol=1.0)

    # keypoints painted at their pixels, in their score's colour (JPEG: within a tolerance)
    hits, total = 0, 0
    for rec in outs['pytorch']:
        drawn = cv2.imread(str(tmp_path / 'pytorch' / rec['file']))[..., ::-1]
        h, w = drawn.shape[:2]
        for det in rec['detections']:
            for x, y, s in det['keypoints'].values():
                if s < 0.3 or not (0 <= round(x) < w and 0 <= round(y) < h):
                    continue
                total += 1
                hits += np.abs(drawn[round(y), round(x)].astype(int) -
                               score_color(s, 0.3)).max() < 60
    assert total > 0 and hits / total > 0.5, (hits, total)


def make_video(images, path, repeat=2):
    frames = [cv2.imread(p) for p in images] * repeat
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return len(frames), (w, h)


@pytest.mark.parametrize('backend', ['pytorch', 'onnx'])
def test_video_demo(models, tmp_path, backend):
    video = tmp_path / 'drive.mp4'
    num, size = make_video(models['images'], video)
    model = [CONFIG, models['ckpt']] if backend == 'pytorch' else [models['onnx']]
    out = tmp_path / 'out' / 'drive_annotated.mp4'
    log = run('demo/video_demo.py', video, *model, '--out', out)
    assert f'{num} frames: model' in log and 'fps' in log
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == num
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            ) == size
    ok, frame = cap.read()
    assert ok and np.abs(frame.astype(int) - cv2.imread(models['images'][0])).max() > 100


def test_mining_folder_and_video(models, tmp_path):
    demo_json = tmp_path / 'demo.json'
    run('demo/image_demo.py', models['image_dir'], models['onnx'], '--out-dir',
        tmp_path / 'demo', '--out-json', demo_json, '--score-thr', 0.5)
    expected = sorted(r['file'] for r in json.loads(demo_json.read_text())
                      if any(d['label'] == 'vehicle' and d['bbox'][3] - d['bbox'][1] >= 20
                             for d in r['detections']))
    out = tmp_path / 'hits.json'
    log = run('mining/mine_frames.py', models['image_dir'], models['onnx'], '--classes',
              'vehicle', '--score-thr', 0.5, '--min-height', 20, '--out', out, '--list',
              tmp_path / 'hits.txt', '--copy-to', tmp_path / 'frames', '--sheet',
              tmp_path / 'sheet.jpg')
    hits = json.loads(out.read_text())
    assert hits['frames_seen'] == 3 and f'written to {out}' in log
    assert sorted(h['frame'] for h in hits['hits']) == expected
    assert all(d['label'] == 'vehicle' and d['score'] >= 0.5 and d['bbox'][3] - d['bbox'][1]
               >= 20 for h in hits['hits'] for d in h['detections'])
    assert (tmp_path / 'hits.txt').read_text().split() == [h['frame'] for h in hits['hits']]
    assert sorted(p.name for p in (tmp_path / 'frames').iterdir()) == expected
    if expected:  # 320x256 frames, 4 to a row of 320-pixel tiles
        rows = (len(expected) + 3) // 4
        assert cv2.imread(str(tmp_path / 'sheet.jpg')).shape == (256 * rows, 4 * 320, 3)

    video = tmp_path / 'drive.mp4'
    make_video(models['images'], video, repeat=2)  # 6 frames
    run('mining/mine_frames.py', video, CONFIG, models['ckpt'], '--every', 2, '--out',
        tmp_path / 'video_hits.json', '--score-thr', 0.3, '--copy-to', tmp_path / 'vframes')
    hits = json.loads((tmp_path / 'video_hits.json').read_text())
    assert hits['frames_seen'] == 3
    assert {h['frame'] for h in hits['hits']} <= {'frame_000000.jpg', 'frame_000002.jpg',
                                                  'frame_000004.jpg'}
    assert len(list((tmp_path / 'vframes').iterdir())) == len(hits['hits']) > 0


def test_bad_inputs_are_named(models, tmp_path):
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'demo', 'image_demo.py'),
                           str(tmp_path / 'nothing'), models['onnx']], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and 'nothing: no such file or folder' in proc.stderr
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'mining', 'mine_frames.py'),
                           models['image_dir'], models['onnx'], '--classes', 'truck'],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "['truck'] not in the model's classes" in proc.stderr
