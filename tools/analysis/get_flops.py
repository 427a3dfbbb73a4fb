"""Parameters and FLOPs of a config's model, and what the keypoint branch adds.

GFLOPs are given as mmengine counts them (one multiply-add = one FLOP, mmdet's convention)
and doubled (Ultralytics' convention), for the network only (no NMS), at --shape.

Examples:
    python tools/analysis/get_flops.py configs/yolox-kpt/yolox-kpt_s_8xb8-300e_coco-person.py
    python tools/analysis/get_flops.py CONFIG --shape 416 416 --out work_dirs/flops.json
    python tools/analysis/get_flops.py CONFIG_A CONFIG_B --out docs/records/flops.json
"""
import os.path as osp

from yolox_kpt.utils.cli import tool_parser
from yolox_kpt.utils.records import write_record


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('config', nargs='+', help='one or more configs, one row each')
    parser.add_argument('--shape', type=int, nargs=2, default=[640, 640],
                        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument('--out', help='also write the numbers as a JSON record '
                        '({"models": [one entry per config], "source": command, date, machine})')
    return parser.parse_args(argv)


def complexity(config: str, width: int, height: int) -> dict:
    """Parameters and multiply-adds, total and by part (backbone, neck, head, keypoints)."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.analysis import FlopAnalyzer, parameter_count
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import yolox_kpt  # noqa: F401
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model).eval()
    analyzer = FlopAnalyzer(model, (torch.rand(1, 3, height, width), ))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_module = analyzer.by_module()
    params = parameter_count(model)
    kpt_names = [n for n, _ in model.bbox_head.named_children() if 'kpt' in n]
    kpt_flops = sum(by_module.get(f'bbox_head.{n}', 0) for n in kpt_names)
    kpt_params = sum(params.get(f'bbox_head.{n}', 0) for n in kpt_names)
    parts = {p: dict(params=params.get(p, 0), flops=by_module.get(p, 0))
             for p in ('backbone', 'neck', 'bbox_head')}
    parts['keypoint_branch'] = dict(params=kpt_params, flops=kpt_flops)
    total = by_module['']
    return dict(config=config, input=[width, height], params=params[''], flops=total,
                parts=parts, keypoint_share_of_flops=kpt_flops / total,
                keypoint_overhead_vs_detector=kpt_flops / (total - kpt_flops))


def main(argv=None):
    args = parse_args(argv)
    models = []
    for config in args.config:
        info = complexity(config, *args.shape)
        models.append(info)
        print(f"{osp.basename(config)} at {args.shape[0]}x{args.shape[1]}")
        print(f"{'part':<17}{'Mparams':>10}{'GFLOPs (mmdet)':>16}{'GFLOPs (x2)':>13}")
        for name, part in [('total', dict(params=info['params'], flops=info['flops'])),
                           *info['parts'].items()]:
            print(f"{name:<17}{part['params'] / 1e6:>10.3f}{part['flops'] / 1e9:>16.3f}"
                  f"{2 * part['flops'] / 1e9:>13.3f}")
        print(f"keypoint branch: {100 * info['keypoint_overhead_vs_detector']:.1f}% over the "
              f"detector without it")
    if args.out:
        print(f"written to {write_record(args.out, dict(models=models))}")


if __name__ == '__main__':
    main()
