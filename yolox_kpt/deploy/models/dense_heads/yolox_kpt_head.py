"""Export of ``YOLOXKptHead.predict_by_feat``: NMS in the graph, keypoints kept by its indices.

Outputs ``dets`` (B, N, 5) x1 y1 x2 y2 score, ``labels`` (B, N) and ``keypoints``
(B, N, K_total, 3) x y score, in the network input's pixels (the backend model or the
runtime rescales to the original image, as mmdeploy does for boxes), then
``keypoint_visibility`` (B, N, K_total, 3), P(COCO v = 0, 1, 2) per slot: the export
contract of :mod:`yolox_kpt.runtime.contract`. Packing keypoints with their scores into one
tensor saves an output; ``contract.unpack_outputs`` is the one place that splits them.
"""
from typing import List, Optional

import torch
from mmdeploy.codebase.mmdet.deploy import get_post_processing_params
from mmdeploy.core import FUNCTION_REWRITER
from mmdeploy.mmcv.ops.nms import ONNXNMSop, multiclass_nms
from mmdeploy.utils import get_ir_config
from mmengine.config import ConfigDict
from torch import Tensor

from ....models.dense_heads.yolox_kpt_head import keypoint_visibility
from ....runtime.contract import OUTPUT_NAMES

#: The optional fourth output (``yolox_kpt.runtime.contract.OUTPUT_NAMES``).
VISIBILITY = OUTPUT_NAMES[3]


def onnx_multiclass_nms(boxes: Tensor, scores: Tensor, max_output_boxes_per_class: int,
                        iou_threshold: float, score_threshold: float, pre_top_k: int,
                        keep_top_k: int):
    """Class-aware NMS with the standard ONNX ``NonMaxSuppression`` whatever the backend,
    for TensorRT 10, which parses it natively (mmdeploy's ``tensorrt`` rewrite would insert
    its ``TRTBatchedNMS`` plugin instead).

    No pre-top-k and a final top-k over at least ``keep_top_k`` rows: TensorRT needs a
    constant K no larger than the axis, which a dynamic input size or a varying number of
    kept boxes would otherwise break. Returns (dets (B, keep_top_k, 5), labels, index)
    like ``multiclass_nms(..., output_index=True)``; empty rows have index -1.
    """
    batch_size = scores.shape[0]
    selected = ONNXNMSop.apply(boxes, scores.permute(0, 2, 1), max_output_boxes_per_class,
                               torch.tensor([iou_threshold], dtype=torch.float32),
                               torch.tensor([score_threshold], dtype=torch.float32))
    batch_inds, cls_inds, box_inds = selected[:, 0], selected[:, 1], selected[:, 2]
    dets = torch.cat([boxes[batch_inds, box_inds], scores[batch_inds, box_inds, cls_inds,
                                                          None]], dim=1)  # (S, 5)
    in_image = batch_inds[None, :] == torch.arange(batch_size, device=boxes.device)[:, None]
    dets = torch.where(in_image[..., None], dets[None], dets.new_zeros(1))  # (B, S, 5)
    labels = torch.where(in_image, cls_inds[None], cls_inds.new_full((1, ), -1))
    index = torch.where(in_image, box_inds[None], box_inds.new_full((1, ), -1))
    dets = torch.cat([dets, dets.new_zeros((batch_size, keep_top_k, 5))], 1)
    labels = torch.cat([labels, labels.new_full((batch_size, keep_top_k), -1)], 1)
    index = torch.cat([index, index.new_full((batch_size, keep_top_k), -1)], 1)
    _, top = dets[..., 4].topk(keep_top_k, dim=1)
    rows = torch.arange(batch_size, device=boxes.device)[:, None]
    return dets[rows, top], labels[rows, top], index[rows, top]


@FUNCTION_REWRITER.register_rewriter(
    func_name='yolox_kpt.models.dense_heads.yolox_kpt_head.YOLOXKptHead.predict_by_feat')
