"""YOLOXKptHead: stock-equal boxes, keypoints through NMS, per-class slots, finite losses."""
import copy
import math

import pytest
import torch
from mmdet.models.dense_heads import YOLOXHead
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from yolox_kpt.models import YOLOXKptHead
from yolox_kpt.models.dense_heads import keypoint_visibility

LAYOUT = dict(
    classes=('vehicle', 'vehicle_face', 'pedestrian', 'cyclist'),
    keypoints=dict(vehicle=('front_left_tyre', 'front_right_tyre', 'rear_left_tyre',
                            'rear_right_tyre'),
                   cyclist=('front_wheel', 'rear_wheel')),
    sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, rear_left_tyre=0.05,
                rear_right_tyre=0.05, front_wheel=0.05, rear_wheel=0.05))
HEAD_ARGS = dict(num_classes=4, in_channels=8, feat_channels=8, stacked_convs=1,
                 norm_cfg=dict(type='BN'),
                 train_cfg=ConfigDict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
                 test_cfg=ConfigDict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65),
                                     max_per_img=100))


def build_pair(seed=0, **kpt_args):
    torch.manual_seed(seed)
    kpt_head = YOLOXKptHead(keypoint_layout=LAYOUT, loss_kpt_l1=dict(type='L1Loss'),
                            **kpt_args, **copy.deepcopy(HEAD_ARGS))
    kpt_head.init_weights()
    # Scores near 0.25 instead of YOLOX's 1e-4 prior, so random weights give detections.
    for conv in (*kpt_head.multi_level_conv_cls, *kpt_head.multi_level_conv_obj):
        torch.nn.init.normal_(conv.bias, 0, 1)
    stock = YOLOXHead(**copy.deepcopy(HEAD_ARGS))
    missing, unexpected = stock.load_state_dict(kpt_head.state_dict(), strict=False)
    assert not missing
    assert all('kpt' in k for k in unexpected)
    kpt_head.eval()
    stock.eval()
    return kpt_head, stock


def feats(seed=0, batch=2, size=32):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, 8, size // s, size // s, generator=g) for s in (1, 2, 4))


def metas(batch=2, scale=(0.5, 0.25)):
    return [dict(img_shape=(128, 128), ori_shape=(256, 512), scale_factor=scale)] * batch


def gt(num=3, seed=0, visible=2.):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(num, 2, generator=g) * 60
    wh = torch.rand(num, 2, generator=g) * 50 + 16
    boxes = torch.cat([xy, xy + wh], 1)
    labels = torch.arange(num) % 4
    kpts = xy[:, None] + torch.rand(num, 6, 2, generator=g) * wh[:, None]
    return InstanceData(bboxes=boxes, labels=labels, keypoints=kpts,
                        keypoints_visible=torch.full((num, 6), visible))


@pytest.mark.parametrize('rescale,kpt_feat', [(True, 'own'), (False, 'own'), (True, 'reg')])
def test_predictions_equal_stock_yolox(rescale, kpt_feat):
    kpt_head, stock = build_pair(kpt_feat=kpt_feat)
    x = feats()
    with torch.no_grad():
        ours = kpt_head.predict_by_feat(*kpt_head(x), batch_img_metas=metas(),
                                        rescale=rescale)
        ref = stock.predict_by_feat(*stock(x), batch_img_metas=metas(), rescale=rescale)
    for a, b in zip(ours, ref):
        # stock YOLOX ignores max_per_img; ours keeps the best 100, as the export does
        assert len(b) > 100 and len(a) == 100
        b = b[:100]
        torch.testing.assert_close(a.bboxes, b.bboxes)
        torch.testing.assert_close(a.scores, b.scores)
        assert torch.equal(a.labels, b.labels)
        assert a.keypoints.shape == (len(b), 6, 2)
        assert a.keypoint_scores.shape == (len(b), 6)


