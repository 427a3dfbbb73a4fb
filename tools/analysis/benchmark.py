"""What keypoints cost: YOLOX with keypoints against stock YOLOX (and a peer), in one run.

Parts (all on this machine's CPU, medians of --repeat runs after --warmup, ratios taken in
the same run):
  model       parameters, GFLOPs (2 x multiply-adds, as Ultralytics reports), PyTorch and
              ONNX Runtime latency of the network alone, for stock / keypoint / light
  train       one training step (forward + loss + backward + SGD step), same batch; with
              --train-precisions also under bfloat16 autocast (CPUAutocastOptimWrapper)
              and/or with channels-last weights (ChannelsLastHook)
  pipeline    the full YOLOX training pipeline (Mosaic, RandomAffine, MixUp, HSV, flip,
              resize, pad) with keypoints against the stock one without, images/s
  postprocess predict_by_feat (decode, threshold, NMS, rescale) per image, same candidates
  memory      peak resident memory of a training step and of inference, fresh processes
  peer        Ultralytics YOLO11-pose built from its yaml, model only on ONNX Runtime
              (needs a Python with ultralytics: --peer-python; skipped otherwise)
Variants: stock (mmdet YOLOXHead), kpt (YOLOXKptHead as configured: its own keypoint stack,
one 3x3 conv for tiny/s, two depthwise-separable for nano), kpt2 (two convs, MMPose's
YOLOX-Pose), kpt2-dw (two depthwise-separable convs), light (kpt_feat='reg': no stack).
Variants are timed in turns (stock, kpt, ..., stock, kpt, ...) so that the machine's drift
hits all of them alike.
Layout: the synthetic driving set's (4 classes, 6 keypoints) or COCO person (1 class, 17
keypoints). Prints tables, the target checks for s at 640, and
writes JSON.

Examples:
    python tools/analysis/benchmark.py                                   # everything
    python tools/analysis/benchmark.py --parts model --sizes s --inputs 640
    python tools/analysis/benchmark.py --peer-python /path/to/venv/bin/python
    python tools/analysis/benchmark.py --parts train --sizes tiny --variants kpt \
        --layout driving --batch-size 8 --train-input 320 \
        --train-precisions fp32 fp32-cl bf16 bf16-cl
"""
import argparse
import copy
import json
import os.path as osp
import subprocess
import sys
import tempfile

from yolox_kpt.utils.cli import median_seconds_interleaved, tool_parser
from yolox_kpt.utils.records import write_record

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {s: osp.join(REPO, 'configs', 'yolox-kpt',
                       f'yolox-kpt_{s}_8xb8-300e_synthetic-driving.py')
           for s in ('nano', 'tiny', 's')}
