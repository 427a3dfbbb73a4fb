"""Warn when a schedule does not fit the run's length, e.g. after ``max_epochs`` alone was
overridden.

mmengine configs compute values once, when the file is read: mmdet's YOLOX recipe sets
``max_epochs = 300`` and derives from it the cosine schedule's ``end``/``T_max`` (285), the
last constant phase (285..300) and ``YOLOXModeSwitchHook``'s switch. ``--cfg-options
train_cfg.max_epochs=30`` changes only the loop: the learning rate then stays near its
peak for all 30 epochs, and the constant phase never starts. Nothing fails, the run is
just not the schedule it looks like; this hook says so before the first iteration.
"""
import math
from typing import Any, Dict, List, Optional, Tuple

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

#: mmengine's "no end" for a parameter scheduler (``mmengine.optim.scheduler.INF``).
NO_END = int(1e9)


class ScheduleError(ValueError):
    """A schedule that does not fit the run, with ``ScheduleCheckHook(strict=True)``."""


def _scheduler_entries(runner) -> List[Tuple[str, dict, bool]]:
    """(name, values, from_config) per parameter scheduler: the config's entries when the
    runner has them (so names and units are the ones to override), else the built
    schedulers' (their units: iterations when converted)."""
    cfg = getattr(runner, 'cfg', None) or {}
    entries = cfg.get('param_scheduler') if hasattr(cfg, 'get') else None
    if entries:
        entries = [entries] if isinstance(entries, dict) else list(entries)
        return [(f'param_scheduler.{i}', dict(e), True) for i, e in enumerate(entries)]
    built = getattr(runner, 'param_schedulers', None) or []
    if isinstance(built, dict):
        built = [s for group in built.values() for s in group]
    out = []
    for i, s in enumerate(built):
        values = dict(type=type(s).__name__, by_epoch=s.by_epoch, begin=s.begin, end=s.end)
        if hasattr(s, 'T_max'):
            values['T_max'] = s.T_max
        out.append((f'param_scheduler.{i}', values, False))
    return out


def _custom_hook_index(runner, type_name: str) -> Optional[int]:
    cfg = getattr(runner, 'cfg', None)
    hooks = (cfg.get('custom_hooks') if hasattr(cfg, 'get') else None) or []
    for i, h in enumerate(hooks):
        if isinstance(h, dict) and str(h.get('type', '')).split('.')[-1] == type_name:
            return i
    return None