def test_box_losses_equal_stock_yolox():
    kpt_head, stock = build_pair()
    kpt_head.train()
    stock.train()
    kpt_head.use_l1 = stock.use_l1 = True
    x = feats()
    gts = [gt(3, 0), gt(2, 1)]
    ours = kpt_head.loss_by_feat(*kpt_head(x), gts, metas())
    ref = stock.loss_by_feat(*stock(x), [InstanceData(bboxes=g.bboxes, labels=g.labels)
                                         for g in gts], metas())
    for key, value in ref.items():
        torch.testing.assert_close(ours[key], value)
    assert {'loss_kpt_oks', 'loss_kpt_l1', 'loss_kpt_vis'} <= set(ours)


def test_losses_under_bfloat16_autocast_are_the_float32_losses_of_the_maps():
    kpt_head, _ = build_pair()
    kpt_head.train()
    gts = [gt(3, 0), gt(2, 1)]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        maps = kpt_head(feats())
        assert maps[0][0].dtype == torch.bfloat16  # the convs did run in bfloat16
        ours = kpt_head.loss_by_feat(*maps, gts, metas())
    ref = kpt_head.loss_by_feat(*[[m.float() for m in level] for level in maps], gts, metas())
    assert set(ours) == set(ref)
    for key, value in ref.items():
        assert ours[key].dtype == torch.float32
        torch.testing.assert_close(ours[key], value)


def test_keypoints_follow_boxes_through_nms_and_rescale():
    """Decode by hand at the prior that NMS keeps; compare to the head's output."""
    kpt_head, _ = build_pair()
    x = feats()
    meta = metas(scale=(0.5, 0.25))
    with torch.no_grad():
        outs = kpt_head(x)
        raw = kpt_head.predict_by_feat(*outs, batch_img_metas=meta, rescale=False,
                                       with_nms=False)[0]
        res = kpt_head.predict_by_feat(*outs, batch_img_metas=meta, rescale=True)[0]
    for i in range(len(res)):
        # the kept detection's box, rescaled back, is one of the raw candidates
        box = res.bboxes[i] * torch.tensor([0.5, 0.25, 0.5, 0.25])
        j = torch.argmin((raw.bboxes - box).abs().sum(1))
        torch.testing.assert_close(raw.bboxes[j], box, rtol=1e-4, atol=1e-3)
        owned = kpt_head.class_slot_mask[res.labels[i]]
        expect = raw.keypoints[j] / torch.tensor([0.5, 0.25])
        torch.testing.assert_close(res.keypoints[i][owned], expect[owned], rtol=1e-4,
                                   atol=1e-3)
        assert (res.keypoints[i][~owned] == 0).all()
        assert (res.keypoint_scores[i][~owned] == 0).all()


def test_keypoint_decode_is_offset_times_stride_plus_prior():
    kpt_head, _ = build_pair()
    priors = torch.tensor([[16., 8., 8., 8.]])
    offsets = torch.zeros(1, 1, 12)
    offsets[0, 0, 0:2] = torch.tensor([1.5, -2.0])
    kpts = kpt_head._kpt_decode(priors, offsets)
    torch.testing.assert_close(kpts[0, 0, 0], torch.tensor([16 + 12., 8 - 16.]))
    torch.testing.assert_close(kpts[0, 0, 1], torch.tensor([16., 8.]))


@pytest.mark.parametrize('case', ['no_gt', 'all_invisible', 'no_kpt_classes', 'normal',
                                  'tiny_boxes', 'far_keypoints'])
