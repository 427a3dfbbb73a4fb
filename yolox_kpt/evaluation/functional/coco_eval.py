"""One COCOeval run and pycocotools' summary numbers, on either COCO evaluation backend.

``faster_coco_eval`` runs pycocotools' algorithm with the per-image matching and the
accumulation in C++ (about 4x faster here) and gives the same numbers; tests pin both
backends to pycocotools to 1e-9. ``pycocotools`` stays the reference and the fallback.
"""
import contextlib
import io
from typing import List, Optional, Sequence

import numpy as np

BACKENDS = ('auto', 'faster_coco_eval', 'pycocotools')

# pycocotools' summarize(): (is AP, IoU threshold or None, area range, index into maxDets)
BOX_SUMMARY = (('mAP', True, None, 'all', -1), ('mAP_50', True, .5, 'all', -1),
               ('mAP_75', True, .75, 'all', -1), ('mAP_s', True, None, 'small', -1),
               ('mAP_m', True, None, 'medium', -1), ('mAP_l', True, None, 'large', -1),
               ('AR@100', False, None, 'all', 0), ('AR@300', False, None, 'all', 1),
               ('AR@1000', False, None, 'all', 2), ('AR_s@1000', False, None, 'small', 2),
               ('AR_m@1000', False, None, 'medium', 2), ('AR_l@1000', False, None, 'large', 2))
KPT_SUMMARY = (('AP', True, None, 'all', 0), ('AP_50', True, .5, 'all', 0),
               ('AP_75', True, .75, 'all', 0), ('AP_m', True, None, 'medium', 0),
               ('AP_l', True, None, 'large', 0), ('AR', False, None, 'all', 0),
               ('AR_50', False, .5, 'all', 0), ('AR_75', False, .75, 'all', 0),
               ('AR_m', False, None, 'medium', 0), ('AR_l', False, None, 'large', 0))


def resolve_backend(name: str = 'auto') -> str:
    """The backend that will run: ``auto`` is faster_coco_eval when importable."""
    if name not in BACKENDS:
        raise ValueError(f'COCO evaluation backend {name!r} is not one of {BACKENDS}')
    if name == 'pycocotools':
        return name
    try:
        import faster_coco_eval  # noqa: F401
    except ImportError:
        if name == 'faster_coco_eval':
            raise ImportError('backend faster_coco_eval needs `pip install faster-coco-eval`')
        return 'pycocotools'
    return 'faster_coco_eval'


def load_coco(path: str, backend: str):
    """Ground truth as the backend's COCO object (quietly)."""
    with contextlib.redirect_stdout(io.StringIO()):
        if backend == 'faster_coco_eval':
            from faster_coco_eval import COCO
        else:
            from pycocotools.coco import COCO
        return COCO(path)


def box_results(img_ids: np.ndarray, cat_ids: np.ndarray, scores: np.ndarray,
                boxes_xyxy: np.ndarray) -> List[dict]:
    """COCO detection results with the fields ``COCO.loadRes`` would add (area, id,
    iscrowd), computed for all detections at once.

    Args:
        img_ids, cat_ids, scores: (N,). boxes_xyxy: (N, 4).
    """
    xywh = np.concatenate([boxes_xyxy[:, :2], boxes_xyxy[:, 2:] - boxes_xyxy[:, :2]], 1)
    area = (xywh[:, 2] * xywh[:, 3]).tolist()
    return [dict(image_id=i, category_id=c, bbox=b, score=s, area=a, id=n + 1, iscrowd=0)
            for n, (i, c, b, s, a) in enumerate(zip(img_ids.tolist(), cat_ids.tolist(),
                                                    xywh.tolist(), scores.tolist(), area))]


