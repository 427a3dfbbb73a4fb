"""Slot sharing between classes (``share_keypoints``), on a generated mixed case: person (5
face points), animal (3 of the same names, another order), a class without keypoints.

With one slot per name, an animal's nose and a person's nose were one output: on a real mixed
set the animals' eyes and noses were predicted hundreds of pixels off. The default now
gives classes with different keypoint sets their own slots; these tests guard that through
the layout, the dataset, the head's loss and the metric."""
import copy
import json

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from yolox_kpt.keypoint_layout import KeypointLayout, KeypointLayoutError

FACE = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear')
ANIMAL = ('left_eye', 'right_eye', 'nose')
CLASSES = ('person', 'animal', 'head')
MIXED = dict(classes=CLASSES, keypoints=dict(person=FACE, animal=ANIMAL))


def test_default_gives_classes_of_different_sets_their_own_slots():
    layout = KeypointLayout.from_config(MIXED)
    assert layout.share_keypoints == 'same_set'
    assert layout.keypoint_names == ('person.nose', 'person.left_eye', 'person.right_eye',
                                     'left_ear', 'right_ear', 'animal.left_eye',
                                     'animal.right_eye', 'animal.nose')
    assert layout.class_slots == ((0, 1, 2, 3, 4), (5, 6, 7), ())
    mask = layout.class_slot_mask()
    assert not (mask[0] & mask[1]).any()  # no output is trained by both classes
    # the names the files use are unchanged
    assert layout.class_keypoint_names(0) == FACE
    assert layout.class_keypoint_names(1) == ANIMAL
    # flips stay inside a class; sigmas follow the base name (COCO's)
    assert layout.flip_indices == (0, 2, 1, 4, 3, 6, 5, 7)
    np.testing.assert_allclose(layout.sigmas[[0, 7]], [0.026, 0.026])
    np.testing.assert_allclose(layout.sigmas[[1, 5]], [0.025, 0.025])


def test_same_set_classes_share_and_by_name_is_the_old_union():
    species = KeypointLayout.build(('cat', 'dog', 'car'), dict(cat=ANIMAL, dog=ANIMAL[::-1]))
    assert species.keypoint_names == ANIMAL
    assert species.class_slots == ((0, 1, 2), (2, 1, 0), ())
    old = KeypointLayout.from_config(dict(MIXED, share_keypoints='by_name'))
    assert old.keypoint_names == FACE
    assert old.class_slots == ((0, 1, 2, 3, 4), (1, 2, 0), ())
    none = KeypointLayout.build(('cat', 'dog'), dict(cat=ANIMAL, dog=ANIMAL),
                                share_keypoints='none')
    assert none.num_keypoints == 6 and none.keypoint_names[3] == 'dog.left_eye'


def test_declared_groups_share_only_within_the_group():
    layout = KeypointLayout.build(
        ('person', 'animal', 'cat'), dict(person=FACE, animal=ANIMAL, cat=ANIMAL),
        share_keypoints=[['person', 'animal']], flip_pairs=[['left_eye', 'right_eye']])
    assert layout.class_slots[0][:3] == (0, 1, 2)
    assert layout.class_slots[1] == (1, 2, 0)  # animal shares the person's slots
    assert layout.keypoint_names[5:] == ('cat.left_eye', 'cat.right_eye', 'cat.nose')
    # a flip pair given by names swaps those names in every group that has both
    assert layout.flip_indices == (0, 2, 1, 3, 4, 6, 5, 7)


@pytest.mark.parametrize('share', ['same_set', 'by_name', 'none', [['person', 'animal']]])
def test_roundtrip_keeps_the_mode(tmp_path, share):
    layout = KeypointLayout.from_config(dict(MIXED, share_keypoints=share))
    cfg = layout.to_config()
    assert cfg['keypoints'] == dict(person=list(FACE), animal=list(ANIMAL))
    assert KeypointLayout.from_config(cfg) == layout
    layout.to_json(tmp_path / 'layout.json')
    assert KeypointLayout.from_json(tmp_path / 'layout.json') == layout


@pytest.mark.parametrize('share, match', [
    ('names', 'share_keypoints must be one of'),
    ([['person', 'dog']], "not in"),
    ([['person', 'animal'], ['animal', 'head']], 'in two share_keypoints groups'),
    ('by_class', 'share_keypoints must be one of'),
])
def test_share_mistakes_are_named(share, match):
    with pytest.raises(KeypointLayoutError, match=match):
        KeypointLayout.from_config(dict(MIXED, share_keypoints=share))


def mixed_file(tmp_path):
    """One 300x200 image: a person with 5 face points, an animal with 3, a head (none)."""
    person = [[50, 40, 2], [45, 35, 2], [55, 35, 2], [40, 38, 1], [60, 38, 2]]
    animal = [[200, 90, 2], [0, 0, 0], [230, 120, 2]]
    data = dict(
        images=[dict(id=1, file_name='a.jpg', width=300, height=200)],
        categories=[dict(id=1, name='person', keypoints=list(FACE)),
                    dict(id=2, name='animal', keypoints=list(ANIMAL)),
                    dict(id=3, name='head', keypoints=[])],
        annotations=[
            dict(id=1, image_id=1, category_id=1, bbox=[20, 20, 60, 150], area=9000,
                 iscrowd=0, keypoints=sum(person, []), num_keypoints=5),
            dict(id=2, image_id=1, category_id=2, bbox=[150, 60, 140, 100], area=14000,
                 iscrowd=0, keypoints=sum(animal, []), num_keypoints=2),
            dict(id=3, image_id=1, category_id=3, bbox=[35, 25, 30, 30], area=900,
                 iscrowd=0, keypoints=[], num_keypoints=0)])
    path = tmp_path / 'mixed.json'
    path.write_text(json.dumps(data))
    return path, np.array(person, float), np.array(animal, float)


