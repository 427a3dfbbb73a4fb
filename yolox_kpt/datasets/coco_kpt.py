"""COCO keypoint dataset with per-class keypoint sets."""
import contextlib
import copy
import io
import json
import os
from collections import Counter
from typing import List, Optional

import numpy as np
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger

from ..keypoint_layout import KeypointLayout, KeypointLayoutError
from .samplers import apply_sample_seed
from .transforms.checked_loading import looks_like_image


class KeypointAnnotationError(ValueError):
    """A COCO keypoint annotation that cannot be used; names file, image and annotation."""


@DATASETS.register_module()
class CocoKptDataset(CocoDataset):
    """COCO-format detection dataset whose categories carry keypoints.

    Keypoint names and skeletons come from the file's ``categories[*].keypoints`` /
    ``skeleton``; the model's slot layout is their union by name (see
    :class:`~yolox_kpt.keypoint_layout.KeypointLayout`). Each instance gets
    ``instance['keypoints']``: (K_total, 3) float32 array of x, y, v in slot order; slots
    outside the instance's class are zeros.

    Rules (each counted and logged once per file):

    * error, raised when the dataset is built, naming file, image id and annotation id: an
      empty or non-JSON file, one without images/annotations/categories, an image id or file
      name listed twice, an annotation whose image or category is not in the file, a box
      that is not 4 finite numbers, a keypoint list whose length is not 3 x K of its
      category (so keypoints on a class that has none), a NaN/inf coordinate, v not in
      {0, 1, 2}, an annotation id used twice, a class of ``classes`` missing from the file,
      file keypoint names that disagree with ``keypoint_layout``, and (``check_images``)
      an image file that is missing, empty or not an image;
    * labelled keypoints (v > 0) outside ``[0, width] x [0, height]``: set to v = 0;
    * boxes of zero area, or outside the image, and annotations with ``ignore``: skipped;
    * crowd annotations (``iscrowd=1``): kept as ignored regions (mmdet's rule), their
      keypoints are not used;
    * images without annotations: kept (YOLOX trains on them as background) unless
      ``filter_cfg.filter_empty_gt``;
    * categories of the file that are not in ``classes``: their annotations are skipped.

    Labels follow the order of ``classes`` (mmdet's ``CocoDataset`` follows the file's
    category id order instead, which silently mislabels when the two differ).

    Args:
        keypoint_layout (dict, optional): ``dict(classes, keypoints, sigmas, flip_pairs,
            skeletons)``; the same dict the head gets. When given, the file must match it.
            When omitted, keypoints come from the file, and ``sigmas`` / ``flip_pairs``
            may be passed on their own.
        sigmas (dict, optional): OKS sigma per keypoint name (non-COCO names need one).
        flip_pairs (list, optional): pairs of keypoint names swapped by a horizontal flip.
        check_images (bool): At build time, check that every image file exists and starts
            like a JPEG/PNG/BMP/GIF/WebP/TIFF (a few bytes each, local files only), so a bad
            file is an error now rather than a crash mid-epoch. Default True.
        **kwargs: as for ``CocoDataset``; ``metainfo=dict(classes=...)`` picks classes.
    """

    METAINFO = dict(classes=(), palette=None)

    def __init__(self,
                 *args,
                 keypoint_layout: Optional[dict] = None,
                 sigmas: Optional[dict] = None,
                 flip_pairs: Optional[list] = None,
                 check_images: bool = True,
                 **kwargs) -> None:
        self.check_images = check_images
        self._layout_cfg = copy.deepcopy(dict(keypoint_layout)) if keypoint_layout else None
        self._sigmas = sigmas
        self._flip_pairs = flip_pairs
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if self._layout_cfg is not None:
            classes = tuple(self._layout_cfg['classes'])
            if metainfo.get('classes') not in (None, classes, list(classes)):
                raise KeypointLayoutError(
                    f'metainfo.classes {metainfo["classes"]} differ from '
                    f'keypoint_layout.classes {classes}')
            metainfo['classes'] = classes
        if not metainfo.get('classes'):
            raise KeypointLayoutError(
                'CocoKptDataset needs its classes: metainfo=dict(classes=(...)) or '
                'keypoint_layout=dict(classes=(...), ...)')
        super().__init__(*args, metainfo=metainfo, **kwargs)

    def __getitem__(self, idx: int) -> dict:
        # A SeededSampler index reseeds the generators first: this sample's augmentation,
        # and the partners a wrapping MultiImageMixDataset draws right after it, then depend
        # on the index's seed only (not on the worker, or on a resume).
        return super().__getitem__(apply_sample_seed(idx))

    # ----------------------------------------------------------------- loading
    def load_data_list(self) -> List[dict]:
        self._counts = Counter()
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            coco = self._load_coco(local_path)
        layout = self._build_layout(coco.dataset.get('categories', []))
        self._metainfo['keypoint_layout'] = layout.to_config()
        self.layout = layout

        classes = tuple(self.metainfo['classes'])
        name2cat = {c['name']: c for c in coco.dataset.get('categories', [])}
        self.cat_ids = [name2cat[name]['id'] for name in classes]
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}
        self.cat_img_map = copy.deepcopy(coco.cat_img_map)
        self._cat_num_kpts = {
            name2cat[name]['id']: len(slots)
            for name, slots in zip(classes, layout.class_slots)
        }

        data_list = []
        for img_id in coco.get_img_ids():
            raw_img_info = coco.load_imgs([img_id])[0]
            raw_img_info['img_id'] = img_id
            raw_ann_info = coco.load_anns(coco.get_ann_ids(img_ids=[img_id]))
            data_list.append(
                self.parse_data_info(dict(raw_ann_info=raw_ann_info,
                                          raw_img_info=raw_img_info)))
        self._log_counts(len(data_list))
        return data_list

    def _load_coco(self, local_path: str):
        """The file through mmdet's COCO API, or an error that names it."""
        if os.path.getsize(local_path) == 0:
            raise KeypointAnnotationError(f'{self.ann_file}: the file is empty')
        try:
            with open(local_path, 'rb') as f:
                data = json.loads(f.read().decode('utf-8'))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise KeypointAnnotationError(f'{self.ann_file}: not a JSON file ({e})') from e
        missing = [k for k in ('images', 'annotations', 'categories')
                   if not isinstance(data, dict) or not isinstance(data.get(k), list)]
        if missing:
            raise KeypointAnnotationError(
                f'{self.ann_file}: a COCO file needs the lists {missing} (test-set files '
                'without labels still need "annotations": [])')
        if not data['images']:
            raise KeypointAnnotationError(f'{self.ann_file}: lists no images')
        self._check_file(data)
        coco = self.COCOAPI()
        coco.dataset = data
        with contextlib.redirect_stdout(io.StringIO()):
            coco.createIndex()
        # mmdet's wrapper aliases these at construction, before the index existed.
        coco.img_ann_map, coco.cat_img_map = coco.imgToAnns, coco.catToImgs
        return coco

    def _check_file(self, data: dict) -> None:
        """Each entry a dict whose fields have COCO's types; every image and category id
        once, every annotation id once and on a known image and category. Before
        pycocotools indexes the file: it would raise a bare KeyError / TypeError, or
        silently drop or overwrite what breaks these."""
        def is_id(v):
            return isinstance(v, (int, str)) and not isinstance(v, bool)

        def is_number(v, finite=True):
            return (isinstance(v, (int, float)) and not isinstance(v, bool)
                    and (not finite or np.isfinite(v)))

        def fail(where, msg):
            raise KeypointAnnotationError(f'{self.ann_file}: {where}: {msg}')

        seen_ids, seen_names = {}, {}
        for i, img in enumerate(data['images']):
            if not isinstance(img, dict) or not is_id(img.get('id')):
                fail(f'images[{i}]', f'needs an integer "id", got {img!r:.80}')
            where = f"image id {img['id']}"
            if not isinstance(img.get('file_name'), str) or not img['file_name']:
                fail(where, f"needs a \"file_name\" string, got {img.get('file_name')!r}")
            if img['id'] in seen_ids:
                raise KeypointAnnotationError(
                    f"{self.ann_file}: image id {img['id']} is listed twice "
                    f"({seen_ids[img['id']]!r} and {img['file_name']!r})")
            if img['file_name'] in seen_names:
                raise KeypointAnnotationError(
                    f"{self.ann_file}: image file {img['file_name']!r} is listed twice, "
                    f"as image ids {seen_names[img['file_name']]} and {img['id']}")
            seen_ids[img['id']] = img['file_name']
            seen_names[img['file_name']] = img['id']
            for key in ('width', 'height'):
                if not is_number(img.get(key)) or img[key] <= 0:
                    fail(where, f'needs a positive "{key}", got {img.get(key)!r}')
        cat_names = {}
        for i, cat in enumerate(data['categories']):
            if not isinstance(cat, dict) or not is_id(cat.get('id')):
                fail(f'categories[{i}]', f'needs an integer "id", got {cat!r:.80}')
            where = f"category id {cat['id']}"
            if cat['id'] in cat_names:
                fail(where, f"is listed twice ({cat_names[cat['id']]!r} and "
                     f"{cat.get('name')!r})")
            cat_names[cat['id']] = cat.get('name')
            if not isinstance(cat.get('name'), str) or not cat['name']:
                fail(where, f"needs a \"name\" string, got {cat.get('name')!r}")
            kpts = cat.get('keypoints')
            if kpts is not None and not (isinstance(kpts, list) and all(
                    isinstance(k, str) and k for k in kpts)):
                fail(where, f'"keypoints" must be a list of names, got {kpts!r}')
            skel = cat.get('skeleton')
            if skel is not None and not (isinstance(skel, list) and all(
                    isinstance(p, list) and len(p) == 2
                    and all(isinstance(j, int) and not isinstance(j, bool) for j in p)
                    for p in skel)):
                fail(where, f'"skeleton" must be a list of [i, j] keypoint numbers, got '
                     f'{skel!r}')
        ann_ids = set()
        for i, ann in enumerate(data['annotations']):
            if not isinstance(ann, dict) or not is_id(ann.get('id')):
                fail(f'annotations[{i}]', f'needs an integer "id", got {ann!r:.80}')
            where = f"annotation id {ann['id']} (image id {ann.get('image_id')})"
            for key in ('image_id', 'category_id'):
                if not is_id(ann.get(key)):
                    fail(where, f'needs an integer "{key}", got {ann.get(key)!r}')
            if ann['image_id'] not in seen_ids:
                fail(where, 'its image is not in "images"')
            if ann['category_id'] not in cat_names:
                fail(where, f"category id {ann['category_id']} is not in \"categories\"")
            if ann['id'] in ann_ids:
                fail(where, 'its id is used twice')
            ann_ids.add(ann['id'])
            box = ann.get('bbox')
            if not (isinstance(box, list) and len(box) == 4
                    and all(is_number(v) for v in box)):
                fail(where, f'bbox must be 4 finite numbers [x, y, w, h], got {box!r}')
            kpts = ann.get('keypoints')
            if kpts is not None and not (isinstance(kpts, list) and all(
                    is_number(v, finite=False) for v in kpts)):
                fail(where, f'keypoints are not numbers: {kpts!r:.120}')
            for key in ('iscrowd', 'ignore'):
                if ann.get(key, 0) not in (0, 1):
                    fail(where, f'"{key}" must be 0 or 1, got {ann.get(key)!r}')
            if 'area' not in ann:
                # mmdet's CocoDataset reads ann['area']; COCO's rule is the box area.
                ann['area'] = box[2] * box[3]
                self._counts['annotations without "area" (box area used)'] += 1
            elif not is_number(ann['area']):
                fail(where, f'"area" must be a finite number, got {ann["area"]!r}')

    def _check_image_file(self, data_info: dict) -> None:
        """A local image that exists and looks like an image, or an error naming it."""
        path = data_info['img_path']
        where = f"{self.ann_file}: image id {data_info['img_id']}"
        if self.backend_args is not None or '://' in str(path):
            return
        if not os.path.isfile(path):
            raise KeypointAnnotationError(f'{where}: image file {path} does not exist')
        with open(path, 'rb') as f:
            head = f.read(12)
        if not looks_like_image(head):
            raise KeypointAnnotationError(
                f'{where}: {path} is not a readable image (empty or not JPEG/PNG/BMP/GIF/'
                'WebP/TIFF)')

    def _build_layout(self, categories: List[dict]) -> KeypointLayout:
        classes = tuple(self.metainfo['classes'])
        by_name = {}
        for cat in categories:
            if cat['name'] in by_name:
                raise KeypointLayoutError(
                    f"{self.ann_file}: category name {cat['name']!r} is used by ids "
                    f"{by_name[cat['name']]['id']} and {cat['id']}")
            by_name[cat['name']] = cat
        missing = [c for c in classes if c not in by_name]
        if missing:
            raise KeypointLayoutError(
                f'{self.ann_file}: classes {missing} are not categories of the file, '
                f'which has {sorted(by_name)}')
        file_kpts = {c: list(by_name[c].get('keypoints') or []) for c in classes}
        file_skel = {c: by_name[c].get('skeleton') or [] for c in classes}
        if self._layout_cfg is None:
            return KeypointLayout.build(classes, file_kpts, self._sigmas, self._flip_pairs,
                                        file_skel, source=self.ann_file)
        cfg_kpts = self._layout_cfg.get('keypoints') or {}
        for c in classes:
            if list(cfg_kpts.get(c, ()) or ()) != file_kpts[c]:
                raise KeypointLayoutError(
                    f'{self.ann_file}: category {c!r} has keypoints {file_kpts[c]} but '
                    f'keypoint_layout says {list(cfg_kpts.get(c, ()) or ())}')
        cfg = dict(self._layout_cfg)
        cfg.setdefault('skeletons', file_skel)
        if self._sigmas is not None:
            cfg.setdefault('sigmas', self._sigmas)
        if self._flip_pairs is not None:
            cfg.setdefault('flip_pairs', self._flip_pairs)
        return KeypointLayout.from_config(cfg)

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Check one image's annotations, then parse them as ``CocoDataset`` does, plus
        keypoints."""
        img_info = raw_data_info['raw_img_info']
        width, height = img_info['width'], img_info['height']
        usable = []
        for ann in raw_data_info['raw_ann_info']:
            if ann['category_id'] not in self.cat2label:
                self._counts['annotations of categories not in classes (skipped)'] += 1
                continue
            kpts = self._check_keypoints(ann, img_info)
            x1, y1, w, h = ann['bbox']
            inter_w = max(0, min(x1 + w, width) - max(x1, 0))
            inter_h = max(0, min(y1 + h, height) - max(y1, 0))
            if ann.get('ignore', False):
                self._counts['annotations marked ignore (skipped)'] += 1
                continue
            if inter_w * inter_h == 0 or ann.get('area', w * h) <= 0 or w < 1 or h < 1:
                self._counts['zero-area or outside-image boxes (skipped)'] += 1
                continue
            if ann.get('iscrowd', False):
                self._counts['crowd regions (kept as ignored)'] += 1
                if any(ann.get('keypoints') or []):
                    self._counts['crowd regions with keypoints (keypoints unused)'] += 1
            usable.append((ann, kpts))
        data_info = super().parse_data_info(
            dict(raw_img_info=img_info, raw_ann_info=[a for a, _ in usable]))
        # The pre-filter above applies every rule of CocoDataset.parse_data_info, so its
        # instances stand one-to-one with `usable`.
        assert len(data_info['instances']) == len(usable)
        for instance, (ann, kpts) in zip(data_info['instances'], usable):
            instance['keypoints'] = kpts
            instance['ann_id'] = ann['id']
        if not usable:
            self._counts['images without annotations'] += 1
        data_info['flip_indices'] = self.layout.flip_indices
        if self.check_images:
            self._check_image_file(data_info)
        return data_info

    def _check_keypoints(self, ann: dict, img_info: dict) -> np.ndarray:
        """(K_total, 3) slot-ordered keypoints of one annotation, or a clear error."""
        label = self.cat2label[ann['category_id']]
        slots = self.layout.class_slots[label]
        where = (f"{self.ann_file}: image id {img_info['img_id']} "
                 f"({img_info.get('file_name')}), annotation id {ann.get('id')}")
        raw = ann.get('keypoints') or []
        num = len(slots)
        if len(raw) != 3 * num and not (len(raw) == 0 and ann.get('iscrowd', False)):
            raise KeypointAnnotationError(
                f'{where}: category {self.metainfo["classes"][label]!r} has {num} '
                f'keypoints, so its keypoint list needs {3 * num} numbers (x, y, v each), '
                f'got {len(raw)}')
        out = np.zeros((self.layout.num_keypoints, 3), dtype=np.float32)
        if num == 0 or len(raw) == 0:
            return out
        # _check_file made them numbers, and the length is 3 x num
        arr = np.asarray(raw, dtype=np.float64).reshape(num, 3)
        if not np.all(np.isfinite(arr)):
            raise KeypointAnnotationError(f'{where}: keypoints contain NaN or inf: {raw}')
        vis = arr[:, 2]
        bad_v = ~np.isin(vis, (0, 1, 2))
        if bad_v.any():
            raise KeypointAnnotationError(
                f'{where}: keypoint visibility must be 0, 1 or 2 (COCO), got '
                f'{sorted(set(vis[bad_v].tolist()))}')
        outside = (vis > 0) & ((arr[:, 0] < 0) | (arr[:, 0] > img_info['width']) |
                               (arr[:, 1] < 0) | (arr[:, 1] > img_info['height']))
        if outside.any():
            self._counts['labelled keypoints outside the image (set to v=0)'] += int(
                outside.sum())
            arr[outside, 2] = 0
        out[list(slots)] = arr
        return out

    def _log_counts(self, num_images: int) -> None:
        logger = MMLogger.get_current_instance()
        summary = ', '.join(f'{v} {k}' for k, v in sorted(self._counts.items()))
        logger.info(f'{self.ann_file}: {num_images} images; {summary or "all annotations used"}')
        self.annotation_counts = dict(self._counts)
