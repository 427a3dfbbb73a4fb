"""Where keypoint AP goes: saved predictions with one kind of error corrected at a time.

Each correction uses the ground truth on detections matched to an object (greedy, by score,
at box IoU ``iou_thr``, per class, as pycocotools matches boxes), so the AP it gives is what
removing that kind of error alone would be worth:

* ``no_unmatched``: detections of a class with keypoints that match no object are dropped.
* ``sides_fixed``: a detection whose keypoints are closer to the object's after a
  left/right swap (the layout's flip pairs) takes the swapped ones.
* ``gt_occluded`` / ``gt_visible``: labelled points with visibility 1 / 2 set to the truth.
* ``gt_all``: every labelled point set to the truth: the ceiling the boxes and scores allow.
"""
import copy
from typing import Dict, List, Sequence

import numpy as np
import torch

from ...keypoint_layout import KeypointLayout
from .keypoint_errors import box_iou_xyxy, greedy_match

CORRECTIONS = ('no_unmatched', 'sides_fixed', 'gt_occluded', 'gt_visible', 'gt_all')
_TRUTH_FOR = {'gt_occluded': (1, ), 'gt_visible': (2, ), 'gt_all': (1, 2)}


def _as_numpy(value) -> np.ndarray:
    return value.cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def corrected_results(results: Sequence[dict], gts: Dict[int, tuple], layout: KeypointLayout,
                      correction: str, iou_thr: float = 0.5) -> List[dict]:
    """A copy of ``results`` (``tools/test.py --out`` form) with one error kind corrected.

    Args:
        results (list[dict]): Per image ``img_id`` and ``pred_instances`` with ``bboxes``
            (D, 4) xyxy, ``scores`` (D,), ``labels`` (D,), ``keypoints`` (D, K, 2).
        gts (dict): ``{img_id: (img_path, InstanceData)}`` as
            ``yolox_kpt.apis.results.ground_truth`` gives: ``bboxes`` (G, 4), ``labels``
            (G,), ``keypoints`` (G, K, 2), ``keypoints_visible`` (G, K).
        layout (KeypointLayout): Which slots each class owns; its flip pairs.
        correction (str): One of :data:`CORRECTIONS`.
        iou_thr (float): Box IoU at which a detection is matched to an object.

    Returns:
        list[dict]: The corrected copy; ``results`` is left as it was.
    """
    if correction not in CORRECTIONS:
        raise ValueError(f'correction must be one of {CORRECTIONS}, got {correction!r}')
    flip = np.asarray(layout.flip_indices)
    out = []
    for result in results:
        result = copy.copy(result)
        pred = {k: _as_numpy(v) for k, v in result['pred_instances'].items()}
        gt = gts[int(result['img_id'])][1]
        gt_boxes, gt_labels = _as_numpy(gt.bboxes), _as_numpy(gt.labels)
        gt_kpts, gt_vis = _as_numpy(gt.keypoints), _as_numpy(gt.keypoints_visible)
        kpts = pred['keypoints'].copy()
        keep = np.ones(len(pred['scores']), dtype=bool)
        for label, slots in enumerate(layout.class_slots):
            dets = np.flatnonzero(pred['labels'] == label)
            if not slots or not len(dets):
                continue
            dets = dets[np.argsort(-pred['scores'][dets], kind='stable')]
            objs = np.flatnonzero(gt_labels == label)
            iou = box_iou_xyxy(pred['bboxes'][dets], gt_boxes[objs], np.zeros(len(objs)))
            match = greedy_match(iou, np.zeros(len(objs), dtype=bool), iou_thr)
            slots = np.asarray(slots)
            for det, m in zip(dets, match):
                if m < 0:
                    keep[det] &= correction != 'no_unmatched'
                    continue
                truth, vis = gt_kpts[objs[m]], gt_vis[objs[m]]
                if correction == 'sides_fixed':
                    labelled = slots[vis[slots] > 0]
                    swapped = kpts[det][flip]
                    if (np.linalg.norm(swapped[labelled] - truth[labelled], axis=1).sum() <
                            np.linalg.norm(kpts[det][labelled] - truth[labelled],
                                           axis=1).sum()):
                        kpts[det, slots] = swapped[slots]
                elif correction in _TRUTH_FOR:
                    fixed = slots[np.isin(vis[slots], _TRUTH_FOR[correction])]
                    kpts[det, fixed] = truth[fixed]
        pred['keypoints'] = kpts
        result['pred_instances'] = {k: torch.from_numpy(np.ascontiguousarray(v[keep]))
                                    for k, v in pred.items()}
        out.append(result)
    return out
