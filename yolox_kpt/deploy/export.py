"""ONNX export through mmdeploy, on CPU for every backend's graph flavour."""
import os
import os.path as osp
from copy import deepcopy
from typing import Optional, Union

from mmengine.config import Config

from ..apis.layout import check_layouts_match, resolve_layout
from ..compat import torchscript_onnx_export
from ..runtime.contract import OUTPUT_NAMES, REQUIRED_OUTPUTS
from .runtime_meta import runtime_meta

SUPPORTED_BACKENDS = ('onnxruntime', 'tensorrt')


def check_deploy_cfg(deploy_cfg: Config, path: str = 'deploy config') -> str:
    """The backend name, or a clear error for what this package cannot export to."""
    backend = deploy_cfg.get('backend_config', {}).get('type')
    if backend not in SUPPORTED_BACKENDS:
        raise ValueError(f'{path}: backend_config.type={backend!r} is not supported; '
                         f'yolox-kpt exports to {SUPPORTED_BACKENDS} (deploy_configs/)')
    module = deploy_cfg.get('codebase_config', {}).get('module', [])
    if 'yolox_kpt.deploy' not in module:
        raise ValueError(f"{path}: codebase_config.module must include 'yolox_kpt.deploy' "
                         '(start from a file in deploy_configs/)')
    outputs = tuple(deploy_cfg.get('onnx_config', {}).get('output_names', ()))
    if outputs not in (OUTPUT_NAMES, REQUIRED_OUTPUTS):
        raise ValueError(f'{path}: onnx_config.output_names={list(outputs)}; the runtime '
                         f'reads {list(OUTPUT_NAMES)}, or the first three for a model '
                         'without keypoint_visibility (yolox_kpt.runtime.contract)')
    return backend


def without_visibility(deploy_cfg: Config) -> Config:
    """A copy of ``deploy_cfg`` whose graph has the three outputs of a model without
    ``keypoint_visibility`` (a head built with ``loss_kpt_occ=None``): output names and
    dynamic axes of :data:`REQUIRED_OUTPUTS` only."""
    cfg = deepcopy(deploy_cfg)
    cfg.onnx_config.output_names = list(REQUIRED_OUTPUTS)
    axes = cfg.onnx_config.get('dynamic_axes')
    if isinstance(axes, dict):
        cfg.onnx_config.dynamic_axes = {k: v for k, v in axes.items()
                                        if k not in OUTPUT_NAMES[len(REQUIRED_OUTPUTS):]}
    return cfg


