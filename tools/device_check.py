"""One command on the device: build the TensorRT engine, evaluate it, compare it.

On a machine with TensorRT (a Jetson with JetPack 5.1+/6, or a GPU server), from an exported
ONNX file (tools/deploy.py --onnx-only with a tensorrt8.5+ config, or its int8 Q/DQ copy from
tools/misc/quantize_int8.py):

1. builds the engine with trtexec (--precision fp16: --fp16; int8: --int8 --fp16 on a Q/DQ
   graph, whose scales are in the graph: no calibration cache; fp32: neither), and prints
   the line first;
2. runs the val split through the runtime (yolox_kpt.runtime.KeypointDetector, the engine's
   own preprocessing from yolox_kpt_runtime.json beside it) and prints box AP, keypoint AP per
   class and latency percentiles (tools/analysis/eval_exported.py's code);
3. compares the engine's detections with ONNX Runtime's on the same ONNX file (parity),
   where onnxruntime is installed (--no-parity skips it: ONNX Runtime on a Jetson's CPU takes
   about a second a frame at 640).

Needs the runtime-only install (no torch, mmcv or mmdet): numpy, opencv, tensorrt (JetPack's
python3-libnvinfer), cuda-python, pycocotools for the AP. Writes the report JSON to
--out (default work_dirs/device_check/<onnx name>_<precision>.json). Without TensorRT,
--dry-run prints the trtexec line, and --backend onnxruntime evaluates the ONNX file alone
(the CPU half of the check, which is what the tests run).

Examples:
    # Jetson, fp16 engine from the 640x384 export; the val split copied to the device
    python tools/device_check.py work_dirs/deploy/jetson/end2end.onnx \\
        --ann-file val/annotations.json --img-dir val/images --precision fp16
    # int8 from the Q/DQ graph
    python tools/device_check.py work_dirs/deploy/jetson/end2end_int8.onnx \\
        --ann-file val/annotations.json --img-dir val/images --precision int8
    # anywhere: the trtexec line only
    python tools/device_check.py end2end.onnx --ann-file val.json --img-dir images \\
        --dry-run
"""
import importlib.util
import os.path as osp
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), 'analysis'))
import eval_exported  # noqa: E402  (tools/analysis/eval_exported.py)

from yolox_kpt.utils.cli import tool_parser  # noqa: E402

PRECISIONS = ('fp16', 'int8', 'fp32')


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('onnx', help='exported end2end.onnx (fp32, or an int8 Q/DQ graph)')
    parser.add_argument('--ann-file', required=True, help='COCO keypoint JSON (val split)')
    parser.add_argument('--img-dir', required=True, help='folder of its file_names')
    parser.add_argument('--precision', choices=PRECISIONS, default='fp16')
    parser.add_argument('--engine', help='engine file (default: <onnx name>_<precision>'
                        '.engine beside it)')
    parser.add_argument('--rebuild', action='store_true',
                        help='build the engine even if the file exists')
    parser.add_argument('--trtexec', default=None,
                        help='trtexec binary (default: on PATH, else /usr/src/tensorrt/bin)')
    parser.add_argument('--shapes', nargs=3, metavar=('MIN', 'OPT', 'MAX'),
                        help='input shapes NxCxHxW of a dynamic graph (default '
                        '1x3x320x320 1x3x640x640 1x3x1344x1344)')
    parser.add_argument('--backend', choices=('tensorrt', 'onnxruntime'), default='tensorrt',
                        help='onnxruntime: evaluate the ONNX file only (no engine)')
    parser.add_argument('--device', default='cuda:0', help='CUDA device of the engine')
    parser.add_argument('--no-parity', action='store_true',
                        help='skip the ONNX Runtime comparison')
    parser.add_argument('--dry-run', action='store_true', help='print the trtexec line only')
    parser.add_argument('--warmup', type=int, default=20)
    parser.add_argument('--max-images', type=int, default=0, help='first N images (0: all)')
    parser.add_argument('--out', help='report JSON (default work_dirs/device_check/...)')
    parser.add_argument('--record', help='also write a measurement record')
    return parser.parse_args(argv)


def is_qdq(onnx_file: str) -> bool:
    """Whether the graph holds QuantizeLinear nodes (explicit int8), read with onnx when
    installed (else assumed from the precision asked for)."""
    if importlib.util.find_spec('onnx') is None:
        return True
    import onnx
    graph = onnx.load(onnx_file, load_external_data=False).graph
    return any(n.op_type == 'QuantizeLinear' for n in graph.node)


