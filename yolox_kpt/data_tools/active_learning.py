"""The active-learning experiment behind ``tools/analysis/active_learning.py``: does labelling
the frames the mining rank puts first teach the model more than labelling as many frames
picked at random?

One round of it, per seed: a small labelled set and an unlabelled pool are drawn from a
COCO file (:func:`split_labelled_pool`); a model trained on the labelled set ranks the pool
(``tools/mining/mine_frames.py --rank``); the top ``k`` of that rank (:func:`pick_ranked`)
and ``k`` frames drawn at random (:func:`pick_random`) are each added to the labelled set
(:func:`with_frames`), the same recipe is trained on each, and the two are scored on one
validation set. :func:`summarize_runs` and :func:`paired_difference` turn the seeds' scores
into means and spreads. :func:`experiment_config` and :func:`train_and_evaluate` run one
training of the recipe in this process.

Only the standard library is imported at module level; mmengine and tqdm are imported by
the functions that train.
"""
from __future__ import annotations

import math
import random
import re
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from .coco import ConverterError
from .curation import _with_images, coco_subset

#: The arms of a round, in the order reports list them: the model of the labelled set
#: alone, then the labelled set plus the ``k`` frames of the mining rank, plus ``k``
#: random frames.
ARMS: Tuple[str, ...] = ('labelled', 'ranked', 'random')
#: Share of a run's iterations its linear warm-up may take: the CPU recipe's own, 100 of
#: its 600 (240 images, batch 8, 20 epochs).
WARMUP_SHARE = 1 / 6


def split_labelled_pool(coco: dict, num_labelled: int, num_pool: int, seed: int,
                        source: str = '<coco>') -> Tuple[dict, dict]:
    """A labelled set and an unlabelled pool drawn from ``coco``'s images, disjoint.

    ``num_labelled + num_pool`` images are drawn in a seeded random order
    (:func:`~.curation.coco_subset`), the first ``num_labelled`` of them labelled; ids,
    annotations and categories are kept, so the files mix with the source's.

    Returns:
        tuple[dict, dict]: the labelled COCO dict and the pool's (its annotations are the
        labels a labeller would give; the experiment reads them only for the frames it
        picks).

    Raises:
        ConverterError: sizes below 1 or above the file's images.
    """
    if num_labelled < 1 or num_pool < 1:
        raise ConverterError(f'the labelled set and the pool need at least one image each, '
                             f'got {num_labelled} and {num_pool}')
    labelled, pool = coco_subset(coco, num_images=num_labelled + num_pool,
                                 ratios=(num_labelled, num_pool), seed=seed, source=source)
    # assign_by_ratio cuts at the ratio's image count: one image each, so exactly these
    assert len(labelled['images']) == num_labelled and len(pool['images']) == num_pool
    return labelled, pool


def pick_random(names: Sequence[str], k: int, seed: int) -> List[str]:
    """``k`` of ``names`` drawn without replacement, reproducibly for ``seed`` (the same
    names in any order give the same draw)."""
    names = sorted(names)
    if not 0 < k <= len(names):
        raise ValueError(f'cannot pick {k} of {len(names)} frames')
    return random.Random(seed).sample(names, k)


def pick_ranked(ranked: dict, k: int, names: Optional[Sequence[str]] = None) -> List[str]:
    """The ``k`` best frames of a ranking (``mine_frames.py --rank-out``'s JSON): the first
    ``k`` of its ``order`` (best first; near duplicates of better frames are not in it).

    Args:
        ranked: the ranking JSON.
        k: frames to pick.
        names: the pool's frame names; every pick must be one.

    Raises:
        ValueError: fewer than ``k`` frames ranked, or a frame not in ``names``.
    """
    order = list(ranked['order'])
    if not 0 < k <= len(order):
        raise ValueError(f'cannot pick {k} frames: the ranking kept {len(order)} (the others '
                         'were near duplicates); use a larger pool or a smaller k')
    picks = order[:k]
    unknown = sorted(set(picks) - set(names)) if names is not None else []
    if unknown:
        raise ValueError(f'ranked frames {unknown[:5]} are not in the pool')
    return picks


def with_frames(labelled: dict, pool: dict, names: Sequence[str], info: str) -> dict:
    """``labelled`` plus the pool images whose ``file_name`` is in ``names`` (with their
    annotations): the labelled set after a labeller has labelled those frames.

    Raises:
        ValueError: a name not in the pool, named twice, or already labelled.
    """
    by_name = {img['file_name']: img for img in pool['images']}
    missing = [n for n in names if n not in by_name]
    if missing or len(set(names)) != len(names):
        raise ValueError(f'frames {missing[:5] or list(names)} are not distinct pool frames')
    taken = {img['file_name'] for img in labelled['images']} & set(names)
    if taken:
        raise ValueError(f'frames {sorted(taken)[:5]} are already labelled')
    images = labelled['images'] + [by_name[n] for n in names]
    merged = dict(pool, annotations=labelled['annotations'] + pool['annotations'])
    return _with_images(merged, images, info)


