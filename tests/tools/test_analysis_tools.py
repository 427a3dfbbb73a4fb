"""Analysis tools on generated data: browse the training pipeline, read and draw a
results.pkl (ground truth | prediction), confusion matrix, FLOPs, log plots."""
import json
import os.path as osp
import pickle
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.testing import results_from_ground_truth
from yolox_kpt.visualization import score_color

from small_run import CONFIG, REPO, small_run_options  # tests/tools/small_run.py

LAYOUT = KeypointLayout.from_config(Config.fromfile(CONFIG).keypoint_layout)


def run(tool, *args, ok=True):
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'analysis', tool),
                           *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def data(synthetic_data):
    return synthetic_data(num_train=4, num_val=3, seed=31)


def data_options(root):
    return ['--cfg-options', *small_run_options(root, epochs=1, batch_size=2)]


def test_browse_dataset_draws_the_pipeline_output(data, tmp_path):
    log = run('browse_dataset.py', CONFIG, '--num', 3, '--out-dir', tmp_path,
              *data_options(data)).stdout
    files = sorted(tmp_path.glob('*.jpg'))
    assert len(files) == 3 and f'drawn to {tmp_path}' in log
    # the CPU recipe resizes 320x256 frames to 320 and pads to a square
    assert all(cv2.imread(str(f)).shape == (320, 320, 3) for f in files)


@pytest.fixture(scope='module')
def results_pkl(data, tmp_path_factory):
    results, num_gt, num_kpts = results_from_ground_truth(data, 0.0, LAYOUT)
    path = tmp_path_factory.mktemp('results') / 'results.pkl'
    with open(path, 'wb') as f:
        pickle.dump(results, f)
    return path, results


def test_show_results_summary_and_side_by_side(data, results_pkl, tmp_path):
    path, results = results_pkl
    log = run('show_results.py', CONFIG, path, '--out-dir', tmp_path, '--num', 2,
              *data_options(data)).stdout
    summary = json.loads((tmp_path / 'summary.json').read_text())['classes']
    gt = json.loads((data / 'annotations' / 'val.json').read_text())
    for cat in gt['categories']:
        n = sum(a['category_id'] == cat['id'] for a in gt['annotations'])
        # predictions made from the ground truth: as many detections as labels
        assert summary[cat['name']]['labelled'] == summary[cat['name']]['detections'] == n
    assert 'ground truth | prediction' in log
    first = results[0]
    drawn = cv2.imread(str(tmp_path / f'{first["img_id"]:06d}.jpg'))[..., ::-1]
    h, w = cv2.imread(str(data / 'images' / 'val' / first['img_path'])).shape[:2]
    assert drawn.shape == (h, 2 * w, 3)
    # a predicted keypoint on the right half, in the colour of its score 0.9
    pred = first['pred_instances']
    vehicles = [i for i, lb in enumerate(pred['labels'].tolist()) if LAYOUT.class_slots[lb]]
    i = vehicles[0]
    slot = next(s for s in LAYOUT.class_slots[int(pred['labels'][i])]
                if pred['keypoint_scores'][i, s] > 0.5)
    x, y = pred['keypoints'][i, slot].round().int().tolist()
    assert np.abs(drawn[y, w + x].astype(int) - score_color(0.9, 0.3)).max() < 60


def test_confusion_matrix_counts(data, results_pkl, tmp_path):
    path, results = results_pkl
    # one detection relabelled: vehicle -> cyclist, one dropped, one spurious box added
    import torch
    changed = [dict(r, pred_instances=dict(r['pred_instances'])) for r in results]
    pred = changed[0]['pred_instances']
    labels = pred['labels'].clone()
    v = int((labels == 0).nonzero()[0])
    labels[v] = 3
    pred['labels'] = labels
    for key in ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores'):
        pred[key] = torch.cat([pred[key], pred[key][:1]])
    pred['bboxes'][-1] = torch.tensor([0., 0., 3., 3.])
    dropped = dict(changed[1]['pred_instances'])
    for key in dropped:
        dropped[key] = dropped[key][1:]
    dropped_label = int(changed[1]['pred_instances']['labels'][0])
    changed[1]['pred_instances'] = dropped
    bad = tmp_path / 'changed.pkl'
    with open(bad, 'wb') as f:
        pickle.dump(changed, f)
    run('confusion_matrix.py', CONFIG, bad, '--out-dir', tmp_path, *data_options(data))
    matrix = np.array(json.loads((tmp_path / 'confusion_matrix.json').read_text())['matrix'])
    gt = json.loads((data / 'annotations' / 'val.json').read_text())
    counts = np.bincount([LAYOUT.classes.index(c['name']) for a in gt['annotations']
                          for c in gt['categories'] if c['id'] == a['category_id']],
                         minlength=4)
    assert matrix[0, 3] == 1 and matrix[dropped_label, 4] == 1
    assert matrix[4].sum() == 1  # the spurious box
    expected_diag = counts.copy()
    expected_diag[0] -= 1
    expected_diag[dropped_label] -= 1
    assert np.array_equal(np.diag(matrix)[:4], expected_diag)
    assert matrix[:4].sum() == counts.sum()
    png = cv2.imread(str(tmp_path / 'confusion_matrix.png'))
    assert png is not None and png.shape[0] > 200


