"""Every config in configs/yolox-kpt loads, and its model, head and pipelines build; the
configs' shape: shallow `_base_` chains, each keypoint layout written once."""
import ast
import glob
import os.path as osp
import re

import pytest
import torch
from mmdet.registry import (HOOKS, MODELS, OPTIM_WRAPPERS, PARAM_SCHEDULERS, TASK_UTILS,
                            TRANSFORMS)
from mmengine.config import Config

from yolox_kpt.apis.layout import config_layout
from yolox_kpt.keypoint_layout import KeypointLayout

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# recipes and ablations: what a user passes to tools/train.py
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'yolox-kpt', '**', '*.py'),
                           recursive=True))
# every file a config may inherit from too
ALL_FILES = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
DATASET_BASES = osp.join(REPO, 'configs', '_base_', 'datasets')


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


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_recipes_resume_exactly_and_handle_corrupt_images(path):
    """Every recipe trains with the seeded sampler and ExactResumeHook (``--resume`` with
    random augmentation equals an uninterrupted run), skips corrupt training images with a
    count in the log, and stops on a corrupt validation/test image (a metric must not drop
    images silently)."""
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.sampler.type == 'SeededSampler'
    assert {'ExactResumeHook', 'CorruptImageLogHook'} <= {h['type'] for h in cfg.custom_hooks}
    train_set = cfg.train_dataloader.dataset
    loaders = [s for s in train_set.get('dataset', train_set).pipeline
               if s['type'].startswith('LoadImage')]
    assert [(s['type'], s.get('on_corrupt')) for s in loaders] == [
        ('LoadImageFromFileChecked', 'skip')]
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        first = loader.dataset.pipeline[0]
        assert first['type'] == 'LoadImageFromFileChecked'
        assert TRANSFORMS.build(first).on_corrupt == 'raise'


def bases(path):
    """The ``_base_`` files of a config, read without running it: our files as absolute
    paths, mmdet's as ``mmdet::...``."""
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and any(
                getattr(t, 'id', None) == '_base_' for t in node.targets):
            value = ast.literal_eval(node.value)
            return [b if b.startswith('mmdet::') else
                    osp.normpath(osp.join(osp.dirname(path), b))
                    for b in ([value] if isinstance(value, str) else value)]
    return []


def chains(path):
    """Every ``_base_`` chain from ``path`` to a file without bases (mmdet's config counts as
    one level: its own bases are mmdet's)."""
    below = [chain for b in bases(path)
             for chain in ([[b]] if b.startswith('mmdet::') else chains(b))]
    return [[path] + chain for chain in below] or [[path]]


SIZES = ('nano', 'tiny', 's', 'm', 'l', 'x')


def model_size(path):
    """``nano`` / ``tiny`` / ``s`` ... from a config's name (mmdet's scheme), or None for a
    base that does not name one."""
    match = re.search(r'^yolox(?:-kpt)?(?:-[\w]+)?_(' + '|'.join(SIZES) + ')_',
                      osp.basename(path.replace('mmdet::', '')))
    return match and match.group(1)


def test_chains_are_short():
    """At most 4 levels counting mmdet's YOLOX config: ablation -> recipe -> dataset base ->
    mmdet. A deeper chain has to be read file by file to know what a config trains."""
    for path in CONFIGS:
        for chain in chains(path):
            assert len(chain) <= 4, ' -> '.join(osp.basename(c) for c in chain)
    # and the measure sees a deep chain: the demo's ablations are the deepest
    demo_ablation = osp.join(REPO, 'configs', 'yolox-kpt', 'ablations',
                             'yolox-kpt-1conv_nano_1xb8-20e_synthetic-driving-cpu.py')
    assert max(len(c) for c in chains(demo_ablation)) == 4


def test_chains_never_return_to_a_model_size():
    """A config derives from a larger model only (nano -> tiny -> s, as mmdet's configs do):
    no tiny -> nano -> tiny, where what tiny trains depends on nano's file."""
    for path in CONFIGS:
        for chain in chains(path):
            sizes = [SIZES.index(s) for s in map(model_size, chain) if s]
            assert sizes == sorted(sizes), ' -> '.join(osp.basename(c) for c in chain)


