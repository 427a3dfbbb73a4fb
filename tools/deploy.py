"""Export a yolox-kpt model with MMDeploy: ONNX, then the backend (ONNX Runtime, TensorRT).

The command line of mmdeploy's own tools/deploy.py. Writes end2end.onnx (which carries what
yolox_kpt.runtime needs in its metadata), the backend file (end2end.engine for TensorRT),
yolox_kpt_runtime.json (the same, for engines) and, for --test-img, PyTorch and backend
pictures side by side. A config whose classes or keypoints differ from those the checkpoint
was trained with is refused before anything is exported.

Examples:
    python tools/deploy.py deploy_configs/keypoint-detection_onnxruntime_dynamic.py \\
        configs/yolox-kpt/yolox-kpt_s_8xb8-300e_coco-person.py work_dirs/run/epoch_300.pth \\
        demo.jpg --work-dir work_dirs/deploy/s-ort
    # ONNX for TensorRT >= 8.5 (no plugin; any machine, CPU is fine), engine built on the
    # Jetson with the trtexec line written to build_engine.sh:
    python tools/deploy.py \\
        deploy_configs/keypoint-detection_tensorrt8.5+-fp16_static-640x640.py \\
        CONFIG CKPT demo.jpg --onnx-only
    # TensorRT < 8.5 (mmdeploy's NMS plugin) on a CUDA machine with TensorRT 8.x installed:
    python tools/deploy.py \\
        deploy_configs/keypoint-detection_tensorrt-pre8.5-fp16_static-640x640.py \\
        CONFIG CKPT demo.jpg --device cuda:0 --work-dir work_dirs/deploy/s-trt
"""
import importlib.util
import os.path as osp
import sys

from yolox_kpt.utils.cli import tool_parser


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('deploy_cfg', help='deploy config (deploy_configs/)')
    parser.add_argument('model_cfg', help='model config')
    parser.add_argument('checkpoint', help='model checkpoint')
    parser.add_argument('img', help='image used to trace the model')
    parser.add_argument('--test-img', nargs='+', help='images to draw PyTorch and backend '
                        'results on (default: img)')
    parser.add_argument('--work-dir', help='output folder (default: work_dirs/deploy/'
                        '<model cfg>/<deploy cfg>)')
    parser.add_argument('--calib-dataset-cfg', help='dataset config for int8 calibration '
                        '(default: the model config\'s val split)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--log-level', default='INFO',
                        choices=['CRITICAL', 'ERROR', 'WARNING', 'INFO', 'DEBUG'])
    parser.add_argument('--show', action='store_true', help='show the pictures in a window')
    parser.add_argument('--dump-info', action='store_true',
                        help='also write mmdeploy SDK json files (deploy.json, ...)')
    parser.add_argument('--onnx-only', action='store_true',
                        help='stop after end2end.onnx (TensorRT graphs can be made on a CPU)')
    return parser.parse_args()


def fail(msg: str):
    sys.exit(f'tools/deploy.py: {msg}')


def check_inputs(args, backend: str, nms_op: str = 'auto'):
    for name in ('deploy_cfg', 'model_cfg', 'checkpoint', 'img'):
        if not osp.isfile(getattr(args, name)):
            fail(f'{name} {getattr(args, name)!r}: no such file')
    for img in args.test_img or []:
        if not osp.isfile(img):
            fail(f'--test-img {img!r}: no such file')
    if importlib.util.find_spec('mmdeploy') is None:
        fail('mmdeploy is not installed: `make install`, or pip install -e ".[train,deploy]" '
             '&& pip install --no-deps mmdeploy==1.3.1')
    if backend == 'onnxruntime' and importlib.util.find_spec('onnxruntime') is None:
        fail('onnxruntime is not installed: pip install -e ".[train,deploy]"')
    if backend == 'tensorrt' and not args.onnx_only:
        if importlib.util.find_spec('tensorrt') is None:
            fail('TensorRT is not installed: pip install -e ".[train,deploy-gpu]" on a CUDA '
                 'machine (Jetson: JetPack\'s python3-libnvinfer), or pass --onnx-only to '
                 'write the ONNX graph and build the engine on the target')
        if not args.device.startswith('cuda'):
            fail('TensorRT needs --device cuda (or pass --onnx-only)')
        check_tensorrt_version(args.deploy_cfg, nms_op)


def check_tensorrt_version(deploy_cfg: str, nms_op: str) -> None:
    """The plugin-free configs need TensorRT >= 8.5 (native NonMaxSuppression); on 8.5 and
    later the mmdeploy-plugin ones still work but need no plugin."""
    import tensorrt
    version = tuple(int(v) for v in tensorrt.__version__.split('.')[:2])
    if nms_op == 'onnx' and version < (8, 5):
        fail(f'{deploy_cfg}: TensorRT {tensorrt.__version__} parses ONNX NonMaxSuppression '
             'only from 8.5 on; use a deploy_configs/keypoint-detection_tensorrt-pre8.5-* '
             'config (mmdeploy\'s NMS plugin)')
    if nms_op != 'onnx' and version >= (8, 5):
        print(f'tools/deploy.py: TensorRT {tensorrt.__version__} needs no plugin: the '
              'deploy_configs/keypoint-detection_tensorrt8.5+-* configs give an engine '
              'without mmdeploy\'s plugin library', file=sys.stderr)