def yolox_kpt_head__predict_by_feat(self,
                                    cls_scores: List[Tensor],
                                    bbox_preds: List[Tensor],
                                    objectnesses: List[Tensor],
                                    kpt_offsets: List[Tensor],
                                    kpt_vis: List[Tensor],
                                    kpt_occ: Optional[List[Optional[Tensor]]] = None,
                                    batch_img_metas: Optional[List[dict]] = None,
                                    cfg: Optional[ConfigDict] = None,
                                    rescale: bool = False,
                                    with_nms: bool = True):
    """Decode every prior, NMS through mmdeploy, gather keypoints by the kept indices.

    Only each prior's best class enters NMS (its other class scores are zeroed), as
    mmdet's YOLOX post-processing does, so exported and PyTorch detections agree; foreign
    keypoint slots of each detection's class are zeroed, as in PyTorch.

    ``keypoint_visibility`` is output when the deploy config's ``output_names`` list it and
    the head has the occlusion branch (``kpt_occ`` not None; ``export_onnx`` drops the name
    from the config for a head without it). It is computed after NMS from the kept
    priors' occlusion probabilities and the masked keypoint scores, by the function
    PyTorch's ``predict_by_feat`` uses: foreign slots and padded rows are (1, 0, 0).

    Returns:
        tuple: ``dets`` (B, N, 5), ``labels`` (B, N), ``keypoints`` (B, N, K, 3), or with
        visibility ``dets``, ``labels``, (``keypoints``, ``keypoint_visibility`` (B, N, K,
        3)), which the ONNX graph flattens into four outputs; without NMS, ``bboxes``
        (B, P, 4), ``scores`` (B, P, C) and ``keypoints`` (B, P, K, 3) (or the pair).
    """
    ctx = FUNCTION_REWRITER.get_context()
    deploy_cfg = ctx.cfg
    cfg = self.test_cfg if cfg is None else cfg
    bboxes, cls, obj, kpts, kpt_scores, occluded = self.decode_all(
        cls_scores, bbox_preds, objectnesses, kpt_offsets, kpt_vis, kpt_occ)
    with_vis = occluded is not None and VISIBILITY in get_ir_config(deploy_cfg).get(
        'output_names', ())
    best = cls.max(-1, keepdim=True)[0]
    scores = torch.where(cls >= best, cls, torch.zeros_like(cls)) * obj[..., None]
    keypoints = torch.cat([kpts, kpt_scores[..., None]], dim=-1)
    if not with_nms:
        if with_vis:  # nested as below
            return bboxes, scores, (keypoints, keypoint_visibility(kpt_scores, occluded))
        return bboxes, scores, keypoints

    params = get_post_processing_params(deploy_cfg)
    nms_args = dict(
        max_output_boxes_per_class=params.max_output_boxes_per_class,
        iou_threshold=cfg.nms.get('iou_threshold', params.iou_threshold),
        score_threshold=cfg.get('score_thr', params.score_threshold),
        pre_top_k=params.pre_top_k,
        keep_top_k=cfg.get('max_per_img', params.keep_top_k))
    if nms_args['pre_top_k'] <= 0:
        # mmdeploy 1.3.1's batched ONNX NMS returns positions in its own output, not box
        # indices, when output_index=True and there is no pre-top-k (_select_nms_index).
        raise ValueError('codebase_config.post_processing.pre_top_k must be > 0 for '
                         'keypoint export (e.g. 5000)')
    # NMS pads its kept indices with -1 (TensorRT's plugin, and mmdeploy's ONNX NMS when
    # fewer than keep_top_k survive): an all-zero last prior makes those rows zeros.
    bboxes = torch.cat([bboxes, bboxes.new_zeros((bboxes.shape[0], 1, 4))], 1)
    scores = torch.cat([scores, scores.new_zeros((scores.shape[0], 1, scores.shape[2]))], 1)
    keypoints = torch.cat(
        [keypoints, keypoints.new_zeros((keypoints.shape[0], 1, *keypoints.shape[2:]))], 1)
    if with_vis:
        occluded = torch.cat([occluded, occluded.new_zeros((occluded.shape[0], 1,
                                                            occluded.shape[2]))], 1)
    if deploy_cfg.get('codebase_config', {}).get('nms_op', 'auto') == 'onnx':
        dets, labels, index = onnx_multiclass_nms(bboxes, scores, **nms_args)
    else:
        dets, labels, index = multiclass_nms(bboxes, scores, output_index=True, **nms_args)
    # -1 -> the zero prior, explicitly: ONNX's flattened gather would wrap a negative index
    # into the previous image's rows.
    index = torch.where(index < 0, index + bboxes.shape[1], index)
    batch_inds = torch.arange(bboxes.shape[0], device=bboxes.device).view(-1, 1)
    keypoints = keypoints[batch_inds, index]
    # padded rows carry label -1 (int Clip is not in opset 11, hence where)
    labels_or_0 = torch.where(labels < 0, torch.zeros_like(labels), labels)
    owned = self.class_slot_mask[labels_or_0].to(keypoints.dtype)
    keypoints = keypoints * owned[..., None]
    if not with_vis:
        return dets, labels, keypoints
    # from the masked scores: foreign slots, and padded rows (the zero prior), are (1, 0, 0)
    visibility = keypoint_visibility(keypoints[..., 2], occluded[batch_inds, index])
    # mmdeploy marks a single-stage detector's outputs with three names (dets, labels,
    # masks) and fails on a fourth tensor at the top level; nested in the third place it
    # passes, and torch.onnx flattens nested outputs in order: the graph still has the
    # four outputs of OUTPUT_NAMES.
    return dets, labels, (keypoints, visibility)
