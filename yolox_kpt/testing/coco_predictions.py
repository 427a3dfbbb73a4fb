"""COCO person ground truth with noisy predictions, for metric tests and benchmarks."""
from typing import List, Tuple

import json
from pathlib import Path

import numpy as np

from ..keypoint_layout import COCO_PERSON_KEYPOINTS, KeypointLayout


def make_person_case(num_images: int = 6,
                     dets_per_image: int = 0,
                     seed: int = 0,
                     crowd_prob: float = 0.1,
                     empty_image_prob: float = 0.1) -> Tuple[dict, List[dict]]:
    """A single-class 17-keypoint COCO file and predictions in ``CocoKptMetric`` form.

    Ground truth has invisible (v=0) and occluded (v=1) keypoints, crowd regions and images
    without annotations. Predictions have misses, duplicates, keypoint noise of varying
    size and detections on empty images.

    Args:
        num_images (int): Images in the file.
        dets_per_image (int): 0: about one detection per object (plus duplicates/misses);
            N: exactly N detections per image (the benchmark's 100), spread over objects.
        seed (int): Random seed.
        crowd_prob (float): Chance that an image gets a crowd region.
        empty_image_prob (float): Chance that an image has no annotation.

    Returns:
        tuple: (ground-truth dict, list of per-image prediction dicts with ``img_id``,
        ``bboxes`` (N, 4) xyxy, ``scores`` (N,), ``labels`` (N,), ``keypoints`` (N, 17, 2),
        ``keypoint_scores`` (N, 17)).
    """
    rng = np.random.default_rng(seed)
    images, anns, preds = [], [], []
    for img_id in range(1, num_images + 1):
        images.append(dict(id=img_id, file_name=f'{img_id:06d}.jpg', width=640, height=480))
        objects = []
        num_obj = 0 if rng.random() < empty_image_prob else int(rng.integers(1, 6))
        for _ in range(num_obj):
            x, y = rng.uniform(0, 400), rng.uniform(0, 300)
            w, h = rng.uniform(30, 220), rng.uniform(50, 180)
            gk = np.stack([rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17),
                           rng.choice([0, 1, 2], 17, p=[.2, .2, .6])], 1)
            gk[gk[:, 2] == 0, :2] = 0
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=1,
                             bbox=[x, y, w, h], area=w * h * 0.6, iscrowd=0,
                             keypoints=gk.reshape(-1).tolist(),
                             num_keypoints=int((gk[:, 2] > 0).sum())))
            objects.append((x, y, w, h, gk))
        if num_obj and rng.random() < crowd_prob:
            x, y = rng.uniform(0, 300), rng.uniform(0, 200)
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=1,
                             bbox=[x, y, 200., 150.], area=200. * 150., iscrowd=1,
                             keypoints=[0] * 51, num_keypoints=0))
        picks = _pick_objects(rng, len(objects), dets_per_image)
        boxes, kpts = np.zeros((len(picks), 4)), np.zeros((len(picks), 17, 2))
        for i, o in enumerate(picks):
            if o < 0:  # a false positive anywhere
                x, y, w, h = rng.uniform(0, 500), rng.uniform(0, 350), 80., 120.
                boxes[i] = [x, y, x + w, y + h]
                kpts[i] = np.stack([rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17)], 1)
                continue
            x, y, w, h, gk = objects[o]
            boxes[i] = [x + rng.normal(0, 3), y + rng.normal(0, 3), x + w + rng.normal(0, 3),
                        y + h + rng.normal(0, 3)]
            noise = rng.normal(0, rng.uniform(1, 12), (17, 2))
            anywhere = np.stack([rng.uniform(x, x + w, 17), rng.uniform(y, y + h, 17)], 1)
            kpts[i] = np.where(gk[:, 2:] > 0, gk[:, :2] + noise, anywhere)
        preds.append(dict(img_id=img_id, bboxes=boxes, scores=rng.uniform(0.05, 1, len(picks)),
                          labels=np.zeros(len(picks), np.int64), keypoints=kpts,
                          keypoint_scores=rng.uniform(0, 1, (len(picks), 17))))
    gt = dict(images=images, annotations=anns, categories=[dict(
        id=1, name='person', supercategory='person', keypoints=list(COCO_PERSON_KEYPOINTS),
        skeleton=[])])
    return gt, preds


def _pick_objects(rng, num_obj: int, dets_per_image: int) -> List[int]:
    """Object index per detection; -1 for a false positive."""
    if dets_per_image:
        if not num_obj:
            return [-1] * dets_per_image
        return [int(o) if rng.random() < 0.9 else -1
                for o in rng.integers(0, num_obj, dets_per_image)]
    picks = []
    for o in range(num_obj):
        if rng.random() < 0.15:
            continue  # a miss
        picks += [o] * (1 + int(rng.random() < 0.2))  # sometimes a duplicate
    if rng.random() < 0.3:
        picks.append(-1)
    return picks


def results_from_ground_truth(root, shift_px: float, layout: KeypointLayout):
    """A ``results.pkl`` list for ``root/annotations/val.json`` (a synthetic set) as
    mmdet's ``DumpDetResults`` writes it: perfect boxes (score 0.9), keypoints moved right
    by ``shift_px`` (score 0.9 where labelled, else 0.1).

    Returns:
        tuple: (results, number of annotations, number of labelled keypoints).
    """
    import torch
    gt = json.loads((Path(root) / 'annotations' / 'val.json').read_text())
    label_of = {c['id']: layout.classes.index(c['name']) for c in gt['categories']}
    results, num_labelled = [], 0
    for img in gt['images']:
        anns = [a for a in gt['annotations'] if a['image_id'] == img['id']]
        n = len(anns)
        kpts, kscores = np.zeros((n, layout.num_keypoints, 2)), np.zeros(
            (n, layout.num_keypoints))
        for i, a in enumerate(anns):
            slots = list(layout.class_slots[label_of[a['category_id']]])
            k = np.asarray(a['keypoints'], float).reshape(-1, 3)
            kpts[i, slots] = k[:, :2] + [shift_px, 0]
            kscores[i, slots] = np.where(k[:, 2] > 0, 0.9, 0.1)
            num_labelled += int((k[:, 2] > 0).sum())
        boxes = np.array([a['bbox'] for a in anns], float).reshape(-1, 4)
        boxes[:, 2:] += boxes[:, :2]
        results.append(dict(img_id=img['id'], img_path=img['file_name'],
                            ori_shape=(img['height'], img['width']), pred_instances=dict(
                                bboxes=torch.tensor(boxes), scores=torch.full((n, ), .9),
                                labels=torch.tensor([label_of[a['category_id']]
                                                     for a in anns]),
                                keypoints=torch.tensor(kpts),
                                keypoint_scores=torch.tensor(kscores))))
    return results, len(gt['annotations']), num_labelled
