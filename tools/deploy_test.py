"""Evaluate an exported model (ONNX Runtime / TensorRT) with the config's test evaluator.

The command line of mmdeploy's tools/test.py: the same CocoKptMetric numbers as
tools/test.py gives for the PyTorch checkpoint, and --out results.pkl in mmdet's format. A
config whose classes or keypoints differ from the exported model's is refused.

Examples:
    python tools/deploy_test.py \\
        deploy_configs/keypoint-detection_onnxruntime_dynamic.py CONFIG \\
        --model work_dirs/deploy/s-ort/end2end.onnx --out work_dirs/deploy/s-ort/results.pkl
    python tools/deploy_test.py \\
        deploy_configs/keypoint-detection_tensorrt-pre8.5-fp16_static-640x640.py CONFIG \\
        --model work_dirs/deploy/s-trt/end2end.engine --device cuda:0
"""
import os.path as osp
import sys

from yolox_kpt.utils.cli import tool_parser


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('deploy_cfg', help='deploy config the model was exported with')
    parser.add_argument('model_cfg', help='model config')
    parser.add_argument('--model', nargs='+', required=True, help='backend model file(s)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument('--out', help='dump predictions to this results.pkl')
    parser.add_argument('--work-dir', help='logs (default: work_dirs/deploy_test/<model cfg>)')
    parser.add_argument('--show-dir', help='draw predictions into this folder')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--cfg-options', nargs='+', default={},
                        help='override model config settings, key=value')
    return parser.parse_args()


def check_model_layout(model_cfg, cfg_name: str, model: str) -> None:
    """Refuse a config whose classes or keypoints differ from those the model was exported
    with (its runtime meta; a model exported without one is not checked)."""
    from yolox_kpt.apis.layout import check_layouts_match, config_layout
    from yolox_kpt.runtime import RuntimeMeta
    try:
        meta = RuntimeMeta.read(model)
    except FileNotFoundError:
        return
    check_layouts_match(config_layout(model_cfg, cfg_name), meta.layout, cfg_name, model)


def main():
    args = parse_args()
    from mmdet.evaluation import DumpDetResults
    from mmengine.config import Config

    import yolox_kpt  # noqa: F401
    from yolox_kpt.deploy.export import check_deploy_cfg

    for f in (args.deploy_cfg, args.model_cfg, *args.model):
        if not osp.isfile(f):
            sys.exit(f'tools/deploy_test.py: {f!r}: no such file')
    deploy_cfg, model_cfg = Config.fromfile(args.deploy_cfg), Config.fromfile(args.model_cfg)
    if args.cfg_options:
        model_cfg.merge_from_dict(dict(o.split('=', 1) for o in args.cfg_options))
    try:
        check_deploy_cfg(deploy_cfg, args.deploy_cfg)
        check_model_layout(model_cfg, args.model_cfg, args.model[0])
    except ValueError as e:
        sys.exit(f'tools/deploy_test.py: {e}')
    from mmdeploy.apis import build_task_processor
    from mmdeploy.utils import get_input_shape

    from yolox_kpt.deploy.keypoint_detection import static_model_config

    work_dir = args.work_dir or osp.join('work_dirs', 'deploy_test',
                                         osp.splitext(osp.basename(args.model_cfg))[0])
    if get_input_shape(deploy_cfg) is not None:
        # a static export letterboxes to its input shape, as it was exported
        model_cfg = static_model_config(model_cfg, get_input_shape(deploy_cfg))
    model_cfg.test_dataloader.batch_size = args.batch_size
    task_processor = build_task_processor(model_cfg, deploy_cfg, args.device)
    model = task_processor.build_backend_model(
        args.model, data_preprocessor_updater=task_processor.update_data_preprocessor)
    runner = task_processor.build_test_runner(
        model, work_dir, log_file=None, show=False, show_dir=args.show_dir,
        dataloader=model_cfg.test_dataloader)
    if args.out:
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out:
        print(f'predictions written to {args.out}')
    return metrics


if __name__ == '__main__':
    main()