def test_get_flops_keypoint_branch_share(tmp_path):
    out = tmp_path / 'flops.json'
    run('get_flops.py', CONFIG, '--shape', 320, 256, '--out', out)
    info = json.loads(out.read_text())['models'][0]
    parts = info['parts']
    assert info['input'] == [320, 256]
    assert 0 < parts['keypoint_branch']['flops'] < parts['bbox_head']['flops']
    total = sum(parts[p]['flops'] for p in ('backbone', 'neck', 'bbox_head'))
    assert total == pytest.approx(info['flops'], rel=1e-6)
    assert info['params'] == sum(parts[p]['params'] for p in ('backbone', 'neck', 'bbox_head'))


def test_plot_logs(tmp_path):
    log = tmp_path / 'run' / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [dict(loss=10 - i, loss_kpt_oks=5 - i / 2, step=10 * i, epoch=1) for i in range(5)]
    lines += [{'coco/bbox_mAP': 0.2 * e, 'coco/kpt_AP': 0.1 * e, 'step': e} for e in (1, 2)]
    log.write_text('\n'.join(json.dumps(x) for x in lines))
    out = tmp_path / 'plot.png'
    proc = run('plot_logs.py', log, '--out', out)
    assert f'written to {out}' in proc.stdout
    img = cv2.imread(str(out))
    assert img.shape == (450, 1200, 3)
    # no validation records: the losses alone, one panel
    train_only = tmp_path / 'train_only.json'
    train_only.write_text('\n'.join(json.dumps(x) for x in lines[:5]))
    run('plot_logs.py', train_only, '--out', tmp_path / 'train_only.png')
    assert cv2.imread(str(tmp_path / 'train_only.png')).shape == (450, 700, 3)
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1}\nnot json\n')
    proc = run('plot_logs.py', bad, ok=False)
    assert proc.returncode != 0 and f'{bad}:2: not a JSON line' in proc.stderr


def test_stock_test_show_dir_draws_keypoints(data, tmp_path):
    """tools/test.py --show-dir draws with KptDetLocalVisualizer: labels | prediction, the
    labelled tyre points at their pixels in the vehicle colour."""
    from yolox_kpt.testing import confident_random_checkpoint
    images = sorted((data / 'images' / 'val').glob('*.jpg'))
    ckpt = confident_random_checkpoint(Config.fromfile(CONFIG), str(tmp_path / 'm.pth'),
                                       str(images[0]))
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'test.py'), CONFIG, ckpt,
                           '--work-dir', str(tmp_path / 'work'), '--show-dir', 'pictures',
                           *data_options(data)], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    drawn = sorted((tmp_path / 'work').glob('*/pictures/*.jpg'))
    assert len(drawn) == len(images)
    gt = json.loads((data / 'annotations' / 'val.json').read_text())
    vehicle = next(c['id'] for c in gt['categories'] if c['name'] == 'vehicle')
    changed, total = 0, 0
    for img in gt['images']:
        pic = cv2.imread(str(next(p for p in drawn if p.name == img['file_name'])))[..., ::-1]
        assert pic.shape == (img['height'], 2 * img['width'], 3)
        for a in gt['annotations']:
            if a['image_id'] != img['id'] or a['category_id'] != vehicle:
                continue
            for x, y, v in np.asarray(a['keypoints']).reshape(-1, 3):
                if v == 2:
                    # the filled dot is not the image's own colour there any more
                    orig = cv2.imread(str(data / 'images' / 'val' / img['file_name']))
                    total += 1
                    changed += np.abs(pic[round(y), round(x)].astype(int) -
                                      orig[round(y), round(x)][::-1]).max() > 40
    assert total > 0 and changed >= 0.8 * total, (changed, total)
