"""SimOTA that also looks at keypoints (OKS), for classes with different keypoint sets."""
from typing import Optional, Tuple

import torch
from mmdet.models.task_modules.assigners import AssignResult, SimOTAAssigner
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from ...losses.oks_loss import keypoint_oks

EPS = 1e-7


@TASK_UTILS.register_module()
class KptSimOTAAssigner(SimOTAAssigner):
    """mmdet's ``SimOTAAssigner`` with object keypoint similarity in the matching.

    Two switches, as MMPose's YOLOX-Pose assigner, extended to per-class keypoint sets:

    * ``oks_weight > 0`` adds ``-log(OKS) * oks_weight`` to the matching cost, so a prior
      whose keypoints are already near the object's wins over one with only a good box.
    * ``dynamic_k_indicator='oks'`` counts positives per object from its top OKS values
      instead of its top IoUs, and the assigned quality (``max_overlaps``, YOLOX's
      classification target) becomes the OKS: scores then rank detections by keypoint
      quality, which is what keypoint AP sorts by.

    Objects without a labelled keypoint of their class (a pedestrian in the driving
    layout, a vehicle whose tyres are all hidden) have no OKS; for them the IoU stands in,
    in the cost as well as in the indicator, so they compete for priors on the same scale
    as objects with keypoints (MMPose's assigner is single-class and never meets this).

    The head passes its per-slot sigmas and class-slot mask with every call
    (``assign(..., kpt_sigmas=, class_slot_mask=)``) and the decoded keypoints as
    ``pred_instances.keypoints``; OKS uses the ground-truth box area as the object scale.

    Args:
        oks_weight (float): Weight of the OKS cost; 0 leaves the cost stock.
        dynamic_k_indicator (str): 'iou' (stock) or 'oks'.
        **kwargs: ``SimOTAAssigner`` arguments (center_radius, candidate_topk, iou_weight,
            cls_weight, iou_calculator).
    """

    def __init__(self, oks_weight: float = 3.0, dynamic_k_indicator: str = 'oks',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if dynamic_k_indicator not in ('iou', 'oks'):
            raise ValueError(
                f"dynamic_k_indicator must be 'iou' or 'oks', got {dynamic_k_indicator!r}")
        self.oks_weight = oks_weight
        self.dynamic_k_indicator = dynamic_k_indicator
        self._keypoints = None

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None,
               kpt_sigmas: Optional[Tensor] = None,
               class_slot_mask: Optional[Tensor] = None,
               **kwargs) -> AssignResult:
        """Stock SimOTA assignment with OKS added where configured.

        Args:
            pred_instances (InstanceData): ``priors`` (P, 4), ``bboxes`` (P, 4), ``scores``
                (P, C) and ``keypoints`` (P, K, 2) decoded.
            gt_instances (InstanceData): ``bboxes`` (G, 4), ``labels`` (G,),
                ``keypoints`` (G, K, 2), ``keypoints_visible`` (G, K).
            kpt_sigmas (Tensor): (K,) per-slot OKS sigmas.
            class_slot_mask (Tensor): (C, K) bool, the slots each class owns.

        Returns:
            AssignResult: as ``SimOTAAssigner``; ``max_overlaps`` holds the OKS of
            positives matched to objects with keypoints when the indicator is 'oks'.
        """
        if kpt_sigmas is None or class_slot_mask is None:
            raise ValueError('KptSimOTAAssigner needs kpt_sigmas and class_slot_mask '
                             '(YOLOXKptHead passes them); use SimOTAAssigner otherwise')
        labelled = (class_slot_mask[gt_instances.labels] &
                    (gt_instances.keypoints_visible > 0)).to(pred_instances.bboxes.dtype)
        boxes = gt_instances.bboxes
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        # The parent's assign computes the cost inline; the keypoints reach
        # dynamic_k_matching (which sees the valid-prior mask) through this attribute.
        self._keypoints = (pred_instances.keypoints, gt_instances.keypoints, labelled, areas,
                           kpt_sigmas)
        try:
            return super().assign(pred_instances, gt_instances, gt_instances_ignore, **kwargs)
        finally:
            self._keypoints = None

    def pairwise_oks(self, valid_mask: Tensor) -> Tuple[Tensor, Tensor]:
        """OKS of every valid prior's keypoints against every object's.

        Args:
            valid_mask (Tensor): (P,) bool, priors inside some box or centre region.

        Returns:
            tuple[Tensor, Tensor]: (V, G) OKS and (G,) bool "object has a labelled
            keypoint".
        """
        pred_kpts, gt_kpts, labelled, areas, sigmas = self._keypoints
        oks = keypoint_oks(pred_kpts[valid_mask].unsqueeze(1), gt_kpts.unsqueeze(0),
                           labelled.unsqueeze(0), areas.unsqueeze(0), sigmas)
        return oks, labelled.sum(-1) > 0

    def dynamic_k_matching(self, cost: Tensor, pairwise_ious: Tensor, num_gt: int,
                           valid_mask: Tensor) -> Tuple[Tensor, Tensor]:
        """Add the OKS cost and swap the indicator, then match as SimOTA.

        Args:
            cost (Tensor): (V, G) stock cost (classification, IoU, centre prior).
            pairwise_ious (Tensor): (V, G) IoU of valid priors' boxes with the objects.
            num_gt (int): G.
            valid_mask (Tensor): (P,) bool with V true entries.

        Returns:
            tuple[Tensor, Tensor]: (M,) matched quality and (M,) object index per
            matched prior, as ``SimOTAAssigner.dynamic_k_matching``.
        """
        if self._keypoints is None:
            return super().dynamic_k_matching(cost, pairwise_ious, num_gt, valid_mask)
        oks, has_kpts = self.pairwise_oks(valid_mask)
        # objects without keypoints: the IoU stands in for the OKS
        quality = torch.where(has_kpts[None], oks, pairwise_ious)
        if self.oks_weight:
            cost = cost + self.oks_weight * -torch.log(quality + EPS)
        indicator = quality if self.dynamic_k_indicator == 'oks' else pairwise_ious
        return super().dynamic_k_matching(cost, indicator, num_gt, valid_mask)
