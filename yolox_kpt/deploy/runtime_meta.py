"""The :class:`~yolox_kpt.runtime.RuntimeMeta` of an export, from its configs and head."""
from typing import Optional, Sequence

from mmengine.config import Config

from ..keypoint_layout import KeypointLayout
from ..runtime import OUTPUT_NAMES, Preprocess, RuntimeMeta
from .pipeline import static_test_pipeline


def _pad_value(pad: dict) -> float:
    """The image value of a ``Pad`` step (mmdet's default 0 when it sets none)."""
    value = pad.get('pad_val', dict(img=0))
    value = value.get('img', 0) if isinstance(value, dict) else value
    if isinstance(value, (list, tuple)):
        if len(set(value)) != 1:
            raise ValueError(f'Pad(pad_val={value}): yolox_kpt.runtime pads every channel '
                             'with one value')
        value = value[0]
    return float(value)


def runtime_meta(model_cfg: Config, deploy_cfg: Config, layout: KeypointLayout,
                 input_shape: Optional[Sequence[int]] = None,
                 outputs: Sequence[str] = OUTPUT_NAMES) -> RuntimeMeta:
    """Preprocessing (the test pipeline the export was traced with) and the head's layout.

    Args:
        model_cfg (Config): The model config.
        deploy_cfg (Config): The deploy config.
        layout (KeypointLayout): the exported head's layout (the checkpoint's, with the
            annotation file's skeletons and flip pairs), not the config's variable.
        input_shape (sequence, optional): (w, h) of a static deploy config: the pipeline is
            then :func:`~yolox_kpt.deploy.pipeline.static_test_pipeline`'s letterbox.
        outputs (sequence of str): the graph's outputs (``OUTPUT_NAMES``, or its first
            three for a model without ``keypoint_visibility``).

    Returns:
        RuntimeMeta: written into the ONNX file and beside it.
    """
    pipeline = model_cfg.test_pipeline
    if input_shape is not None:
        pipeline = static_test_pipeline(pipeline, input_shape)
    steps = {t['type'].split('.')[-1]: t for t in pipeline}
    if 'Resize' not in steps:
        raise ValueError('the test pipeline has no Resize: yolox_kpt.runtime reproduces '
                         'Resize/Pad only')
    resize, pad = steps['Resize'], steps.get('Pad', {})
    pre = model_cfg.model.get('data_preprocessor', {})
    scale = resize['scale']
    scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
    pad_size = pad.get('size')
    preprocess = Preprocess(
        scale=tuple(int(s) for s in scale), keep_ratio=bool(resize.get('keep_ratio', False)),
        pad_to_square=bool(pad.get('pad_to_square', False)),
        pad_val=_pad_value(pad) if pad else 0.0,
        pad_size=tuple(int(s) for s in pad_size) if pad_size else None,
        pad_size_divisor=int(pad.get('size_divisor') or 1),
        size_divisor=int(pre.get('pad_size_divisor', 1)),
        divisor_pad_val=float(pre.get('pad_value', 0)),
        mean=tuple(float(v) for v in pre['mean']) if pre.get('mean') else None,
        std=tuple(float(v) for v in pre['std']) if pre.get('std') else None,
        bgr_to_rgb=bool(pre.get('bgr_to_rgb', False)))
    return RuntimeMeta(layout=layout, preprocess=preprocess,
                       static_input_shape=tuple(input_shape) if input_shape else None,
                       backend=deploy_cfg.backend_config.type, outputs=tuple(outputs))
