"""Every config in configs/ loads, and its model, head and pipelines build."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.registry import (HOOKS, MODELS, OPTIM_WRAPPERS, PARAM_SCHEDULERS, TASK_UTILS,
                            TRANSFORMS)
from mmengine.config import Config

from yolox_kpt.keypoint_layout import KeypointLayout

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))


def test_there_are_configs():
    names = {osp.basename(c) for c in CONFIGS}
    for size in ('nano', 'tiny', 's'):
        assert f'yolox-kpt_{size}_8xb8-300e_synthetic-driving.py' in names
    for size in ('tiny', 's'):
        assert f'yolox-kpt_{size}_8xb8-300e_coco-person.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert 'yolox_kpt' in cfg.custom_imports['imports']
    layout = KeypointLayout.from_config(cfg.keypoint_layout)
    model = MODELS.build(cfg.model)
    assert model.bbox_head.layout == layout
    assert model.bbox_head.num_classes == layout.num_classes
    # the same layout reaches dataset and head
    assert KeypointLayout.from_config(cfg.val_dataloader.dataset.keypoint_layout) == layout
    train_set = cfg.train_dataloader.dataset
    inner = train_set.get('dataset', train_set)
    assert KeypointLayout.from_config(inner.keypoint_layout) == layout
    for step in list(train_set.get('pipeline', [])) + list(cfg.val_dataloader.dataset.pipeline):
        TRANSFORMS.build(step)
    model.eval()
    with torch.no_grad():
        outs = model.bbox_head(model.extract_feat(torch.rand(1, 3, 64, 64)))
    assert outs[3][0].shape[1] == 2 * layout.num_keypoints


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_recipe_parts_are_registered(path):
    """Hooks, schedulers and the assigner resolve in mmdet's scope (a typo in a recipe's
    scheduler name would otherwise surface only after the first epoch's setup)."""
    cfg = Config.fromfile(path)
    for hook in cfg.get('custom_hooks', []):
        assert HOOKS.get(hook['type']) is not None, hook['type']
    for scheduler in cfg.get('param_scheduler', []):
        assert PARAM_SCHEDULERS.get(scheduler['type']) is not None, scheduler['type']
    TASK_UTILS.build(cfg.model.train_cfg.assigner)
    assert OPTIM_WRAPPERS.get(cfg.optim_wrapper.get('type', 'OptimWrapper')) is not None