VARIANTS = ('stock', 'kpt', 'kpt2', 'kpt2-dw', 'light')
PARTS = ('model', 'train', 'pipeline', 'postprocess', 'memory', 'peer')
#: training-step modes: float32 or bfloat16 autocast, contiguous or channels-last weights
PRECISIONS = ('fp32', 'fp32-cl', 'bf16', 'bf16-cl')
TARGETS = dict(flops=1.10, pytorch_ms=1.10, onnxruntime_ms=1.10, train_step=1.15,
               pipeline=0.90, postprocess=1.10, train_peak_rss=1.10)


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('--parts', nargs='+', default=list(PARTS), choices=PARTS)
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument('--sizes', nargs='+', default=['nano', 'tiny', 's'],
                        choices=sorted(CONFIGS))
    parser.add_argument('--inputs', nargs='+', type=int, default=[416, 640])
    parser.add_argument('--layout', choices=['driving', 'person'], default='person',
                        help='keypoint layout of the models (default: COCO person, 17 points)')
    parser.add_argument('--batch-size', type=int, default=4, help='training-step batch')
    parser.add_argument('--train-input', type=int, default=640)
    parser.add_argument('--train-precisions', nargs='+', default=['fp32'], choices=PRECISIONS,
                        help='training-step modes to time (target checks use fp32)')
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--pipeline-images', type=int, default=60)
    parser.add_argument('--peer-python', help='a Python with ultralytics, onnx, onnxruntime')
    parser.add_argument('--peer-model', default='yolo11s-pose.yaml')
    parser.add_argument('--out', default='work_dirs/benchmarks/benchmark.json',
                        help='JSON record: results, target checks, arguments, and the '
                        'command, date, machine and load average (docs/benchmarks.md)')
    parser.add_argument('--memory-child', nargs=4, metavar=('SIZE', 'VARIANT', 'MODE', 'S'),
                        help=argparse.SUPPRESS)  # internal: one memory measurement
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- models
def model_cfg(size: str, variant: str, layout: str):
    """The synthetic-driving config of ``size`` as stock / kpt / light, at a fixed input
    size (no multi-scale batches), with ``layout``'s classes and keypoints."""
    from mmengine.config import Config

    from yolox_kpt.keypoint_layout import COCO_PERSON_KEYPOINTS
    cfg = Config.fromfile(CONFIGS[size])
    cfg.model.data_preprocessor.batch_augments = None
    head = cfg.model.bbox_head
    if layout == 'person':
        head.keypoint_layout = dict(classes=['person'],
                                    keypoints=dict(person=list(COCO_PERSON_KEYPOINTS)))
        head.num_classes = 1
    if variant == 'stock':
        for key in [k for k in head if k.startswith(('keypoint', 'kpt', 'loss_kpt'))]:
            head.pop(key)
        head.type = 'YOLOXHead'
    elif variant == 'kpt2':
        head.kpt_stacked_convs = 2
    elif variant == 'kpt2-dw':
        head.kpt_stacked_convs = 2
        head.kpt_use_depthwise = True
    elif variant == 'light':
        head.kpt_feat = 'reg'
    return cfg


def build_model(size, variant, layout, seed=0):
    import torch
    from mmdet.registry import MODELS
    torch.manual_seed(seed)
    return MODELS.build(model_cfg(size, variant, layout).model)


def samples(side, batch=1, with_gt=False, num_kpts=17, seed=0):
    """Data samples for a ``side`` x ``side`` batch; with random ground truth when asked."""
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batch):
        meta = dict(img_shape=(side, side), ori_shape=(side, side), scale_factor=(1.0, 1.0),
                    pad_shape=(side, side), batch_input_shape=(side, side))
        s = DetDataSample(metainfo=meta)
        if with_gt:
            n = 8
            xy = torch.rand(n, 2, generator=g) * side * 0.7
            wh = torch.rand(n, 2, generator=g) * side * 0.25 + 16
            boxes = torch.cat([xy, xy + wh], 1)
            kpts = xy[:, None] + torch.rand(n, num_kpts, 2, generator=g) * wh[:, None]
            s.gt_instances = InstanceData(bboxes=boxes, labels=torch.zeros(n).long(),
                                          keypoints=kpts,
                                          keypoints_visible=torch.full((n, num_kpts), 2.))
        out.append(s)
    return out


def flops_and_params(model, side):
    import torch
    from mmengine.analysis import get_model_complexity_info
    info = get_model_complexity_info(model, inputs=(torch.rand(1, 3, side, side),),
                                     show_table=False, show_arch=False)
    # mmengine counts a multiply-add as one flop; Ultralytics (thop) as two
    return 2 * info['flops'] / 1e9, info['params'] / 1e6


def export_model_only(model, side, path):
    """The network alone (no decode/NMS): raw head outputs, as the peer is measured."""
    import torch

    from yolox_kpt.compat import torchscript_onnx_export

    class Net(torch.nn.Module):
        def __init__(self, detector):
            super().__init__()
            self.detector = detector

        def forward(self, x):
            outs = self.detector(x, mode='tensor')
            return tuple(t for level in outs for t in level)

    with torchscript_onnx_export(), torch.no_grad():
        torch.onnx.export(Net(model).eval(), torch.rand(1, 3, side, side), path,
                          opset_version=11, input_names=['input'])
    return path