def label_counts(coco: dict, names: Optional[Sequence[str]] = None) -> Dict[str, int]:
    """What labelling the images ``names`` (default all) of ``coco`` takes: ``frames``,
    ``objects`` (annotations) and ``keypoints`` (labelled points, COCO v > 0)."""
    chosen = None if names is None else set(names)
    wanted = {img['id'] for img in coco['images']
              if chosen is None or img['file_name'] in chosen}
    anns = [a for a in coco['annotations'] if a['image_id'] in wanted]
    points = sum(1 for a in anns for v in (a.get('keypoints') or [])[2::3] if v > 0)
    return dict(frames=len(wanted), objects=len(anns), keypoints=points)


# ------------------------------------------------------------------------------- metrics
def kept_metrics(metrics: Dict[str, float], classes: Sequence[str]) -> Dict[str, float]:
    """The figures the experiment reports, out of a ``CocoKptMetric`` result (keys with or
    without the ``coco/`` prefix): box mAP and AP50, keypoint AP and AP50, and each class's
    box AP and keypoint AP (the classes without keypoints have none)."""
    names = '|'.join(re.escape(c) for c in classes)
    keep = re.compile(rf'^(bbox_mAP|bbox_mAP_50|kpt_AP|kpt_AP_50|'
                      rf'bbox_AP_({names})|kpt_AP_({names}))$')
    out = {}
    for key, value in metrics.items():
        key = key.split('/')[-1]
        if keep.match(key):
            out[key] = round(float(value), 4)
    return out