def engine_command(args, engine: str) -> str:
    """The trtexec line for ``args`` (yolox_kpt.runtime.backends.trtexec_command)."""
    from yolox_kpt.runtime import RuntimeMeta
    from yolox_kpt.runtime.backends import DYNAMIC_SHAPES, trtexec_command
    meta = RuntimeMeta.read(args.onnx)
    shapes = None
    if meta.static_input_shape is None:
        shapes = (tuple(tuple(int(v) for v in s.split('x')) for s in args.shapes)
                  if args.shapes else DYNAMIC_SHAPES)
    command = trtexec_command(args.onnx, engine, shapes,
                              fp16=args.precision in ('fp16', 'int8'),
                              int8=args.precision == 'int8')
    return command.replace('trtexec', shlex.quote(find_trtexec(args.trtexec)), 1)


def find_trtexec(given=None) -> str:
    """``given``, else trtexec on PATH, else JetPack's /usr/src/tensorrt/bin/trtexec, else
    the bare name (a dry run still prints a usable line)."""
    if given:
        return given
    for candidate in (shutil.which('trtexec'), '/usr/src/tensorrt/bin/trtexec'):
        if candidate and osp.isfile(candidate):
            return candidate
    return 'trtexec'


def build_engine(command: str, engine: str) -> None:
    """Run trtexec; its log is kept beside the engine (``.log``)."""
    log = osp.splitext(engine)[0] + '.trtexec.log'
    print(f'building the engine (log: {log}):\n  {command}', flush=True)
    with open(log, 'w') as f:
        proc = subprocess.run(shlex.split(command), stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0 or not osp.isfile(engine):
        with open(log) as f:
            tail = f.read()[-3000:]
        sys.exit(f'device_check.py: trtexec failed (exit {proc.returncode}):\n{tail}')


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.onnx, 'ONNX file'), (args.ann_file, 'annotation file')):
        if not osp.isfile(path):
            sys.exit(f'device_check.py: {path}: no such {what}')
    if args.precision == 'int8' and not is_qdq(args.onnx):
        sys.exit(f'device_check.py: {args.onnx} has no QuantizeLinear nodes: --precision '
                 'int8 takes the Q/DQ graph of tools/misc/quantize_int8.py')
    stem = osp.splitext(args.onnx)[0]
    suffix = '' if stem.endswith(f'_{args.precision}') else f'_{args.precision}'
    engine = args.engine or f'{stem}{suffix}.engine'
    command = engine_command(args, engine)
    if args.dry_run:
        print(command)
        return dict(command=command)
    models, names, devices = [], [], []
    if args.backend == 'tensorrt':
        if importlib.util.find_spec('tensorrt') is None:
            sys.exit('device_check.py: TensorRT\'s Python package is not installed (Jetson: '
                     'sudo apt install python3-libnvinfer; else pip install tensorrt); '
                     '--dry-run prints the trtexec line, --backend onnxruntime evaluates '
                     'the ONNX file alone')
        if args.rebuild or not osp.isfile(engine):
            build_engine(command, engine)
        else:
            print(f'using the existing engine {engine} (--rebuild builds it again)')
        # engines keep no metadata: the sidecar beside the ONNX file is the engine's too
        from yolox_kpt.runtime import SIDECAR_FILE, RuntimeMeta
        sidecar = osp.join(osp.dirname(osp.abspath(engine)), SIDECAR_FILE)
        if not osp.isfile(sidecar):
            RuntimeMeta.read(args.onnx).write_sidecar(osp.dirname(osp.abspath(engine)))
    parity = args.backend == 'onnxruntime' or not args.no_parity
    if parity and importlib.util.find_spec('onnxruntime') is None:
        print('onnxruntime is not installed: no parity check (pip install onnxruntime)')
        parity = False
    if parity:
        models, names, devices = [args.onnx], ['onnxruntime'], ['cpu']
    if args.backend == 'tensorrt':
        models.append(engine)
        names.append(f'tensorrt-{args.precision}')
        devices.append(args.device)
    try:
        images = eval_exported.load_images(args.ann_file, args.img_dir, args.max_images)
    except FileNotFoundError as e:
        sys.exit(f'device_check.py: {e}')
    report = eval_exported.compare(models, names, images, args.ann_file, devices,
                                   args.warmup)
    report['trtexec'] = command if args.backend == 'tensorrt' else None
    report['precision'] = args.precision
    out = args.out or osp.join('work_dirs', 'device_check',
                               f'{osp.basename(stem)}_{args.precision}.json')
    eval_exported.write_report(report, out, args.record)
    return report


if __name__ == '__main__':
    main()
