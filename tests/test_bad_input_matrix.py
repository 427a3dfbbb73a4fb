"""Bad input fails loudly, early, and says where; or is counted, never silently lost.

One row per malformed dataset or config mistake, each with its documented outcome: an error
raised when the dataset, layout or model is built (before any iteration) whose message names
the file, image id and annotation id where they exist; or a skip/fix counted in
``dataset.annotation_counts`` (and the log).
"""
import copy
import json
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import pytest
from mmengine.config import Config

from yolox_kpt.datasets import CocoKptDataset
from yolox_kpt.data_tools.driving_schema import CLASSES, KEYPOINTS, SIGMAS
from yolox_kpt.keypoint_layout import KeypointLayout

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CPU_CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                      'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


@dataclass
class Row:
    """``edit(data, root)`` changes the annotation dict (and files); ``build`` overrides
    what is built; ``error``: substrings the message must hold (``{img}``/``{ann}`` are the
    edited annotation's ids); ``count``: (counter, how many more than the clean file)."""
    edit: Optional[Callable] = None
    build: Optional[Callable] = None
    error: Tuple[str, ...] = ()
    count: Optional[Tuple[str, int]] = None


def first(data, with_kpts=True, category=None):
    names = {c['id']: c['name'] for c in data['categories']}
    return next(a for a in data['annotations']
                if (bool(a['keypoints']) == with_kpts or category)
                and (category is None or names[a['category_id']] == category))


def set_kpt(index, value):
    return lambda d, r: first(d)['keypoints'].__setitem__(index, value)


def image_file(data, root, ann):
    img = next(i for i in data['images'] if i['id'] == ann['image_id'])
    return root / 'images' / 'train' / img['file_name']


def replace_image(content: Optional[bytes]):
    def edit(data, root):
        path = image_file(data, root, first(data))
        if content is None:
            path.unlink()
        else:
            path.write_bytes(content)
    return edit


def duplicate_image(same_id: bool):
    def edit(data, root):
        img = copy.deepcopy(data['images'][0])
        if same_id:
            img['file_name'] = 'other.jpg'
        else:
            img['id'] = 10**6
        data['images'].append(img)
    return edit


def add_annotation(**changes):
    def edit(data, root):
        ann = copy.deepcopy(first(data))
        ann.update(id=10**6, **changes)
        data['annotations'].append(ann)
    return edit


def drop_annotations_of_first_image(data, root):
    img_id = data['images'][0]['id']
    data['annotations'] = [a for a in data['annotations'] if a['image_id'] != img_id]


def layout_cfg(**changes):
    cfg = dict(classes=CLASSES, keypoints=dict(KEYPOINTS), sigmas=dict(SIGMAS))
    cfg.update(changes)
    return cfg


