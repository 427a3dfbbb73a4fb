"""CPU latency of the exported model on ONNX Runtime against PyTorch, same input.

For each model size and input size: export the ONNX Runtime dynamic graph once (random
weights), then time the network with its post-processing (NMS included) on one
preprocessed 1x3xSxS input: PyTorch ``model.predict`` vs an ONNX Runtime session. Medians of
``--repeat`` runs after ``--warmup``. Prints a table, writes JSON.

Examples:
    python tools/analysis/benchmark_export.py
    python tools/analysis/benchmark_export.py --sizes nano --inputs 416 --repeat 5
"""
import os.path as osp
import tempfile

from yolox_kpt.utils.cli import median_seconds, tool_parser
from yolox_kpt.utils.records import write_record

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {
    'nano': 'yolox-kpt_nano_8xb8-300e_synthetic-driving.py',
    'tiny': 'yolox-kpt_tiny_8xb8-300e_synthetic-driving.py',
    's': 'yolox-kpt_s_8xb8-300e_synthetic-driving.py',
}


def parse_args():
    parser = tool_parser(__doc__)
    parser.add_argument('--sizes', nargs='+', default=['nano', 'tiny', 's'],
                        choices=sorted(CONFIGS))
    parser.add_argument('--inputs', nargs='+', type=int, default=[416, 640])
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--out', default='work_dirs/benchmarks/export_latency.json')
    return parser.parse_args()


def main():
    args = parse_args()
    import numpy as np
    import onnxruntime as ort
    import torch
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config

    import yolox_kpt  # noqa: F401
    from yolox_kpt.deploy.export import export_onnx

    deploy_cfg = osp.join(REPO, 'deploy_configs', 'keypoint-detection_onnxruntime_dynamic.py')
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        img = osp.join(tmp, 'trace.jpg')
        import cv2
        cv2.imwrite(img, np.full((256, 320, 3), 114, np.uint8))
        for size in args.sizes:
            cfg = Config.fromfile(osp.join(REPO, 'configs', 'yolox-kpt', CONFIGS[size]))
            torch.manual_seed(0)
            model = MODELS.build(cfg.model).eval()
            ckpt = osp.join(tmp, f'{size}.pth')
            torch.save({'state_dict': model.state_dict()}, ckpt)
            onnx_file = export_onnx(cfg, deploy_cfg, ckpt, img, osp.join(tmp, size))
            session = ort.InferenceSession(onnx_file, providers=['CPUExecutionProvider'])
            for side in args.inputs:
                x = torch.rand(1, 3, side, side) * 255
                meta = dict(img_shape=(side, side), ori_shape=(side, side),
                            scale_factor=(1.0, 1.0), pad_shape=(side, side),
                            batch_input_shape=(side, side))
                samples = [DetDataSample(metainfo=meta)]

                def run_torch():
                    with torch.no_grad():
                        model.predict(x, samples, rescale=False)

                feed = {'input': x.numpy()}
                t_pt, _ = median_seconds(run_torch, args.repeat, args.warmup)
                t_ort, _ = median_seconds(lambda: session.run(None, feed), args.repeat,
                                           args.warmup)
                rows.append(dict(model=size, input=side, pytorch_ms=t_pt * 1e3,
                                 onnxruntime_ms=t_ort * 1e3, ratio=t_ort / t_pt))
                print(f'{size:>5} {side}: PyTorch {t_pt * 1e3:.1f} ms, ONNX Runtime '
                      f'{t_ort * 1e3:.1f} ms', flush=True)
    header = f'{"model":<7}{"input":>7}{"PyTorch ms":>12}{"ORT ms":>10}{"ORT/PyTorch":>13}'
    print('\n' + header + '\n' + '-' * len(header))
    for r in rows:
        print(f"{r['model']:<7}{r['input']:>7}{r['pytorch_ms']:>12.1f}"
              f"{r['onnxruntime_ms']:>10.1f}{r['ratio']:>13.2f}")
    write_record(args.out, dict(rows=rows, repeat=args.repeat, warmup=args.warmup,
                                torch_threads=torch.get_num_threads()))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