def test_dataset_puts_each_class_points_in_its_own_slots(tmp_path):
    from yolox_kpt.datasets import CocoKptDataset
    path, person, animal = mixed_file(tmp_path)
    ds = CocoKptDataset(data_root='', ann_file=str(path), data_prefix=dict(img=''),
                        keypoint_layout=MIXED, pipeline=[], check_images=False)
    assert ds.layout == KeypointLayout.from_config(MIXED)
    insts = ds.get_data_info(0)['instances']
    kpts = [inst['keypoints'] for inst in insts]
    np.testing.assert_allclose(kpts[0][:5], person)
    assert (kpts[0][5:] == 0).all()
    np.testing.assert_allclose(kpts[1][5:], animal)  # the animal's nose: slot animal.nose
    assert (kpts[1][:5] == 0).all()
    assert (kpts[2] == 0).all()


def test_an_animal_trains_no_person_output():
    """Loss from an animal alone reaches only the animal's keypoint channels; with one slot
    per name (by_name) it reaches the person's nose and eyes too."""
    from yolox_kpt.models import YOLOXKptHead

    def make_head(share):
        return YOLOXKptHead(
            keypoint_layout=dict(MIXED, share_keypoints=share),
            loss_kpt_l1=dict(type='L1Loss'), in_channels=8, feat_channels=8,
            stacked_convs=1, norm_cfg=dict(type='BN'),
            train_cfg=ConfigDict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
            test_cfg=ConfigDict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))

    def grads(share):
        torch.manual_seed(0)
        # an earlier test (a tool run in this process) may have left mmengine's scope current
        with DefaultScope.overwrite_default_scope('mmdet'):
            head = make_head(share)
        head.init_weights()
        head.train()
        layout = head.layout
        g = torch.Generator().manual_seed(0)
        x = tuple(torch.randn(1, 8, 64 // s, 64 // s, generator=g) for s in (1, 2, 4))
        kpts = torch.zeros(1, layout.num_keypoints, 2)
        vis = torch.zeros(1, layout.num_keypoints)
        slots = list(layout.class_slots[1])
        kpts[0, slots] = torch.tensor([[300., 90.], [330., 90.], [315., 120.]]) / 4
        vis[0, slots] = 2
        animal = InstanceData(bboxes=torch.tensor([[40., 10., 100., 50.]]),
                              labels=torch.tensor([1]), keypoints=kpts,
                              keypoints_visible=vis)
        meta = [dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1., 1.))]
        losses = head.loss_by_feat(*head(x), [animal], meta)
        assert losses['loss_kpt_l1'] > 0
        sum(v for k, v in losses.items() if 'kpt' in k).backward()
        # (K, 2) gradient norm of each slot's x/y offset filters, summed over levels
        per_slot = sum(c.weight.grad.reshape(layout.num_keypoints, 2, -1).abs().sum(-1)
                       for c in head.multi_level_conv_kpt).sum(-1)
        return layout, per_slot

    layout, per_slot = grads('same_set')
    person = list(layout.class_slots[0])
    assert (per_slot[list(layout.class_slots[1])] > 0).all()
    assert (per_slot[person] == 0).all()
    old, old_grad = grads('by_name')
    assert (old_grad[[old.keypoint_names.index(n) for n in ANIMAL]] > 0).all()


def test_metric_scores_each_class_on_its_own_slots(tmp_path):
    from yolox_kpt.evaluation import CocoKptMetric
    path, person, animal = mixed_file(tmp_path)
    layout = KeypointLayout.from_config(MIXED)
    kpts = np.zeros((3, layout.num_keypoints, 2))
    kpts[0, :5] = person[:, :2]
    kpts[1, 5:] = animal[:, :2]
    # the person's slots of the animal's detection hold garbage: never read for an animal
    kpts[1, :5] = 999.
    scores = np.zeros((3, layout.num_keypoints))
    scores[0, :5] = scores[1, 5:] = 0.9
    pred = dict(img_id=1, bboxes=np.array([[20, 20, 80, 170], [150, 60, 290, 160],
                                           [35, 25, 65, 55]], float),
                scores=np.array([.9, .8, .7]), labels=np.array([0, 1, 2]), keypoints=kpts,
                keypoint_scores=scores)
    metric = CocoKptMetric(ann_file=str(path))
    metric.dataset_meta = dict(classes=layout.classes, keypoint_layout=layout.to_config())
    m = metric.compute_metrics([pred])
    assert m['kpt_AP_person'] == pytest.approx(1.0)
    assert m['kpt_AP_animal'] == pytest.approx(1.0)
    assert m['bbox_mAP'] == pytest.approx(1.0)
    assert m['kpt_err_px_animal.nose'] == 0 and m['kpt_err_px_person.nose'] == 0
    # moving the animal's nose prediction to the person's nose costs the animal, not the
    # person
    bad = copy.deepcopy(pred)
    bad['keypoints'][1, 7] = person[0, :2]
    m = metric.compute_metrics([bad])
    assert m['kpt_AP_person'] == pytest.approx(1.0) and m['kpt_AP_animal'] < 1