def schedule_problems(runner) -> Tuple[List[str], Dict[str, Any]]:
    """What in a runner's schedule does not fit its training length.

    Checks, against ``train_cfg.max_epochs`` (epoch units) and the loop's ``max_iters``
    (iteration units): each parameter scheduler's ``begin``, ``end`` and ``T_max`` (a
    scheduler that starts after the run, or ends or reaches its minimum after it; and a
    schedule whose last scheduler ends before the run does), ``YOLOXModeSwitchHook``'s switch
    epoch (``max_epochs - num_last_epochs`` must be >= 1), ``EMAHook``'s begin, the
    validation start and ``dynamic_intervals`` milestones.

    Args:
        runner (mmengine.runner.Runner): after its train loop and schedulers are built
            (``before_train``).

    Returns:
        tuple[list[str], dict]: the problems, one sentence each, and ``--cfg-options``
        overrides (dotted key -> value) that fit the config's schedule to ``max_epochs`` by
        scaling its epoch values from the schedule's planned length (empty when the config
        is not known or nothing is wrong).
    """
    loop = runner.train_loop
    max_epochs = loop.max_epochs if isinstance(loop, EpochBasedTrainLoop) else None
    max_iters = loop.max_iters
    problems: List[str] = []
    # the config's epoch positions (begin, end, T_max) per scheduler, to rescale
    positions: Dict[str, Dict[str, float]] = {}
    num_last: Optional[Tuple[str, int]] = None  # (override key, YOLOX's num_last_epochs)

    def unit_limit(by_epoch: bool) -> Tuple[Optional[int], str]:
        if by_epoch:
            return max_epochs, 'epoch'
        return max_iters, 'iteration'

    schedulers = _scheduler_entries(runner)
    planned = []  # finite ends in epochs, for the schedule's planned length
    ends_in_limit = []
    for name, s, from_cfg in schedulers:
        by_epoch = bool(s.get('by_epoch', True))
        limit, unit = unit_limit(by_epoch)
        if limit is None:
            continue
        label = f'{name} ({str(s.get("type", "?")).split(".")[-1]})'
        begin, end = s.get('begin', 0), s.get('end', NO_END)
        finite = end is not None and end < NO_END
        if by_epoch and from_cfg:
            positions[name] = {k: s[k] for k in ('begin', 'end', 'T_max')
                               if s.get(k) is not None and s[k] < NO_END}
            if finite:
                planned.append(end)
        if finite:
            ends_in_limit.append(end / limit)
        if begin >= limit:
            problems.append(f'{label} begins at {unit} {begin}, but training stops at '
                            f'{unit} {limit}: it never runs')
        elif finite and end > limit:
            problems.append(f'{label} ends at {unit} {end}, after training stops at {unit} '
                            f'{limit}: its schedule is cut short')
        t_max = s.get('T_max')
        if t_max is not None and begin < limit < begin + t_max and not (finite and
                                                                        end > limit):
            problems.append(f'{label} has T_max={t_max} {unit}s from {unit} {begin}, but '
                            f'training stops at {unit} {limit}: the learning rate never '
                            'decays to eta_min')
    if ends_in_limit and len(ends_in_limit) == len(schedulers) and max(ends_in_limit) < 1:
        problems.append('every parameter scheduler has ended before training stops '
                        f'(last end: {max(ends_in_limit):.0%} of the run): the learning rate '
                        'stays at its last value for the rest')

    if max_epochs is not None:
        for hook in runner.hooks:
            kind = type(hook).__name__
            if kind == 'YOLOXModeSwitchHook':
                last = hook.num_last_epochs
                idx = _custom_hook_index(runner, kind)
                if idx is not None:
                    num_last = (f'custom_hooks.{idx}.num_last_epochs', last)
                if last >= max_epochs:
                    problems.append(
                        f'YOLOXModeSwitchHook num_last_epochs={last} >= max_epochs='
                        f'{max_epochs}: it switches at the first epoch, so Mosaic/MixUp never '
                        'run and the L1 keypoint/box phase is the whole run')
            elif kind == 'EMAHook':
                begin_epoch = getattr(hook, 'begin_epoch', 0)
                begin_iter = getattr(hook, 'begin_iter', 0)
                if begin_epoch and begin_epoch >= max_epochs:
                    problems.append(f'EMAHook begin_epoch={begin_epoch} >= max_epochs='
                                    f'{max_epochs}: the EMA weights are never updated')
                if begin_iter and begin_iter >= max_iters:
                    problems.append(f'EMAHook begin_iter={begin_iter} >= the run\'s '
                                    f'{max_iters} iterations: the EMA weights are never '
                                    'updated')
        val_begin = getattr(loop, 'val_begin', 1)
        if getattr(runner, '_val_loop', None) is not None and val_begin > max_epochs:
            problems.append(f'train_cfg.val_begin={val_begin} > max_epochs={max_epochs}: '
                            'no validation runs')
        for milestone in list(getattr(loop, 'dynamic_milestones', []))[1:]:
            if milestone >= max_epochs:
                problems.append(f'train_cfg.dynamic_intervals milestone {milestone} >= '
                                f'max_epochs={max_epochs}: its interval never applies')

    overrides: Dict[str, Any] = {}
    if problems and planned and max_epochs:
        overrides = _rescaled(positions, num_last, max(planned), max_epochs)
    return problems, overrides


