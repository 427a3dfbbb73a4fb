"""What every command-line tool of this repository shares."""
import argparse
import statistics
import time
from typing import Callable, Dict


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """An argparse parser whose description is the module docstring's first paragraph and
    whose epilog (shown by ``--help``) is the rest: the tool's examples."""
    head, _, rest = doc.strip().partition('\n\n')
    return argparse.ArgumentParser(description=head, epilog=rest,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_model_args(parser: argparse.ArgumentParser, score_thr: float = 0.3) -> None:
    """MODEL [CHECKPOINT], --score-thr, --device: how tools name a PyTorch checkpoint or an
    exported model (see ``yolox_kpt.apis.KptInferencer``)."""
    parser.add_argument('model', help='config (.py) or exported model (.onnx / .engine)')
    parser.add_argument('checkpoint', nargs='?', help='weights, when MODEL is a config')
    parser.add_argument('--score-thr', type=float, default=score_thr)
    parser.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")


def add_cfg_options(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options KEY=VALUE ...`` parsed as mmdet's tools do (numbers, lists, None)."""
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        metavar='KEY=VALUE', help='config overrides, e.g. data paths or '
                        'model.bbox_head.loss_kpt_l1.loss_weight=1.0')


def median_seconds(fn: Callable[[], object], repeat: int, warmup: int):
    """Median wall time of ``repeat`` calls after ``warmup`` calls, and the last result."""
    for _ in range(warmup):
        fn()
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def median_seconds_interleaved(fns: Dict[str, Callable[[], object]], repeat: int,
                               warmup: int) -> Dict[str, float]:
    """Median wall time per named function, calls taken in turns (a, b, c, a, b, c, ...).

    On a shared or thermally throttled machine the speed drifts over seconds; timing the
    candidates in turns puts every one under the same drift, so their ratios are steadier
    than those of back-to-back ``median_seconds`` blocks.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}
