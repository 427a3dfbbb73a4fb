"""Quantize an exported model to int8: a Q/DQ ONNX graph calibrated on your own frames.

Explicit quantization, the form TensorRT 8.5+ builds int8 engines from (TensorRT 10
deprecates calibrator-based implicit int8): QuantizeLinear/DequantizeLinear pairs around
every convolution, int8, symmetric (zero point 0) activations and per-channel symmetric
weights, float biases, made on a CPU with ONNX Runtime's quantization tool. Calibration frames are a folder
of images or a list file (one image path per line, relative to the list's folder unless
absolute; tools/mining/mine_frames.py --list writes one), preprocessed exactly as the runtime
does (the model's own metadata). The head's final 1x1 convolutions (class, objectness, box,
keypoint and keypoint-visibility outputs) stay in float by default: they decode box and
keypoint offsets, where int8's step costs localisation precision (box AP75) for little time.
The int8 graph keeps the runtime metadata, so KeypointDetector and
tools/analysis/eval_exported.py run it as they run the fp32 one.

Examples:
    # 300 frames of your own data; the int8 model next to the fp32 one
    python tools/misc/quantize_int8.py work_dirs/deploy/nano-ort/end2end.onnx \\
        data/my_camera/images/train
    # a mined list, entropy calibration, every convolution quantized
    python tools/misc/quantize_int8.py end2end.onnx work_dirs/mining/frames.txt \\
        --method entropy --exclude none --out work_dirs/int8/end2end_int8.onnx
    # then, on the device: trtexec --onnx=end2end_int8.onnx --int8 --fp16 ...
    # (tools/device_check.py --precision int8 composes and runs it)
"""
import json
import os
import os.path as osp
import re
import sys
from typing import Iterator, List, Optional, Sequence

import numpy as np

from yolox_kpt.utils.cli import tool_parser

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
#: node names of the head's final 1x1 convolutions in a yolox-kpt export
HEAD_OUTPUT_CONVS = r'multi_level_conv_(cls|obj|reg|kpt|kpt_vis|kpt_occ)\.\d+'
METHODS = ('percentile', 'entropy', 'minmax')
#: per-channel QuantizeLinear/DequantizeLinear (their ``axis``) need opset 13; the deploy
#: configs export opset 11
MIN_OPSET = 13
#: ``metadata_props`` key of the int8 file: JSON of the settings it was made with
QUANTIZATION_KEY = 'yolox_kpt_quantization'


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('model', help='fp32 end2end.onnx (tools/deploy.py)')
    parser.add_argument('frames', help='folder of images, or a text file of image paths')
    parser.add_argument('--out', help='int8 ONNX file (default: <model>_int8.onnx beside it)')
    parser.add_argument('--num-frames', type=int, default=300,
                        help='calibration frames, spread evenly over those found (default '
                        '300; 0: all)')
    parser.add_argument('--method', choices=METHODS, default='percentile',
                        help='activation range calibration (default percentile)')
    parser.add_argument('--percentile', type=float, default=99.999,
                        help='percentile of |activation| kept (--method percentile)')
    parser.add_argument('--exclude', nargs='+', default=[HEAD_OUTPUT_CONVS],
                        help='regular expressions of node names left in float (default: '
                        "the head's final 1x1 convolutions); 'none' quantizes every conv")
    parser.add_argument('--op-types', nargs='+', default=['Conv'],
                        help='operator types to quantize (default Conv)')
    return parser.parse_args(argv)


def list_frames(source: str) -> List[str]:
    """Image paths of a folder (sorted, recursively) or of a list file.

    Raises:
        FileNotFoundError: the source, or a listed image (with its line), does not exist.
        ValueError: no image found.
    """
    if osp.isdir(source):
        frames = sorted(osp.join(root, f) for root, _, files in os.walk(source)
                        for f in files if f.lower().endswith(IMAGE_EXTS))
    elif osp.isfile(source):
        frames, base = [], osp.dirname(osp.abspath(source))
        with open(source) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                path = line if osp.isabs(line) else osp.join(base, line)
                if not osp.isfile(path):
                    raise FileNotFoundError(f'{source}, line {number}: {line}: no such image')
                frames.append(path)
    else:
        raise FileNotFoundError(f'{source}: neither a folder nor a list file')
    if not frames:
        raise ValueError(f'{source}: no images ({", ".join(IMAGE_EXTS)})')
    return frames


def spread(items: Sequence, count: int) -> List:
    """``count`` items spread evenly over ``items`` (all when count is 0 or larger)."""
    if count <= 0 or count >= len(items):
        return list(items)
    return [items[i] for i in np.linspace(0, len(items) - 1, count).round().astype(int)]


def excluded_nodes(model_path: str, patterns: Sequence[str],
                   op_types: Sequence[str]) -> List[str]:
    """Names of the ``op_types`` nodes whose name matches one of ``patterns``."""
    import onnx
    if list(patterns) == ['none']:
        return []
    regexes = [re.compile(p) for p in patterns]
    graph = onnx.load(model_path, load_external_data=False).graph
    return [n.name for n in graph.node
            if n.op_type in op_types and any(r.search(n.name) for r in regexes)]