def test_losses_finite_and_backward(case):
    kpt_head, _ = build_pair()
    kpt_head.train()
    if case == 'no_gt':
        gts = [InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long(),
                            keypoints=torch.zeros(0, 6, 2), keypoints_visible=torch.zeros(0, 6))
               ] * 2
    elif case == 'all_invisible':
        gts = [gt(3, 0, visible=0.), gt(2, 1, visible=0.)]
    elif case == 'no_kpt_classes':
        gts = [gt(3, 0), gt(2, 1)]
        for g in gts:
            g.labels = torch.full_like(g.labels, 2)  # pedestrians own no keypoint
    elif case == 'tiny_boxes':
        # sub-pixel boxes: OKS area ~1e-2 px^2, the scale division must not overflow
        gts = [gt(3, 0), gt(2, 1)]
        for g in gts:
            g.bboxes[:, 2:] = g.bboxes[:, :2] + 0.1
            g.keypoints = g.bboxes[:, None, :2].repeat(1, 6, 1) + 0.05
    elif case == 'far_keypoints':
        # labelled keypoints 10^4 px away from their box (bad labels that passed as numbers)
        gts = [gt(3, 0), gt(2, 1)]
        for g in gts:
            g.keypoints = g.keypoints + 1e4
    else:
        gts = [gt(3, 0), gt(2, 1)]
    losses = kpt_head.loss_by_feat(*kpt_head(feats()), gts, metas())
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    grad = kpt_head.multi_level_conv_kpt[0].weight.grad
    assert grad is not None and torch.isfinite(grad).all()
    kpt_losses = [losses[k] for k in ('loss_kpt_oks', 'loss_kpt_l1')]
    if case in ('normal', 'tiny_boxes', 'far_keypoints'):
        assert all(v > 0 for v in kpt_losses)
    else:
        assert all(v == 0 for v in kpt_losses)


def test_slots_of_other_classes_get_no_gradient():
    """A vehicle's loss must not touch the cyclist slots, and vice versa."""
    kpt_head, _ = build_pair()
    kpt_head.train()
    g = gt(2, 0)
    g.labels = torch.tensor([0, 0])  # vehicles: slots 0-3 only
    outs = kpt_head(feats())
    for o in outs[3]:
        o.retain_grad()
    losses = kpt_head.loss_by_feat(*outs, [g, g], metas())
    (losses['loss_kpt_oks'] + losses['loss_kpt_l1']).backward()
    grads = torch.cat([o.grad.flatten(2) for o in outs[3]], dim=2)  # (B, 2K, P)
    assert grads[:, :8].abs().sum() > 0
    assert grads[:, 8:].abs().sum() == 0


def test_stock_checkpoint_loads_with_only_keypoint_layers_missing():
    stock = YOLOXHead(**copy.deepcopy(HEAD_ARGS))
    kpt_head = YOLOXKptHead(keypoint_layout=LAYOUT, **copy.deepcopy(HEAD_ARGS))
    missing, unexpected = kpt_head.load_state_dict(stock.state_dict(), strict=False)
    assert not unexpected
    assert missing and all('kpt' in k for k in missing)


def test_layout_and_num_classes_must_agree():
    args = copy.deepcopy(HEAD_ARGS)
    args['num_classes'] = 3
    with pytest.raises(ValueError, match='num_classes=3'):
        YOLOXKptHead(keypoint_layout=LAYOUT, **args)


def test_light_branch_reads_the_box_features():
    """kpt_feat='reg': no keypoint conv stack; keypoint losses train the box branch's stack
    too (it is shared), and nothing else of the stock head changes."""
    own, _ = build_pair()
    light, _ = build_pair(kpt_feat='reg')
    assert len(light.multi_level_kpt_convs[0]) == 0 and len(own.multi_level_kpt_convs[0]) == 1
    params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert params(light) < params(own)
    light.train()
    losses = light.loss_by_feat(*light(feats()), [gt(3, 0), gt(2, 1)], metas())
    losses['loss_kpt_oks'].backward()
    reg_grads = [convs[0].conv.weight.grad for convs in light.multi_level_reg_convs]
    assert sum(g.abs().sum() for g in reg_grads if g is not None) > 0
    assert all(convs[0].conv.weight.grad is None for convs in light.multi_level_cls_convs)


