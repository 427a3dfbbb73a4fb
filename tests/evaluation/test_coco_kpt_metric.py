"""CocoKptMetric against pycocotools, mmdet's CocoMetric, and a hand-computed mixed case."""
import contextlib
import io
import json
import logging
import math

import numpy as np
import pytest
import torch
from mmdet.evaluation import CocoMetric
from mmengine.logging import MMLogger
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from yolox_kpt.evaluation import CocoKptMetric
from yolox_kpt.keypoint_layout import COCO_PERSON_KEYPOINTS, KeypointLayout
from yolox_kpt.testing import make_person_case

PERSON = KeypointLayout.build(('person', ), dict(person=COCO_PERSON_KEYPOINTS))
KPT_STATS = ('AP', 'AP_50', 'AP_75', 'AP_m', 'AP_l', 'AR', 'AR_50', 'AR_75', 'AR_m', 'AR_l')


def person_metric(tmp_path, seed=0, num_images=12, **kwargs):
    gt, preds = make_person_case(num_images=num_images, seed=seed)
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    metric = CocoKptMetric(ann_file=str(path), **kwargs)
    metric.dataset_meta = dict(classes=('person', ), keypoint_layout=PERSON.to_config())
    return metric, path, preds


def pycocotools_eval(path, dets, iou_type, summary=True, **params):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
        ev = COCOeval(coco, coco.loadRes(dets), iou_type)
        for k, v in params.items():
            setattr(ev.params, k, v)
        ev.evaluate()
        ev.accumulate()
        if summary:
            ev.summarize()
    return ev


