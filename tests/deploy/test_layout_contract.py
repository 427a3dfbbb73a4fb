"""The export takes its keypoint layout from the checkpoint: a config that disagrees is
refused before anything is exported, and the annotation file's skeletons (stored in the
checkpoint) reach the exported model's metadata, its sidecar and the pictures drawn from it."""
import json
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from yolox_kpt.deploy.export import export_onnx
from yolox_kpt.keypoint_layout import KeypointLayout, KeypointLayoutError
from yolox_kpt.runtime import ONNX_METADATA_KEY, SIDECAR_FILE, KeypointDetector, RuntimeMeta
from yolox_kpt.testing import confident_random_checkpoint
from yolox_kpt.testing.export import spread_visibility
from yolox_kpt.visualization import draw_frame, frame_visualizer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')
ORT_DYNAMIC = osp.join(REPO, 'deploy_configs', 'keypoint-detection_onnxruntime_dynamic.py')


def with_layout(src, layout, path):
    """``src``'s weights saved as mmengine's Runner saves a trained model: with the dataset's
    layout in ``meta.dataset_meta``."""
    meta = dict(dataset_meta=dict(classes=tuple(layout['classes']), keypoint_layout=layout))
    torch.save(dict(torch.load(src, map_location='cpu'), meta=meta), path)
    return str(path)


def mismatches(layout):
    """The two configs users hit, as checkpoints: classes reordered, and a checkpoint
    trained with one keypoint fewer than the config has (the config has one more)."""
    reordered = dict(layout, classes=[layout['classes'][1], layout['classes'][0],
                                      *layout['classes'][2:]])
    fewer = json.loads(json.dumps(layout))
    fewer['keypoints']['cyclist'] = fewer['keypoints']['cyclist'][:1]
    fewer['sigmas'] = {k: v for k, v in fewer['sigmas'].items() if k != 'rear_wheel'}
    fewer['flip_pairs'] = [p for p in fewer['flip_pairs'] if 'rear_wheel' not in p]
    fewer['skeletons'] = {c: s for c, s in fewer['skeletons'].items() if c != 'cyclist'}
    return dict(reordered=reordered, fewer_keypoints=fewer)


@pytest.fixture(scope='module')
def case(synthetic_data, tmp_path_factory):
    """Val images, the layout the dataset builds from its annotation file (skeletons
    included), and checkpoints with that layout and with the mismatching ones."""
    from mmdet.registry import DATASETS
    root = synthetic_data(num_train=1, num_val=2, seed=11)
    images = sorted(str(p) for p in (root / 'images' / 'val').glob('*.jpg'))
    cfg = Config.fromfile(CONFIG)
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=f'{root}/',
                                  pipeline=[]))
    file_layout = dataset.metainfo['keypoint_layout']
    tmp = tmp_path_factory.mktemp('layout_ckpts')
    # most owned slots labelled (v = 1 or 2): skeleton segments to draw
    plain = spread_visibility(confident_random_checkpoint(cfg, str(tmp / 'plain.pth'),
                                                          images[0]))
    ckpts = {name: with_layout(plain, layout, tmp / f'{name}.pth')
             for name, layout in dict(trained=file_layout, **mismatches(file_layout)).items()}
    return dict(images=images, cfg=cfg, layout=KeypointLayout.from_config(file_layout),
                ckpts=ckpts)


def test_the_annotation_file_has_skeletons_the_config_has_not(case):
    """What the other tests rely on: skeletons come only from the file."""
    config_layout = KeypointLayout.from_config(case['cfg'].keypoint_layout)
    assert not any(config_layout.skeletons)
    assert case['layout'].skeletons[0] and case['layout'].skeletons[3]  # vehicle, cyclist


@pytest.mark.parametrize('mismatch', ['reordered', 'fewer_keypoints'])
def test_deploy_tool_refuses_a_config_the_checkpoint_was_not_trained_with(
        case, mismatch, tmp_path):
    ckpt = case['ckpts'][mismatch]
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'deploy.py'), ORT_DYNAMIC,
                           CONFIG, ckpt, case['images'][0], '--work-dir', str(work)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    message = proc.stderr.splitlines()[-1]
    assert message.startswith('tools/deploy.py: ')  # a message, not a traceback
    assert ckpt in message and CONFIG in message
    trained = KeypointLayout.from_config(torch.load(ckpt)['meta']['dataset_meta'][
        'keypoint_layout'])
    assert f'classes {list(trained.classes)}' in message
    assert f"classes {list(case['cfg'].keypoint_layout['classes'])}" in message
    if mismatch == 'fewer_keypoints':
        assert "'cyclist': ['front_wheel']" in message
        assert "'cyclist': ['front_wheel', 'rear_wheel']" in message
    assert not work.exists()  # refused before any export


