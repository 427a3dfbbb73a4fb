"""Metrics from a saved ``results.pkl``, without the model."""
from typing import List, Optional

from mmengine.config import Config
from mmengine.registry import init_default_scope


def evaluate_results(cfg: Config, results: List[dict], split: str = 'test',
                     metric_options: Optional[dict] = None) -> dict:
    """Rebuild the config's dataset and evaluator and score saved predictions.

    Args:
        cfg (Config): The config the predictions were made with.
        results (list[dict]): What ``tools/test.py --out results.pkl`` dumped (mmdet's
            ``DumpDetResults``: per image ``img_id`` and ``pred_instances`` with
            ``bboxes``, ``scores``, ``labels``, ``keypoints``, ``keypoint_scores``).
        split (str): 'test' or 'val': which dataloader/evaluator of the config.
        metric_options (dict, optional): Overrides of the evaluator's arguments, e.g.
            ``dict(score_thr=0.5)`` or ``dict(format_only=True, outfile_prefix=...)``.

    Returns:
        dict: Metric name (prefixed, e.g. ``coco/kpt_AP``) to value.
    """
    from .. import datasets  # noqa: F401  (registers CocoKptDataset; the metric is ours)
    from mmdet.registry import DATASETS
    from mmengine.evaluator import Evaluator

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset_cfg = cfg[f'{split}_dataloader']['dataset']
    evaluator_cfg = cfg[f'{split}_evaluator']
    evaluator_cfgs = evaluator_cfg if isinstance(evaluator_cfg, (list, tuple)) else [
        evaluator_cfg]
    evaluator_cfgs = [dict(c, **(metric_options or {})) for c in evaluator_cfgs]
    dataset = DATASETS.build(dataset_cfg)
    evaluator = Evaluator(evaluator_cfgs)
    evaluator.dataset_meta = dataset.metainfo
    ids = {int(dataset.get_data_info(i)['img_id']) for i in range(len(dataset))}
    unknown = sorted({int(r['img_id']) for r in results} - ids)
    if unknown:
        raise ValueError(f'{len(unknown)} predictions are for images that are not in '
                         f'{dataset.ann_file} (image ids {unknown[:5]}...): were they made '
                         f'with another config or split?')
    return evaluator.offline_evaluate(results, chunk_size=max(len(results), 1))