@pytest.mark.parametrize('backend', ['pycocotools', 'faster_coco_eval'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_keypoint_ap_equals_pycocotools(tmp_path, backend, seed):
    metric, path, preds = person_metric(tmp_path, seed, backend=backend)
    ours = metric.compute_metrics(preds)
    dets = [{k: v for k, v in d.items() if k != 'bbox'}
            for d in metric.results_to_coco(preds, PERSON)]
    ref = pycocotools_eval(path, dets, 'keypoints').stats
    assert 0.05 < ours['kpt_AP'] < 0.95
    for i, name in enumerate(KPT_STATS):
        assert abs(ours[f'kpt_{name}'] - ref[i]) < 1e-9, name
        if name != 'AP':
            assert ours[f'kpt_{name}_person'] == ours[f'kpt_{name}']
    assert ours['kpt_AP_person'] == ours['kpt_AP']


@pytest.mark.parametrize('backend', ['pycocotools', 'faster_coco_eval'])
def test_box_ap_equals_mmdet_coco_metric(tmp_path, backend):
    metric, path, preds = person_metric(tmp_path, 3, backend=backend)
    ours = metric.compute_metrics(preds)
    mmdet_metric = CocoMetric(ann_file=str(path), metric='bbox', classwise=True)
    mmdet_metric.dataset_meta = dict(classes=('person', ))
    mmdet_out = mmdet_metric.compute_metrics([
        (dict(), dict(img_id=p['img_id'], bboxes=p['bboxes'], scores=p['scores'],
                      labels=p['labels'])) for p in preds])
    for key in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'):
        # mmdet rounds to 3 decimals; we keep the full number.
        assert abs(ours[f'bbox_{key}'] - mmdet_out[f'bbox_{key}']) <= 5e-4 + 1e-12, key
    assert abs(ours['bbox_AP_person'] - mmdet_out['person_precision']) <= 5e-4 + 1e-12
    assert ours['bbox_mAP'] > 0.3


def test_counts_equal_pycocotools_matching(tmp_path):
    """TP/FP/FN at the operating point are pycocotools' matches at IoU 0.5 of the
    detections above the score threshold (crowd matches ignored)."""
    metric, path, preds = person_metric(tmp_path, 4, num_images=20, score_thr=0.4)
    ours = metric.compute_metrics(preds)
    dets = [{k: v for k, v in d.items() if k != 'keypoints'}
            for d in metric.results_to_coco(preds, PERSON) if d['score'] >= 0.4]
    ev = pycocotools_eval(path, dets, 'bbox', summary=False,
                          iouThrs=np.array([0.5]), maxDets=[1000])
    tp = fp = fn = 0
    for e in ev.evalImgs:
        if e is None or e['aRng'] != [0, 1e10]:
            continue
        matched, ignored = e['dtMatches'][0] > 0, e['dtIgnore'][0].astype(bool)
        tp += int((matched & ~ignored).sum())
        fp += int((~matched & ~ignored).sum())
        fn += int(((e['gtMatches'][0] == 0) & (np.asarray(e['gtIgnore']) == 0)).sum())
    assert (ours['TP'], ours['FP'], ours['FN']) == (tp, fp, fn)
    assert fp > 0 and fn > 0 and tp > 10
    assert ours['precision'] == pytest.approx(tp / (tp + fp))
    assert ours['recall'] == pytest.approx(tp / (tp + fn))


def mixed_case(tmp_path):
    """car: 4 keypoints (sigma 0.1), sign: none, person: 2 other keypoints (sigma 0.05).

    Returns:
        tuple: annotation file, layout, predictions, and the pixel offsets of the car's
        and the person's predicted keypoints (OKS 0.82 and 0.62).
    """
    car_area, person_area = 5000.0, 6400.0
    d_car = math.sqrt(-math.log(0.82) * 2 * car_area * 0.2**2)
    d_person = math.sqrt(-math.log(0.62) * 2 * person_area * 0.1**2)
    layout = KeypointLayout.build(
        ('car', 'sign', 'person'),
        dict(car=['fl', 'fr', 'rl', 'rr'], person=['head', 'foot']),
        sigmas=dict(fl=.1, fr=.1, rl=.1, rr=.1, head=.05, foot=.05))
    car_kpts = [[10, 40, 2], [90, 40, 2], [20, 45, 2], [0, 0, 0]]
    person_kpts = [[140, 30, 2], [140, 170, 1]]
    gt = dict(
        images=[dict(id=i, file_name=f'{i}.jpg', width=200, height=200) for i in (1, 2, 3)],
        categories=[dict(id=1, name='car', keypoints=['fl', 'fr', 'rl', 'rr']),
                    dict(id=2, name='sign', keypoints=[]),
                    dict(id=3, name='person', keypoints=['head', 'foot'])],
        annotations=[
            dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 100, 50], area=car_area,
                 iscrowd=0, keypoints=sum(car_kpts, []), num_keypoints=3),
            dict(id=2, image_id=1, category_id=2, bbox=[150, 150, 30, 30], area=900,
                 iscrowd=0, keypoints=[], num_keypoints=0),
            dict(id=3, image_id=1, category_id=3, bbox=[120, 20, 40, 160], area=person_area,
                 iscrowd=0, keypoints=sum(person_kpts, []), num_keypoints=2),
            dict(id=4, image_id=2, category_id=3, bbox=[10, 10, 40, 160], area=person_area,
                 iscrowd=0, keypoints=[30, 20, 2, 30, 160, 2], num_keypoints=2)])
    path = tmp_path / 'mixed.json'
    path.write_text(json.dumps(gt))
    # K_total slots: fl fr rl rr head foot
    kpts1 = np.zeros((3, 6, 2))
    kpts1[0, :4] = np.array(car_kpts)[:, :2] + [d_car, 0]
    kpts1[2, 4:] = np.array(person_kpts)[:, :2] + [d_person, 0]
    kscores1 = np.zeros((3, 6))
    kscores1[0, :4] = [.9, .9, .2, .9]
    kscores1[2, 4:] = [.9, .9]
    preds = [
        dict(img_id=1, bboxes=np.array([[0, 0, 100, 50], [150, 150, 180, 180],
                                        [120, 20, 160, 180]], float),
             scores=np.array([.8, .7, .9]), labels=np.array([0, 1, 2]), keypoints=kpts1,
             keypoint_scores=kscores1),
        # a confident car where there is none; the person of image 2 is missed
        dict(img_id=2, bboxes=np.array([[100, 100, 150, 150]], float), scores=np.array([.9]),
             labels=np.array([0]), keypoints=np.full((1, 6, 2), 120.),
             keypoint_scores=np.full((1, 6), .9)),
        dict(img_id=3, bboxes=np.zeros((0, 4)), scores=np.zeros(0),
             labels=np.zeros(0, int), keypoints=np.zeros((0, 6, 2)),
             keypoint_scores=np.zeros((0, 6)))]
    return path, layout, preds, d_car, d_person


def mixed_metric(path, layout, **kwargs):
    metric = CocoKptMetric(ann_file=str(path), **kwargs)
    metric.dataset_meta = dict(classes=layout.classes, keypoint_layout=layout.to_config())
    return metric