def test_export_refuses_before_building_anything(case, tmp_path):
    with pytest.raises(KeypointLayoutError, match='reordered.pth was trained with'):
        export_onnx(CONFIG, ORT_DYNAMIC, case['ckpts']['reordered'], case['images'][0],
                    str(tmp_path / 'work'))
    assert not (tmp_path / 'work').exists()


@pytest.fixture(scope='module')
def exported(case, tmp_path_factory):
    """The ONNX export of the checkpoint with the dataset's layout, and its folder."""
    work = tmp_path_factory.mktemp('layout_export')
    return export_onnx(CONFIG, ORT_DYNAMIC, case['ckpts']['trained'], case['images'][0],
                       str(work)), work


def test_export_describes_itself_with_the_checkpoints_layout(case, exported, tmp_path):
    onnx_file, work = exported
    layout = case['layout']
    sidecar = json.loads((work / SIDECAR_FILE).read_text())
    import onnx
    props = {p.key: p.value for p in onnx.load(onnx_file).metadata_props}
    in_onnx = json.loads(props[ONNX_METADATA_KEY])
    assert in_onnx == sidecar
    for meta in (sidecar, in_onnx):
        assert KeypointLayout.from_config(meta['keypoint_layout']) == layout
        assert meta['keypoint_layout']['skeletons'] == layout.to_config()['skeletons'] != {}

    image = cv2.imread(case['images'][1])
    with_sidecar = KeypointDetector(onnx_file, meta=str(work / SIDECAR_FILE))(image, 0.3)
    # the ONNX file alone: no sidecar beside it
    alone = tmp_path / 'alone'
    alone.mkdir()
    shutil.copy(onnx_file, alone / 'model.onnx')
    detector = KeypointDetector(str(alone / 'model.onnx'))
    assert detector.meta == RuntimeMeta.from_sidecar(str(work / SIDECAR_FILE))
    dets = detector(image, 0.3)
    assert len(dets) == len(with_sidecar) > 0
    for name in ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores'):
        np.testing.assert_array_equal(getattr(dets, name), getattr(with_sidecar, name))
    assert dets.layout == layout

    # the skeletons are drawn from the model's own layout: lines the config could not give
    cyclist_or_vehicle = np.isin(dets.labels, [0, 3])
    assert cyclist_or_vehicle.any()
    drawn = draw_frame(frame_visualizer(dets.layout), image, dets, fast=True)
    no_skeleton = KeypointLayout.from_config(case['cfg'].keypoint_layout)
    plain = draw_frame(frame_visualizer(no_skeleton), image, dets, fast=True)
    assert_skeleton_lines(drawn, plain, dets, kpt_thr=0.3)


def assert_skeleton_lines(drawn, plain, dets, kpt_thr):
    """``drawn`` differs from ``plain`` at the middle of most skeleton segments whose two
    keypoints are drawn (predicted v > 0, or without visibility score >= ``kpt_thr``), and
    in nothing but those lines."""
    changed = np.abs(drawn.astype(int) - plain.astype(int)).max(-1) > 40
    hits = total = 0
    on_lines = np.zeros_like(changed)
    shown = (dets.keypoint_scores >= kpt_thr if dets.keypoint_states is None else
             dets.keypoint_states > 0)
    for i, label in enumerate(dets.labels):
        for a, b in dets.layout.skeletons[label]:
            if not (shown[i, a] and shown[i, b]):
                continue
            pa, pb = np.round(dets.keypoints[i, a]), np.round(dets.keypoints[i, b])
            cv2.line(on_lines.view(np.uint8), tuple(int(v) for v in pa),
                     tuple(int(v) for v in pb), 1, 5)
            if np.linalg.norm(pa - pb) < 12:  # the dots would cover the middle
                continue
            x, y = np.round((pa + pb) / 2).astype(int)
            if 0 <= x < drawn.shape[1] and 0 <= y < drawn.shape[0]:
                total += 1
                hits += changed[y - 1:y + 2, x - 1:x + 2].any()
    assert total > 0 and hits / total > 0.6, (hits, total)
    assert not (changed & ~on_lines).any()


def test_deploy_test_refuses_a_config_the_model_was_not_exported_with(case, exported,
                                                                      tmp_path):
    onnx_file, _ = exported
    classes = list(case['layout'].classes)
    reordered = [classes[1], classes[0], *classes[2:]]
    config = tmp_path / 'reordered.py'
    config.write_text(f"_base_ = [{CONFIG!r}]\nkeypoint_layout = dict(classes={reordered!r})\n")
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'deploy_test.py'),
                           ORT_DYNAMIC, str(config), '--model', onnx_file], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()[-1]
    assert message.startswith('tools/deploy_test.py: ') and onnx_file in message
    assert f'classes {reordered}' in message and f'classes {classes}' in message