def keypoint_results(img_ids: np.ndarray, cat_id: int, scores: np.ndarray,
                     keypoints: np.ndarray) -> List[dict]:
    """COCO keypoint results of one category, with ``COCO.loadRes``'s area and bbox: the
    extent of all keypoints (as loadRes computes them, vectorised). ``keypoints`` of each
    result is a numpy row (``.tolist()`` it for JSON).

    Args:
        img_ids, scores: (N,). keypoints: (N, K_c, 3) x, y, score.
    """
    x, y = keypoints[..., 0], keypoints[..., 1]
    x0, x1, y0, y1 = x.min(1), x.max(1), y.min(1), y.max(1)
    area = ((x1 - x0) * (y1 - y0)).tolist()
    bbox = np.stack([x0, y0, x1 - x0, y1 - y0], 1).tolist()
    # numpy rows, not lists: COCOeval's computeOks takes np.array() of them, and 500k
    # detections x 51 Python floats would cost more than the evaluation
    flat = list(keypoints.reshape(len(keypoints), keypoints.shape[1] * 3))
    return [dict(image_id=i, category_id=cat_id, keypoints=k, score=s, area=a, bbox=b,
                 id=n + 1)
            for n, (i, k, s, a, b) in enumerate(zip(
                img_ids.tolist(), flat, scores.tolist(), area, bbox))]


def _results_coco(coco_gt, anns: List[dict]):
    """The result COCO object ``coco_gt.loadRes(anns)`` builds, for annotations that
    already carry loadRes's fields (``box_results``/``keypoint_results``)."""
    unknown = {a['image_id'] for a in anns} - set(coco_gt.getImgIds())
    if unknown:
        raise ValueError(f'results for image ids {sorted(unknown)[:5]} that are not in the '
                         'ground truth')
    res = type(coco_gt)()
    res.dataset['info'] = dict(coco_gt.dataset.get('info', {}))
    res.dataset['images'] = list(coco_gt.dataset['images'])
    res.dataset['categories'] = [dict(c) for c in coco_gt.dataset['categories']]
    res.dataset['annotations'] = anns
    res.createIndex()
    return res


def run_cocoeval(coco_gt, dets: List[dict], iou_type: str, cat_ids: Sequence[int],
                 img_ids: Sequence[int], backend: str,
                 sigmas: Optional[np.ndarray] = None,
                 max_dets: Optional[Sequence[int]] = None) -> dict:
    """Evaluate, accumulate; returns ``eval`` (precision (T,R,K,A,M), recall (T,K,A,M))
    and ``params``. ``dets`` from ``box_results``/``keypoint_results``, non-empty."""
    with contextlib.redirect_stdout(io.StringIO()):
        if backend == 'faster_coco_eval':
            from faster_coco_eval import COCOeval_faster as COCOeval
        else:
            from pycocotools.cocoeval import COCOeval
        coco_dt = _results_coco(coco_gt, dets)
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        ev.params.catIds = list(cat_ids)
        ev.params.imgIds = list(img_ids)
        if max_dets is not None:
            ev.params.maxDets = list(max_dets)
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        ev.evaluate()
        ev.accumulate()
    return dict(precision=np.asarray(ev.eval['precision']),
                recall=np.asarray(ev.eval['recall']), params=ev.params)


def summarize(result: dict, table=KPT_SUMMARY, cat_index: Optional[int] = None) -> dict:
    """pycocotools' ``summarize()`` numbers, for all categories or one (``cat_index``).

    Same rule as pycocotools: the mean over entries > -1, and -1 where none (no ground
    truth in that area range).
    """
    params = result['params']
    iou_thrs = np.asarray(params.iouThrs)
    out = {}
    for name, is_ap, iou, area, max_idx in table:
        a = list(params.areaRngLbl).index(area)
        m = len(params.maxDets) - 1 if max_idx == -1 else max_idx
        t = slice(None) if iou is None else np.where(np.isclose(iou_thrs, iou))[0]
        k = slice(None) if cat_index is None else [cat_index]
        if is_ap:
            s = result['precision'][t][:, :, k, a, m]
        else:
            s = result['recall'][t][:, k, a, m]
        s = s[s > -1]
        out[name] = float(np.mean(s)) if s.size else -1.0
    return out
