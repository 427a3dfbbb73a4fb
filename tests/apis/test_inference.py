"""KptInferencer over a PyTorch checkpoint: the checkpoint's layout wins, a config that
disagrees with it is refused, and the result is the runtime's Detections record."""
import json
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from yolox_kpt.apis import KptInferencer
from yolox_kpt.keypoint_layout import KeypointLayout, KeypointLayoutError
from yolox_kpt.runtime import Detections
from yolox_kpt.testing import confident_random_checkpoint
from yolox_kpt.testing.export import spread_visibility

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def checkpoint_with_layout(src, layout, path):
    """``src``'s weights with ``layout`` in ``meta.dataset_meta``, as the Runner saves them."""
    meta = dict(dataset_meta=dict(classes=tuple(layout['classes']), keypoint_layout=layout))
    torch.save(dict(torch.load(src, map_location='cpu'), meta=meta), path)
    return str(path)


@pytest.fixture(scope='module')
def case(synthetic_data, tmp_path_factory):
    """An image, a checkpoint without a layout (as stock mmdet's) and the layout the
    dataset builds from its annotation file (with the file's skeletons)."""
    from mmdet.registry import DATASETS
    root = synthetic_data(num_train=1, num_val=1, seed=5)
    image = str(next((root / 'images' / 'val').glob('*.jpg')))
    cfg = Config.fromfile(CONFIG)
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=f'{root}/',
                                  pipeline=[]))
    tmp = tmp_path_factory.mktemp('inferencer')
    return dict(image=image, cfg=cfg, layout=dataset.metainfo['keypoint_layout'],
                plain=confident_random_checkpoint(cfg, str(tmp / 'plain.pth'), image))


def test_the_checkpoints_layout_is_used_and_detections_come_back(case, tmp_path):
    ckpt = checkpoint_with_layout(case['plain'], case['layout'], tmp_path / 'trained.pth')
    spread_visibility(ckpt)  # the occlusion branch varies: all three states occur
    inferencer = KptInferencer(CONFIG, ckpt)
    layout = KeypointLayout.from_config(case['layout'])
    assert inferencer.layout == layout and any(layout.skeletons)
    assert inferencer.model.bbox_head.layout == layout
    image = cv2.imread(case['image'])
    dets = inferencer(image, score_thr=0.3)
    assert isinstance(dets, Detections) and len(dets) > 0 and dets.layout == layout
    assert dets.bboxes.shape == (len(dets), 4) and dets.scores.min() > 0.3
    assert dets.keypoints.shape == (len(dets), layout.num_keypoints, 2)
    assert dets.keypoint_scores.shape == (len(dets), layout.num_keypoints)
    # the model's own pred_instances, field for field
    data = inferencer.pipeline(dict(img=image, img_id=0))
    with torch.no_grad():
        pred = inferencer.model.test_step(dict(inputs=[data['inputs']],
                                               data_samples=[data['data_samples']]))
    pred = pred[0].pred_instances
    pred = pred[pred.scores > 0.3]
    for name in ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores',
                 'keypoint_visibility'):
        np.testing.assert_array_equal(getattr(dets, name), getattr(pred, name).numpy())
    assert dets.keypoint_visibility.shape == (len(dets), layout.num_keypoints, 3)
    assert {1, 2} <= set(dets.keypoint_states.ravel().tolist())

    # a checkpoint without a layout (stock mmdet's, or an older one) runs with the config's
    plain = KptInferencer(CONFIG, case['plain'])
    assert plain.layout == KeypointLayout.from_config(case['cfg'].keypoint_layout)
    again = plain(image, score_thr=0.3)
    for name in ('bboxes', 'scores', 'labels', 'keypoints'):
        np.testing.assert_array_equal(getattr(again, name), getattr(dets, name))


@pytest.mark.parametrize('mismatch', ['reordered', 'one_more_keypoint'])
def test_a_config_the_checkpoint_was_not_trained_with_is_refused(case, tmp_path, mismatch):
    layout = json.loads(json.dumps(case['layout']))
    if mismatch == 'reordered':
        layout['classes'][:2] = layout['classes'][1::-1]
        expected = rf"classes \['{layout['classes'][0]}', '{layout['classes'][1]}'"
    else:
        layout['keypoints']['vehicle'].append('spare_tyre')
        layout['sigmas']['spare_tyre'] = 0.05
        expected = "'spare_tyre'"
    ckpt = checkpoint_with_layout(case['plain'], layout, tmp_path / f'{mismatch}.pth')
    with pytest.raises(KeypointLayoutError) as error:
        KptInferencer(CONFIG, ckpt)
    message = str(error.value)
    assert message.startswith(f'{ckpt} was trained with') and CONFIG in message
    assert re.search(expected, message.split(' but ')[0])  # the checkpoint's half
