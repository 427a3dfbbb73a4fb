"""YOLOX head with a keypoint branch and per-class keypoint sets."""
import bisect
import itertools
import logging
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.models.dense_heads import YOLOXHead
from mmdet.models.utils import multi_apply
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptConfigType, OptInstanceList, reduce_mean
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.model import bias_init_with_prob
from mmengine.structures import InstanceData
from torch import Tensor

from ...keypoint_layout import KeypointLayout


@MODELS.register_module()
class YOLOXKptHead(YOLOXHead):
    """``YOLOXHead`` plus, per FPN level, a keypoint branch.

    The branch (``kpt_feat='own'``, default) is its own conv stack on the level's feature,
    as MMPose's YOLOX-Pose (one 3x3 conv by default where MMPose has two, see
    ``kpt_stacked_convs``); with ``kpt_feat='reg'`` it continues from the box branch's
    features instead (``kpt_stacked_convs=0``: only two 1x1 convs, the light option whose
    cost and accuracy: docs/benchmarks.md). Either way classification, box and
    objectness outputs are exactly stock YOLOX's, and a stock YOLOX checkpoint loads with
    only the keypoint layers missing. The branch ends in 1x1 convs: offsets
    (K_total x 2), "labelled" logits (K_total; ``keypoint_scores``) and, unless
    ``loss_kpt_occ`` is None, "occluded" logits (K_total; P(v == 1 | v > 0)), which
    together give each slot's three COCO visibility states (``keypoint_visibility``).
    A keypoint decodes as ``offset * stride + prior``, the way YOLOX decodes box centres.
    Training runs ``YOLOXHead``'s own loss and targets and adds the keypoint losses on the
    positives its assignment picks (see :meth:`loss_by_feat`).

    Each class owns a list of keypoint slots (``keypoint_layout``); only those slots get
    loss, and the other slots of a prediction are output as zeros with score 0.

    Args:
        keypoint_layout (dict): ``dict(classes, keypoints, sigmas, flip_pairs, skeletons)``
            (see :class:`~yolox_kpt.keypoint_layout.KeypointLayout`); the dataset checks
            its file against the same dict.
        kpt_stacked_convs (int, optional): Convs in the keypoint stack. Default: 0 for
            ``kpt_feat='reg'``; for ``'own'``, 1 when the stacks are plain 3x3 convs (tiny
            and larger: one conv matched two in accuracy on the synthetic tiny recipe and
            halves the branch's cost, +10% FLOPs instead of +19% for s at 640) and
            ``stacked_convs`` when they are depthwise-separable (nano: two cost little, and
            one lost tyre AP there). ``stacked_convs`` (2) is MMPose YOLOX-Pose's stack.
        kpt_feat (str): What the keypoint stack reads: 'own' (the level's feature) or 'reg'
            (the output of the box branch's stack, shared).
        kpt_use_depthwise (bool, optional): Depthwise-separable convs (3x3 depthwise + 1x1)
            in the keypoint stack. Default: as ``use_depthwise`` (the box and class stacks).
        loss_kpt_oks (dict, optional): OKS loss config (``OKSLoss``); None disables it.
        loss_kpt_l1 (dict, optional): L1 loss on offsets in stride units; None disables.
        loss_kpt_vis (dict, optional): Visibility BCE; target is "labelled" (v > 0).
        loss_kpt_occ (dict, optional): Occlusion BCE of the ``conv_kpt_occ`` branch;
            target is "occluded" (v == 1), on owned and labelled (v > 0) slots only. None
            builds no such branch and predicts no ``keypoint_visibility``.
        kpt_vis_weights (tuple[float]): Weight of a keypoint in the OKS and L1 losses by its
            COCO v (0, 1, 2): default (0, 1, 1) trains on every labelled point; e.g.
            (0, 0.5, 1) trusts occluded (v=1) positions half as much.
        **kwargs: ``YOLOXHead`` arguments; ``num_classes`` defaults to the layout's.
    """

    def __init__(self,
                 *args,
                 keypoint_layout: ConfigType,
                 kpt_stacked_convs: Optional[int] = None,
                 kpt_feat: str = 'own',
                 kpt_use_depthwise: Optional[bool] = None,
                 loss_kpt_oks: OptConfigType = dict(type='OKSLoss', loss_weight=10.0),
                 loss_kpt_l1: OptConfigType = None,
                 loss_kpt_vis: OptConfigType = dict(
                     type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
                 loss_kpt_occ: OptConfigType = dict(
                     type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
                 kpt_vis_weights: Sequence[float] = (0.0, 1.0, 1.0),
                 **kwargs) -> None:
        self.layout = KeypointLayout.from_config(keypoint_layout)
        if self.layout.num_keypoints == 0:
            raise ValueError('keypoint_layout has no keypoints at all: use YOLOXHead')
        kwargs.setdefault('num_classes', self.layout.num_classes)
        if kwargs['num_classes'] != self.layout.num_classes:
            raise ValueError(
                f"num_classes={kwargs['num_classes']} but keypoint_layout has "
                f'{self.layout.num_classes} classes {self.layout.classes}')
        self.num_keypoints = self.layout.num_keypoints
        if kpt_feat not in ('own', 'reg'):
            raise ValueError(f"kpt_feat must be 'own' or 'reg', got {kpt_feat!r}")
        self.kpt_feat = kpt_feat
        if kpt_stacked_convs is None and kpt_feat == 'reg':
            kpt_stacked_convs = 0
        elif kpt_stacked_convs is None and not kwargs.get('use_depthwise', False):
            kpt_stacked_convs = 1
        self.kpt_stacked_convs = kpt_stacked_convs
        self.kpt_use_depthwise = kpt_use_depthwise
        self.with_kpt_occ = bool(loss_kpt_occ)  # read by _init_layers, inside super()
        super().__init__(*args, **kwargs)
        if self.test_cfg is not None and self.test_cfg.get('max_per_img', -1) > 0:
            # NMS stops at max_per_img itself (mmcv's nms max_num): cheaper than a slice after
            self.test_cfg.nms.setdefault('max_num', self.test_cfg.max_per_img)
        self.loss_kpt_oks = MODELS.build(loss_kpt_oks) if loss_kpt_oks else None
        self.loss_kpt_l1 = MODELS.build(loss_kpt_l1) if loss_kpt_l1 else None
        self.loss_kpt_vis = MODELS.build(loss_kpt_vis) if loss_kpt_vis else None
        self.loss_kpt_occ = MODELS.build(loss_kpt_occ) if loss_kpt_occ else None
        # Not persistent: derived from the config, so checkpoints stay stock-compatible.
        self.register_buffer('class_slot_mask',
                             torch.from_numpy(self.layout.class_slot_mask()),
                             persistent=False)
        if len(kpt_vis_weights) != 3 or min(kpt_vis_weights) < 0:
            raise ValueError(f'kpt_vis_weights must be 3 non-negative weights for v = 0, 1, '
                             f'2, got {kpt_vis_weights}')
        self.register_buffer('kpt_vis_weights',
                             torch.tensor(kpt_vis_weights, dtype=torch.float32),
                             persistent=False)
        self.register_buffer('kpt_sigmas',
                             torch.tensor(self.layout.sigmas, dtype=torch.float32),
                             persistent=False)
        # (image keypoints iterator, per-image targets) while loss_by_feat runs
        self._kpt_targets_state = None

    # ------------------------------------------------------------------ layers
    def _init_layers(self) -> None:
        super()._init_layers()
        self.multi_level_kpt_convs = nn.ModuleList()
        self.multi_level_conv_kpt = nn.ModuleList()
        self.multi_level_conv_kpt_vis = nn.ModuleList()
        # YOLOXHead._build_stacked_convs reads these two attributes: set them for the
        # keypoint stack, then restore the box/class stacks' values.
        num_convs, use_depthwise = self.stacked_convs, self.use_depthwise
        if self.kpt_stacked_convs is not None:
            self.stacked_convs = self.kpt_stacked_convs
        if self.kpt_use_depthwise is not None:
            self.use_depthwise = self.kpt_use_depthwise
        for _ in self.strides:
            self.multi_level_kpt_convs.append(self._build_stacked_convs())
            self.multi_level_conv_kpt.append(
                nn.Conv2d(self.feat_channels, self.num_keypoints * 2, 1))
            self.multi_level_conv_kpt_vis.append(
                nn.Conv2d(self.feat_channels, self.num_keypoints, 1))
        self.stacked_convs, self.use_depthwise = num_convs, use_depthwise
        # No random draw (skip_init, then a fixed start): every other layer gets the same
        # random weights with and without this branch, as before it existed.
        self.multi_level_conv_kpt_occ = nn.ModuleList(
            nn.utils.skip_init(nn.Conv2d, self.feat_channels, self.num_keypoints, 1)
            for _ in self.strides) if self.with_kpt_occ else None
        self._init_kpt_occ()

    def _init_kpt_occ(self) -> None:
        """Occlusion logits start at "never occluded": zero weights, bias at P = 0.01 (YOLOX's
        prior for its class and objectness logits). The untrained branch then predicts
        the old meaning, labelled = visible (v = 2), instead of random states; zero 1x1
        weights still get gradients (the features are not zero)."""
        for conv in self.multi_level_conv_kpt_occ or ():
            with torch.no_grad():
                conv.weight.zero_()
                conv.bias.fill_(bias_init_with_prob(0.01))

    def init_weights(self) -> None:
        """``YOLOXHead.init_weights``, the occlusion convs excepted: they keep the fixed
        start of :meth:`_init_kpt_occ` (mmengine's Kaiming init would draw random numbers
        for them, and so change the draws of whatever is initialised after)."""
        occ = self.multi_level_conv_kpt_occ
        if occ is not None:
            self._modules['multi_level_conv_kpt_occ'] = None  # same key: order kept
        try:
            super().init_weights()
        finally:
            if occ is not None:
                self._modules['multi_level_conv_kpt_occ'] = occ
        self._init_kpt_occ()

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """A checkpoint of this head from before the occlusion branch (keypoint layers but
        no ``multi_level_conv_kpt_occ``) loads with that branch at its fixed start
        (:meth:`_init_kpt_occ`, "never occluded"), so its ``keypoint_visibility`` keeps
        the old meaning, labelled = visible, and a warning names the branch as untrained.
        A stock YOLOX checkpoint (no keypoint layer at all) is left to the usual
        missing-keys report."""
        occ = f'{prefix}multi_level_conv_kpt_occ.'
        if (self.with_kpt_occ and f'{prefix}multi_level_conv_kpt_vis.0.weight' in state_dict
                and not any(k.startswith(occ) for k in state_dict)):
            self._init_kpt_occ()
            for name, param in self.multi_level_conv_kpt_occ.named_parameters():
                state_dict[occ + name] = param.detach().clone()
            print_log(
                'The checkpoint has no multi_level_conv_kpt_occ weights (it predates the '
                'occlusion branch): that branch is untrained and starts at "never '
                'occluded", so keypoint_visibility gives v = 2 for every labelled point. '
                'Train with loss_kpt_occ to predict v = 1.', logger='current',
                level=logging.WARNING)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: Tuple[Tensor]) -> Tuple[List[Tensor], ...]:
        """Stock YOLOX outputs plus keypoint offsets, "labelled" and "occluded" logits.

        Returns:
            tuple: ``cls_scores`` (B, C, H, W), ``bbox_preds`` (B, 4, H, W),
            ``objectnesses`` (B, 1, H, W), ``kpt_offsets`` (B, 2K, H, W) as (x0, y0, x1, ...),
            ``kpt_vis`` (B, K, H, W) logits of v > 0, ``kpt_occ`` (B, K, H, W) logits of
            v == 1 given v > 0 (None per level when ``loss_kpt_occ`` is None); each a list
            over levels. Always six lists: ``loss_by_feat`` takes them positionally.
        """
        conv_kpt_occ = self.multi_level_conv_kpt_occ or [None] * len(self.strides)
        return multi_apply(self._forward_single_kpt, x, self.multi_level_cls_convs,
                           self.multi_level_reg_convs, self.multi_level_conv_cls,
                           self.multi_level_conv_reg, self.multi_level_conv_obj,
                           self.multi_level_kpt_convs, self.multi_level_conv_kpt,
                           self.multi_level_conv_kpt_vis, conv_kpt_occ)

    def _forward_single_kpt(self, x: Tensor, cls_convs: nn.Module, reg_convs: nn.Module,
                            conv_cls: nn.Module, conv_reg: nn.Module, conv_obj: nn.Module,
                            kpt_convs: nn.Module, conv_kpt: nn.Module,
                            conv_kpt_vis: nn.Module,
                            conv_kpt_occ: Optional[nn.Module]) -> Tuple[Tensor, ...]:
        """``YOLOXHead.forward_single`` (same layers, same order) plus the keypoint branch,
        which reads ``x`` or the box branch's features."""
        cls_feat = cls_convs(x)
        reg_feat = reg_convs(x)
        kpt_feat = kpt_convs(reg_feat if self.kpt_feat == 'reg' else x)
        return (conv_cls(cls_feat), conv_reg(reg_feat), conv_obj(reg_feat), conv_kpt(kpt_feat),
                conv_kpt_vis(kpt_feat),
                None if conv_kpt_occ is None else conv_kpt_occ(kpt_feat))

    # ----------------------------------------------------------------- helpers
    def _flatten(self, preds: Sequence[Tensor], channels: int) -> Tensor:
        """Levels of (B, C, H, W) to one (B, sum(H*W), C)."""
        num_imgs = preds[0].shape[0]
        return torch.cat(
            [p.permute(0, 2, 3, 1).reshape(num_imgs, -1, channels) for p in preds], dim=1)

    def _flat_priors(self, cls_scores: Sequence[Tensor]) -> Tensor:
        """(P, 4) priors: x, y (cell corner, YOLOX's offset 0), stride_w, stride_h."""
        featmap_sizes = [s.shape[2:] for s in cls_scores]
        return torch.cat(
            self.prior_generator.grid_priors(featmap_sizes, dtype=cls_scores[0].dtype,
                                             device=cls_scores[0].device, with_stride=True))

    def _kpt_decode(self, priors: Tensor, kpt_offsets: Tensor) -> Tensor:
        """(B, P, 2K) offsets to (B, P, K, 2) keypoints in input-image pixels."""
        offsets = kpt_offsets.reshape(*kpt_offsets.shape[:-1], self.num_keypoints, 2)
        return offsets * priors[:, None, 2:] + priors[:, None, :2]

    def _flatten_occ(self, kpt_occ: Optional[Sequence[Optional[Tensor]]]) -> Optional[Tensor]:
        """Levels of ``kpt_occ`` (B, K, H, W) to (B, P, K); None without the branch."""
        if kpt_occ is None or kpt_occ[0] is None:
            return None
        return self._flatten(kpt_occ, self.num_keypoints)

    def _flatten_all(self, cls_scores, bbox_preds, objectnesses, kpt_offsets, kpt_vis,
                     kpt_occ=None):
        priors = self._flat_priors(cls_scores)
        flat_cls = self._flatten(cls_scores, self.cls_out_channels)
        flat_bbox_preds = self._flatten(bbox_preds, 4)
        flat_obj = self._flatten(objectnesses, 1)[..., 0]
        flat_kpt_off = self._flatten(kpt_offsets, 2 * self.num_keypoints)
        flat_vis = self._flatten(kpt_vis, self.num_keypoints)
        return (priors, flat_cls, flat_bbox_preds, flat_obj, flat_kpt_off, flat_vis,
                self._flatten_occ(kpt_occ))

    # --------------------------------------------------------------- inference
    def decode_all(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                   objectnesses: List[Tensor], kpt_offsets: List[Tensor],
                   kpt_vis: List[Tensor],
                   kpt_occ: Optional[List[Optional[Tensor]]] = None) -> Tuple[Tensor, ...]:
        """Every prior of the batch decoded, for the export (``predict_by_feat`` decodes
        keypoints of the candidates above the score threshold only).

        Returns:
            tuple: ``bboxes`` (B, P, 4) in input pixels, class scores (B, P, C) and
            objectness (B, P) after sigmoid, ``keypoints`` (B, P, K, 2) in input pixels,
            keypoint scores (B, P, K) = P(v > 0), occluded probabilities (B, P, K) =
            P(v == 1 | v > 0) or None without the branch (:func:`keypoint_visibility`
            combines the last two, once slots the class does not own have score 0).
        """
        priors, flat_cls, flat_bbox_preds, flat_obj, flat_kpt_off, flat_vis, flat_occ = \
            self._flatten_all(cls_scores, bbox_preds, objectnesses, kpt_offsets, kpt_vis,
                              kpt_occ)
        return (self._bbox_decode(priors, flat_bbox_preds), flat_cls.sigmoid(),
                flat_obj.sigmoid(), self._kpt_decode(priors, flat_kpt_off), flat_vis.sigmoid(),
                None if flat_occ is None else flat_occ.sigmoid())

    def predict_by_feat(self,
                        cls_scores: List[Tensor],
                        bbox_preds: List[Tensor],
                        objectnesses: List[Tensor],
                        kpt_offsets: List[Tensor],
                        kpt_vis: List[Tensor],
                        kpt_occ: Optional[List[Optional[Tensor]]] = None,
                        batch_img_metas: Optional[List[dict]] = None,
                        cfg: Optional[ConfigDict] = None,
                        rescale: bool = False,
                        with_nms: bool = True) -> List[InstanceData]:
        """Stock YOLOX post-processing, with keypoints following their boxes.

        Args:
            cls_scores, bbox_preds, objectnesses, kpt_offsets, kpt_vis, kpt_occ: the
                lists :meth:`forward` returns (``kpt_occ`` None, or None per level, without
                the occlusion branch).
            batch_img_metas, cfg, rescale, with_nms: as ``YOLOXHead.predict_by_feat``.

        Returns:
            list[InstanceData]: per image ``bboxes`` (N, 4), ``scores`` (N,), ``labels``
            (N,), ``keypoints`` (N, K, 2) and ``keypoint_scores`` (N, K) = P(v > 0); slots
            the class does not own are 0. With the occlusion branch also
            ``keypoint_visibility`` (N, K, 3) float32: P(v = 0, 1, 2) per slot, (1, 0, 0) in
            slots the class does not own (:func:`keypoint_visibility`). With ``rescale``,
            coordinates are in the original image.
        """
        cfg = self.test_cfg if cfg is None else cfg
        priors = self._flat_priors(cls_scores)
        flat_cls = self._flatten(cls_scores, self.cls_out_channels).sigmoid()
        flat_obj = self._flatten(objectnesses, 1)[..., 0].sigmoid()
        flat_bbox_preds = self._flatten(bbox_preds, 4)
        # Boxes are decoded for the candidates above score_thr only (stock YOLOX decodes
        # every prior: its exp over all priors was a sixth of its post-processing time), and
        # keypoints for the final detections only (after NMS): decoding every prior's
        # K_total points doubled the post-processing time.
        level_ends = list(itertools.accumulate(o.shape[2] * o.shape[3] for o in kpt_offsets))

        result_list = []
        for img_id, img_meta in enumerate(batch_img_metas):
            max_scores, labels = torch.max(flat_cls[img_id], 1)
            valid = (flat_obj[img_id] * max_scores >= cfg.score_thr).nonzero()[:, 0]
            results = InstanceData(bboxes=self._bbox_decode(priors[valid],
                                                            flat_bbox_preds[img_id][valid]),
                                   scores=max_scores[valid] * flat_obj[img_id][valid],
                                   labels=labels[valid], prior_inds=valid)
            # stock YOLOX post-processing (rescale, class-aware NMS) carries prior_inds
            results = super()._bbox_post_process(results, cfg, rescale, with_nms, img_meta)
            # mmdet's YOLOX ignores max_per_img; other mmdet heads and the export honour it
            if with_nms and 0 < cfg.get('max_per_img', -1) < len(results):
                results = results[:cfg.max_per_img]
            inds = results.prior_inds
            del results.prior_inds
            with_occ = kpt_occ is not None and kpt_occ[0] is not None
            maps = (kpt_offsets, kpt_vis, kpt_occ) if with_occ else (kpt_offsets, kpt_vis)
            offsets, vis, *occ = _gather_priors(maps, img_id, inds, level_ends)
            keypoints = self._kpt_decode(priors[inds], offsets)
            if rescale:
                keypoints = keypoints / keypoints.new_tensor(img_meta['scale_factor'])
            owned = self.class_slot_mask[results.labels]
            results.keypoints = torch.where(owned[..., None], keypoints, 0.0)
            results.keypoint_scores = torch.where(owned, vis.sigmoid(), 0.0)
            if with_occ:
                results.keypoint_visibility = keypoint_visibility(results.keypoint_scores,
                                                                  occ[0].sigmoid())
            result_list.append(results)
        return result_list

    # -------------------------------------------------------------------- loss
    def loss_by_feat(self,
                     cls_scores: Sequence[Tensor],
                     bbox_preds: Sequence[Tensor],
                     objectnesses: Sequence[Tensor],
                     kpt_offsets: Sequence[Tensor],
                     kpt_vis: Sequence[Tensor],
                     kpt_occ: Sequence[Optional[Tensor]],
                     batch_gt_instances: Sequence[InstanceData],
                     batch_img_metas: Sequence[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) -> dict:
        """``YOLOXHead.loss_by_feat`` (called, not copied) plus ``loss_kpt_oks`` /
        ``loss_kpt_l1`` / ``loss_kpt_vis`` / ``loss_kpt_occ``.

        The parent assigns, builds the box targets and computes the box losses; its
        per-image ``_get_targets_single`` (extended below) lends the assigner that image's
        decoded keypoints and records the keypoint targets of the priors it assigns, as
        MMYOLO's YOLOX-Pose head does. The keypoint losses then use the same positives.

        Args:
            cls_scores, bbox_preds, objectnesses (list[Tensor]): per level (B, C, H, W),
                (B, 4, H, W), (B, 1, H, W), as ``YOLOXHead``.
            kpt_offsets (list[Tensor]): per level (B, 2K, H, W).
            kpt_vis (list[Tensor]): per level (B, K, H, W) "labelled" (v > 0) logits.
            kpt_occ (list[Tensor | None]): per level (B, K, H, W) "occluded" (v == 1 given
                v > 0) logits, or None per level without the branch.
            batch_gt_instances (list[InstanceData]): need ``keypoints`` (N, K, 2) and
                ``keypoints_visible`` (N, K), which ``PackKptDetInputs`` provides.
            batch_img_metas (list[dict]): as ``YOLOXHead``.

        Returns:
            dict[str, Tensor]: the parent's losses and the keypoint losses. Under autocast
            (mixed-precision training) all are computed in float32 from float32 copies
            of the maps.
        """
        device_type = cls_scores[0].device.type
        if torch.is_autocast_enabled(device_type):
            # bfloat16 keeps 8 significant bits: decoded box corners and keypoints of a
            # 320-pixel frame would round to 2 pixels, and SimOTA's costs with them.
            maps = [[None if m is None else m.float() for m in level_maps] for level_maps in
                    (cls_scores, bbox_preds, objectnesses, kpt_offsets, kpt_vis, kpt_occ)]
            with torch.autocast(device_type, enabled=False):
                return self.loss_by_feat(*maps, batch_gt_instances, batch_img_metas,
                                         batch_gt_instances_ignore)
        for gt in batch_gt_instances:
            if 'keypoints' not in gt or 'keypoints_visible' not in gt:
                raise KeyError(
                    'gt_instances carry no keypoints: the pipeline needs LoadKptAnnotations '
                    'and PackKptDetInputs (see configs/yolox-kpt)')
        priors = self._flat_priors(cls_scores)
        flat_kpts = self._kpt_decode(priors,
                                     self._flatten(kpt_offsets, 2 * self.num_keypoints))
        flat_vis = self._flatten(kpt_vis, self.num_keypoints)
        flat_occ = self._flatten_occ(kpt_occ)

        # The parent maps _get_targets_single over the images in order; each call takes
        # its image's keypoints from the iterator and appends its targets.
        self._kpt_targets_state = (iter(flat_kpts.detach()), [])
        try:
            losses = super().loss_by_feat(cls_scores, bbox_preds, objectnesses,
                                          batch_gt_instances, batch_img_metas,
                                          batch_gt_instances_ignore)
            per_image = self._kpt_targets_state[1]
        finally:
            self._kpt_targets_state = None
        pos_masks, bbox_targets, kpt_targets, kpt_visible, kpt_owned = (
            torch.cat(t, 0) for t in zip(*per_image))
        num_imgs = len(batch_img_metas)
        losses.update(
            self._kpt_losses(
                flat_kpts.view(-1, self.num_keypoints, 2)[pos_masks],
                flat_vis.view(-1, self.num_keypoints)[pos_masks],
                None if flat_occ is None else flat_occ.view(-1, self.num_keypoints)[pos_masks],
                priors.repeat(num_imgs, 1)[pos_masks], kpt_targets, kpt_visible, kpt_owned,
                bbox_targets))
        return losses

    def _kpt_losses(self, pred_kpts: Tensor, pred_vis: Tensor, pred_occ: Optional[Tensor],
                    priors: Tensor, kpt_targets: Tensor, kpt_visible: Tensor, kpt_owned: Tensor,
                    bbox_targets: Tensor) -> dict:
        """Keypoint losses over positive priors.

        Args:
            pred_kpts (Tensor): (Npos, K, 2) decoded keypoints.
            pred_vis (Tensor): (Npos, K) "labelled" logits.
            pred_occ (Tensor, optional): (Npos, K) "occluded" logits.
            priors (Tensor): (Npos, 4) x, y, stride_w, stride_h.
            kpt_targets (Tensor): (Npos, K, 2) assigned ground-truth keypoints.
            kpt_visible (Tensor): (Npos, K) their COCO v.
            kpt_owned (Tensor): (Npos, K) bool, slots of the assigned class.
            bbox_targets (Tensor): (Npos, 4) assigned ground-truth boxes (OKS scale).

        Returns:
            dict[str, Tensor]: finite even with no positive or no labelled keypoint. Each is
            normalised by its count averaged over processes (``reduce_mean``, as YOLOX's box
            losses), so N processes train like one with N times the batch.
        """
        owned = kpt_owned.to(pred_vis.dtype)
        vis_index = kpt_visible.round().clamp(0, 2).long()
        labelled = owned * self.kpt_vis_weights.to(pred_vis.dtype)[vis_index]
        # Every output in the graph (DDP wants a gradient, even 0, for each parameter).
        zero = pred_kpts.sum() * 0 + pred_vis.sum() * 0
        if pred_occ is not None:
            zero = zero + pred_occ.sum() * 0
        losses = {}
        if self.loss_kpt_oks is not None:
            areas = (bbox_targets[:, 2] - bbox_targets[:, 0]) * (bbox_targets[:, 3] -
                                                                   bbox_targets[:, 1])
            losses['loss_kpt_oks'] = self.loss_kpt_oks(
                pred_kpts, kpt_targets, labelled, areas, self.kpt_sigmas,
                avg_factor=_global_count(labelled.sum(-1) > 0)) + zero
        if self.loss_kpt_l1 is not None:
            strides = priors[:, None, 2:]
            pred_off = (pred_kpts - priors[:, None, :2]) / strides
            target_off = (kpt_targets - priors[:, None, :2]) / strides
            weight = labelled[..., None].expand_as(pred_off)
            losses['loss_kpt_l1'] = self.loss_kpt_l1(
                pred_off, target_off, weight, avg_factor=_global_count(weight)) + zero
        if self.loss_kpt_vis is not None:
            losses['loss_kpt_vis'] = self.loss_kpt_vis(
                pred_vis, (kpt_visible > 0).to(pred_vis.dtype), owned,
                avg_factor=_global_count(owned)) + zero
        if self.loss_kpt_occ is not None and pred_occ is not None:
            # P(v == 1 | v > 0): only labelled slots say anything about occlusion. Labels
            # that never use v = 1 give target 0 everywhere (it trains to "visible").
            occ_weight = owned * (kpt_visible > 0).to(pred_occ.dtype)
            losses['loss_kpt_occ'] = self.loss_kpt_occ(
                pred_occ, (kpt_visible.round() == 1).to(pred_occ.dtype), occ_weight,
                avg_factor=_global_count(occ_weight)) + zero
        return losses

    @torch.no_grad()
    def _get_targets_single(self,
                            priors: Tensor,
                            cls_preds: Tensor,
                            decoded_bboxes: Tensor,
                            objectness: Tensor,
                            gt_instances: InstanceData,
                            img_meta: dict,
                            gt_instances_ignore: Optional[InstanceData] = None) -> tuple:
        """``YOLOXHead._get_targets_single`` (called, not copied), with this image's
        decoded keypoints lent to the assigner, and the keypoint targets of its positives
        gathered by their assigned object (no loop over instances).

        Only called inside :meth:`loss_by_feat`, which provides the keypoints.

        Args:
            priors (Tensor): (P, 4) x, y, stride_w, stride_h.
            cls_preds (Tensor): (P, C) logits.
            decoded_bboxes (Tensor): (P, 4).
            objectness (Tensor): (P,) logits.
            gt_instances (InstanceData): ``bboxes`` (N, 4), ``labels`` (N,), ``keypoints``
                (N, K, 2), ``keypoints_visible`` (N, K).

        Returns:
            tuple: the parent's: foreground mask (P,), cls (Npos, C), obj (P, 1), bbox
            (Npos, 4), l1 (Npos, 4), Npos. Recorded for the keypoint losses: the mask, the
            box targets, keypoints (Npos, K, 2), their COCO v (Npos, K) and the slots the
            assigned class owns (Npos, K) bool.
        """
        keypoints, per_image = self._kpt_targets_state
        assigner = self.assigner
        lent = _AssignerWithKeypoints(assigner, next(keypoints), kpt_sigmas=self.kpt_sigmas,
                                      class_slot_mask=self.class_slot_mask)
        self.assigner = lent
        try:
            targets = super()._get_targets_single(priors, cls_preds, decoded_bboxes,
                                                  objectness, gt_instances, img_meta,
                                                  gt_instances_ignore)
        finally:
            self.assigner = assigner
        foreground_mask, bbox_target = targets[0], targets[3]
        if lent.result is None:  # no object: the parent returned before assigning
            num_kpts = self.num_keypoints
            kpt_target = cls_preds.new_zeros((0, num_kpts, 2))
            kpt_visible = cls_preds.new_zeros((0, num_kpts))
            kpt_owned = kpt_visible.bool()
        else:
            # YOLOX samples with PseudoSampler: the positives are the priors with
            # gt_inds > 0, in prior order, as the foreground mask selects them.
            gt_inds = lent.result.gt_inds[foreground_mask] - 1
            kpt_target = gt_instances.keypoints[gt_inds].to(cls_preds.dtype)
            kpt_visible = gt_instances.keypoints_visible[gt_inds].to(cls_preds.dtype)
            kpt_owned = self.class_slot_mask[gt_instances.labels[gt_inds]]
        per_image.append((foreground_mask, bbox_target, kpt_target, kpt_visible, kpt_owned))
        return targets


class _AssignerWithKeypoints:
    """The head's assigner, called as ``YOLOXHead._get_targets_single`` calls it, with one
    image's decoded keypoints (P, K, 2) set as ``pred_instances.keypoints`` and the
    layout's ``kpt_sigmas`` / ``class_slot_mask`` passed along: ``KptSimOTAAssigner``
    uses them, a stock ``SimOTAAssigner`` ignores them. Keeps the ``AssignResult``."""

    def __init__(self, assigner, keypoints: Tensor, **layout_tensors: Tensor) -> None:
        self.assigner = assigner
        self.keypoints = keypoints
        self.layout_tensors = layout_tensors
        self.result = None

    def assign(self, pred_instances: InstanceData, gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None, **kwargs):
        pred_instances.keypoints = self.keypoints
        self.result = self.assigner.assign(pred_instances=pred_instances,
                                           gt_instances=gt_instances,
                                           gt_instances_ignore=gt_instances_ignore,
                                           **self.layout_tensors, **kwargs)
        return self.result


def keypoint_visibility(keypoint_scores: Tensor, occluded: Tensor) -> Tensor:
    """Probabilities of the three COCO visibility states of each keypoint slot.

    Args:
        keypoint_scores (Tensor): (..., K) s = P(v > 0), 0 in slots the class does not own.
        occluded (Tensor): (..., K) o = P(v == 1 | v > 0).

    Returns:
        Tensor: (..., K, 3) float32 (1 - s, s * o, s * (1 - o)) = P(v = 0, 1, 2); they
        sum to 1, and a slot with s = 0 (not owned) is (1, 0, 0). The predicted COCO v is
        ``keypoint_layout.visibility_states`` of them.
    """
    s, o = keypoint_scores.float(), occluded.float()
    return torch.stack([1 - s, s * o, s * (1 - o)], dim=-1)


def _global_count(mask: Tensor) -> float:
    """Number of non-zero entries, averaged over distributed processes, at least 1."""
    return max(float(reduce_mean(mask.detach().float().sum())), 1.0)


def _gather_priors(map_lists: Sequence[Sequence[Tensor]], img_id: int, inds: Tensor,
                   level_ends: Sequence[int]) -> List[Tensor]:
    """For each list of per-level (B, C, H, W) maps, the (N, C) values at the flat prior
    indices ``inds``, without flattening whole maps.

    The indices are sorted once so that each level's are one slice: two ops per map and
    level instead of boolean masks (eager-mode op count is what this costs for ~100
    detections).
    """
    sorted_inds, order = inds.sort()
    sorted_list = sorted_inds.tolist()
    bounds = [bisect.bisect_left(sorted_list, end) for end in level_ends]
    outs = []
    for maps in map_lists:
        pieces, start, lo = [], 0, 0
        for level_map, end, hi in zip(maps, level_ends, bounds):
            if hi > lo:
                local = sorted_inds[lo:hi] - start
                pieces.append(level_map[img_id].flatten(1).index_select(1, local))
            start, lo = end, hi
        gathered = torch.cat(pieces, 1).T if pieces else \
            maps[0].new_empty((0, maps[0].shape[1]))
        out = torch.empty_like(gathered)
        out[order] = gathered
        outs.append(out)
    return outs