def _rescaled(positions: Dict[str, Dict[str, float]], num_last: Optional[Tuple[str, int]],
              planned: float, max_epochs: int) -> Dict[str, Any]:
    """The config's schedule scaled from ``planned`` to ``max_epochs`` epochs: every epoch
    position through one rounding map (so phases that met still meet), YOLOX's last-epochs
    count as the distance from the scaled switch to the end. Only the changed values; {}
    when the run is too short for the schedule's phases (a phase would vanish)."""
    def scale(v: float) -> int:
        # halves round down; a position after the start stays after it
        return 0 if v <= 0 else max(1, math.ceil(v * max_epochs / planned - 0.5))

    new: Dict[str, Any] = {}
    for name, values in positions.items():
        scaled = {k: scale(v) for k, v in values.items()}
        begin, end, t_max = (values.get(k) for k in ('begin', 'end', 'T_max'))
        if t_max is not None and end is not None:
            # keep what T_max was written as: the phase's length, or its end (mmdet's)
            if t_max == end - (begin or 0):
                scaled['T_max'] = scaled['end'] - scaled.get('begin', 0)
            elif t_max == end:
                scaled['T_max'] = scaled['end']
        if ('end' in scaled and scaled['end'] <= scaled.get('begin', 0)
                or scaled.get('T_max', 1) < 1 or scaled.get('end', 0) > max_epochs):
            return {}
        new.update({f'{name}.{k}': v for k, v in scaled.items() if v != values[k]})
    if num_last is not None:
        key, last = num_last
        switch = scale(planned - last) if last < planned else 0
        if not 0 < switch < max_epochs:
            return {}
        if max_epochs - switch != last:
            new[key] = max_epochs - switch
    return new


def format_problems(problems: List[str], overrides: Dict[str, Any],
                    max_epochs: Optional[int]) -> str:
    """The warning: the problems, then the ``--cfg-options`` that fit the schedule."""
    lines = ['the schedule does not fit train_cfg.max_epochs='
             f'{max_epochs} (a config computes values such as a scheduler\'s end from '
             'max_epochs once, when it is read, so overriding max_epochs alone does not move '
             'them):']
    lines += [f'  - {p}' for p in problems]
    if overrides:
        opts = ' '.join(f'{k}={v}' for k, v in overrides.items())
        lines.append('  the config\'s epoch values scaled to the run: --cfg-options '
                     f'train_cfg.max_epochs={max_epochs} {opts}')
    else:
        lines.append('  override the values above with --cfg-options (e.g. '
                     'param_scheduler.1.end=...); a run this short has no room for every '
                     'phase of the schedule, so a short recipe may fit better (such as '
                     'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py)')
    lines.append('  (or set max_epochs in a config of its own; docs/training.md, Schedules)')
    return '\n'.join(lines)


@HOOKS.register_module()
class ScheduleCheckHook(Hook):
    """Before training, check that the schedule fits ``train_cfg.max_epochs``.

    See :func:`schedule_problems` for what is checked. Problems are logged as one warning
    that names the config values and gives a ``--cfg-options`` line scaling the config's
    schedule to the run.

    Args:
        strict (bool): raise :class:`ScheduleError` instead of warning. Off by default: a
            mismatched schedule still trains (a 1-epoch smoke test that overrides
            ``max_epochs`` alone is the common case and must keep working), it is just not
            the planned schedule.
    """

    priority = 'VERY_LOW'

    def __init__(self, strict: bool = False):
        self.strict = strict
        self.problems: List[str] = []
        self.overrides: Dict[str, Any] = {}

    def before_train(self, runner) -> None:
        self.problems, self.overrides = schedule_problems(runner)
        if not self.problems:
            return
        message = format_problems(self.problems, self.overrides,
                                  getattr(runner.train_loop, 'max_epochs', None))
        if self.strict:
            raise ScheduleError(message)
        runner.logger.warning(message)
