"""``results.pkl`` (mmdet's ``DumpDetResults``) and the ground truth it was made on."""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from ..runtime.detections import FIELDS, OPTIONAL_FIELDS


def load_results(path: str) -> List[dict]:
    """The list ``tools/test.py --out`` wrote; a clear error for anything else."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: not found (tools/test.py CONFIG CKPT --out it)')
    with open(path, 'rb') as f:
        results = pickle.load(f)
    if not isinstance(results, list) or (results and 'pred_instances' not in results[0]):
        raise ValueError(f'{path}: not a results.pkl of tools/test.py --out (a list of dicts '
                         'with pred_instances)')
    return results


def prediction_instances(result: dict, score_thr: float = 0.0) -> InstanceData:
    """One result's ``pred_instances`` as tensors, scores above ``score_thr``: the fields of
    a :class:`~yolox_kpt.runtime.Detections` it has (``keypoint_visibility`` only from
    heads with the occlusion branch)."""
    pred = result['pred_instances']
    keep = torch.as_tensor(pred['scores']) > score_thr
    out = InstanceData()
    for key in FIELDS + OPTIONAL_FIELDS:
        if key in pred:
            out[key] = torch.as_tensor(pred[key])[keep]
    return out


def ground_truth(cfg: Config, split: str = 'test') -> Tuple[object, Dict[int, Tuple[str,
                                                                                 InstanceData]]]:
    """The config's dataset of ``split`` and, per image id, its path and ground truth.

    Returns:
        tuple: (dataset, {img_id: (img_path, InstanceData(bboxes (N, 4), labels (N,),
        keypoints (N, K, 2), keypoints_visible (N, K)))}); ignored (crowd) instances left
        out.
    """
    from .. import datasets  # noqa: F401  (registers CocoKptDataset)
    from mmdet.registry import DATASETS

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset_cfg = dict(cfg[f'{split}_dataloader']['dataset'])
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    num_kpts = dataset.layout.num_keypoints
    out = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        inst = [x for x in info['instances'] if not x.get('ignore_flag', 0)]
        kpts = np.array([x['keypoints'] for x in inst], np.float32).reshape(-1, num_kpts, 3)
        out[int(info['img_id'])] = (info['img_path'], InstanceData(
            bboxes=torch.tensor([x['bbox'] for x in inst], dtype=torch.float32).reshape(-1, 4),
            labels=torch.tensor([x['bbox_label'] for x in inst], dtype=torch.long),
            keypoints=torch.from_numpy(kpts[..., :2]),
            keypoints_visible=torch.from_numpy(kpts[..., 2])))
    return dataset, out


def results_and_ground_truth(config: str, results_path: str, split: str = 'test',
                             cfg_options: Optional[dict] = None) -> Tuple[Config, List[dict],
                                                                       dict]:
    """What the results tools start from: the config (with ``cfg_options`` merged), the
    saved results and the ground truth of ``split``; SystemExit when the results are for
    images the split does not have (another config or split).

    Returns:
        tuple: (cfg, results, {img_id: (img_path, InstanceData)}) as :func:`ground_truth`.
    """
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options or {})
    results = load_results(results_path)
    _, gts = ground_truth(cfg, split)
    unknown = sorted({int(r['img_id']) for r in results} - set(gts))
    if unknown:
        raise SystemExit(f'{results_path}: image ids {unknown[:5]} are not in the config\'s '
                         f'{split} set: another config or split?')
    return cfg, results, gts
