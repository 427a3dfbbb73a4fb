"""Object keypoint similarity loss (YOLO-Pose, Maji et al. 2022)."""
from typing import Optional

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor


def keypoint_oks(pred: Tensor, target: Tensor, weight: Tensor, areas: Tensor,
                 sigmas: Tensor, eps: float = 1e-6) -> Tensor:
    """OKS of each instance, as COCO's ``computeOks`` defines it.

    Leading dimensions broadcast, so ``pred`` (P, 1, K, 2) against ``target`` (1, G, K, 2)
    with ``weight`` (1, G, K) and ``areas`` (1, G) gives the pairwise (P, G) OKS matrix.

    Args:
        pred (Tensor): (N, K, 2) predicted keypoints in pixels.
        target (Tensor): (N, K, 2) ground-truth keypoints.
        weight (Tensor): (N, K) 1 where the keypoint is labelled and owned by the
            instance's class, else 0.
        areas (Tensor): (N,) object scale s^2 (COCO: the object's area).
        sigmas (Tensor): (K,) per-slot sigmas.

    Returns:
        Tensor: (N,) OKS in [0, 1]; 0 where an instance has no weighted keypoint.
    """
    dist2 = ((pred - target)**2).sum(-1)
    variances = (2 * sigmas)**2
    e = dist2 / (variances * (areas.unsqueeze(-1) + eps) * 2)
    num = (torch.exp(-e) * weight).sum(-1)
    return num / weight.sum(-1).clamp(min=eps)


@MODELS.register_module()
class OKSLoss(nn.Module):
    """``1 - OKS`` per instance with labelled keypoints.

    Args:
        reduction (str): 'mean' over instances with at least one weighted keypoint, 'sum',
            or 'none'.
        loss_weight (float): Multiplier.
    """

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        assert reduction in ('mean', 'sum', 'none')
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Tensor,
                areas: Tensor,
                sigmas: Tensor,
                avg_factor: Optional[float] = None) -> Tensor:
        """See :func:`keypoint_oks` for shapes; returns a scalar unless reduction='none'."""
        has_kpts = weight.sum(-1) > 0
        loss = (1 - keypoint_oks(pred, target, weight, areas, sigmas)) * has_kpts
        if self.reduction == 'none':
            return loss * self.loss_weight
        loss = loss.sum()
        if self.reduction == 'mean':
            denom = avg_factor if avg_factor is not None else has_kpts.sum()
            loss = loss / max(float(denom), 1.0)
        return loss * self.loss_weight
