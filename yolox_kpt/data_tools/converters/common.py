"""What the format converters share: where a layout comes from, and refusing to overwrite.

Only the standard library is imported at module level, so the converters load fast;
mmengine (for ``--config``) is imported when used.
"""
from __future__ import annotations

import os
from typing import Mapping, Optional, Sequence

from ...keypoint_layout import KeypointLayout, KeypointLayoutError
from ..coco import ConverterError, PathLike


def add_layout_args(parser, config_help: str, required: bool = False) -> None:
    """``--config`` or ``--layout``: where a converter tool takes its keypoint layout from
    (read with :func:`load_layout`).

    Args:
        parser (argparse.ArgumentParser): the tool's parser.
        config_help (str): what the config's layout decides for this tool.
        required (bool): one of the two must be given.
    """
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument('--config', help=config_help)
    source.add_argument('--layout', help='keypoint layout JSON (KeypointLayout.to_json)')


def load_layout(config: Optional[PathLike] = None,
                layout: Optional[PathLike] = None) -> Optional[KeypointLayout]:
    """The keypoint layout of a config or of a layout JSON.

    Args:
        config (str | PathLike, optional): an mmengine config with a top-level
            ``keypoint_layout``, read by :func:`yolox_kpt.apis.layout.config_layout`.
        layout (str | PathLike, optional): a JSON file as written by
            :meth:`KeypointLayout.to_json`.

    Returns:
        KeypointLayout | None: None when neither is given.

    Raises:
        ConverterError: both given, a missing file, or no valid layout in it; the message
            names the file.
    """
    if config is not None and layout is not None:
        raise ConverterError('give either --config or --layout, not both')
    if layout is not None:
        if not os.path.isfile(layout):
            raise ConverterError(f'{layout}: no such layout JSON file')
        try:
            return KeypointLayout.from_json(layout)
        except (ValueError, TypeError, KeyError) as e:
            raise ConverterError(f'{layout}: not a keypoint layout JSON ({e})') from e
    if config is not None:
        if not os.path.isfile(config):
            raise ConverterError(f'{config}: no such config file')
        # Heavy (mmengine, and the apis package); only when a config is used.
        from mmengine.config import Config

        from ...apis.layout import config_layout
        try:
            return config_layout(Config.fromfile(str(config)), str(config))
        except KeypointLayoutError as e:
            raise ConverterError(str(e)) from e
    return None


def conversion_layout(classes: Sequence[str],
                      keypoints: Mapping[str, Sequence[str]],
                      flip_pairs: Optional[Sequence[Sequence[str]]] = None,
                      skeletons: Optional[Mapping[str, Sequence[Sequence[int]]]] = None,
                      source: str = 'data', share_keypoints=None) -> KeypointLayout:
    """A layout read from data files, which carry no OKS sigmas.

    Conversion only needs slots, flips and skeletons, so every keypoint gets a placeholder
    sigma rather than failing on names that are not COCO person keypoints. Such a layout is
    never written out with its sigmas. ``share_keypoints``: as the files say (None: the
    layout's default).
    """
    names = {n for kpts in keypoints.values() for n in (kpts or ())}
    share = {} if share_keypoints is None else dict(share_keypoints=share_keypoints)
    try:
        return KeypointLayout.build(classes, keypoints, {n: 1.0 for n in names}, flip_pairs,
                                    skeletons, source=source, **share)
    except KeypointLayoutError as e:
        raise ConverterError(str(e)) from e


def check_free(path: PathLike, overwrite: bool) -> None:
    """Refuse to replace an existing output unless ``overwrite``."""
    if os.path.lexists(path) and not overwrite:
        raise ConverterError(f'{path} already exists; pass --overwrite to replace it or '
                              'choose another output')