def test_visibility_weights_of_the_keypoint_losses():
    """(0, 0, 1): occluded (v=1) points give no keypoint loss; (0, 1, 1) they do."""
    losses = {}
    for weights in ((0., 0., 1.), (0., 1., 1.)):
        torch.manual_seed(0)
        head = YOLOXKptHead(keypoint_layout=LAYOUT, loss_kpt_l1=dict(type='L1Loss'),
                            kpt_vis_weights=weights, **copy.deepcopy(HEAD_ARGS))
        head.init_weights()
        head.train()
        losses[weights] = head.loss_by_feat(*head(feats()), [gt(3, 0, visible=1.)] * 2,
                                            metas())
    assert losses[(0., 0., 1.)]['loss_kpt_oks'] == 0
    assert losses[(0., 0., 1.)]['loss_kpt_l1'] == 0
    assert losses[(0., 1., 1.)]['loss_kpt_oks'] > 0
    with pytest.raises(ValueError, match='kpt_vis_weights'):
        YOLOXKptHead(keypoint_layout=LAYOUT, kpt_vis_weights=(1., 1.),
                     **copy.deepcopy(HEAD_ARGS))


@pytest.mark.parametrize('use_depthwise,kpt_use_depthwise', [(False, True), (True, False)])
def test_keypoint_stack_can_differ_from_the_box_stacks(use_depthwise, kpt_use_depthwise):
    """kpt_use_depthwise changes the keypoint stack only: the class/box stacks stay as
    use_depthwise says, so a stock checkpoint of that head still loads, and the
    depthwise-separable keypoint stack has about 1/9 + 1/C of the 3x3 conv's weights."""
    from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
    args = dict(copy.deepcopy(HEAD_ARGS), use_depthwise=use_depthwise, feat_channels=32,
                in_channels=32)
    head = YOLOXKptHead(keypoint_layout=LAYOUT, kpt_use_depthwise=kpt_use_depthwise, **args)
    expect = DepthwiseSeparableConvModule if kpt_use_depthwise else ConvModule
    box = DepthwiseSeparableConvModule if use_depthwise else ConvModule
    assert all(type(stack[0]) is expect for stack in head.multi_level_kpt_convs)
    assert all(type(stack[0]) is box for stack in head.multi_level_reg_convs)
    assert all(type(stack[0]) is box for stack in head.multi_level_cls_convs)
    stock = YOLOXHead(**copy.deepcopy(args))
    missing, unexpected = head.load_state_dict(stock.state_dict(), strict=False)
    assert not unexpected and missing and all('kpt' in k for k in missing)
    params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    ratio = params(head.multi_level_kpt_convs) / params(head.multi_level_reg_convs)
    assert (ratio < 0.2) if kpt_use_depthwise else (ratio > 5)


@pytest.mark.parametrize('use_depthwise,given,expect', [(False, None, 1), (True, None, 2),
                                                        (False, 2, 2), (True, 1, 1)])
def test_default_keypoint_stack_depth(use_depthwise, given, expect):
    """One 3x3 conv by default for plain-conv heads (tiny and up), YOLOX's stacked_convs
    (two) for depthwise heads (nano); an explicit kpt_stacked_convs wins."""
    args = dict(copy.deepcopy(HEAD_ARGS), stacked_convs=2, use_depthwise=use_depthwise)
    head = YOLOXKptHead(keypoint_layout=LAYOUT, kpt_stacked_convs=given, **args)
    assert all(len(stack) == expect for stack in head.multi_level_kpt_convs)
    assert all(len(stack) == 2 for stack in head.multi_level_reg_convs)


