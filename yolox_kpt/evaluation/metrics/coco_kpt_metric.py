"""Box AP and per-class keypoint OKS AP through pycocotools."""
import contextlib
import io
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ...keypoint_layout import KeypointLayout

_BOX_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
_KPT_NAMES = ('AP', 'AP_50', 'AP_75', 'AP_m', 'AP_l', 'AR', 'AR_50', 'AR_75', 'AR_m', 'AR_l')


@METRICS.register_module()
class CocoKptMetric(BaseMetric):
    """COCO box AP (as mmdet's ``CocoMetric``) and keypoint AP by OKS, per class.

    Each class is scored on its own keypoint slots with its own sigmas (pycocotools'
    ``COCOeval(iouType='keypoints')`` run once per class that has keypoints; on a
    single-class COCO person file that is exactly pycocotools' number). ``kpt_AP`` is the
    mean over classes that have keypoints; ``kpt_AP_<class>`` each class's.

    Args:
        ann_file (str): COCO keypoint ground truth of the evaluated split.
        prefix (str, optional): Metric name prefix. Default 'coco'.
    """

    default_prefix = 'coco'

    def __init__(self,
                 ann_file: str,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        with get_local_path(ann_file, backend_args=backend_args) as local_path:
            with contextlib.redirect_stdout(io.StringIO()):
                self._coco_gt = COCO(local_path)
        self.ann_file = ann_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            self.results.append(dict(
                img_id=sample['img_id'],
                bboxes=pred['bboxes'].cpu().numpy(),
                scores=pred['scores'].cpu().numpy(),
                labels=pred['labels'].cpu().numpy(),
                keypoints=pred['keypoints'].cpu().numpy(),
                keypoint_scores=pred['keypoint_scores'].cpu().numpy()))

    def _layout(self) -> KeypointLayout:
        meta = self.dataset_meta or {}
        if 'keypoint_layout' not in meta:
            raise KeyError('CocoKptMetric needs dataset_meta["keypoint_layout"]: evaluate a '
                           'CocoKptDataset')
        return KeypointLayout.from_config(meta['keypoint_layout'])

    def _cat_ids(self, layout: KeypointLayout) -> List[int]:
        name2id = {c['name']: c['id'] for c in self._coco_gt.dataset['categories']}
        missing = [c for c in layout.classes if c not in name2id]
        if missing:
            raise KeyError(f'{self.ann_file}: classes {missing} are not categories of the file')
        return [name2id[c] for c in layout.classes]

    def results_to_coco(self, results: List[dict], layout: KeypointLayout) -> List[dict]:
        """Predictions to COCO result dicts: ``bbox`` xywh, ``keypoints`` of the class's own
        slots as [x, y, score] * K (empty for classes without keypoints)."""
        cat_ids = self._cat_ids(layout)
        out = []
        for res in results:
            if not np.all(np.isfinite(res['bboxes'])) or not np.all(
                    np.isfinite(res['keypoints'])):
                raise ValueError(f"predictions for image id {res['img_id']} contain NaN/inf")
            for box, score, label, kpts, kscores in zip(res['bboxes'], res['scores'],
                                                        res['labels'], res['keypoints'],
                                                        res['keypoint_scores']):
                slots = list(layout.class_slots[int(label)])
                kpt = np.concatenate([kpts[slots], kscores[slots, None]], axis=1)
                x1, y1, x2, y2 = (float(v) for v in box)
                out.append(dict(image_id=int(res['img_id']),
                                category_id=cat_ids[int(label)],
                                bbox=[x1, y1, x2 - x1, y2 - y1],
                                score=float(score),
                                keypoints=kpt.reshape(-1).tolist()))
        return out

    def _evaluate(self, dets: List[dict], iou_type: str, cat_ids: List[int], img_ids,
                  sigmas: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
        """pycocotools' 12 (bbox) or 10 (keypoints) summary numbers; None if no GT."""
        gt_ids = self._coco_gt.getAnnIds(imgIds=img_ids, catIds=cat_ids)
        if not gt_ids:
            return None
        if not dets:
            return np.zeros(12 if iou_type == 'bbox' else 10)
        with contextlib.redirect_stdout(io.StringIO()):
            coco_dt = self._coco_gt.loadRes(dets)
            ev = COCOeval(self._coco_gt, coco_dt, iou_type)
            ev.params.catIds = cat_ids
            ev.params.imgIds = img_ids
            if sigmas is not None:
                ev.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        return np.maximum(ev.stats, 0)  # pycocotools reports -1 for "no GT in range"

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        layout = self._layout()
        cat_ids = self._cat_ids(layout)
        img_ids = sorted({int(r['img_id']) for r in results})
        dets = self.results_to_coco(results, layout)
        metrics = OrderedDict()

        box_dets = [{k: v for k, v in d.items() if k != 'keypoints'} for d in dets]
        stats = self._evaluate(box_dets, 'bbox', cat_ids, img_ids)
        for i, name in enumerate(_BOX_NAMES):
            metrics[f'bbox_{name}'] = float(stats[i]) if stats is not None else 0.0
        for cls_name, cat_id in zip(layout.classes, cat_ids):
            s = self._evaluate([d for d in box_dets if d['category_id'] == cat_id], 'bbox',
                               [cat_id], img_ids)
            if s is not None:
                metrics[f'bbox_AP_{cls_name}'] = float(s[0])

        per_class = []
        for label, (cls_name, cat_id) in enumerate(zip(layout.classes, cat_ids)):
            slots = list(layout.class_slots[label])
            if not slots:
                continue
            # Keypoint results carry no 'bbox', as COCO's keypoint result format: loadRes
            # then takes a detection's area from its keypoints' extent.
            kpt_dets = [{k: v for k, v in d.items() if k != 'bbox'} for d in dets
                        if d['category_id'] == cat_id]
            s = self._evaluate(kpt_dets, 'keypoints',
                               [cat_id], img_ids, layout.sigmas[slots])
            if s is None:
                continue
            per_class.append(s)
            metrics[f'kpt_AP_{cls_name}'] = float(s[0])
        if per_class:
            mean = np.mean(per_class, axis=0)
            for i, name in enumerate(_KPT_NAMES):
                metrics[f'kpt_{name}'] = float(mean[i])
        logger.info('\n'.join(f'{k}: {v:.4f}' for k, v in metrics.items()))
        return dict(metrics)
