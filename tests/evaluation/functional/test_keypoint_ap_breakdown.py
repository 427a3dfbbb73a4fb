"""Each correction of the keypoint-AP breakdown fixes its own kind of error and no other,
and the tool scores them (tools/analysis/kpt_ap_breakdown.py)."""
import json
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from yolox_kpt.apis.results import ground_truth
from yolox_kpt.evaluation.functional.keypoint_ap_breakdown import corrected_results
from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.testing import results_from_ground_truth

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.join(REPO, 'tests', 'tools'))
from small_run import CONFIG, small_run_options  # noqa: E402  (tests/tools/small_run.py)

LAYOUT = KeypointLayout.from_config(Config.fromfile(CONFIG).keypoint_layout)
VEHICLE = LAYOUT.classes.index('vehicle')
TYRES = np.asarray(LAYOUT.class_slots[VEHICLE])


@pytest.fixture(scope='module')
def case(synthetic_data):
    root = synthetic_data(num_train=1, num_val=6, seed=61)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in small_run_options(root, 1, 1)))
    _, gts = ground_truth(cfg)
    results, _, _ = results_from_ground_truth(root, 0.0, LAYOUT)
    return root, cfg, gts, results


def vehicle_rows(result):
    return np.flatnonzero(result['pred_instances']['labels'].numpy() == VEHICLE)


def truth_of(result, gts):
    """Detections are the ground truth's boxes in file order: the truth row by row."""
    return gts[int(result['img_id'])][1]


def damaged(results, gts, kind):
    out = pickle.loads(pickle.dumps(results))
    for r in out:
        pred, gt = r['pred_instances'], truth_of(r, gts)
        for i in vehicle_rows(r):
            vis = gt.keypoints_visible[i]
            if kind == 'swap':
                pred['keypoints'][i] = pred['keypoints'][i][list(LAYOUT.flip_indices)]
            elif kind == 'occluded':
                pred['keypoints'][i][vis == 1] += 15.0
        if kind == 'extra':  # a confident vehicle far from every object
            pred['bboxes'] = torch.cat([pred['bboxes'], torch.tensor([[0., 0., 3., 3.]],
                                                                     dtype=torch.float64)])
            pred['scores'] = torch.cat([pred['scores'], torch.tensor([0.99],
                                                                     dtype=torch.float64)])
            pred['labels'] = torch.cat([pred['labels'], torch.tensor([VEHICLE])])
            pred['keypoints'] = torch.cat([pred['keypoints'],
                                           torch.ones(1, LAYOUT.num_keypoints, 2,
                                                      dtype=torch.float64)])
            pred['keypoint_scores'] = torch.cat([pred['keypoint_scores'],
                                                 torch.ones(1, LAYOUT.num_keypoints,
                                                            dtype=torch.float64)])
    return out


def labelled_error(results, gts, visibility=(1, 2)):
    """Summed pixel error of the vehicles' labelled points of the given visibilities."""
    total = 0.0
    for r in results:
        gt = truth_of(r, gts)
        kpts = np.asarray(r['pred_instances']['keypoints'])
        for i in vehicle_rows(r):
            sel = np.isin(gt.keypoints_visible[i].numpy(), visibility)
            sel[[s for s in range(LAYOUT.num_keypoints) if s not in TYRES]] = False
            total += np.linalg.norm(kpts[i][sel] - gt.keypoints[i].numpy()[sel], axis=1).sum()
    return total


def test_sides_fixed_undoes_left_right_swaps_only(case):
    _, _, gts, results = case
    swapped = damaged(results, gts, 'swap')
    assert labelled_error(swapped, gts) > 100
    assert labelled_error(corrected_results(swapped, gts, LAYOUT, 'sides_fixed'), gts) < 1e-3
    # the other corrections leave swapped visible points where they were
    assert labelled_error(corrected_results(swapped, gts, LAYOUT, 'gt_occluded'), gts,
                          (2, )) == pytest.approx(labelled_error(swapped, gts, (2, )))


def test_truth_corrections_set_their_visibility_only(case):
    _, _, gts, results = case
    moved = damaged(results, gts, 'occluded')
    assert labelled_error(moved, gts, (1, )) > 100  # the case has occluded tyres
    assert labelled_error(corrected_results(moved, gts, LAYOUT, 'gt_visible'), gts,
                          (1, )) == pytest.approx(labelled_error(moved, gts, (1, )))
    for fix in ('gt_occluded', 'gt_all'):
        assert labelled_error(corrected_results(moved, gts, LAYOUT, fix), gts) < 1e-3
    assert labelled_error(moved, gts, (1, )) > 100  # the input was not changed


def test_no_unmatched_drops_the_unmatched_detections_only(case):
    _, _, gts, results = case
    extra = damaged(results, gts, 'extra')
    kept = corrected_results(extra, gts, LAYOUT, 'no_unmatched')
    for r, k in zip(results, kept):
        assert torch.equal(k['pred_instances']['bboxes'], r['pred_instances']['bboxes'])
    kept = corrected_results(extra, gts, LAYOUT, 'gt_all')
    assert [len(r['pred_instances']['scores']) for r in kept] == [
        len(r['pred_instances']['scores']) for r in extra]


def test_tool_scores_each_correction(case, tmp_path):
    root, _, gts, results = case
    pkl, out = tmp_path / 'results.pkl', tmp_path / 'breakdown.json'
    pkl.write_bytes(pickle.dumps(damaged(results, gts, 'occluded')))
    proc = subprocess.run(
        [sys.executable, 'tools/analysis/kpt_ap_breakdown.py', CONFIG, str(pkl), '--out',
         str(out), '--cfg-options', *small_run_options(root, 1, 1)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert str(out) in proc.stdout
    ap = json.loads(out.read_text())['keypoint_AP']
    assert ap['as_predicted']['vehicle'] < 0.9
    assert ap['gt_occluded']['vehicle'] == pytest.approx(1.0)
    assert ap['gt_visible']['vehicle'] == pytest.approx(ap['as_predicted']['vehicle'])
    assert ap['sides_fixed']['vehicle'] == pytest.approx(ap['as_predicted']['vehicle'])