# Losses of the head at seed 0, recorded before its loss path was rebuilt on
# YOLOXHead.loss_by_feat / _get_targets_single (the rebuild gave these bit for bit, and the
# same gradients): the keypoint-aware assigner's OKS cost changes every one of them, so a
# refactor that stops lending keypoints to the assigner, or gathers keypoint targets of
# other objects, moves them.
PINNED_LOSSES = {
    'keypoint_aware': dict(loss_cls=2.932760000228882, loss_bbox=4.667949676513672,
                           loss_obj=406.0107727050781, loss_l1=1.6593358516693115,
                           loss_kpt_oks=8.867076873779297, loss_kpt_l1=0.4785138964653015,
                           loss_kpt_vis=0.7096132040023804),
    'one_image_empty': dict(loss_cls=2.3851699829101562, loss_bbox=4.447290420532227,
                            loss_obj=1014.8810424804688, loss_l1=2.187894821166992,
                            loss_kpt_oks=7.69345760345459, loss_kpt_l1=1.1265754699707031,
                            loss_kpt_vis=0.7273094654083252),
}


@pytest.mark.parametrize('case', sorted(PINNED_LOSSES))
def test_losses_with_keypoint_aware_assignment_are_pinned(case):
    args = copy.deepcopy(HEAD_ARGS)
    args['train_cfg'] = ConfigDict(assigner=dict(type='KptSimOTAAssigner', center_radius=2.5))
    torch.manual_seed(0)
    head = YOLOXKptHead(keypoint_layout=LAYOUT, loss_kpt_l1=dict(type='L1Loss'), **args)
    head.init_weights()
    for conv in (*head.multi_level_conv_cls, *head.multi_level_conv_obj):
        torch.nn.init.normal_(conv.bias, 0, 1)
    head.train()
    head.use_l1 = True
    if case == 'keypoint_aware':
        gts = [gt(3, 0), gt(2, 1)]
    else:
        gts = [InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0).long(),
                            keypoints=torch.zeros(0, 6, 2),
                            keypoints_visible=torch.zeros(0, 6)), gt(3, 1)]
    losses = head.loss_by_feat(*head(feats()), gts, metas())
    # every label is v = 2 and the occlusion branch starts at P = 0.01, whatever the seed:
    # -log(0.99). The other losses are those of the head before the branch existed.
    torch.testing.assert_close(losses.pop('loss_kpt_occ').item(), 0.01005033585350145)
    assert set(losses) == set(PINNED_LOSSES[case])
    for key, value in PINNED_LOSSES[case].items():
        torch.testing.assert_close(losses[key].item(), value, rtol=1e-5, atol=1e-6,
                                   msg=lambda m, k=key: f'{k}: {m}')
    assert head._kpt_targets_state is None  # nothing of this batch is kept on the head


# --------------------------------------------------- occlusion branch (three-state v)
def test_occluded_loss_pushes_each_logit_towards_its_label():
    """Hand case: logits 0 (P = 0.5) on two positives. BCE's gradient per logit is
    (p - target) * weight / count: -0.5 / n where v = 1 (raise P(occluded)), +0.5 / n where
    v = 2, 0 where v = 0 or the slot is another class's; n = owned labelled slots."""
    head, _ = build_pair()
    visible = torch.tensor([[1., 2., 0., 1., 1., 2.], [2., 2., 1., 0., 0., 0.]])
    owned = torch.tensor([[True] * 4 + [False] * 2, [True] * 4 + [False] * 2])
    pred_occ = torch.zeros(2, 6, requires_grad=True)
    losses = head._kpt_losses(torch.zeros(2, 6, 2), torch.zeros(2, 6), pred_occ,
                              torch.tensor([[0., 0., 8., 8.]] * 2), torch.zeros(2, 6, 2),
                              visible, owned, torch.tensor([[0., 0., 10., 10.]] * 2))
    torch.testing.assert_close(losses['loss_kpt_occ'], torch.tensor(math.log(2)))
    losses['loss_kpt_occ'].backward()
    n = 6  # owned and labelled: 3 in the first row, 3 in the second
    expect = torch.tensor([[-1., 1., 0., -1., 0., 0.], [1., 1., -1., 0., 0., 0.]]) * 0.5 / n
    torch.testing.assert_close(pred_occ.grad, expect)