def export_onnx(model_cfg: Union[str, Config], deploy_cfg: Union[str, Config],
                checkpoint: Optional[str], img, work_dir: str, device: str = 'cpu') -> str:
    """Export ``end2end.onnx`` into ``work_dir``, describing itself (the runtime meta in its
    metadata and in ``yolox_kpt_runtime.json`` beside it).

    As mmdeploy's ``torch2onnx``, except that a TensorRT-flavoured graph can be made on a
    CPU: mmdeploy refuses ``device='cpu'`` for a TensorRT config when it builds the task
    processor, so the model and inputs are built with an ONNX Runtime copy of the config
    and only the export runs in the TensorRT rewriting context (the graph does not depend
    on the device).

    The graph outputs ``keypoint_visibility`` when the deploy config names it and the head
    has the occlusion branch; a head without it (``loss_kpt_occ=None``) is exported with the
    first three outputs, and the runtime meta's ``outputs`` says which.

    The checkpoint's keypoint layout (the one it was trained with, completed with the
    annotation file's skeletons and flip pairs) is authoritative: a config whose classes or
    keypoints differ is refused before anything is built, and the exported head carries the
    checkpoint's layout into the runtime meta.

    Raises:
        KeypointLayoutError: the config's and the checkpoint's layouts differ (the message
            names both files).

    Returns:
        str: path of the ONNX file.
    """
    from mmdeploy.apis import build_task_processor
    from mmdeploy.apis.core.pipeline_manager import no_mp
    from mmdeploy.apis.onnx import export
    from mmdeploy.utils import get_dynamic_axes, get_input_shape, get_onnx_config, load_config

    deploy_cfg, model_cfg = load_config(deploy_cfg, model_cfg)
    backend = check_deploy_cfg(deploy_cfg)
    cfg_name = getattr(model_cfg, 'filename', None) or 'the model config'
    layout = resolve_layout(model_cfg, checkpoint, cfg_name)
    os.makedirs(work_dir, exist_ok=True)
    build_cfg = deploy_cfg
    if backend == 'tensorrt' and device == 'cpu':
        build_cfg = deepcopy(deploy_cfg)
        build_cfg.backend_config = dict(type='onnxruntime')
    input_shape = get_input_shape(deploy_cfg)
    task_processor = build_task_processor(model_cfg, build_cfg, device)
    torch_model = task_processor.build_pytorch_model(checkpoint)
    head = torch_model.bbox_head
    # the head was built from model.bbox_head, which a config could set apart from the
    # top-level layout resolve_layout compared
    check_layouts_match(head.layout, layout, f'{cfg_name} (model.bbox_head)',
                        checkpoint or 'the checkpoint')
    head.layout = layout
    if not head.with_kpt_occ or tuple(get_onnx_config(deploy_cfg)['output_names']) == \
            REQUIRED_OUTPUTS:
        deploy_cfg = without_visibility(deploy_cfg)  # names and dynamic axes of three
    data, inputs = task_processor.create_input(
        img, input_shape, data_preprocessor=getattr(torch_model, 'data_preprocessor', None))
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    onnx_cfg = get_onnx_config(deploy_cfg)
    names = onnx_cfg['input_names'] + onnx_cfg['output_names']
    prefix = osp.join(work_dir, osp.splitext(onnx_cfg['save_file'])[0])
    with no_mp(), torchscript_onnx_export():
        export(torch_model, inputs,
               input_metas={'data_samples': data['data_samples'], 'mode': 'predict'},
               output_path_prefix=prefix, backend=backend,
               input_names=onnx_cfg['input_names'], output_names=onnx_cfg['output_names'],
               context_info=dict(deploy_cfg=deploy_cfg),
               opset_version=onnx_cfg.get('opset_version', 11),
               dynamic_axes=get_dynamic_axes(deploy_cfg, names),
               verbose=False,
               keep_initializers_as_inputs=onnx_cfg.get('keep_initializers_as_inputs', False),
               optimize=onnx_cfg.get('optimize', False))
    meta = runtime_meta(model_cfg, deploy_cfg, head.layout, input_shape,
                        outputs=onnx_cfg['output_names'])
    meta.write_onnx(prefix + '.onnx')
    meta.write_sidecar(work_dir)  # engines built from the ONNX file keep no metadata
    return prefix + '.onnx'


def trtexec_command(deploy_cfg: Config, onnx_file: str, engine_file: str) -> str:
    """The ``trtexec`` line that builds the engine a TensorRT deploy config describes, on
    the target (for the plugin-free TensorRT >= 8.5 configs; mmdeploy 1.3.1's builder does
    not run on TensorRT 10). The < 8.5 configs' line loads mmdeploy's plugin library."""
    from ..runtime.backends import trtexec_command as command
    common = deploy_cfg.backend_config.get('common_config', {})
    shapes = deploy_cfg.backend_config.model_inputs[0]['input_shapes']['input']
    plugin = (None if deploy_cfg.codebase_config.get('nms_op', 'auto') == 'onnx' else
              '<mmdeploy>/lib/libmmdeploy_tensorrt_ops.so')
    return command(onnx_file, engine_file,
                   tuple(tuple(shapes[f'{k}_shape']) for k in ('min', 'opt', 'max')),
                   fp16=bool(common.get('fp16_mode')), int8=bool(common.get('int8_mode')),
                   plugin=plugin)