def with_opset(model: str, opset: int):
    """``model`` as an ``onnx.ModelProto`` of at least ``opset`` (converted when older)."""
    import onnx
    from onnx import version_converter
    proto = onnx.load(model)
    current = max(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx'))
    return proto if current >= opset else version_converter.convert_version(proto, opset)


class FrameReader:
    """``onnxruntime.quantization.CalibrationDataReader``: the runtime's preprocessing of
    each frame, as ``{input name: (1, 3, H, W) float32}``."""

    def __init__(self, frames: Sequence[str], preprocess, input_name: str,
                 show: bool = True) -> None:
        self.frames, self.preprocess, self.input_name = list(frames), preprocess, input_name
        self.show = show
        self._iter: Optional[Iterator] = None

    def _inputs(self):
        import cv2

        from yolox_kpt.utils.progress import progress
        for path in progress(self.frames, desc='calibrating', unit='img', show=self.show):
            image = cv2.imread(path)
            if image is None:
                raise ValueError(f'{path}: not a readable image')
            yield {self.input_name: self.preprocess(image)[0]}

    def get_next(self):
        if self._iter is None:
            self._iter = self._inputs()
        return next(self._iter, None)

    def rewind(self):
        self._iter = None


def quantize(model: str, frames: Sequence[str], out: str, method: str = 'percentile',
             percentile: float = 99.999, exclude: Sequence[str] = (HEAD_OUTPUT_CONVS, ),
             op_types: Sequence[str] = ('Conv', ), show: bool = True,
             command: Optional[str] = None) -> dict:
    """Write the Q/DQ int8 model of ``model`` to ``out``, calibrated on ``frames``.

    Args:
        model (str): fp32 ONNX export with the runtime metadata.
        frames (sequence of str): calibration images (BGR, any size).
        out (str): the int8 ONNX file written.
        method (str): one of :data:`METHODS`.
        percentile (float): for 'percentile'.
        exclude (sequence of str): node-name regexes kept in float (['none']: none).
        op_types (sequence of str): operator types quantized.
        show (bool): progress bar.
        command (str, optional): how it was asked for (default: this process's argv),
            stored with the settings under :data:`QUANTIZATION_KEY` in the file.

    Returns:
        dict: what was done (frames, method, quantized/excluded node counts), for records.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    from yolox_kpt.runtime import RuntimeMeta
    meta = RuntimeMeta.read(model)
    input_name = onnx.load(model, load_external_data=False).graph.input[0].name
    skip = excluded_nodes(model, exclude, op_types)
    convs = [n.name for n in onnx.load(model, load_external_data=False).graph.node
             if n.op_type in op_types]
    calibrate = dict(percentile=CalibrationMethod.Percentile,
                     entropy=CalibrationMethod.Entropy,
                     minmax=CalibrationMethod.MinMax)[method]
    # TensorRT takes int8 Q/DQ with zero point 0 only (symmetric ranges throughout) and
    # float biases, which it folds into the int8 convolution itself
    options = dict(ActivationSymmetric=True, WeightSymmetric=True, QuantizeBias=False,
                   CalibPercentile=percentile)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    quantize_static(with_opset(model, MIN_OPSET), out, FrameReader(frames, meta.preprocess, input_name, show),
                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=True,
                    op_types_to_quantize=list(op_types), nodes_to_exclude=skip,
                    calibrate_method=calibrate, extra_options=options,
                    calibration_providers=['CPUExecutionProvider'])
    info = dict(frames=len(frames), method=method,
                percentile=percentile if method == 'percentile' else None,
                quantized_nodes=len(convs) - len(skip), float_nodes=skip,
                op_types=list(op_types), format='QDQ int8, symmetric, per-channel weights',
                command=' '.join(['python', *sys.argv]) if command is None else command)
    # the quantizer keeps no metadata_props of ours: the runtime meta again, and how the
    # file was made (tools/analysis/eval_exported.py puts it in its records)
    proto = meta.to_onnx_metadata(onnx.load(out))
    prop = proto.metadata_props.add()
    prop.key, prop.value = QUANTIZATION_KEY, json.dumps(info)
    onnx.save(proto, out)
    return info


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.model):
        sys.exit(f'quantize_int8.py: {args.model}: no such model file')
    try:
        frames = spread(list_frames(args.frames), args.num_frames)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'quantize_int8.py: {e}')
    out = args.out or osp.splitext(args.model)[0] + '_int8.onnx'
    info = quantize(args.model, frames, out, args.method, args.percentile, args.exclude,
                    args.op_types)
    print(f'calibrated on {info["frames"]} frames ({args.method}); '
          f'{info["quantized_nodes"]} {"/".join(args.op_types)} nodes in int8, '
          f'{len(info["float_nodes"])} kept in float')
    print(f'int8 model written to {osp.abspath(out)}')
    return info


if __name__ == '__main__':
    main()