def test_occluded_loss_reaches_the_branch_only_at_labelled_owned_slots():
    """Through the whole loss: vehicles with v = (1, 2, 0, 1) on their four slots. The
    occlusion maps get gradient in slots 0, 1 and 3 only (slot 2 is v = 0, slots 4-5 are
    the cyclist's), pushing P(occluded) up in 0 and 3 and down in 1."""
    head, _ = build_pair()
    head.train()
    g = gt(2, 0)
    g.labels = torch.tensor([0, 0])
    g.keypoints_visible = torch.tensor([[1., 2., 0., 1., 2., 2.]] * 2)
    outs = head(feats())
    for o in outs[5]:
        o.retain_grad()
    losses = head.loss_by_feat(*outs, [g, g], metas())
    assert losses['loss_kpt_occ'] > 0
    losses['loss_kpt_occ'].backward()
    grads = torch.cat([o.grad.flatten(2) for o in outs[5]], dim=2).sum((0, 2))  # (K,)
    assert grads[0] < 0 and grads[3] < 0 and grads[1] > 0
    assert grads[2] == 0 and (grads[4:] == 0).all()


def test_labels_without_occluded_points_still_train():
    """A dataset with only v in {0, 2}: target 0 everywhere; the loss is there, finite,
    and a few SGD steps lower it (P(occluded) goes down)."""
    head, _ = build_pair()
    head.train()
    gts = [gt(3, 0), gt(2, 1)]
    for g in gts:
        g.keypoints_visible[:, ::2] = 0.  # v in {0, 2}
    optim = torch.optim.SGD(head.parameters(), lr=0.5)
    values = []
    for _ in range(3):
        losses = head.loss_by_feat(*head(feats()), gts, metas())
        values.append(losses['loss_kpt_occ'].item())
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    assert all(math.isfinite(v) for v in values) and values[0] > values[-1] > 0
    # the fixed start is P(occluded) = 0.01 everywhere: -log(0.99)
    assert values[0] == pytest.approx(-math.log(0.99), rel=1e-5)


def test_predicted_visibility_probabilities():
    """keypoint_visibility (N, K, 3) = (1 - s, s o, s (1 - o)) of the slot's keypoint score
    s and P(occluded) o: sums to 1, (1, 0, 0) in slots the class does not own."""
    head, _ = build_pair()
    occ = torch.tensor([0.9, 0.1, 0.9, 0.1, 0.9, 0.1])
    for conv in head.multi_level_conv_kpt_occ:  # o per slot, the same at every prior
        conv.bias.data = torch.logit(occ)
    with torch.no_grad():
        # every candidate (the best 100 after NMS are all of one class without keypoints)
        res = head.predict_by_feat(*head(feats()), batch_img_metas=metas(), rescale=True,
                                   with_nms=False)[0]
    vis, s = res.keypoint_visibility, res.keypoint_scores
    assert vis.shape == (len(res), 6, 3) and vis.dtype == torch.float32
    torch.testing.assert_close(vis, torch.stack([1 - s, s * occ, s * (1 - occ)], -1))
    torch.testing.assert_close(vis.sum(-1), torch.ones(len(res), 6))
    owned = head.class_slot_mask[res.labels]
    assert owned.any() and (~owned).any()
    assert (vis[~owned] == torch.tensor([1., 0., 0.])).all()
    states = vis.argmax(-1)
    assert {0, 1} == set(states[:, ::2][owned[:, ::2]].tolist())
    assert {0, 2} == set(states[:, 1::2][owned[:, 1::2]].tolist())
    torch.testing.assert_close(
        keypoint_visibility(torch.tensor([0.8, 0.]), torch.tensor([0.25, 0.9])),
        torch.tensor([[0.2, 0.2, 0.6], [1., 0., 0.]]))


