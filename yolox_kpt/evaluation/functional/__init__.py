from .coco_eval import (BOX_SUMMARY, KPT_SUMMARY, box_results, keypoint_results, load_coco,
                        resolve_backend, run_cocoeval, summarize)
from .keypoint_errors import (MatchAccumulator, box_iou_xyxy, coco_xywh_to_xyxy, greedy_match,
                              split_by_class)
from .visibility import VIS_RATES, visibility_confusion, visibility_rates

__all__ = [
    'BOX_SUMMARY', 'KPT_SUMMARY', 'box_results', 'keypoint_results', 'load_coco',
    'resolve_backend', 'run_cocoeval', 'summarize', 'MatchAccumulator', 'box_iou_xyxy',
    'coco_xywh_to_xyxy', 'greedy_match', 'split_by_class', 'VIS_RATES',
    'visibility_confusion', 'visibility_rates'
]
