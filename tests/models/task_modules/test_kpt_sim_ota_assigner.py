"""KptSimOTAAssigner: stock when switched off, OKS decides when on, IoU stands in without
keypoints."""
import math

import pytest
import torch
from mmdet.models.task_modules.assigners import SimOTAAssigner
from mmengine.structures import InstanceData

from yolox_kpt.models import KptSimOTAAssigner
from yolox_kpt.models.losses import keypoint_oks

SIGMAS = torch.tensor([0.1, 0.1, 0.05])
# class 0 owns slots 0-1, class 1 owns slot 2, class 2 owns none
SLOTS = torch.tensor([[True, True, False], [False, False, True], [False, False, False]])


def random_case(seed, num_priors=60, num_gt=4):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(num_priors, 2, generator=g) * 64
    priors = torch.cat([xy, torch.full((num_priors, 2), 8.)], 1)
    boxes = torch.cat([xy - 10 - torch.rand(num_priors, 2, generator=g) * 5,
                       xy + 10 + torch.rand(num_priors, 2, generator=g) * 5], 1)
    gxy = torch.rand(num_gt, 2, generator=g) * 40 + 5
    gt_boxes = torch.cat([gxy, gxy + 20 + torch.rand(num_gt, 2, generator=g) * 10], 1)
    gt_kpts = gxy[:, None] + torch.rand(num_gt, 3, 2, generator=g) * 20
    pred = InstanceData(priors=priors, bboxes=boxes,
                        scores=torch.rand(num_priors, 3, generator=g),
                        keypoints=xy[:, None] + torch.randn(num_priors, 3, 2, generator=g) * 6)
    gts = InstanceData(bboxes=gt_boxes, labels=torch.arange(num_gt) % 3, keypoints=gt_kpts,
                       keypoints_visible=torch.full((num_gt, 3), 2.))
    return pred, gts


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_switched_off_equals_stock_simota(seed):
    pred, gts = random_case(seed)
    stock = SimOTAAssigner(center_radius=2.5).assign(pred, gts)
    ours = KptSimOTAAssigner(oks_weight=0, dynamic_k_indicator='iou').assign(
        pred, gts, kpt_sigmas=SIGMAS, class_slot_mask=SLOTS)
    assert torch.equal(stock.gt_inds, ours.gt_inds)
    assert torch.equal(stock.max_overlaps, ours.max_overlaps)


def two_prior_case():
    """One vehicle (class 0) and two priors inside it: prior 0 has the better box (IoU 1)
    but keypoints 6 px off; prior 1 a slightly worse box and exact keypoints."""
    gt_box = torch.tensor([[0., 0., 40., 40.]])
    gts = InstanceData(bboxes=gt_box, labels=torch.tensor([0]),
                       keypoints=torch.tensor([[[10., 38.], [30., 38.], [0., 0.]]]),
                       keypoints_visible=torch.tensor([[2., 2., 0.]]))
    pred = InstanceData(
        priors=torch.tensor([[20., 20., 8., 8.], [20., 20., 8., 8.]]),
        bboxes=torch.tensor([[0., 0., 40., 40.], [0., 0., 40., 38.]]),
        scores=torch.full((2, 3), 0.5),
        keypoints=torch.tensor([[[16., 38.], [36., 38.], [0., 0.]],
                                [[10., 38.], [30., 38.], [0., 0.]]]))
    return pred, gts


def test_oks_cost_picks_the_prior_with_the_right_keypoints():
    pred, gts = two_prior_case()
    # candidate_topk=1: one positive per object, so the cost alone decides which
    stock = SimOTAAssigner(candidate_topk=1).assign(pred, gts)
    ours = KptSimOTAAssigner(candidate_topk=1, oks_weight=3.0,
                             dynamic_k_indicator='iou').assign(
        pred, gts, kpt_sigmas=SIGMAS, class_slot_mask=SLOTS)
    assert stock.gt_inds.tolist() == [1, 0]
    assert ours.gt_inds.tolist() == [0, 1]


def test_oks_indicator_makes_the_target_the_oks():
    pred, gts = two_prior_case()
    ours = KptSimOTAAssigner(candidate_topk=1, oks_weight=3.0).assign(
        pred, gts, kpt_sigmas=SIGMAS, class_slot_mask=SLOTS)
    assert ours.max_overlaps[1].item() == pytest.approx(1.0, abs=1e-6)
    # prior 0 unmatched; by hand: COCO OKS of 6 px at area 1600, sigma 0.1 on both points
    e = 36 / ((2 * 0.1)**2 * 1600 * 2)
    oks = keypoint_oks(pred.keypoints[:1], gts.keypoints, torch.tensor([[1., 1., 0.]]),
                       torch.tensor([1600.]), SIGMAS)
    assert oks.item() == pytest.approx(math.exp(-e), rel=1e-5)


def test_objects_without_keypoints_fall_back_to_iou():
    pred, gts = random_case(3)
    gts.labels[:] = 2  # class 2 owns no keypoint: OKS undefined for every object
    # the IoU is the indicator and the OKS term's stand-in: stock SimOTA with the IoU cost
    # weighted iou_weight + oks_weight
    stock = SimOTAAssigner(iou_weight=5.0).assign(pred, gts)
    ours = KptSimOTAAssigner(iou_weight=3.0, oks_weight=2.0, dynamic_k_indicator='oks').assign(
        pred, gts, kpt_sigmas=SIGMAS, class_slot_mask=SLOTS)
    assert torch.equal(stock.gt_inds, ours.gt_inds)
    assert torch.allclose(stock.max_overlaps, ours.max_overlaps)


def test_pairwise_oks_equals_one_pair_at_a_time():
    pred, gts = random_case(4)
    assigner = KptSimOTAAssigner()
    captured = {}
    original = assigner.pairwise_oks

    def spy(valid_mask):
        captured['valid'] = valid_mask.clone()  # SimOTA narrows the mask in place later
        captured['out'] = original(valid_mask)
        return captured['out']

    assigner.pairwise_oks = spy
    assigner.assign(pred, gts, kpt_sigmas=SIGMAS, class_slot_mask=SLOTS)
    oks, has_kpts = captured['out']
    valid = pred.keypoints[captured['valid']]
    labelled = (SLOTS[gts.labels] & (gts.keypoints_visible > 0)).float()
    areas = (gts.bboxes[:, 2] - gts.bboxes[:, 0]) * (gts.bboxes[:, 3] - gts.bboxes[:, 1])
    for j in range(len(gts)):
        one = keypoint_oks(valid, gts.keypoints[j:j + 1].expand_as(valid),
                           labelled[j:j + 1].expand(len(valid), -1), areas[j].expand(len(valid)),
                           SIGMAS)
        assert torch.allclose(oks[:, j], one, atol=1e-6)
    assert has_kpts.tolist() == [True, True, False, True]


def test_needs_the_heads_keypoint_arguments():
    pred, gts = random_case(0)
    with pytest.raises(ValueError, match='kpt_sigmas and class_slot_mask'):
        KptSimOTAAssigner().assign(pred, gts)
    with pytest.raises(ValueError, match="'iou' or 'oks'"):
        KptSimOTAAssigner(dynamic_k_indicator='box')
