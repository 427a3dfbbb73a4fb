"""Detections matched to ground truth at one operating point, and what users read off it.

At a score threshold, each image's detections of a class are matched to its ground truth
greedily by score at box IoU >= ``iou_thr`` with COCO's rules (a detection that only
overlaps a crowd region is ignored: neither TP nor FP). From the matches: TP, FP, FN,
precision, recall, F1 per class, and per keypoint slot the pixel error, the error
normalised by the ground-truth box (MMPose's bbox-normalised PCK: each axis divided by
the box's width or height), PCK at given thresholds, visibility precision/recall, and,
for predictions with ``keypoint_visibility``, the three-state confusion per class and slot
(:mod:`.visibility`).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .visibility import visibility_confusion


def box_iou_xyxy(dets: np.ndarray, gts: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """COCO IoU: (D, 4) x (G, 4) xyxy -> (D, G); crowd columns are intersection over the
    detection's area, as pycocotools' ``iou(..., iscrowd)``."""
    lt = np.maximum(dets[:, None, :2], gts[None, :, :2])
    rb = np.minimum(dets[:, None, 2:], gts[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_d = np.prod(dets[:, 2:] - dets[:, :2], axis=1)[:, None]
    area_g = np.prod(gts[:, 2:] - gts[:, :2], axis=1)[None, :]
    union = np.where(crowd[None, :], area_d, area_d + area_g - inter)
    return inter / np.maximum(union, np.finfo(np.float64).eps)


def greedy_match(iou: np.ndarray, crowd: np.ndarray, iou_thr: float) -> np.ndarray:
    """pycocotools' matching at one threshold. ``iou`` (D, G) with detections sorted by
    descending score. Returns (D,) the matched gt index, -1 unmatched, -2 ignored (matched
    to a crowd region)."""
    order = np.argsort(crowd, kind='stable')  # crowd regions last, as pycocotools
    rows = iou[:, order].tolist()
    is_crowd = crowd[order].tolist()
    taken = [False] * len(order)
    out = []
    for row in rows:
        best, m = min(iou_thr, 1 - 1e-10), -1
        for g, v in enumerate(row):
            if taken[g] and not is_crowd[g]:
                continue
            if m > -1 and not is_crowd[m] and is_crowd[g]:
                break
            if v < best:
                continue
            best, m = v, g
        if m == -1:
            out.append(-1)
        elif is_crowd[m]:
            out.append(-2)
        else:
            taken[m] = True
            out.append(int(order[m]))
    return np.asarray(out, dtype=np.int64)


class MatchAccumulator:
    """Collects matches image by image; ``summary()`` gives the numbers.

    Args:
        num_classes (int): Number of classes.
        num_slots (int): K_total keypoint slots.
        pck_thrs (Sequence[float]): PCK thresholds on the bbox-normalised error.
    """

    def __init__(self, num_classes: int, num_slots: int,
                 pck_thrs: Sequence[float] = (0.05, 0.1)) -> None:
        self.tp = np.zeros(num_classes, np.int64)
        self.fp = np.zeros(num_classes, np.int64)
        self.fn = np.zeros(num_classes, np.int64)
        self.pck_thrs = tuple(pck_thrs)
        self.num_slots = num_slots
        self._err_px: List[List[np.ndarray]] = [[] for _ in range(num_slots)]
        self._err_norm: List[List[np.ndarray]] = [[] for _ in range(num_slots)]
        self._vis = np.zeros((num_slots, 3), np.int64)  # TP, predicted visible, GT labelled
        #: (C, K, 3, 3) ground-truth v x predicted v of matched detections' own slots
        #: (counted only for detections given with ``det_kpt_vis``).
        self.vis_confusion = np.zeros((num_classes, num_slots, 3, 3), np.int64)

    def add(self, label: int, slots: Sequence[int], det_boxes: np.ndarray,
            det_kpts: np.ndarray, det_kpt_scores: np.ndarray, gt_boxes: np.ndarray,
            gt_crowd: np.ndarray, gt_kpts: np.ndarray, iou_thr: float,
            kpt_score_thr: float, det_kpt_vis: Optional[np.ndarray] = None) -> None:
        """One image, one class, detections above the score threshold sorted by score.

        Args:
            det_boxes: (D, 4) xyxy. det_kpts: (D, K_total, 2). det_kpt_scores: (D, K_total).
            gt_boxes: (G, 4) xyxy. gt_crowd: (G,) bool. gt_kpts: (G, K_c, 3) in the
                class's own keypoint order (``slots`` maps it to K_total slots).
            det_kpt_vis: (D, K_total, 3) probabilities of v = 0, 1, 2 (the prediction's
                ``keypoint_visibility``), or None: no visibility confusion counted.
        """
        num_gt = int((~gt_crowd).sum())
        if len(det_boxes) == 0 or len(gt_boxes) == 0:
            self.fp[label] += len(det_boxes)
            self.fn[label] += num_gt
            return
        match = greedy_match(box_iou_xyxy(det_boxes, gt_boxes, gt_crowd), gt_crowd, iou_thr)
        hit = match >= 0
        self.tp[label] += int(hit.sum())
        self.fp[label] += int((match == -1).sum())
        self.fn[label] += num_gt - int(hit.sum())
        if not len(slots) or not hit.any():
            return
        slots = np.asarray(slots)
        g = gt_kpts[match[hit]]  # (M, K_c, 3)
        p = det_kpts[hit][:, slots]  # (M, K_c, 2)
        ps = det_kpt_scores[hit][:, slots]
        gb = gt_boxes[match[hit]]
        size = np.maximum(gb[:, 2:] - gb[:, :2], np.finfo(np.float64).eps)[:, None, :]
        err = np.linalg.norm(p - g[..., :2], axis=-1)
        err_norm = np.linalg.norm((p - g[..., :2]) / size, axis=-1)
        labelled = g[..., 2] > 0
        predicted = ps >= kpt_score_thr
        for j, slot in enumerate(slots):
            self._err_px[slot].append(err[labelled[:, j], j])
            self._err_norm[slot].append(err_norm[labelled[:, j], j])
        np.add.at(self._vis, (slots, 0), (labelled & predicted).sum(0))
        np.add.at(self._vis, (slots, 1), predicted.sum(0))
        np.add.at(self._vis, (slots, 2), labelled.sum(0))
        if det_kpt_vis is not None:
            # every slot of the class counts, labelled or not: v = 0 is a state too
            self.vis_confusion[label, slots] += visibility_confusion(
                g[..., 2], det_kpt_vis[hit][:, slots])

    def class_counts(self) -> Dict[str, np.ndarray]:
        """TP, FP, FN, precision, recall, F1 per class (0 where undefined)."""
        tp, fp, fn = self.tp.astype(float), self.fp.astype(float), self.fn.astype(float)
        precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
        recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=tp + fn > 0)
        f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp),
                       where=precision + recall > 0)
        return dict(TP=self.tp, FP=self.fp, FN=self.fn, P=precision, R=recall, F1=f1)

    def slot_errors(self) -> Dict[str, np.ndarray]:
        """Per slot (K_total,): number of matched labelled keypoints, mean pixel error,
        mean normalised error, PCK at each threshold, visibility precision and recall
        (NaN where a slot had no matched labelled keypoint)."""
        out = dict(count=np.zeros(self.num_slots, np.int64),
                   err_px=np.full(self.num_slots, np.nan),
                   err_norm=np.full(self.num_slots, np.nan))
        for thr in self.pck_thrs:
            out[f'PCK@{thr:g}'] = np.full(self.num_slots, np.nan)
        for k in range(self.num_slots):
            if not self._err_px[k]:
                continue
            px, norm = np.concatenate(self._err_px[k]), np.concatenate(self._err_norm[k])
            out['count'][k] = len(px)
            if len(px):
                out['err_px'][k] = px.mean()
                out['err_norm'][k] = norm.mean()
                for thr in self.pck_thrs:
                    out[f'PCK@{thr:g}'][k] = float((norm < thr).mean())
        tp, pred, lab = (self._vis[:, i].astype(float) for i in range(3))
        out['vis_P'] = np.where(pred > 0, tp / np.maximum(pred, 1), np.nan)
        out['vis_R'] = np.where(lab > 0, tp / np.maximum(lab, 1), np.nan)
        return out


def split_by_class(labels: np.ndarray, scores: np.ndarray, score_thr: float
                   ) -> Dict[int, np.ndarray]:
    """Indices of detections above ``score_thr`` per label, sorted by descending score
    (stable, like pycocotools' mergesort)."""
    keep = np.where(scores >= score_thr)[0]
    keep = keep[np.argsort(-scores[keep], kind='mergesort')]
    out: Dict[int, np.ndarray] = {}
    for label in np.unique(labels[keep]):
        out[int(label)] = keep[labels[keep] == label]
    return out


def coco_xywh_to_xyxy(boxes: List[Tuple[float, float, float, float]]) -> np.ndarray:
    """(N, 4) xyxy from COCO [x, y, w, h] lists."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