def part_model(args, tmp):
    import onnxruntime as ort
    import torch
    rows = []
    for size in args.sizes:
        models = {v: build_model(size, v, args.layout).eval() for v in args.variants}
        for side in args.inputs:
            x = torch.rand(1, 3, side, side) * 255
            feed = {'input': x.numpy()}
            torch_runs, ort_runs, costs = {}, {}, {}
            for variant, model in models.items():
                costs[variant] = flops_and_params(model, side)

                def run_torch(model=model):
                    with torch.no_grad():
                        model(x, mode='tensor')

                torch_runs[variant] = run_torch
                onnx_file = export_model_only(model, side,
                                              osp.join(tmp, f'model_{variant}.onnx'))
                # Each session has its own thread pool, whose threads spin after a run:
                # timed in turns, one session's spinning threads would slow the next.
                opts = ort.SessionOptions()
                opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
                sess = ort.InferenceSession(onnx_file, opts,
                                            providers=['CPUExecutionProvider'])
                ort_runs[variant] = lambda sess=sess: sess.run(None, feed)
            t_pt = median_seconds_interleaved(torch_runs, args.repeat, args.warmup)
            t_ort = median_seconds_interleaved(ort_runs, args.repeat, args.warmup)
            for variant in models:
                gflops, mparams = costs[variant]
                rows.append(dict(size=size, variant=variant, input=side, gflops=gflops,
                                 mparams=mparams, pytorch_ms=t_pt[variant] * 1e3,
                                 onnxruntime_ms=t_ort[variant] * 1e3))
                print(f'  model {size} {variant} {side}: {gflops:.2f} GFLOPs, PyTorch '
                      f'{t_pt[variant] * 1e3:.1f} ms, ORT {t_ort[variant] * 1e3:.1f} ms',
                      flush=True)
    return rows


def train_step(model, side, batch, layout_kpts, precision='fp32'):
    """A closure running one SGD training step on a fixed random batch; ``precision``
    (one of ``PRECISIONS``) picks bfloat16 autocast and channels-last weights, through the
    same optimizer wrapper and hook the recipes use."""
    from types import SimpleNamespace

    import torch
    from mmdet.registry import HOOKS, OPTIM_WRAPPERS
    model.train()
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='CPUAutocastOptimWrapper' if precision.startswith('bf16') else 'OptimWrapper',
        optimizer=torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)))
    if precision.endswith('-cl'):
        HOOKS.build(dict(type='ChannelsLastHook')).before_run(SimpleNamespace(model=model))
    x = torch.rand(batch, 3, side, side) * 255
    data_samples = samples(side, batch, with_gt=True, num_kpts=layout_kpts)

    def step():
        with wrapper.optim_context(model):
            losses = model.loss(x, data_samples)
        wrapper.update_params(sum(v for k, v in losses.items() if 'loss' in k))
    return step