def test_without_the_occlusion_branch():
    """loss_kpt_occ=None: no layers, None maps, no loss and no keypoint_visibility."""
    torch.manual_seed(0)
    head = YOLOXKptHead(keypoint_layout=LAYOUT, loss_kpt_occ=None, **copy.deepcopy(HEAD_ARGS))
    head.init_weights()
    assert head.multi_level_conv_kpt_occ is None
    assert not any('kpt_occ' in k for k in head.state_dict())
    outs = head(feats())
    assert len(outs) == 6 and outs[5] == [None, None, None]
    assert head.decode_all(*outs)[5] is None
    head.train()
    assert 'loss_kpt_occ' not in head.loss_by_feat(*outs, [gt(3, 0), gt(2, 1)], metas())
    head.eval()
    res = head.predict_by_feat(*head(feats()), batch_img_metas=metas(), rescale=True)[0]
    assert 'keypoint_visibility' not in res and 'keypoint_scores' in res


def test_the_branch_draws_no_random_number():
    """Built and initialised without a random draw: every other layer gets the weights it
    had before the branch existed, and the branch starts at "never occluded"."""
    heads = []
    for occ in (None, dict(type='CrossEntropyLoss', use_sigmoid=True)):
        torch.manual_seed(0)
        heads.append(YOLOXKptHead(keypoint_layout=LAYOUT, loss_kpt_occ=occ,
                                  **copy.deepcopy(HEAD_ARGS)))
        heads[-1].init_weights()
    plain, with_occ = (h.state_dict() for h in heads)
    assert set(with_occ) - set(plain) == {f'multi_level_conv_kpt_occ.{i}.{p}'
                                          for i in range(3) for p in ('weight', 'bias')}
    for key, value in plain.items():
        assert torch.equal(with_occ[key], value), key
    for conv in heads[1].multi_level_conv_kpt_occ:
        assert (conv.weight == 0).all()
        torch.testing.assert_close(conv.bias.sigmoid(), torch.full((6, ), 0.01))


def test_checkpoint_from_before_the_branch_loads_with_it_at_never_occluded():
    """A head's state without multi_level_conv_kpt_occ (an older checkpoint) loads through
    mmengine's loader with nothing missing, a warning naming the branch, and predictions
    whose states are the old meaning: v = 2 wherever the point is predicted labelled."""
    import io
    import logging

    from mmengine.logging import MMLogger
    from mmengine.runner.checkpoint import load_state_dict
    old, _ = build_pair()
    state = {k: v for k, v in old.state_dict().items() if 'kpt_occ' not in k}
    head, _ = build_pair(seed=1)
    for conv in head.multi_level_conv_kpt_occ:
        torch.nn.init.normal_(conv.weight)  # anything: loading must reset it
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        load_state_dict(head, state, logger=logger)
    finally:
        logger.removeHandler(handler)
    log = stream.getvalue()
    assert 'multi_level_conv_kpt_occ' in log and 'untrained' in log
    assert 'missing keys' not in log
    with torch.no_grad():
        res = head.predict_by_feat(*head(feats()), batch_img_metas=metas())[0]
        ref = old.predict_by_feat(*old(feats()), batch_img_metas=metas())[0]
    torch.testing.assert_close(res.keypoint_scores, ref.keypoint_scores)
    states = res.keypoint_visibility.argmax(-1)
    assert (states != 1).all()
    assert torch.equal(states == 2, res.keypoint_scores > 0.5 / 0.995)  # p2 > p0
    # a stock YOLOX state (no keypoint layer) is not taken for an old keypoint checkpoint
    stock = YOLOXHead(**copy.deepcopy(HEAD_ARGS))
    missing, _ = head.load_state_dict(stock.state_dict(), strict=False)
    assert 'multi_level_conv_kpt_occ.0.weight' in missing