def test_recipes_and_ablations_live_apart():
    ablations = [c for c in CONFIGS if osp.basename(osp.dirname(c)) == 'ablations']
    assert ablations
    for path in CONFIGS:
        if path not in ablations:
            for chain in chains(path):
                assert not any('ablations' in c for c in chain[1:]), (path, chain)


def test_real_driving_does_not_inherit_the_synthetic_set():
    real = [c for c in CONFIGS if c.endswith('_driving.py') and 'synthetic' not in c]
    assert real
    for path in real:
        for chain in chains(path):
            assert not any('synthetic' in osp.basename(c) for c in chain), chain


def test_each_layout_is_written_once():
    """Only dataset bases assign ``keypoint_layout``; everything else refers to it (a second
    copy is how a head and its data drift apart)."""
    writers = []
    for path in ALL_FILES:
        for node in ast.parse(open(path).read()).body:
            if isinstance(node, ast.Assign) and any(
                    getattr(t, 'id', None) == 'keypoint_layout' for t in node.targets):
                writers.append(path)
    assert writers and all(osp.dirname(w) == DATASET_BASES for w in writers), writers
    layouts = [KeypointLayout.from_config(Config.fromfile(w).keypoint_layout)
               for w in writers]
    assert all(a != b for i, a in enumerate(layouts) for b in layouts[i + 1:]), writers


def test_driving_layout_is_the_driving_schema():
    """Configs cannot import the package, so the driving layout is written in the config
    base too; it must stay the data tools' schema (classes, keypoints, sigmas, flips)."""
    from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT
    layout = config_layout(Config.fromfile(osp.join(DATASET_BASES, 'driving_layout.py')))
    for field in ('classes', 'keypoint_names', 'class_slots', 'flip_indices'):
        assert getattr(layout, field) == getattr(DRIVING_LAYOUT, field), field
    assert layout.sigmas.tolist() == DRIVING_LAYOUT.sigmas.tolist()
    for path in CONFIGS:
        if 'driving' in osp.basename(path):
            assert config_layout(Config.fromfile(path), path) == layout, path


MY_DATA = [c for c in CONFIGS if 'my-data' in osp.basename(c)]


@pytest.mark.parametrize('path', MY_DATA, ids=osp.basename)
def test_my_data_recipes_read_the_converter_output_and_start_from_coco(path, tmp_path,
                                                                       monkeypatch):
    """The own-data recipes (README, Path 1) read what camera_labels_to_coco.py writes with
    its default --out-dir, start from mmdet's COCO YOLOX weights of their size (its
    metafile's URL), and the CPU variant trains without the image-mixing steps."""
    import importlib.util

    import mmdet
    import yaml

    from yolox_kpt.datasets import CocoKptDataset
    cfg = Config.fromfile(path)
    size = model_size(path)
    metafile = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'yolox',
                        'metafile.yml')
    with open(metafile) as f:
        weights = {m['Name']: m['Weights'] for m in yaml.safe_load(f)['Models']}
    assert cfg.load_from == weights[f'yolox_{size}_8x8_300e_coco']
    steps = {s['type'] for s in cfg.train_dataloader.dataset.pipeline}
    if 'cpu' in osp.basename(path):
        assert not steps & {'Mosaic', 'MixUp', 'RandomAffine'}
        assert cfg.model.data_preprocessor.batch_augments is None
    # the converter, run with its defaults from the directory training runs in
    spec = importlib.util.spec_from_file_location('camera_labels_to_coco', osp.join(
        REPO, 'tools', 'dataset_converters', 'camera_labels_to_coco.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.chdir(tmp_path)
    tool.main([osp.join(REPO, 'resources', 'examples', 'camera_labels'), '--no-images',
               '--ratios', '0.34', '0.33', '0.33', '--window-s', '0.01'])  # a unit a frame
    for loader, evaluator in ((cfg.val_dataloader, cfg.val_evaluator),
                              (cfg.test_dataloader, cfg.test_evaluator)):
        ds_cfg = dict(loader.dataset, pipeline=[], check_images=False)
        ds_cfg.pop('type')
        ds = CocoKptDataset(**ds_cfg)
        assert len(ds) > 0 and ds.ann_file == evaluator.ann_file
    train_set = cfg.train_dataloader.dataset.dataset
    assert osp.isfile(train_set.ann_file) and train_set.data_root == ''