def part_train(args):
    rows = []
    kpts = 17 if args.layout == 'person' else 6
    for size in args.sizes:
        steps = {(v, p): train_step(build_model(size, v, args.layout), args.train_input,
                                    args.batch_size, kpts, p)
                 for v in args.variants for p in args.train_precisions}
        times = median_seconds_interleaved(steps, max(args.repeat // 2, 1), args.warmup)
        for (variant, precision), t in times.items():
            rows.append(dict(size=size, variant=variant, precision=precision,
                             input=args.train_input, batch=args.batch_size, step_s=t))
            print(f'  train {size} {variant} {precision}: {t:.3f} s/step', flush=True)
    return rows


def part_pipeline(args, tmp):
    """Images/s of the s config's full training pipeline, with keypoints vs stock."""
    from mmdet.registry import DATASETS
    from mmengine.config import Config

    from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving
    root = osp.join(tmp, 'data')
    generate_synthetic_driving(root, num_train=args.pipeline_images, num_val=1, seed=0)
    cfg = Config.fromfile(CONFIGS['s'])
    ours = copy.deepcopy(cfg.train_dataloader.dataset)
    ours.dataset.data_root = root + '/'
    stock = copy.deepcopy(ours)
    stock.dataset.type = 'CocoDataset'
    stock.dataset.metainfo = dict(classes=tuple(cfg.keypoint_layout['classes']))
    for key in ('keypoint_layout', 'sigmas', 'flip_pairs', 'check_images'):
        stock.dataset.pop(key, None)
    stock.dataset.pipeline = [dict(type='LoadImageFromFile'),
                              dict(type='LoadAnnotations', with_bbox=True)]
    stock.pipeline = [dict(t, type='PackDetInputs') if t['type'] == 'PackKptDetInputs' else t
                      for t in stock.pipeline]
    runs = {}
    for variant, dcfg in (('stock', stock), ('kpt', ours)):
        dataset = DATASETS.build(dcfg)
        state = dict(i=0)

        def ten_images(dataset=dataset, state=state):
            for _ in range(10):
                dataset[state['i'] % len(dataset)]
                state['i'] += 1

        runs[variant] = ten_images
    times = median_seconds_interleaved(runs, max(args.repeat, 3), args.warmup)
    rows = []
    for variant, t in times.items():
        rows.append(dict(variant=variant, images_per_s=10 / t))
        print(f'  pipeline {variant}: {10 / t:.1f} images/s', flush=True)
    return rows


def part_postprocess(args, candidates=1000):
    """predict_by_feat per image on the same head outputs (stock and keypoint heads share
    all non-keypoint weights), with ``candidates`` priors above the score threshold, about
    what a trained model gives at YOLOX's score_thr=0.01."""
    import torch
    rows = []
    side = max(args.inputs)
    for size in args.sizes:
        kpt = build_model(size, 'kpt', args.layout).eval()
        stock = build_model(size, 'stock', args.layout).eval()
        stock.load_state_dict(kpt.state_dict(), strict=False)
        with torch.no_grad():
            feats = kpt.extract_feat(torch.rand(1, 3, side, side) * 255)
            kpt_out = list(kpt.bbox_head(feats))
        g = torch.Generator().manual_seed(0)
        objectness = []
        for level in kpt_out[2]:
            logits = torch.full_like(level, -10.0).flatten()
            logits[torch.randperm(logits.numel(), generator=g)[:candidates // 3]] = 3.0
            objectness.append(logits.view_as(level))
        kpt_out[2] = objectness
        stock_out = kpt_out[:3]
        metas = [s.metainfo for s in samples(side)]
        runs, dets = {}, {}
        for variant, head, outs in (('stock', stock.bbox_head, stock_out),
                                    ('kpt', kpt.bbox_head, kpt_out)):
            def run(variant=variant, head=head, outs=outs):
                with torch.no_grad():
                    dets[variant] = len(head.predict_by_feat(
                        *outs, batch_img_metas=metas, rescale=True)[0])
            runs[variant] = run
        times = median_seconds_interleaved(runs, args.repeat * 2, args.warmup)
        for variant, t in times.items():
            rows.append(dict(size=size, variant=variant, input=side, ms=t * 1e3,
                             candidates=candidates, detections=dets[variant]))
            print(f'  postprocess {size} {variant}: {t * 1e3:.2f} ms, {dets[variant]} dets',
                  flush=True)
    return rows


def memory_child(size, variant, mode, side, layout, batch):
    """Run in a fresh process: peak RSS (MiB) of a training step or of inference."""
    import torch
    from mmengine.registry import init_default_scope

    import yolox_kpt  # noqa: F401
    init_default_scope('mmdet')
    model = build_model(size, variant, layout)
    if mode == 'train':
        step = train_step(model, side, batch, 17 if layout == 'person' else 6)
        for _ in range(3):
            step()
    else:
        model.eval()
        x = torch.rand(1, 3, side, side) * 255
        with torch.no_grad():
            for _ in range(3):
                model.predict(x, samples(side))
    return peak_rss_mib()


def peak_rss_mib() -> float:
    """This process's resident-memory high-water mark (Linux VmHWM). Not ru_maxrss: that
    one survives exec, so a fresh child would report its parent's peak."""
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith('VmHWM')) / 1024


def part_memory(args):
    rows = []
    size = 's' if 's' in args.sizes else args.sizes[-1]
    for mode, side in (('train', args.train_input), ('inference', max(args.inputs))):
        for variant in args.variants:
            out = subprocess.run(
                [sys.executable, __file__, '--layout', args.layout, '--batch-size',
                 str(args.batch_size), '--memory-child', size, variant, mode, str(side)],
                capture_output=True, text=True, timeout=1200)
            if out.returncode != 0:
                raise RuntimeError(out.stderr[-2000:])
            mib = float(out.stdout.strip().splitlines()[-1])
            rows.append(dict(size=size, variant=variant, mode=mode, input=side,
                             peak_rss_mib=mib))
            print(f'  memory {size} {variant} {mode}: {mib:.0f} MiB', flush=True)
    return rows


PEER_SCRIPT = r'''
import json, statistics, sys, time, torch, onnxruntime as ort
from ultralytics.nn.tasks import PoseModel
from ultralytics.utils.torch_utils import get_flops
name, path = sys.argv[1], sys.argv[5]
side, repeat, warmup = (int(a) for a in sys.argv[2:5])
model = PoseModel(name, verbose=False).eval()
gflops = get_flops(model, side)
params = sum(p.numel() for p in model.parameters()) / 1e6
x = torch.rand(1, 3, side, side)
with torch.no_grad():
    torch.onnx.export(model, x, path, opset_version=12, input_names=['input'], dynamo=False)
opts = ort.SessionOptions()  # as our models are timed: threads do not spin between runs
opts.add_session_config_entry('session.intra_op.allow_spinning', '0')
sess = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
feed = {'input': x.numpy()}
for _ in range(warmup):
    sess.run(None, feed)
times = []
for _ in range(repeat):
    t = time.perf_counter(); sess.run(None, feed); times.append(time.perf_counter() - t)
print(json.dumps(dict(model=name, input=side, gflops=gflops, mparams=params,
                      onnxruntime_ms=statistics.median(times) * 1e3)))
'''


def part_peer(args, tmp):
    if not args.peer_python:
        print('  peer: skipped (give --peer-python, a Python with ultralytics onnxruntime)')
        return []
    rows = []
    for side in args.inputs:
        out = subprocess.run([args.peer_python, '-c', PEER_SCRIPT, args.peer_model, str(side),
                              str(args.repeat), str(args.warmup), osp.join(tmp, 'peer.onnx')],
                             capture_output=True, text=True, timeout=1200)
        if out.returncode != 0:
            print(f'  peer: failed: {out.stderr[-1500:]}')
            return rows
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row['ms_per_gflop'] = row['onnxruntime_ms'] / row['gflops']
        rows.append(row)
        print(f"  peer {row['model']} {side}: {row['gflops']:.1f} GFLOPs, ORT "
              f"{row['onnxruntime_ms']:.1f} ms", flush=True)
    return rows


# ------------------------------------------------------------------------------ report
def ratio(rows, key, match, base='stock', variant='kpt'):
    pick = {r['variant']: r[key] for r in rows if all(r.get(k) == v for k, v in match.items())}
    return pick[variant] / pick[base] if base in pick and variant in pick else None


def report(args, results):
    print('\n== model (network alone) ==')
    print(f'{"size":<5}{"variant":<8}{"input":>6}{"GFLOPs":>9}{"Mparams":>9}{"PyTorch ms":>12}'
          f'{"ORT ms":>9}{"ms/GFLOP ORT":>14}')
    for r in results.get('model', []):
        print(f"{r['size']:<5}{r['variant']:<8}{r['input']:>6}{r['gflops']:>9.2f}"
              f"{r['mparams']:>9.2f}{r['pytorch_ms']:>12.1f}{r['onnxruntime_ms']:>9.1f}"
              f"{r['onnxruntime_ms'] / r['gflops']:>14.2f}")
    for r in results.get('peer', []):
        print(f"{'peer':<5}{r['model'][:12]:<8}{r['input']:>6}{r['gflops']:>9.2f}"
              f"{r['mparams']:>9.2f}{'':>12}{r['onnxruntime_ms']:>9.1f}"
              f"{r['ms_per_gflop']:>14.2f}")
    for part, key, unit in (('train', 'step_s', 's/step'), ('postprocess', 'ms', 'ms/image'),
                            ('pipeline', 'images_per_s', 'images/s'),
                            ('memory', 'peak_rss_mib', 'MiB peak RSS')):
        if results.get(part):
            print(f'\n== {part} ({unit}) ==')
            for r in results[part]:
                label = ' '.join(str(r[k]) for k in ('size', 'mode', 'variant', 'precision')
                                 if k in r)
                print(f'{label:<28}{r[key]:>10.3f}')
    fp32 = {(r['size'], r['variant']): r['step_s'] for r in results.get('train', [])
            if r['precision'] == 'fp32'}
    for r in results.get('train', []):
        if r['precision'] != 'fp32' and (r['size'], r['variant']) in fp32:
            print(f"training step {r['size']} {r['variant']} {r['precision']}: "
                  f"{r['step_s'] / fp32[(r['size'], r['variant'])]:.3f} x fp32")
    side = 640 if 640 in args.inputs else max(args.inputs)
    checks = []
    at_side = dict(size='s', input=side)
    for name, part, key, match, target, variants in (
            ('FLOPs', 'model', 'gflops', at_side, 'flops', ('kpt', 'kpt2', 'kpt2-dw', 'light')),
            ('PyTorch latency', 'model', 'pytorch_ms', at_side, 'pytorch_ms',
             ('kpt', 'kpt2', 'kpt2-dw', 'light')),
            ('ONNX Runtime latency', 'model', 'onnxruntime_ms', at_side, 'onnxruntime_ms',
             ('kpt', 'kpt2', 'kpt2-dw', 'light')),
            ('training step', 'train', 'step_s', dict(size='s', precision='fp32'), 'train_step',
             ('kpt', 'kpt2', 'kpt2-dw', 'light')),
            ('pipeline throughput', 'pipeline', 'images_per_s', {}, 'pipeline', ('kpt', )),
            ('post-processing', 'postprocess', 'ms', dict(size='s'), 'postprocess', ('kpt', )),
            ('peak training memory', 'memory', 'peak_rss_mib', dict(mode='train'),
             'train_peak_rss', ('kpt', 'kpt2', 'kpt2-dw', 'light'))):
        for v in variants:
            r = ratio(results.get(part, []), key, match, variant=v)
            if r is None:
                continue
            ok = r >= TARGETS[target] if key == 'images_per_s' else r <= TARGETS[target]
            checks.append(dict(what=name, variant=v, ratio=r, target=TARGETS[target], met=ok))
    if checks:
        print(f'\n== targets, s at {side}: {args.layout} layout, ratio to stock YOLOX ==')
        for c in checks:
            sign = '>=' if c['what'] == 'pipeline throughput' else '<='
            print(f"{c['what']:<24}{c['variant']:<7}{c['ratio']:>7.3f}  (target {sign} "
                  f"{c['target']:.2f})  {'met' if c['met'] else 'MISSED'}")
    return checks


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        size, variant, mode, side = args.memory_child
        print(memory_child(size, variant, mode, int(side), args.layout, args.batch_size))
        return
    import onnxruntime  # noqa: F401  (fail early when the deploy extra is missing)
    import torch  # noqa: F401

    import yolox_kpt  # noqa: F401
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.parts:
            print(f'[{part}]', flush=True)
            if part == 'model':
                results['model'] = part_model(args, tmp)
            elif part == 'train':
                results['train'] = part_train(args)
            elif part == 'pipeline':
                results['pipeline'] = part_pipeline(args, tmp)
            elif part == 'postprocess':
                results['postprocess'] = part_postprocess(args)
            elif part == 'memory':
                results['memory'] = part_memory(args)
            elif part == 'peer':
                results['peer'] = part_peer(args, tmp)
    checks = report(args, results)
    # the record's machine block holds the torch / onnxruntime versions and torch's threads
    write_record(args.out, dict(results=results, checks=checks, args=vars(args)))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
