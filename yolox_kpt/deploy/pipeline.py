"""The test pipeline of a static export: letterbox (keep-ratio resize, pad) to the input.

mmdeploy's ``process_model_config`` makes a static deploy config's ``Resize`` squash every
frame to the input shape (``keep_ratio=False``), unlike training and the config's own test
pipeline: a 16:9 camera frame in a 640x640 input is stretched vertically. A yolox-kpt
static export keeps the config's ``Resize`` (keep ratio, scale = the input shape) and pads
bottom/right to exactly the input shape with the config's pad value: the pictures the
network was trained on, with the same padding as the dynamic export (which pads to a
square) except for its size. ``yolox_kpt.runtime.Preprocess`` reproduces it.
"""
from copy import deepcopy
from typing import List, Sequence


def static_test_pipeline(pipeline: Sequence[dict], input_shape: Sequence[int]) -> List[dict]:
    """The test pipeline of a static export of ``input_shape``.

    Args:
        pipeline (sequence of dict): a model config's ``test_pipeline``.
        input_shape (sequence of int): (w, h) of the static input; multiples of 32 (the
            largest YOLOX stride) so that the data preprocessor adds no padding.

    Returns:
        list of dict: ``Resize(scale=input_shape)`` keeping the config's ``keep_ratio``,
        then ``Pad(size=input_shape)`` with the config's ``Pad`` value (replacing its
        ``pad_to_square`` / ``size_divisor``; mmdet's default value when it has none).

    Raises:
        ValueError: no ``Resize`` step, or an input shape that is not a multiple of 32.
    """
    w, h = (int(v) for v in input_shape)
    if w % 32 or h % 32:
        raise ValueError(f'static input {w}x{h}: width and height must be multiples of 32 '
                         '(the network\'s largest stride)')
    steps = [deepcopy(dict(t)) for t in pipeline]
    types = [t['type'].split('.')[-1] for t in steps]
    if 'Resize' not in types:
        raise ValueError('the test pipeline has no Resize; a static export letterboxes with '
                         'the config\'s Resize and Pad')
    pads = [t for t, name in zip(steps, types) if name == 'Pad']
    pad = dict(type='Pad', size=(w, h))
    if pads and 'pad_val' in pads[0]:
        pad['pad_val'] = pads[0]['pad_val']
    out = []
    for step, name in zip(steps, types):
        if name == 'Resize':
            step['scale'] = (w, h)
            out += [step, pad]
        elif name != 'Pad':
            out.append(step)
    return out