def main():
    args = parse_args()
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    deploy_cfg = Config.fromfile(args.deploy_cfg) if osp.isfile(args.deploy_cfg) else None
    if deploy_cfg is None:
        fail(f'deploy_cfg {args.deploy_cfg!r}: no such file')
    from yolox_kpt.deploy.export import check_deploy_cfg, export_onnx, trtexec_command
    try:
        backend = check_deploy_cfg(deploy_cfg, args.deploy_cfg)
    except ValueError as e:
        fail(str(e))
    check_inputs(args, backend, deploy_cfg.codebase_config.get('nms_op', 'auto'))
    import yolox_kpt  # noqa: F401  (registers the model, applies yolox_kpt.compat)
    from yolox_kpt.apis.layout import resolve_layout
    from yolox_kpt.keypoint_layout import KeypointLayoutError
    from yolox_kpt.runtime.contract import SIDECAR_FILE

    logger = MMLogger.get_instance('yolox_kpt_deploy', log_level=args.log_level)
    model_cfg = Config.fromfile(args.model_cfg)
    try:
        layout = resolve_layout(model_cfg, args.checkpoint, args.model_cfg, args.checkpoint)
    except KeypointLayoutError as e:
        fail(str(e))
    # the same classes and slots; the checkpoint's also has the annotation file's skeletons,
    # which the pictures below then draw
    model_cfg.keypoint_layout = layout.to_config()
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'deploy', osp.splitext(osp.basename(args.model_cfg))[0],
        osp.splitext(osp.basename(args.deploy_cfg))[0])
    onnx_file = export_onnx(model_cfg, deploy_cfg, args.checkpoint, args.img, work_dir,
                            args.device if not args.onnx_only else 'cpu')
    logger.info(f'wrote {onnx_file} and {osp.join(work_dir, SIDECAR_FILE)}')

    backend_files = [onnx_file]
    if backend == 'tensorrt':
        engine = osp.join(work_dir, 'end2end.engine')
        command = trtexec_command(deploy_cfg, onnx_file, engine)
        with open(osp.join(work_dir, 'build_engine.sh'), 'w') as f:
            f.write('#!/bin/sh\n# Build the TensorRT engine on the target device.\n')
            if deploy_cfg.backend_config.get('common_config', {}).get('int8_mode'):
                f.write('# implicit int8 needs a calibration cache: add --calib=<cache file>;'
                        '\n# on TensorRT >= 8.5 build from the Q/DQ graph of '
                        'tools/misc/quantize_int8.py instead (docs/deploy.md)\n')
            f.write(command + '\n')
        if args.onnx_only or deploy_cfg.codebase_config.get('nms_op', 'auto') == 'onnx':
            # the plugin-free graph's engine is built where it runs, by trtexec: mmdeploy
            # 1.3.1's TensorRT builder does not run on TensorRT 10 (mmdeploy 2758).
            logger.info(f'build the engine with: {command} (also in '
                        f'{osp.join(work_dir, "build_engine.sh")})')
            return
        backend_files = build_tensorrt(args, deploy_cfg, model_cfg, onnx_file, work_dir)
    elif args.onnx_only:
        return

    if args.dump_info:
        from mmdeploy.backend.sdk.export_info import export2SDK
        export2SDK(deploy_cfg, model_cfg, work_dir, pth=args.checkpoint, device=args.device)
        logger.info(f'wrote mmdeploy SDK info to {work_dir}')
    from mmdeploy.apis import visualize_model
    from mmdeploy.utils import Backend
    for i, img in enumerate(args.test_img or [args.img]):
        for name, files, which in ((backend, backend_files, None),
                                   ('pytorch', [args.checkpoint], Backend.PYTORCH)):
            out = osp.join(work_dir, f'output_{name}_{i}.jpg')
            visualize_model(model_cfg, deploy_cfg, files, img, args.device, backend=which,
                            output_file=out, show_result=args.show)
            logger.info(f'wrote {out}')


def build_tensorrt(args, deploy_cfg, model_cfg, onnx_file, work_dir):
    """TensorRT 8.x engine through mmdeploy (int8: calibration data first)."""
    from mmdeploy.apis import create_calib_input_data
    from mmdeploy.apis.utils import to_backend
    from mmdeploy.utils import get_calib_filename

    calib = get_calib_filename(deploy_cfg)
    if calib is not None:
        create_calib_input_data(osp.join(work_dir, calib), deploy_cfg, model_cfg,
                                args.checkpoint, dataset_cfg=args.calib_dataset_cfg,
                                dataset_type='val', device=args.device)
    from mmdeploy.utils import Backend
    return to_backend(Backend.TENSORRT, [onnx_file], work_dir=work_dir,
                      deploy_cfg=deploy_cfg, device=args.device)


if __name__ == '__main__':
    main()