def test_mixed_keypoint_sets_hand_computed(tmp_path):
    """OKS = exp(-d^2 / (2 * area * (2 sigma)^2)) for every labelled keypoint (same offset
    d): car 0.82 -> thresholds .50-.80 matched (7 of 10); person 0.62 -> .50-.60 (3 of 10).
    """
    path, layout, preds, d_car, d_person = mixed_case(tmp_path)
    for backend in ('pycocotools', 'faster_coco_eval'):
        m = mixed_metric(path, layout, backend=backend).compute_metrics(preds)
        half = 51 / 101  # recall 1/2 reaches 51 of COCO's 101 recall points
        # car: the FP (0.9) ranks above the TP (0.8): precision 1/2 at recall 1
        assert m['kpt_AP_car'] == pytest.approx(0.5 * 7 / 10)
        assert m['kpt_AP_person'] == pytest.approx(half * 3 / 10)
        assert m['kpt_AP_50_person'] == pytest.approx(half)
        assert 'kpt_AP_sign' not in m
        assert m['kpt_AP'] == pytest.approx((0.35 + half * 0.3) / 2)
        assert m['bbox_AP_car'] == pytest.approx(0.5)
        assert m['bbox_AP_sign'] == pytest.approx(1.0)
        assert m['bbox_AP_person'] == pytest.approx(half)
        assert m['bbox_mAP'] == pytest.approx((0.5 + 1 + half) / 3)
        # operating point 0.3, IoU 0.5
        assert (m['TP_car'], m['FP_car'], m['FN_car']) == (1, 1, 0)
        assert (m['TP_sign'], m['FP_sign'], m['FN_sign']) == (1, 0, 0)
        assert (m['TP_person'], m['FP_person'], m['FN_person']) == (1, 0, 1)
        assert m['F1_car'] == pytest.approx(2 / 3) and m['recall_person'] == 0.5
        assert (m['TP'], m['FP'], m['FN']) == (3, 1, 1)
        # per keypoint: errors of labelled keypoints only (rr is v=0)
        for name in ('fl', 'fr', 'rl'):
            assert m[f'kpt_err_px_{name}'] == pytest.approx(d_car)
            assert m[f'kpt_err_norm_{name}'] == pytest.approx(d_car / 100)
            assert m[f'kpt_PCK@0.1_{name}'] == 1 and m[f'kpt_PCK@0.05_{name}'] == 0
        assert 'kpt_err_px_rr' not in m
        for name in ('head', 'foot'):
            assert m[f'kpt_err_px_{name}'] == pytest.approx(d_person)
            assert m[f'kpt_err_norm_{name}'] == pytest.approx(d_person / 40)
            assert m[f'kpt_PCK@0.1_{name}'] == 0
        assert m['kpt_err_px'] == pytest.approx((3 * d_car + 2 * d_person) / 5)
        assert m['kpt_PCK@0.1'] == pytest.approx(3 / 5)
        # visibility: rl labelled but predicted invisible, rr predicted but unlabelled
        assert m['kpt_vis_P_fl'] == 1 and m['kpt_vis_R_fl'] == 1
        assert m['kpt_vis_R_rl'] == 0 and 'kpt_vis_P_rl' not in m
        assert m['kpt_vis_P_rr'] == 0 and 'kpt_vis_R_rr' not in m
        # no keypoint_visibility in these predictions: no three-state numbers
        assert not any(k.startswith('vis_') for k in m)


