"""CocoKptMetric equals pycocotools on the single-class 17-keypoint case."""
import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from yolox_kpt.evaluation import CocoKptMetric
from yolox_kpt.keypoint_layout import COCO_PERSON_KEYPOINTS, KeypointLayout


def make_case(tmp_path, seed=0, num_imgs=6):
    rng = np.random.default_rng(seed)
    images, anns, preds = [], [], []
    for img_id in range(1, num_imgs + 1):
        images.append(dict(id=img_id, file_name=f'{img_id}.jpg', width=640, height=480))
        boxes, scores, kpts, kscores = [], [], [], []
        for _ in range(rng.integers(1, 5)):
            x, y = rng.uniform(0, 400), rng.uniform(0, 300)
            w, h = rng.uniform(40, 200), rng.uniform(60, 170)
            gk = np.stack([rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17),
                           rng.choice([0, 1, 2], 17, p=[.2, .2, .6])], 1)
            gk[gk[:, 2] == 0, :2] = 0
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=1,
                             bbox=[x, y, w, h], area=w * h * 0.6, iscrowd=0,
                             keypoints=gk.reshape(-1).tolist(),
                             num_keypoints=int((gk[:, 2] > 0).sum())))
            if rng.random() < 0.15:
                continue  # a miss
            for _ in range(1 + (rng.random() < 0.2)):  # sometimes a duplicate
                noise = rng.normal(0, rng.uniform(1, 12), (17, 2))
                pk = np.stack([rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17)], 1)
                pk = np.where(gk[:, 2:] > 0, gk[:, :2] + noise, pk)
                boxes.append([x + rng.normal(0, 3), y + rng.normal(0, 3), x + w, y + h])
                scores.append(rng.uniform(0.05, 1))
                kpts.append(pk)
                kscores.append(rng.uniform(0, 1, 17))
        preds.append(dict(img_id=img_id, bboxes=np.array(boxes).reshape(-1, 4),
                          scores=np.array(scores), labels=np.zeros(len(scores), int),
                          keypoints=np.array(kpts).reshape(-1, 17, 2),
                          keypoint_scores=np.array(kscores).reshape(-1, 17)))
    gt = dict(images=images, annotations=anns, categories=[dict(
        id=1, name='person', keypoints=list(COCO_PERSON_KEYPOINTS), skeleton=[])])
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    return path, preds


def reference(path, dets, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
        ev = COCOeval(coco, coco.loadRes(dets), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@pytest.mark.parametrize('seed', [0, 1])
def test_equals_pycocotools(tmp_path, seed):
    path, preds = make_case(tmp_path, seed)
    layout = KeypointLayout.build(('person', ), dict(person=COCO_PERSON_KEYPOINTS))
    metric = CocoKptMetric(ann_file=str(path))
    metric.dataset_meta = dict(classes=('person', ), keypoint_layout=layout.to_config())
    ours = metric.compute_metrics(preds)
    dets = metric.results_to_coco(preds, layout)
    kpt_ref = reference(path, [{k: v for k, v in d.items() if k != 'bbox'} for d in dets],
                        'keypoints')
    box_ref = reference(path, [{k: v for k, v in d.items() if k != 'keypoints'}
                               for d in dets], 'bbox')
    assert 0.05 < ours['kpt_AP'] < 0.99
    assert abs(ours['kpt_AP'] - kpt_ref[0]) < 1e-9
    assert abs(ours['kpt_AP_50'] - kpt_ref[1]) < 1e-9
    assert abs(ours['kpt_AR'] - kpt_ref[5]) < 1e-9
    assert abs(ours['bbox_mAP'] - box_ref[0]) < 1e-9
    assert abs(ours['bbox_mAP_50'] - box_ref[1]) < 1e-9


def test_empty_predictions_give_zero(tmp_path):
    path, preds = make_case(tmp_path)
    for p in preds:
        for k in ('bboxes', 'keypoints', 'keypoint_scores'):
            p[k] = p[k][:0]
        p['scores'], p['labels'] = p['scores'][:0], p['labels'][:0]
    layout = KeypointLayout.build(('person', ), dict(person=COCO_PERSON_KEYPOINTS))
    metric = CocoKptMetric(ann_file=str(path))
    metric.dataset_meta = dict(classes=('person', ), keypoint_layout=layout.to_config())
    out = metric.compute_metrics(preds)
    assert out['kpt_AP'] == 0 and out['bbox_mAP'] == 0
