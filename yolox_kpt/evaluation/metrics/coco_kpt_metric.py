"""Box AP, per-class keypoint OKS AP, and the operating-point numbers users read off."""
import json
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger
from terminaltables import AsciiTable

from ...keypoint_layout import KeypointLayout
from ..functional import (BOX_SUMMARY, KPT_SUMMARY, VIS_RATES, MatchAccumulator, box_results,
                          coco_xywh_to_xyxy, keypoint_results, load_coco, resolve_backend,
                          run_cocoeval, split_by_class, summarize, visibility_rates)

_BOX_KEYS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')
# A logged table: its title, and rows of cells (the first row is the header).
_Table = Tuple[str, List[List[str]]]


@METRICS.register_module()
class CocoKptMetric(BaseMetric):
    """COCO box AP (as mmdet's ``CocoMetric``), keypoint AP by OKS per class, and the
    numbers at one operating point.

    * ``bbox_mAP`` ... ``bbox_mAP_l``: mmdet ``CocoMetric(metric='bbox')`` semantics
      (maxDets ``proposal_nums``, -1 where no ground truth falls in an area range), unrounded;
      ``bbox_AP_<class>`` per class.
    * ``kpt_AP``, ``kpt_AP_50``, ``kpt_AP_75``, ``kpt_AP_m``, ``kpt_AP_l``, ``kpt_AR`` ...:
      each class with keypoints is scored by ``COCOeval(iouType='keypoints')`` on its own
      slots with its own sigmas (``kpt_<stat>_<class>``, and ``kpt_AP_<class>``); the overall
      number is the mean over those classes (-1 entries left out), which on a single-class
      COCO person file is exactly pycocotools' number.
    * At ``score_thr`` with matching at box IoU >= ``iou_thr``: ``TP/FP/FN/precision/
      recall/F1`` overall and ``<name>_<class>`` per class; per keypoint slot
      ``kpt_err_px_<kpt>`` (mean pixel error of matched labelled keypoints),
      ``kpt_err_norm_<kpt>`` (divided by the box's width/height per axis),
      ``kpt_PCK@<t>_<kpt>``, ``kpt_vis_P_<kpt>``/``kpt_vis_R_<kpt>`` (predicted visible
      = keypoint score >= ``kpt_score_thr``, labelled = v > 0), and pooled over slots
      ``kpt_err_px``, ``kpt_err_norm``, ``kpt_PCK@<t>``.
    * Three-state visibility, for predictions with ``keypoint_visibility`` (N, K, 3) (heads
      with the occlusion branch), when the ground truth uses v = 1 at all: on the same
      matched detections, every slot of the class counted (v = 0 included), ground-truth v
      against ``visibility_states(keypoint_visibility)``. The 3x3 confusion per class and slot
      is logged as a table; the rates of
      :func:`~yolox_kpt.evaluation.functional.visibility_rates` (``occluded_recall``,
      ``occluded_precision``, ``visible_acc``, ``absent_acc``, ``acc``) are returned as
      ``vis_<rate>`` (all classes), ``vis_<rate>_<class>`` and ``vis_<rate>_<kpt>`` (a
      slot, over the classes that own it), defined values only. Skipped, with a log line,
      for older models' predictions or labels without v = 1.

    Args:
        ann_file (str): COCO keypoint ground truth of the evaluated split.
        score_thr (float): Operating point for counts and keypoint errors. Default 0.3.
        iou_thr (float): Box IoU for a match at the operating point. Default 0.5.
        kpt_score_thr (float): Keypoint score above which a keypoint counts as predicted
            visible. Default 0.5.
        pck_thrs (Sequence[float]): PCK thresholds. Default (0.05, 0.1).
        proposal_nums (Sequence[int]): maxDets of the box evaluation, as mmdet.
        backend (str): 'auto' (faster_coco_eval if installed), 'faster_coco_eval' or
            'pycocotools'. Both give pycocotools' numbers (tested to 1e-9).
        format_only (bool): Only write COCO result JSON files (``<outfile_prefix>.bbox.json``
            and ``<outfile_prefix>.keypoints.json``), e.g. for a test-server submission.
        outfile_prefix (str, optional): Where result JSON files go; required with
            ``format_only``, otherwise written only when given.
        prefix (str, optional): Metric name prefix. Default 'coco'.
    """

    default_prefix = 'coco'

    def __init__(self,
                 ann_file: str,
                 score_thr: float = 0.3,
                 iou_thr: float = 0.5,
                 kpt_score_thr: float = 0.5,
                 pck_thrs: Sequence[float] = (0.05, 0.1),
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 backend: str = 'auto',
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and not outfile_prefix:
            raise ValueError('CocoKptMetric(format_only=True) needs outfile_prefix, e.g. '
                             "'work_dirs/submission/results'")
        self.backend = resolve_backend(backend)
        with get_local_path(ann_file, backend_args=backend_args) as local_path:
            self._coco_gt = load_coco(local_path, self.backend)
        self.ann_file = ann_file
        self.score_thr = score_thr
        self.iou_thr = iou_thr
        self.kpt_score_thr = kpt_score_thr
        self.pck_thrs = tuple(pck_thrs)
        self.proposal_nums = tuple(proposal_nums)
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self._gt_index: Optional[Dict[int, Dict[int, tuple]]] = None

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            if 'keypoints' not in pred:
                raise KeyError(f"predictions for image id {sample['img_id']} have no "
                               "keypoints: CocoKptMetric scores models with YOLOXKptHead")
            result = dict(
                img_id=sample['img_id'],
                bboxes=_numpy(pred['bboxes']),
                scores=_numpy(pred['scores']),
                labels=_numpy(pred['labels']),
                keypoints=_numpy(pred['keypoints']),
                keypoint_scores=_numpy(pred['keypoint_scores']))
            if 'keypoint_visibility' in pred:  # heads with the occlusion branch
                result['keypoint_visibility'] = _numpy(pred['keypoint_visibility'])
            self.results.append(result)

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

    def _stack(self, results: List[dict]) -> Dict[str, np.ndarray]:
        """All images' predictions as flat arrays: img_id, label, score (N,), boxes (N, 4),
        keypoints (N, K, 2), keypoint_scores (N, K).

        Raises:
            ValueError: predictions of an image contain NaN or inf (names the image id).
        """
        keys = ('bboxes', 'scores', 'keypoints', 'keypoint_scores')
        for res in results:
            for key in keys:
                if not np.all(np.isfinite(res[key])):
                    raise ValueError(f"predictions for image id {res['img_id']} contain "
                                     f'NaN/inf in {key!r}')
        num_kpts = self._layout().num_keypoints
        if not results:
            results = [dict(img_id=0, bboxes=np.zeros((0, 4)), scores=np.zeros(0),
                            labels=np.zeros(0), keypoints=np.zeros((0, num_kpts, 2)),
                            keypoint_scores=np.zeros((0, num_kpts)))]
        out = {k: np.concatenate([np.asarray(r[k], np.float64) for r in results])
               for k in keys}
        out['bboxes'] = out['bboxes'].reshape(-1, 4)
        out['labels'] = np.concatenate([np.asarray(r['labels']).astype(np.int64).reshape(-1)
                                        for r in results])
        out['img_ids'] = np.concatenate([np.full(len(r['scores']), int(r['img_id']), np.int64)
                                         for r in results])
        return out

    def _keypoint_dets(self, stacked: Dict[str, np.ndarray], layout: KeypointLayout,
                       label: int, cat_id: int) -> List[dict]:
        """COCO keypoint results of one class: its own slots as [x, y, score] * K_c."""
        rows = np.where(stacked['labels'] == label)[0]
        slots = list(layout.class_slots[label])
        kpts = np.concatenate([stacked['keypoints'][rows][:, slots],
                               stacked['keypoint_scores'][rows][:, slots, None]], axis=-1)
        return keypoint_results(stacked['img_ids'][rows], cat_id, stacked['scores'][rows],
                                kpts)

    def results_to_coco(self, results: List[dict], layout: KeypointLayout) -> List[dict]:
        """Predictions to COCO result dicts (a submission's form): ``bbox`` xywh and
        ``keypoints`` of the class's own slots as [x, y, score] * K_c (empty for classes
        without keypoints)."""
        cat_ids = self._cat_ids(layout)
        stacked = self._stack(results)
        dets = box_results(stacked['img_ids'], np.asarray(cat_ids)[stacked['labels']],
                           stacked['scores'], stacked['bboxes'])
        out = [dict(image_id=d['image_id'], category_id=d['category_id'], bbox=d['bbox'],
                    score=d['score'], keypoints=[]) for d in dets]
        for label, cat_id in enumerate(cat_ids):
            if len(layout.class_slots[label]):
                rows = np.where(stacked['labels'] == label)[0]
                for row, det in zip(rows, self._keypoint_dets(stacked, layout, label,
                                                              cat_id)):
                    out[row]['keypoints'] = det['keypoints'].tolist()
        return out

    def _write_json(self, dets: List[dict], layout: KeypointLayout) -> Dict[str, str]:
        """COCO result files: detections, and keypoint results of classes with keypoints."""
        os.makedirs(osp.dirname(osp.abspath(self.outfile_prefix)), exist_ok=True)
        with_kpts = {cid for cid, slots in zip(self._cat_ids(layout), layout.class_slots)
                     if len(slots)}
        files = {'bbox': f'{self.outfile_prefix}.bbox.json',
                 'keypoints': f'{self.outfile_prefix}.keypoints.json'}
        with open(files['bbox'], 'w') as f:
            json.dump([{k: v for k, v in d.items() if k != 'keypoints'} for d in dets], f)
        with open(files['keypoints'], 'w') as f:
            json.dump([{k: v for k, v in d.items() if k != 'bbox'} for d in dets
                       if d['category_id'] in with_kpts], f)
        return files

    def _gt_by_image(self) -> Dict[int, Dict[int, tuple]]:
        """img_id -> cat_id -> (boxes (G,4) xyxy, crowd (G,), keypoints (G,K_c,3))."""
        if self._gt_index is None:
            grouped: Dict[int, Dict[int, list]] = {}
            for ann in self._coco_gt.dataset['annotations']:
                grouped.setdefault(ann['image_id'], {}).setdefault(ann['category_id'],
                                                                   []).append(ann)
            self._gt_index = {}
            for img_id, by_cat in grouped.items():
                self._gt_index[img_id] = {}
                for cat_id, anns in by_cat.items():
                    kpts = [np.asarray(a.get('keypoints') or [], np.float64).reshape(-1, 3)
                            for a in anns]
                    self._gt_index[img_id][cat_id] = (
                        coco_xywh_to_xyxy([a['bbox'] for a in anns]),
                        np.array([bool(a.get('iscrowd', 0)) for a in anns]),
                        np.stack(kpts) if len({len(k) for k in kpts}) == 1 else
                        np.zeros((len(anns), 0, 3)))
        return self._gt_index

    def _operating_point(self, results: List[dict], layout: KeypointLayout,
                         cat_ids: List[int]) -> MatchAccumulator:
        acc = MatchAccumulator(layout.num_classes, layout.num_keypoints, self.pck_thrs)
        gt_index = self._gt_by_image()
        empty = (np.zeros((0, 4)), np.zeros(0, bool), np.zeros((0, 0, 3)))
        with_vis = _with_visibility(results)
        for res in results:
            gts = gt_index.get(int(res['img_id']), {})
            by_class = split_by_class(np.asarray(res['labels']).astype(np.int64),
                                      np.asarray(res['scores']), self.score_thr)
            for label, cat_id in enumerate(cat_ids):
                idx = by_class.get(label, np.zeros(0, np.int64))
                gt_boxes, gt_crowd, gt_kpts = gts.get(cat_id, empty)
                acc.add(label, layout.class_slots[label],
                        np.asarray(res['bboxes'], np.float64)[idx],
                        np.asarray(res['keypoints'], np.float64)[idx],
                        np.asarray(res['keypoint_scores'], np.float64)[idx], gt_boxes,
                        gt_crowd, gt_kpts, self.iou_thr, self.kpt_score_thr,
                        np.asarray(res['keypoint_visibility'])[idx] if with_vis else None)
        return acc

    def _has_gt(self, cat_ids: Sequence[int], img_ids: Sequence[int]) -> bool:
        return bool(self._coco_gt.getAnnIds(imgIds=list(img_ids), catIds=list(cat_ids)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """The metrics of the class docstring, in five phases: box AP, keypoint AP, counts
        at the operating point, per-slot keypoint errors and three-state visibility of the
        matched detections. Each phase also gives a table, logged at the end.

        Args:
            results (list[dict]): per image, what :meth:`process` kept.

        Returns:
            dict[str, float]: metric name (unprefixed) to value, in phase order; empty with
            ``format_only``.
        """
        logger = MMLogger.get_current_instance()
        layout = self._layout()
        cat_ids = self._cat_ids(layout)
        img_ids = sorted({int(r['img_id']) for r in results})
        if self.outfile_prefix:
            files = self._write_json(self.results_to_coco(results, layout), layout)
            logger.info(f'COCO result files written: {files["bbox"]}, {files["keypoints"]}')
            if self.format_only:
                return {}
        stacked = self._stack(results)
        acc = self._operating_point(results, layout, cat_ids)
        phases = (self._box_ap(stacked, layout, cat_ids, img_ids),
                  self._keypoint_ap(stacked, layout, cat_ids, img_ids),
                  self._counts(acc, layout),
                  self._slot_errors(acc, layout),
                  self._visibility(acc, layout, results, img_ids))
        metrics: Dict[str, float] = OrderedDict()
        for phase_metrics, _ in phases:
            metrics.update(phase_metrics)
        for _, (title, rows) in phases:
            if len(rows) > 1:
                logger.info(f'{title}\n{AsciiTable(rows).table}')
        return dict(metrics)

    def _box_ap(self, stacked: Dict[str, np.ndarray], layout: KeypointLayout,
                cat_ids: List[int], img_ids: List[int]) -> Tuple[Dict[str, float], _Table]:
        """Box AP: one COCOeval run over all classes, per-class numbers from its precision
        array (0 for everything when there is no detection or no ground truth).

        Returns:
            tuple: ``bbox_<key>`` and ``bbox_AP_<class>``; the per-class table.
        """
        metrics: Dict[str, float] = OrderedDict()
        box_dets = box_results(stacked['img_ids'], np.asarray(cat_ids)[stacked['labels']],
                               stacked['scores'], stacked['bboxes'])
        if box_dets and self._has_gt(cat_ids, img_ids):
            box = run_cocoeval(self._coco_gt, box_dets, 'bbox', cat_ids, img_ids,
                               self.backend, max_dets=self.proposal_nums)
            stats = summarize(box, BOX_SUMMARY)
            sorted_cats = sorted(set(cat_ids))
            per_class = {c: summarize(box, BOX_SUMMARY, sorted_cats.index(cid))
                         for c, cid in zip(layout.classes, cat_ids)}
        else:
            stats = {k: 0.0 for k, *_ in BOX_SUMMARY}
            per_class = {c: dict(stats) for c in layout.classes}
        for key in _BOX_KEYS:
            metrics[f'bbox_{key}'] = stats[key]
        rows = [['class', *_BOX_KEYS]]
        for cls_name in layout.classes:
            metrics[f'bbox_AP_{cls_name}'] = per_class[cls_name]['mAP']
            rows.append([cls_name, *(_fmt(per_class[cls_name][k]) for k in _BOX_KEYS)])
        return metrics, ('Box AP per class', rows)

    def _keypoint_ap(self, stacked: Dict[str, np.ndarray], layout: KeypointLayout,
                     cat_ids: List[int],
                     img_ids: List[int]) -> Tuple[Dict[str, float], _Table]:
        """Keypoint AP (OKS): one COCOeval run per class that has keypoints and ground
        truth, on its own slots with its own sigmas; the overall numbers are the mean over
        those classes, -1 entries left out.

        Returns:
            tuple: ``kpt_AP_<class>``, ``kpt_<stat>_<class>`` and ``kpt_<stat>`` (absent
            when no class was scored); the per-class table.
        """
        metrics: Dict[str, float] = OrderedDict()
        kpt_names = [n for n, *_ in KPT_SUMMARY]
        rows, per_class = [['class', *kpt_names]], []
        for label, (cls_name, cat_id) in enumerate(zip(layout.classes, cat_ids)):
            slots = list(layout.class_slots[label])
            if not slots or not self._has_gt([cat_id], img_ids):
                continue
            # As COCO's keypoint results: a detection's area is its keypoints' extent.
            kpt_dets = self._keypoint_dets(stacked, layout, label, cat_id)
            if kpt_dets:
                s = summarize(run_cocoeval(self._coco_gt, kpt_dets, 'keypoints', [cat_id],
                                           img_ids, self.backend, layout.sigmas[slots]))
            else:
                s = {k: 0.0 for k in kpt_names}
            per_class.append(s)
            metrics[f'kpt_AP_{cls_name}'] = s['AP']
            for k in kpt_names[1:]:
                metrics[f'kpt_{k}_{cls_name}'] = s[k]
            rows.append([cls_name, *(_fmt(s[k]) for k in kpt_names)])
        for k in kpt_names:
            vals = [s[k] for s in per_class if s[k] > -1]
            if per_class:
                metrics[f'kpt_{k}'] = float(np.mean(vals)) if vals else -1.0
        return metrics, ('Keypoint AP (OKS) per class', rows)

    def _counts(self, acc: MatchAccumulator,
                layout: KeypointLayout) -> Tuple[Dict[str, float], _Table]:
        """TP / FP / FN, precision, recall and F1 at the operating point, overall and per
        class (``<name>_<class>``), all as floats.

        Returns:
            tuple: the counts and rates; the per-class table.
        """
        counts = acc.class_counts()
        tp, fp, fn = (int(counts[k].sum()) for k in ('TP', 'FP', 'FN'))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        # Counts as floats: mmengine's JSON scalar log writes Python ints as null.
        metrics: Dict[str, float] = OrderedDict(
            TP=float(tp), FP=float(fp), FN=float(fn), precision=p, recall=r,
            F1=2 * p * r / (p + r) if p + r else 0.0)
        rows = [['class', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1']]
        for label, cls_name in enumerate(layout.classes):
            row = [cls_name]
            for key, name in (('TP', 'TP'), ('FP', 'FP'), ('FN', 'FN'), ('P', 'precision'),
                              ('R', 'recall'), ('F1', 'F1')):
                value = counts[key][label]
                metrics[f'{name}_{cls_name}'] = float(value)
                row.append(str(int(value)) if key in ('TP', 'FP', 'FN') else _fmt(value))
            rows.append(row)
        return metrics, (f'Detections at score >= {self.score_thr:g}, box IoU >= '
                         f'{self.iou_thr:g}', rows)

    def _slot_errors(self, acc: MatchAccumulator,
                     layout: KeypointLayout) -> Tuple[Dict[str, float], _Table]:
        """Keypoint errors of the matched detections' labelled slots: per slot
        (``kpt_<key>_<keypoint>``, finite values only) and pooled over slots weighted by
        their counts (``kpt_err_px``, ``kpt_err_norm``, ``kpt_PCK@<t>``).

        Returns:
            tuple: the errors; the per-slot table.
        """
        metrics: Dict[str, float] = OrderedDict()
        errors = acc.slot_errors()
        pck_keys = [f'PCK@{t:g}' for t in self.pck_thrs]
        slot_keys = ['err_px', 'err_norm', *pck_keys, 'vis_P', 'vis_R']
        rows = [['keypoint', 'n', *slot_keys]]
        n = errors['count']
        for key in ['err_px', 'err_norm', *pck_keys]:
            if n.sum():
                ok = n > 0
                metrics[f'kpt_{key}'] = float((errors[key][ok] * n[ok]).sum() / n[ok].sum())
        for slot, name in enumerate(layout.keypoint_names):
            for key in slot_keys:
                if np.isfinite(errors[key][slot]):
                    metrics[f'kpt_{key}_{name}'] = float(errors[key][slot])
            rows.append([name, str(n[slot]), *(_fmt(errors[k][slot]) for k in slot_keys)])
        return metrics, ('Keypoints of matched detections (labelled ground truth)', rows)


    def _labels_use_occluded(self, img_ids: Sequence[int]) -> bool:
        """Whether any ground-truth keypoint of these images has v = 1."""
        index = self._gt_by_image()
        return any((kpts[..., 2] == 1).any() for img_id in img_ids
                   for _, _, kpts in index.get(img_id, {}).values())

    def _visibility(self, acc: MatchAccumulator, layout: KeypointLayout, results: List[dict],
                    img_ids: List[int]) -> Tuple[Dict[str, float], _Table]:
        """Three-state visibility of the matched detections' slots (class docstring).

        Returns:
            tuple: ``vis_<rate>``, ``vis_<rate>_<class>``, ``vis_<rate>_<kpt>``; the table
            of confusions (rows ground-truth v, predicted v = 0/1/2 in each cell) and rates
            per class and slot. Both empty when skipped.
        """
        metrics: Dict[str, float] = OrderedDict()
        title = ('Keypoint visibility of matched detections (v=g: predicted 0/1/2 of the '
                 'points labelled g)')
        reason = None
        if not _with_visibility(results):
            reason = 'the predictions have no keypoint_visibility (no occlusion branch)'
        elif not self._labels_use_occluded(img_ids):
            reason = 'the ground truth never labels a keypoint occluded (v = 1)'
        if reason:
            MMLogger.get_current_instance().info(f'Keypoint visibility not evaluated: '
                                                 f'{reason}')
            return metrics, (title, [])
        conf = acc.vis_confusion  # (C, K, 3, 3)
        pooled = [('', conf.sum((0, 1)))]
        pooled += [(f'_{c}', conf[label].sum(0)) for label, c in enumerate(layout.classes)
                   if layout.class_slots[label]]
        pooled += [(f'_{k}', conf[:, slot].sum(0))
                   for slot, k in enumerate(layout.keypoint_names)]
        for suffix, c in pooled:
            for rate, value in visibility_rates(c).items():
                if np.isfinite(value):
                    metrics[f'vis_{rate}{suffix}'] = float(value)
        rows = [['class', 'keypoint', 'n', 'v=0', 'v=1', 'v=2', *VIS_RATES]]
        for label, cls_name in enumerate(layout.classes):
            slots = layout.class_slots[label]
            cells = [(layout.keypoint_names[s], conf[label, s]) for s in slots]
            for name, c in cells + ([('all', conf[label, list(slots)].sum(0))] if slots
                                    else []):
                rates = visibility_rates(c)
                rows.append([cls_name, name, str(int(c.sum())),
                             *('/'.join(str(int(n)) for n in row) for row in c),
                             *(_fmt(rates[r]) for r in VIS_RATES)])
        return metrics, (title, rows)


def _with_visibility(results: List[dict]) -> bool:
    """Whether every image's predictions carry ``keypoint_visibility``."""
    return bool(results) and all('keypoint_visibility' in r for r in results)


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return '-' if not np.isfinite(v) else f'{v:.3f}'