def captured_log(fn):
    """What ``fn()`` logs through mmengine's current logger, and its result."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        out = fn()
    finally:
        logger.removeHandler(handler)
    return stream.getvalue(), out


def test_three_state_visibility_hand_computed(tmp_path):
    """Matched at score >= 0.3, IoU >= 0.5: the car (ground truth fl fr rl rr = v 2 2 2 0)
    predicted 2 1 0 0, the person (head foot = 2 1) predicted 1 1; image 2's false car
    (all predicted occluded) is not counted.

    Confusion (rows ground truth v, columns predicted): car [[1,0,0],[0,0,0],[1,1,1]],
    person [[0,0,0],[0,1,0],[0,1,0]], pooled [[1,0,0],[0,1,0],[1,2,1]].
    """
    path, layout, preds, _, _ = mixed_case(tmp_path)
    states = {1: [[2, 1, 0, 0, 0, 0], [0] * 6, [0, 0, 0, 0, 1, 1]], 2: [[1] * 6], 3: []}
    for p in preds:
        v = np.asarray(states[p['img_id']], np.int64).reshape(-1, 6)
        vis = np.full((len(v), 6, 3), 0.1)
        np.put_along_axis(vis, v[..., None], 0.8, axis=-1)
        p['keypoint_visibility'] = vis
    log, m = captured_log(lambda: mixed_metric(path, layout).compute_metrics(preds))
    assert m['vis_occluded_recall'] == 1.0 and m['vis_occluded_precision'] == 1 / 3
    assert m['vis_visible_acc'] == 1 / 4 and m['vis_absent_acc'] == 1.0
    assert m['vis_acc'] == 3 / 6
    assert 'vis_occluded_recall_car' not in m  # no car point is labelled occluded
    assert m['vis_occluded_precision_car'] == 0 and m['vis_visible_acc_car'] == 1 / 3
    assert m['vis_acc_car'] == 2 / 4 and m['vis_absent_acc_car'] == 1
    assert m['vis_occluded_recall_person'] == 1 and m['vis_occluded_precision_person'] == 0.5
    assert m['vis_visible_acc_person'] == 0 and 'vis_absent_acc_person' not in m
    assert not any(k.endswith('_sign') for k in m if k.startswith('vis_'))
    assert m['vis_visible_acc_fl'] == 1 and m['vis_visible_acc_fr'] == 0
    assert m['vis_occluded_precision_fr'] == 0 and m['vis_absent_acc_rr'] == 1
    # the table: one row per class and slot, and one per class for all its slots
    assert 'Keypoint visibility of matched detections' in log
    row = next(line for line in log.splitlines() if '| person' in line and '| all' in line)
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert cells[:6] == ['person', 'all', '2', '0/0/0', '0/1/0', '0/1/0']
    assert cells[6:8] == ['1.000', '0.500']  # occluded recall, precision

    # ground truth without any v = 1: skipped, with the reason in the log
    gt = json.loads(path.read_text())
    for ann in gt['annotations']:
        ann['keypoints'] = [2 if i % 3 == 2 and v == 1 else v
                            for i, v in enumerate(ann['keypoints'])]
    path.write_text(json.dumps(gt))
    log, m = captured_log(lambda: mixed_metric(path, layout).compute_metrics(preds))
    assert not any(k.startswith('vis_') for k in m) and 'kpt_AP' in m
    assert 'never labels a keypoint occluded' in log
    # an older model's predictions (no keypoint_visibility): skipped too
    for p in preds:
        del p['keypoint_visibility']
    log, m = captured_log(lambda: mixed_metric(path, layout).compute_metrics(preds))
    assert not any(k.startswith('vis_') for k in m)
    assert 'have no keypoint_visibility' in log


def test_empty_predictions_give_zero(tmp_path):
    metric, _, preds = person_metric(tmp_path)
    for p in preds:
        for k in ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores'):
            p[k] = p[k][:0]
    out = metric.compute_metrics(preds)
    assert out['kpt_AP'] == 0 and out['bbox_mAP'] == 0 and out['TP'] == 0
    assert out['FN'] > 0 and out['recall'] == 0


def test_nan_prediction_names_the_image(tmp_path):
    metric, _, preds = person_metric(tmp_path)
    target = next(p for p in preds if len(p['scores']))
    target['keypoints'][0, 3, 1] = np.nan
    with pytest.raises(ValueError, match=f"image id {target['img_id']} .*keypoints"):
        metric.compute_metrics(preds)


def test_format_only_writes_coco_results(tmp_path):
    prefix = tmp_path / 'out' / 'results'
    metric, path, preds = person_metric(tmp_path, format_only=True,
                                        outfile_prefix=str(prefix))
    assert metric.compute_metrics(preds) == {}
    kpt_dets = json.loads((tmp_path / 'out' / 'results.keypoints.json').read_text())
    box_dets = json.loads((tmp_path / 'out' / 'results.bbox.json').read_text())
    assert len(kpt_dets) == len(box_dets) == sum(len(p['scores']) for p in preds)
    assert len(kpt_dets[0]['keypoints']) == 51 and 'bbox' not in kpt_dets[0]
    # the written file is what pycocotools scores to our number
    scored, _, _ = person_metric(tmp_path)
    ours = scored.compute_metrics(preds)
    assert pycocotools_eval(path, kpt_dets, 'keypoints').stats[0] == pytest.approx(
        ours['kpt_AP'], abs=1e-9)
    with pytest.raises(ValueError, match='outfile_prefix'):
        CocoKptMetric(ann_file=str(path), format_only=True)


def test_process_takes_tensors(tmp_path):
    metric, _, preds = person_metric(tmp_path)
    samples = [dict(img_id=p['img_id'], pred_instances={
        k: torch.as_tensor(p[k]) for k in ('bboxes', 'scores', 'labels', 'keypoints',
                                           'keypoint_scores')}) for p in preds]
    metric.process({}, samples)
    assert metric.compute_metrics(metric.results) == metric.compute_metrics(preds)
