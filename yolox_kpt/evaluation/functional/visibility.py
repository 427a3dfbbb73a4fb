"""Three-state keypoint visibility (COCO v = 0 not labelled, 1 occluded, 2 visible):
confusion of ground truth against prediction, and the rates read off it.

A prediction's state is :func:`~yolox_kpt.keypoint_layout.visibility_states` of its
``keypoint_visibility`` (N, K, 3) probabilities.
The metric (``CocoKptMetric``) counts slots of detections matched to an object (its
operating-point matching: greedy by score at box IoU >= ``iou_thr``, as pycocotools), so a
missed object or a false detection counts here for nothing: this is the visibility
quality of the points that a detection did predict for a real object.
"""
from typing import Dict

import numpy as np

from ...keypoint_layout import visibility_states

#: The rates of :func:`visibility_rates`, in the order the metric's table shows them.
VIS_RATES = ('occluded_recall', 'occluded_precision', 'visible_acc', 'absent_acc', 'acc')


def visibility_confusion(gt_v: np.ndarray, pred_vis: np.ndarray) -> np.ndarray:
    """Per slot, ground-truth v against predicted v.

    Args:
        gt_v (np.ndarray): (M, K) COCO v of the ground truth (rounded, clipped to 0..2).
        pred_vis (np.ndarray): (M, K, 3) predicted probabilities of v = 0, 1, 2 (any
            read by :func:`~yolox_kpt.keypoint_layout.visibility_states`).

    Returns:
        np.ndarray: (K, 3, 3) int64 counts, ``[k, g, p]`` = slot k's points with ground
        truth v = g predicted as v = p.
    """
    gt_v = np.clip(np.rint(np.asarray(gt_v, np.float64)), 0, 2).astype(np.int64)
    pred_v = visibility_states(pred_vis).astype(np.int64)
    num_slots = gt_v.shape[1]
    flat = (np.arange(num_slots)[None] * 9 + gt_v * 3 + pred_v).ravel()
    return np.bincount(flat, minlength=num_slots * 9).reshape(num_slots, 3, 3)


def visibility_rates(confusion: np.ndarray) -> Dict[str, np.ndarray]:
    """The rates of one or many confusions (..., 3, 3) (rows ground truth, columns
    prediction), NaN where undefined (no point in the denominator).

    Returns:
        dict[str, np.ndarray]: each (...,):

        * ``occluded_recall``: of the points labelled occluded (v=1), the share predicted
          occluded.
        * ``occluded_precision``: of the points predicted occluded, the share labelled so.
        * ``visible_acc``: of the points labelled visible (v=2), the share predicted
          visible.
        * ``absent_acc``: of the slots labelled absent (v=0), the share predicted absent.
        * ``acc``: the share of all points whose state is right.
    """
    c = np.asarray(confusion, np.float64)

    def ratio(num, den):
        return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=den > 0)

    diag = np.diagonal(c, axis1=-2, axis2=-1)  # (..., 3)
    return dict(occluded_recall=ratio(diag[..., 1], c[..., 1, :].sum(-1)),
                occluded_precision=ratio(diag[..., 1], c[..., :, 1].sum(-1)),
                visible_acc=ratio(diag[..., 2], c[..., 2, :].sum(-1)),
                absent_acc=ratio(diag[..., 0], c[..., 0, :].sum(-1)),
                acc=ratio(diag.sum(-1), c.sum((-2, -1))))