def train_with_head_layout(root, tmp_path):
    """A head built for other keypoints than the data: KeypointLayoutCheckHook stops the
    run in before_train, before the first iteration."""
    from mmengine.runner import Runner
    cfg = Config.fromfile(CPU_CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.dataset.dataset.data_root = f'{root}/'
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
    kpts = dict(KEYPOINTS)
    kpts['vehicle'] = kpts['vehicle'][:3]
    # the rear right tyre is gone, so its mirror's pair is given by hand
    cfg.model.bbox_head.keypoint_layout = layout_cfg(
        keypoints=kpts, flip_pairs=[['front_left_tyre', 'front_right_tyre']])
    Runner.from_cfg(cfg).train()


def check_deploy_backend(root, tmp_path):
    from yolox_kpt.deploy.export import check_deploy_cfg
    cfg = Config.fromfile(osp.join(REPO, 'deploy_configs',
                                   'keypoint-detection_onnxruntime_dynamic.py'))
    cfg.backend_config = dict(type='ncnn')
    check_deploy_cfg(cfg, 'my_deploy.py')


def build_head(**changes):
    def build(root, tmp_path):
        from mmdet.registry import MODELS
        cfg = Config.fromfile(CPU_CONFIG).model.bbox_head
        cfg.update(changes)
        MODELS.build(cfg)
    return build


WHERE = ('bad.json', 'image id {img}', 'annotation id {ann}')
MATRIX = {
    # ---- malformed datasets
    'wrong keypoint count': Row(set_kpt(slice(-3, None), []), error=(*WHERE, 'needs 12')),
    'NaN coordinate': Row(set_kpt(0, float('nan')), error=(*WHERE, 'NaN or inf')),
    'inf coordinate': Row(set_kpt(1, float('inf')), error=(*WHERE, 'NaN or inf')),
    'v outside 0/1/2': Row(set_kpt(2, 3), error=(*WHERE, 'visibility must be 0, 1 or 2')),
    'negative v': Row(set_kpt(2, -1), error=(*WHERE, 'visibility')),
    'keypoints not numbers': Row(set_kpt(0, 'left'), error=(*WHERE, 'not numbers')),
    'negative coordinate': Row(
        lambda d, r: first(d)['keypoints'].__setitem__(slice(0, 3), [-20.0, 30.0, 2]),
        count=('labelled keypoints outside the image (set to v=0)', 1)),
    'out-of-image coordinate': Row(
        lambda d, r: first(d)['keypoints'].__setitem__(slice(0, 3), [5000.0, 30.0, 2]),
        count=('labelled keypoints outside the image (set to v=0)', 1)),
    'keypoints on a class that has none': Row(
        lambda d, r: first(d, category='vehicle_face').update(keypoints=[10, 10, 2]),
        error=('bad.json', 'image id', 'annotation id', "'vehicle_face' has 0 keypoints")),
    'missing image file': Row(replace_image(None), error=('image id {img}', 'does not exist')),
    'unreadable image': Row(replace_image(b'this is not a jpeg'),
                            error=('image id {img}', 'not a readable image')),
    'empty image file': Row(replace_image(b''), error=('image id {img}', 'not a readable')),
    'duplicate annotation id': Row(lambda d, r: d['annotations'].append(copy.deepcopy(first(d))),
                                   error=('bad.json', 'annotation id', 'used twice')),
    'image id listed twice': Row(duplicate_image(same_id=True),
                                 error=('bad.json', 'image id', 'listed twice')),
    'image file listed twice': Row(duplicate_image(same_id=False),
                                   error=('bad.json', 'image file', 'listed twice')),
    'annotation on a missing image': Row(add_annotation(image_id=4242),
                                         error=('bad.json', 'annotation id 1000000',
                                                'image id 4242', 'not in "images"')),
    'annotation of a missing category': Row(add_annotation(category_id=99),
                                            error=('bad.json', 'annotation id 1000000',
                                                   'category id 99')),
    'bbox not 4 numbers': Row(add_annotation(bbox=[1, 2, 3]),
                              error=('bad.json', 'annotation id 1000000', 'bbox must be 4')),
    'zero-area box': Row(add_annotation(bbox=[5, 5, 0, 0], area=0),
                         count=('zero-area or outside-image boxes (skipped)', 1)),
    'crowd with keypoints': Row(add_annotation(iscrowd=1),
                                count=('crowd regions with keypoints (keypoints unused)', 1)),
    'image without annotations': Row(drop_annotations_of_first_image,
                                     count=('images without annotations', 1)),
    'empty file': Row(lambda d, r: d.clear(), error=('bad.json', 'the file is empty')),
    'not JSON': Row(lambda d, r: d.update(_raw='{"images": ['),
                    error=('bad.json', 'not a JSON file')),
    'no annotations list': Row(lambda d, r: d.pop('annotations'),
                               error=('bad.json', "needs the lists ['annotations']")),
    # ---- config mistakes
    'head keypoints differ from the data': Row(build=train_with_head_layout,
                                               error=('model.bbox_head', 'train_dataloader')),
    'non-COCO keypoint without sigma': Row(
        build=lambda r, t: KeypointLayout.from_config(layout_cfg(sigmas={})),
        error=('no OKS sigma', 'front_left_tyre')),
    'flip pair out of range': Row(
        build=lambda r, t: KeypointLayout.from_config(layout_cfg(
            flip_pairs=[['front_left_tyre', 'spare_tyre']])),
        error=('flip pair', 'spare_tyre')),
    'skeleton pair out of range': Row(
        build=lambda r, t: KeypointLayout.from_config(layout_cfg(
            skeletons=dict(vehicle=[[1, 9]]))),
        error=('skeleton pair [1, 9]', "'vehicle'", '1..4')),
    'class names not in the file': Row(
        build=lambda r, t: build_dataset(r, 'annotations/train.json',
                                         metainfo=dict(classes=('truck', ))),
        error=('train.json', "['truck'] are not categories")),
    'head num_classes differs from the layout': Row(build=build_head(num_classes=3),
                                                    error=('num_classes=3', '4 classes')),
    'deploy config for a backend we do not export to': Row(
        build=check_deploy_backend, error=('my_deploy.py', "'ncnn' is not supported")),
}


def build_dataset(root, ann_file, **kwargs):
    kwargs.setdefault('metainfo', dict(classes=CLASSES))
    return CocoKptDataset(data_root=str(root), ann_file=ann_file, sigmas=SIGMAS,
                          data_prefix=dict(img='images/train/'), pipeline=[], **kwargs)


@pytest.mark.parametrize('name', list(MATRIX))
def test_bad_input(name, synthetic_data, tmp_path):
    row = MATRIX[name]
    root = synthetic_data(num_train=4, num_val=1, seed=21)
    ids = {}
    if row.edit is not None:
        data = json.loads((root / 'annotations' / 'train.json').read_text())
        target = first(data)
        ids = dict(img=target['image_id'], ann=target['id'])
        row.edit(data, root)
        text = data.pop('_raw', None) if '_raw' in data else (json.dumps(data) if data else '')
        (root / 'annotations' / 'bad.json').write_text(text)
    build = row.build or (lambda r, t: build_dataset(r, 'annotations/bad.json'))
    if row.error:
        with pytest.raises(Exception) as err:
            build(root, tmp_path)
        for part in row.error:
            assert part.format(**ids) in str(err.value), (part, str(err.value))
    else:
        key, expected = row.count
        base = build_dataset(root, 'annotations/train.json').annotation_counts.get(key, 0)
        counts = build(root, tmp_path).annotation_counts
        assert counts.get(key, 0) - base == expected, counts
