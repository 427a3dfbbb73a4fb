"""Image and video demos and the mining tool, each with a PyTorch checkpoint and with the
exported ONNX model: outputs exist, sizes and counts are right, keypoints are painted where
the model put them, and PyTorch and ONNX Runtime demos agree. A config the checkpoint was not
trained with is refused; the checkpoint's skeletons (from the annotation file) are drawn."""
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
    # the hits carry the demo's detections of those frames, keypoints included, and the
    # layout that names them (what tools/mining/export_prelabels.py reads)
    demo = {r['file']: [d for d in r['detections'] if d['label'] == 'vehicle'
                        and d['bbox'][3] - d['bbox'][1] >= 20] for r in
            json.loads(demo_json.read_text())}
    assert all(h['detections'] == demo[h['frame']] for h in hits['hits'])
    assert hits['keypoint_layout']['classes'][0] == 'vehicle'
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


def checkpoint_with_layout(src, layout, path):
    """``src``'s weights with ``layout`` in ``meta.dataset_meta``, as the Runner saves them."""
    import torch
    meta = dict(dataset_meta=dict(classes=tuple(layout['classes']), keypoint_layout=layout))
    torch.save(dict(torch.load(src, map_location='cpu'), meta=meta), path)
    return str(path)


@pytest.fixture(scope='module')
def trained_layout(models):
    """The layout the dataset builds from the annotation file: the config's classes and
    keypoints, plus the file's skeletons."""
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(CONFIG)
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset,
                                  data_root=f"{models['root']}/", pipeline=[]))
    return dataset.metainfo['keypoint_layout']


@pytest.mark.parametrize('tool,mismatch', [('demo/image_demo.py', 'reordered'),
                                           ('demo/video_demo.py', 'one_more_keypoint'),
                                           ('mining/mine_frames.py', 'reordered')])
def test_tools_refuse_a_config_the_checkpoint_was_not_trained_with(
        models, trained_layout, tmp_path, tool, mismatch):
    layout = json.loads(json.dumps(trained_layout))
    if mismatch == 'reordered':
        layout['classes'][:2] = layout['classes'][1::-1]
    else:
        layout['keypoints']['cyclist'].append('handlebar')
        layout['sigmas']['handlebar'] = 0.05
    ckpt = checkpoint_with_layout(models['ckpt'], layout, tmp_path / f'{mismatch}.pth')
    source = models['image_dir']
    if tool == 'demo/video_demo.py':
        source = tmp_path / 'drive.mp4'
        make_video(models['images'], source, repeat=1)
    out = tmp_path / 'out'
    args = dict(image_demo=['--out-dir', out], video_demo=['--out', out / 'v.mp4'],
                mine_frames=['--out', out / 'hits.json'])[osp.basename(tool)[:-3]]
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', *tool.split('/')),
                           str(source), CONFIG, ckpt, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()[-1]
    assert message.startswith(f'tools/{tool}: ')  # a message, not a traceback
    assert ckpt in message and CONFIG in message
    assert f"classes {layout['classes']}" in message
    assert f"classes {trained_layout['classes']}" in message
    if mismatch == 'one_more_keypoint':
        assert "'cyclist': ['front_wheel', 'rear_wheel', 'handlebar']" in message
    assert not out.exists()  # refused before any picture, video or list


def test_image_demo_draws_the_skeletons_of_the_annotation_file(models, trained_layout,
                                                               tmp_path):
    """The same weights with and without the layout the dataset stored: the pictures differ
    exactly by skeleton lines between drawn keypoints (PNG, so pixel for pixel)."""
    images = tmp_path / 'png'
    images.mkdir()
    for path in models['images']:
        cv2.imwrite(str(images / (osp.splitext(osp.basename(path))[0] + '.png')),
                    cv2.imread(path))
    trained = checkpoint_with_layout(models['ckpt'], trained_layout, tmp_path / 'trained.pth')
    for name, ckpt in (('plain', models['ckpt']), ('trained', trained)):
        run('demo/image_demo.py', images, CONFIG, ckpt, '--out-dir', tmp_path / name,
            '--out-json', tmp_path / f'{name}.json', '--score-thr', 0.3)
    records = json.loads((tmp_path / 'trained.json').read_text())
    assert records == json.loads((tmp_path / 'plain.json').read_text())
    from yolox_kpt.keypoint_layout import KeypointLayout
    layout = KeypointLayout.from_config(trained_layout)
    hits = total = 0
    for rec in records:
        drawn = cv2.imread(str(tmp_path / 'trained' / rec['file'])).astype(int)
        plain = cv2.imread(str(tmp_path / 'plain' / rec['file'])).astype(int)
        changed = np.abs(drawn - plain).max(-1) > 40
        lines = np.zeros(changed.shape, np.uint8)
        for det in rec['detections']:
            label = layout.classes.index(det['label'])
            for a, b in layout.skeletons[label]:
                names = [layout.keypoint_names[s] for s in (a, b)]
                pts = [det['keypoints'].get(n) for n in names]
                # drawn as the visualizer draws: predicted v > 0, else score >= its threshold
                states = det.get('visibility')
                if any(p is None or (p[2] < 0.3 if states is None else states[n] == 0)
                       for p, n in zip(pts, names)):
                    continue
                pa, pb = (np.round(p[:2]).astype(int) for p in pts)
                cv2.line(lines, tuple(map(int, pa)), tuple(map(int, pb)), 1, 5)
                x, y = (pa + pb) // 2
                if np.abs(pa - pb).max() >= 12 and 0 < x < lines.shape[1] - 1 and \
                        0 < y < lines.shape[0] - 1:
                    total += 1
                    hits += changed[y - 1:y + 2, x - 1:x + 2].any()
        assert not (changed & (lines == 0)).any()  # nothing but skeleton lines changed
    assert total > 0 and hits / total > 0.6, (hits, total)


def test_tracking_in_mining_and_video_demo(models, tmp_path):
    """--track on a still video: each object keeps one id over the frames; every hit
    detection carries it, "tracks" sums them up, and the demo runs with ids drawn."""
    video = tmp_path / 'still.mp4'
    make_video(models['images'][:1], video, repeat=4)
    out = tmp_path / 'tracked.json'
    log = run('mining/mine_frames.py', video, models['onnx'], '--score-thr', 0.3, '--track',
              '--out', out, '--sheet', tmp_path / 'sheet.jpg')
    hits = json.loads(out.read_text())
    dets = [d for h in hits['hits'] for d in h['detections']]
    assert hits['track'] and dets and all(isinstance(d['track_id'], int) for d in dets)
    ids = [[d['track_id'] for d in h['detections']] for h in hits['hits']]
    # the first frame's objects keep their ids in every frame (the random model's scores
    # move with the video's compression, so later frames may add tracks)
    assert len(ids) == 4 and all(set(ids[0]) <= set(i) and len(set(i)) == len(i) for i in ids)
    assert set(hits['tracks']) == {str(d['track_id']) for d in dets}
    assert all(hits['tracks'][str(i)]['frames'] == 4 for i in ids[0])
    assert f'{len(hits["tracks"])} tracked objects in the hits' in log
    # where the frames' time went, the tracker's included
    stages = dict(item.rsplit(' ', 1) for item in
                  log.split('ms a frame: ')[1].splitlines()[0].split(', '))
    assert {'frames', 'inference', 'tracking', 'hits'} <= set(stages)
    assert float(stages['inference']) > 0 and float(stages['tracking']) > 0
    log = run('demo/video_demo.py', video, models['onnx'], '--track', '--out',
              tmp_path / 'tracked.mp4')
    assert '4 frames: model' in log
