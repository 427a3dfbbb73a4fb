"""``tools/analysis/eval_geometry.py`` on a small pinhole set made by
``tools/misc/generate_synthetic_driving.py --camera pinhole``: exact labelled tyre points
give the true distances, the box bottom is off on angled vehicles, the JSON holds every
bucket, a results.pkl is matched to the labels, and the record renders as a docs table."""
import importlib.util
import json
import os.path as osp
import pickle

import numpy as np
import pytest

from small_run import REPO  # tests/tools/small_run.py


def _load(rel):
    name = '_tool_' + osp.splitext(osp.basename(rel))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, rel))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tools():
    return dict(gen=_load('tools/misc/generate_synthetic_driving.py'),
                geo=_load('tools/analysis/eval_geometry.py'),
                render=_load('tools/misc/render_doc_tables.py'))


@pytest.fixture(scope='module')
def ann_file(tools, tmp_path_factory):
    root = tmp_path_factory.mktemp('pinhole')
    assert tools['gen'].main(['--out-dir', str(root), '--camera', 'pinhole', '--num-train',
                              '0', '--num-val', '40', '--img-size', '640', '384']) == 0
    return str(root / 'annotations' / 'val.json')


def _bucket(run, group, bucket):
    return next(b for b in run['buckets'] if (b['group'], b['bucket']) == (group, bucket))


def test_oracle_points_exact_box_bottom_off_when_angled(tools, ann_file, tmp_path, capsys):
    out = tmp_path / 'geometry.json'
    record = tmp_path / 'docs' / 'records' / 'geometry.json'
    tools['geo'].main([ann_file, '--pixel-noise', '0', '2', '--out', str(out),
                       '--record', str(record)])
    printed = capsys.readouterr().out
    assert 'labelled points (' in printed and '+ 2 px Gaussian noise' in printed
    res = json.loads(out.read_text())
    exact, noisy = res['runs']
    assert (exact['source'], exact['pixel_noise_px'], noisy['pixel_noise_px']) == (
        'labels', 0.0, 2.0)
    every = _bucket(exact, 'all', 'all')
    assert every['n'] == exact['objects'] >= 40
    # the same camera made the labels and maps them back: exact points, exact distances
    assert every['tyres']['distance_rel']['median'] < 1e-3
    assert every['tyres']['heading_deg']['median'] < 0.5
    assert exact['tyre_methods'].get('tyres', 0) >= 0.8 * every['n']
    angled = _bucket(exact, 'angle to line of sight', '>=30')
    assert angled['n'] and angled['box_bottom']['distance_rel']['median'] > 0.005
    assert angled['box_bottom']['distance_rel']['median'] > 10 * max(
        angled['tyres']['distance_rel']['median'], 1e-4)
    # noise costs the tyre-based estimate accuracy
    assert _bucket(noisy, 'all', 'all')['tyres']['distance_rel']['median'] > \
        every['tyres']['distance_rel']['median']
    # every group partitions the measured objects
    for group in ('angle to line of sight', 'angle to camera axis', 'distance', 'truncated',
                  'contact points'):
        parts = [b['n'] for b in exact['buckets'] if b['group'] == group
                 and b['bucket'] != '>=30']
        assert sum(parts) == every['n'], group
    assert set(exact['goal']) and all(v in (True, False, None) for v in exact['goal'].values())
    # the record is the same result plus its source, and the docs view renders it
    rec = json.loads(record.read_text())
    assert rec['runs'] == res['runs'] and rec['source']['command'].startswith('python ')
    doc = '<!-- record: docs/records/geometry.json view=geometry run=1 -->\n<!-- /record -->'
    text = tools['render'].render_text(doc, 'docs/geometry.md', repo=str(tmp_path))
    assert '| angle to line of sight | >=30 |' in text and 'noise of 2 px' in text


def test_predictions_are_matched_to_labels(tools, ann_file, tmp_path):
    """A results.pkl holding the labels as predictions (and one stray box) gives the
    exact estimates for the matched objects."""
    coco = json.loads(open(ann_file).read())
    cats = sorted(coco['categories'], key=lambda c: c['id'])
    names = [n for c in cats for n in c['keypoints']]
    results = []
    for img in coco['images']:
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        boxes, labels, kpts, scores = [[1, 1, 30, 30]], [0], [np.zeros((len(names), 2))], \
            [np.zeros(len(names))]
        for a in anns:
            x, y, w, h = a['bbox']
            boxes.append([x, y, x + w, y + h])
            labels.append(a['category_id'] - 1)
            k, s = np.zeros((len(names), 2)), np.zeros(len(names))
            cat = cats[a['category_id'] - 1]
            for i, n in enumerate(cat['keypoints']):
                px, py, v = a['keypoints'][3 * i:3 * i + 3]
                k[names.index(n)] = (px, py)
                s[names.index(n)] = 0.9 if v else 0.0
            kpts.append(k)
            scores.append(s)
        results.append(dict(img_id=img['id'], pred_instances=dict(
            bboxes=np.array(boxes, np.float32), labels=np.array(labels),
            scores=np.linspace(1.0, 0.5, len(boxes)).astype(np.float32),
            keypoints=np.array(kpts, np.float32), keypoint_scores=np.array(scores,
                                                                           np.float32))))
    pkl = tmp_path / 'results.pkl'
    pkl.write_bytes(pickle.dumps(results))
    out = tmp_path / 'pred.json'
    tools['geo'].main([ann_file, '--results', str(pkl), '--out', str(out)])
    run = json.loads(out.read_text())['runs'][0]
    assert run['source'] == 'predictions' and run['unmatched'] == 0
    assert _bucket(run, 'all', 'all')['tyres']['distance_rel']['median'] < 1e-3


def test_missing_ground_truth_names_the_file(tools, tmp_path):
    bad = tmp_path / 'plain.json'
    bad.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='a.jpg', width=64, height=64)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[1, 1, 5, 5],
                          keypoints=[])],
        categories=[dict(id=1, name='vehicle', keypoints=[])])))
    with pytest.raises(SystemExit, match=r'plain\.json: image 1 \(a\.jpg\) has no "camera"'):
        tools['geo'].main([str(bad)])
    calib = osp.join(REPO, 'configs', 'calibration', 'example_1280x720.json')
    with pytest.raises(SystemExit, match=r'plain\.json: no vehicle annotation has '
                       '"distance_m"'):
        tools['geo'].main([str(bad), '--calib', calib])
