"""The :class:`~yolox_kpt.runtime.RuntimeMeta` of an export, from its configs and head."""
from typing import Optional, Sequence

from mmengine.config import Config

from ..keypoint_layout import KeypointLayout
from ..runtime import Preprocess, RuntimeMeta


def runtime_meta(model_cfg: Config, deploy_cfg: Config, layout: KeypointLayout,
                 input_shape: Optional[Sequence[int]] = None) -> RuntimeMeta:
    """Preprocessing (as mmdeploy runs the test pipeline) and the exported head's layout.

    Args:
        model_cfg (Config): The model config.
        deploy_cfg (Config): The deploy config.
        layout (KeypointLayout): the exported head's layout (the checkpoint's, with the
            annotation file's skeletons and flip pairs), not the config's variable.
        input_shape (sequence, optional): (w, h) of a static deploy config.

    Returns:
        RuntimeMeta: written into the ONNX file and beside it.
    """
    from mmdeploy.codebase.mmdet.deploy.object_detection import process_model_config

    cfg = process_model_config(model_cfg, ['unused.jpg'], input_shape)
    steps = {t['type'].split('.')[-1]: t for t in cfg.test_pipeline}
    if 'Resize' not in steps:
        raise ValueError('the test pipeline has no Resize: yolox_kpt.runtime reproduces '
                         'Resize/Pad only')
    resize, pad = steps['Resize'], steps.get('Pad', {})
    if input_shape is not None:
        pad = {}  # mmdeploy drops pad_to_square for static shapes
    pre = cfg.model.get('data_preprocessor', {})
    pad_val = pad.get('pad_val', dict(img=114))
    pad_val = pad_val.get('img', 114) if isinstance(pad_val, dict) else pad_val
    if isinstance(pad_val, (list, tuple)):
        pad_val = pad_val[0]
    scale = resize['scale']
    scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
    preprocess = Preprocess(
        scale=tuple(int(s) for s in scale), keep_ratio=bool(resize.get('keep_ratio', False)),
        pad_to_square=bool(pad.get('pad_to_square', False)), pad_val=float(pad_val),
        size_divisor=int(pre.get('pad_size_divisor', 1)),
        divisor_pad_val=float(pre.get('pad_value', 0)),
        mean=tuple(float(v) for v in pre['mean']) if pre.get('mean') else None,
        std=tuple(float(v) for v in pre['std']) if pre.get('std') else None,
        bgr_to_rgb=bool(pre.get('bgr_to_rgb', False)))
    return RuntimeMeta(layout=layout, preprocess=preprocess,
                       static_input_shape=tuple(input_shape) if input_shape else None,
                       backend=deploy_cfg.backend_config.type)
