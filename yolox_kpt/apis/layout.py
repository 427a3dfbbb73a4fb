"""Where a model's keypoint layout comes from: its config, and after training its checkpoint.

A config names its layout once (``configs/_base_/datasets/...``); the dataset completes it
from the annotation file (skeletons, flip pairs) and mmengine's Runner stores the result in
every checkpoint (``meta.dataset_meta.keypoint_layout``). From then on the checkpoint is
authoritative: a config whose classes or keypoints differ from the checkpoint's would run the
weights with the wrong slots, so every tool that pairs a config with a checkpoint calls
:func:`resolve_layout` before doing any work.
"""
from typing import Any, Mapping, Optional

from ..keypoint_layout import KeypointLayout, KeypointLayoutError


def config_layout(cfg: Mapping, source: str = 'config') -> KeypointLayout:
    """The keypoint layout a config names.

    Args:
        cfg (Mapping): an mmengine config (or dict) with a top-level ``keypoint_layout``
            (what ``configs/_base_/datasets/*`` define) or ``model.bbox_head.keypoint_layout``.
        source (str): the config's file name, quoted in errors.

    Returns:
        KeypointLayout
    """
    layout = cfg.get('keypoint_layout')
    if layout is None:
        head = (cfg.get('model') or {}).get('bbox_head') or {}
        layout = head.get('keypoint_layout')
    if layout is None:
        raise KeypointLayoutError(
            f'{source}: no keypoint_layout (top-level or model.bbox_head.keypoint_layout); '
            "inherit one of configs/_base_/datasets/ or define keypoint_layout=dict(classes="
            '(...), keypoints=dict(...))')
    return KeypointLayout.from_config(layout)


def checkpoint_layout(checkpoint: Any) -> Optional[KeypointLayout]:
    """The layout a checkpoint was trained with, or None (e.g. a stock mmdet checkpoint).

    Args:
        checkpoint (str | dict): a checkpoint file (read with mmengine's loader, which
            ``yolox_kpt.compat`` makes refuse code-running pickles) or a loaded checkpoint.

    Returns:
        KeypointLayout | None: from ``meta.dataset_meta.keypoint_layout``.
    """
    if not isinstance(checkpoint, Mapping):
        from mmengine.runner import CheckpointLoader
        checkpoint = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    meta = checkpoint.get('meta') or {}
    layout = (meta.get('dataset_meta') or {}).get('keypoint_layout')
    return KeypointLayout.from_config(layout) if layout else None


def check_layouts_match(config: KeypointLayout, checkpoint: KeypointLayout,
                        config_name: str, checkpoint_name: str) -> None:
    """Refuse a config whose classes or keypoints (names, order, owners) differ.

    Sigmas, flip pairs and skeletons may differ (the checkpoint's, completed from the
    annotation file, win); anything that changes what a weight means may not.

    Raises:
        KeypointLayoutError: naming both files and both layouts.
    """
    fields = ('classes', 'keypoint_names', 'class_slots')
    if all(getattr(config, f) == getattr(checkpoint, f) for f in fields):
        return

    def describe(layout: KeypointLayout) -> str:
        per_class = {c: list(layout.class_keypoint_names(i))
                     for i, c in enumerate(layout.classes)}
        return f'classes {list(layout.classes)}, keypoints per class {per_class}'

    raise KeypointLayoutError(
        f'{checkpoint_name} was trained with {describe(checkpoint)}, but {config_name} '
        f'describes {describe(config)}. The weights would be read with the wrong classes or '
        'keypoint slots: use the config the checkpoint was trained with (its work_dir keeps '
        'a copy), or retrain.')


def resolve_layout(cfg: Mapping, checkpoint: Any, config_name: str = 'config',
                   checkpoint_name: Optional[str] = None) -> KeypointLayout:
    """The layout to run a (config, checkpoint) pair with, refusing a mismatch.

    Args:
        cfg (Mapping): the model config.
        checkpoint (str | dict | None): checkpoint file or loaded checkpoint; None: the
            config's layout.
        config_name (str): quoted in errors.
        checkpoint_name (str, optional): quoted in errors (default: the file name).

    Returns:
        KeypointLayout: the checkpoint's (with the skeletons and flip pairs it was trained
        with) when it has one, else the config's.

    Raises:
        KeypointLayoutError: when both have a layout and they differ in classes or keypoints.
    """
    from_cfg = config_layout(cfg, config_name)
    if checkpoint is None:
        return from_cfg
    from_ckpt = checkpoint_layout(checkpoint)
    if from_ckpt is None:
        return from_cfg
    name = checkpoint_name or (checkpoint if isinstance(checkpoint, str) else 'checkpoint')
    check_layouts_match(from_cfg, from_ckpt, config_name, name)
    return from_ckpt
