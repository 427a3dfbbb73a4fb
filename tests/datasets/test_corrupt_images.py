"""Corrupt images met during training: skipped and counted, or an error naming the file;
never an opaque dataloader-worker crash."""
import copy
import os.path as osp

import cv2
import numpy as np
import pytest
from mmdet.registry import TRANSFORMS
from mmengine.config import Config
from mmengine.runner import Runner

from yolox_kpt.datasets import CorruptImageError
from yolox_kpt.datasets.transforms.checked_loading import image_bytes_problem, take_skipped
from yolox_kpt.engine.hooks.corrupt_image_log_hook import skipped_in_batch
from yolox_kpt.testing.train_runs import REPO, scaled_pipeline

DATASET_BASE = osp.join(REPO, 'configs', '_base_', 'datasets',
                        'synthetic_driving_keypoints.py')
CPU_RECIPE = osp.join(REPO, 'configs', 'yolox-kpt',
                      'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def jpeg(size=(48, 64), thumbnail=False):
    img = (np.random.default_rng(0).random((*size, 3)) * 255).astype(np.uint8)
    data = cv2.imencode('.jpg', img)[1].tobytes()
    if thumbnail:  # an EXIF block holding a whole small JPEG, with its own end marker
        payload = b'Exif\x00\x00' + jpeg((8, 8))
        data = data[:2] + b'\xff\xe1' + (len(payload) + 2).to_bytes(2, 'big') + payload + data[2:]
    return data


def corrupt(path, kind):
    """Make the image file at ``path`` one of the corrupt kinds."""
    data = open(path, 'rb').read()
    data = {'truncated': data[:len(data) * 2 // 3], 'empty': b'',
            'text': b'<html>404 Not Found</html>\n'}[kind]
    with open(path, 'wb') as f:
        f.write(data)


KINDS = {'truncated': 'truncated JPEG', 'empty': 'empty file', 'text': 'not an image'}


def test_bytes_checks():
    assert image_bytes_problem(jpeg()) is None
    assert image_bytes_problem(jpeg() + b'appended video') is None  # motion photos
    with_thumb = jpeg(thumbnail=True)
    assert cv2.imdecode(np.frombuffer(with_thumb, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)
    assert image_bytes_problem(with_thumb) is None
    # cut in the scan data: the thumbnail's end marker must not pass for the image's
    assert 'truncated JPEG' in image_bytes_problem(with_thumb[:len(with_thumb) - 200])
    assert 'truncated JPEG' in image_bytes_problem(jpeg()[:-2])
    png = cv2.imencode('.png', np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    assert image_bytes_problem(png) is None
    assert 'truncated PNG' in image_bytes_problem(png[:-12])
    assert 'empty' in image_bytes_problem(b'')
    assert 'not an image' in image_bytes_problem(b'GIF-ish text')


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_both_policies_on_each_kind(tmp_path, kind):
    path = tmp_path / 'frame.jpg'
    path.write_bytes(jpeg())
    corrupt(str(path), kind)
    results = dict(img_path=str(path), img_id=42)
    with pytest.raises(CorruptImageError, match=rf'frame\.jpg \(image id 42\): {KINDS[kind]}'):
        TRANSFORMS.build(dict(type='LoadImageFromFileChecked'))(dict(results))
    take_skipped()
    assert TRANSFORMS.build(dict(type='LoadImageFromFileChecked', on_corrupt='skip'))(
        dict(results)) is None
    skipped = take_skipped()
    assert skipped['count'] == 1 and KINDS[kind] in skipped['names'][0]
    assert take_skipped() is None  # taken once


def test_good_images_load_as_mmcv_loads_them(tmp_path):
    path = tmp_path / 'frame.jpg'
    path.write_bytes(jpeg())
    mine = TRANSFORMS.build(dict(type='LoadImageFromFileChecked', on_corrupt='skip'))(
        dict(img_path=str(path)))
    stock = TRANSFORMS.build(dict(type='LoadImageFromFile'))(dict(img_path=str(path)))
    assert np.array_equal(mine['img'], stock['img'])
    assert mine['img_shape'] == mine['ori_shape'] == (48, 64)


def corrupt_set(synthetic_data):
    """A generated set, three of its 8 training images corrupt (one of each kind): the
    root and {file name: kind}."""
    root = synthetic_data(num_train=8, num_val=1, seed=21)
    names = sorted(p for p in (root / 'images' / 'train').iterdir())[:3]
    kinds = dict(zip((p.name for p in names), sorted(KINDS)))
    for path in names:
        corrupt(str(path), kinds[path.name])
    return root, kinds


def mosaic_loader(root, on_corrupt):
    """The dataset base's training dataloader (Mosaic, RandomAffine, MixUp at 96 px) on
    ``root`` with 2 workers; the build-time image check is off so that the loader meets
    the files."""
    cfg = copy.deepcopy(Config.fromfile(DATASET_BASE).train_dataloader)
    cfg.update(batch_size=4, num_workers=2, persistent_workers=False)
    cfg.dataset.pipeline = scaled_pipeline(cfg.dataset.pipeline, 96)
    inner = cfg.dataset.dataset
    inner.update(data_root=str(root) + '/', check_images=False)
    inner.pipeline[0]['on_corrupt'] = on_corrupt
    return Runner.build_dataloader(cfg, seed=0)


def test_training_loader_skips_and_counts_with_workers(synthetic_data):
    root, kinds = corrupt_set(synthetic_data)
    take_skipped()
    batches = list(mosaic_loader(root, 'skip'))
    assert sum(len(b['inputs']) for b in batches) == 8
    skipped = skipped_in_batch([s for b in batches for s in b['data_samples']])
    seen = {osp.basename(name.split(' (image id')[0]): name for name in skipped['names']}
    assert set(seen) == set(kinds)  # each is a primary sample once per epoch
    for name, line in seen.items():
        assert KINDS[kinds[name]] in line
    assert skipped['count'] >= 3 and take_skipped() is None  # nothing left in this process


def test_training_loader_raise_names_the_file_through_workers(synthetic_data):
    root, kinds = corrupt_set(synthetic_data)
    with pytest.raises(CorruptImageError) as err:
        list(mosaic_loader(root, 'raise'))
    assert any(name in str(err.value) and 'image id' in str(err.value) for name in kinds)


def test_training_run_logs_the_skips(synthetic_data, tmp_path):
    """The CPU recipe (its own loader policy: skip) for one epoch with 2 workers: the log
    names the skipped files per iteration and counts them at the end of the epoch."""
    root, kinds = corrupt_set(synthetic_data)
    cfg = Config.fromfile(CPU_RECIPE)
    cfg.merge_from_dict({
        'work_dir': str(tmp_path), 'data_root': str(root) + '/',
        'train_dataloader.batch_size': 4, 'train_dataloader.num_workers': 2,
        'train_dataloader.dataset.dataset.data_root': str(root) + '/',
        'train_dataloader.dataset.dataset.check_images': False,
        'train_cfg.max_epochs': 1, 'default_hooks.checkpoint.interval': 100,
        'default_hooks.logger.interval': 1, 'experiment_name': 'corrupt_images'})
    cfg.train_dataloader.dataset.pipeline = scaled_pipeline(
        cfg.train_dataloader.dataset.pipeline, 96)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg', 'test_dataloader',
                'test_evaluator', 'test_cfg'):
        cfg[key] = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    log = open(runner.logger.handlers[-1].baseFilename).read()
    assert 'corrupt image(s) (epoch 1, iter' in log
    for name in kinds:
        assert name in log
    assert 'Epoch 1: skipped' in log
    assert runner.message_hub.get_info('corrupt_images_skipped') >= 3