def summarize(values: Sequence[float]) -> Dict[str, object]:
    """``mean``, ``std`` (sample standard deviation, 0 for one value), ``min``, ``max`` and
    the ``values`` themselves, rounded to 4 digits."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError('nothing to summarize')
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return dict(mean=round(statistics.fmean(values), 4), std=round(std, 4),
                min=round(min(values), 4), max=round(max(values), 4),
                values=[round(v, 4) for v in values])


def summarize_runs(runs: Sequence[dict], arms: Sequence[str] = ARMS) -> Dict[str, dict]:
    """Per arm and metric, :func:`summarize` over the runs (seeds); a metric counts where
    every run has it. ``runs[i]['metrics'][arm][metric]``."""
    out = {}
    for arm in arms:
        keys = [k for k in runs[0]['metrics'][arm]
                if all(k in r['metrics'][arm] for r in runs)]
        out[arm] = {k: summarize([r['metrics'][arm][k] for r in runs]) for k in keys}
    return out


def paired_difference(runs: Sequence[dict], arm: str = 'ranked',
                      baseline: str = 'random') -> Dict[str, dict]:
    """Per metric, ``arm - baseline`` seed by seed (the two arms of one seed share the
    labelled set, the training seed and the validation set): :func:`summarize` of the
    differences plus ``wins``, the seeds where ``arm`` scored higher, and ``seeds``."""
    keys = [k for k in runs[0]['metrics'][arm]
            if all(k in r['metrics'][arm] and k in r['metrics'][baseline] for r in runs)]
    out = {}
    for key in keys:
        diffs = [r['metrics'][arm][key] - r['metrics'][baseline][key] for r in runs]
        out[key] = dict(summarize(diffs), wins=sum(d > 0 for d in diffs), seeds=len(diffs))
    return out


# ------------------------------------------------------------------------------ training
def _inner_dataset(loader_cfg):
    """The dataset a dataloader config reads files with (inside a mixing wrapper)."""
    ds = loader_cfg['dataset']
    return ds['dataset'] if 'dataset' in ds else ds


def experiment_config(cfg, train_ann: str, train_img_dir: str, val_ann: str,
                      val_img_dir: str, epochs: int, num_train_images: int, seed: int,
                      work_dir: str, name: str, load_from: Optional[str] = None,
                      lr_scale: float = 1.0):
    """The recipe ``cfg`` (an mmengine Config, left as it is) set up for one training of
    the experiment: trained on ``train_ann`` for ``epochs``, seeded by ``seed``, from
    the recipe's initial weights or from ``load_from``'s, with ``val_ann`` as its test
    set (:func:`train_and_evaluate` scores it once, at the end).

    What stays the recipe's: the network, losses, optimizer, augmentation, batch size
    and input size. The schedule follows the run's length as the recipe's does its own:
    the cosine ends with the last epoch, and an iteration-based linear warm-up takes at
    most :data:`WARMUP_SHARE` of the run's iterations (and no more than the recipe's), so
    a short run is not spent warming up. No validation during training, one checkpoint
    (the last).

    Args:
        cfg: the recipe's Config.
        train_ann, val_ann: COCO files (absolute paths).
        train_img_dir, val_img_dir: their images' folders (absolute paths).
        epochs: training epochs (more than the epoch the recipe's cosine begins at).
        num_train_images: images in ``train_ann`` (for the warm-up's iterations).
        seed: the run's random seed (initial weights, sampling, augmentation).
        work_dir: where the run writes (its log, its last checkpoint).
        name: the run's name (mmengine keeps one logger and message hub per name, so two
            runs of one process need two).
        load_from: a checkpoint whose weights the run starts from (its optimizer and
            schedule start afresh); None: the recipe's initialisation.
        lr_scale: the learning rate (peak and floor) times this: fine-tuning a trained
            model at the recipe's peak rate throws its weights far.

    Returns:
        Config: the run's. Its text (mmengine writes it into the log, the work dir and
        every checkpoint) is left unformatted: formatting it with yapf took seconds each
        time, more than a short run's epochs.
    """
    from mmengine.config import Config
    run = cfg.to_dict()
    for key, ann, img_dir in (('train_dataloader', train_ann, train_img_dir),
                              ('test_dataloader', val_ann, val_img_dir)):
        ds = _inner_dataset(run[key])
        ds.update(data_root='', ann_file=ann, data_prefix=dict(img=img_dir.rstrip('/') + '/'))
    run['test_evaluator'] = dict(run['test_evaluator'], ann_file=val_ann)
    # scored by the test loop instead: the best-checkpoint logic then never runs
    run.update(val_dataloader=None, val_cfg=None, val_evaluator=None)
    iters = epochs * math.ceil(num_train_images / run['train_dataloader']['batch_size'])
    recipe_epochs = run['train_cfg']['max_epochs']
    schedulers = []
    for sched in run['param_scheduler']:
        sched = dict(sched)
        if sched['type'] == 'LinearLR' and not sched.get('by_epoch', True):
            sched['end'] = max(1, min(sched['end'], round(WARMUP_SHARE * iters)))
        elif sched.get('by_epoch', True) and sched.get('end') == recipe_epochs:
            if epochs <= sched.get('begin', 0):
                raise ValueError(f'{epochs} epochs end before the recipe\'s {sched["type"]} '
                                 f'begins (epoch {sched["begin"]})')
            sched['end'] = epochs
            if 'T_max' in sched:
                sched['T_max'] = max(1, epochs - sched.get('begin', 0))
        schedulers.append(sched)
    run['param_scheduler'] = schedulers
    if lr_scale != 1.0:
        run['optim_wrapper']['optimizer']['lr'] *= lr_scale
        for sched in schedulers:
            if 'eta_min' in sched:
                sched['eta_min'] *= lr_scale
    run['train_cfg'] = dict(run['train_cfg'], max_epochs=epochs, val_interval=epochs + 1)
    run['default_hooks']['checkpoint'] = dict(run['default_hooks']['checkpoint'],
                                              interval=epochs, max_keep_ckpts=1,
                                              save_best=None, save_last=True)
    run.update(randomness=dict(seed=seed), work_dir=work_dir, experiment_name=name,
               load_from=load_from, resume=False)
    return Config(run, filename=cfg.filename, format_python_code=False)


def train_and_evaluate(cfg, desc: str = 'train', quiet: bool = True
                       ) -> Tuple[Dict[str, float], str]:
    """Train ``cfg`` (see :func:`experiment_config`) in this process, then score it on
    its test set.

    Args:
        cfg: the run's Config.
        desc: the progress bar's label.
        quiet: log warnings only (the bar shows the progress).

    Returns:
        tuple[dict, str]: the metric's figures (keys without the ``coco/`` prefix) and
        the last checkpoint's path.
    """
    import gc
    import os.path as osp

    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    from tqdm import tqdm

    class ProgressHook(Hook):
        def before_train(self, runner):
            self.bar = tqdm(total=runner.max_iters, desc=desc, unit='it', dynamic_ncols=True,
                            leave=False)

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            self.bar.update(1)
            loss = (outputs or {}).get('loss')
            if loss is not None:
                loss = loss.item() if hasattr(loss, 'item') else float(loss)
                self.bar.set_postfix(loss=f'{loss:.2f}', refresh=False)

        def after_train(self, runner):
            self.bar.close()

    if quiet:
        cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressHook(), priority='VERY_LOW')
    runner.train()
    metrics = {k.split('/')[-1]: float(v) for k, v in runner.test().items()}
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    del runner  # its dataloader workers go with it
    gc.collect()
    return metrics, checkpoint


__all__ = ['ARMS', 'split_labelled_pool', 'pick_random', 'pick_ranked', 'with_frames',
           'label_counts', 'kept_metrics', 'summarize', 'summarize_runs',
           'paired_difference', 'experiment_config', 'train_and_evaluate']
