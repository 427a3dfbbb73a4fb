"""Measure mining throughput: the whole loop of tools/mining/mine_recordings.py against the
model alone, with 1 and more worker processes.

On a set of short generated videos (tools/misc/generate_synthetic_sequences.py's scenes,
or --videos), for each --workers K:

* model only: K processes at once, each with cores // K threads, each running preprocessed
  frames through the exported model's backend (ONNX Runtime); frames per second is the sum
  over the processes of 1 / the median time a frame, after --warmup frames;
* whole loop: ``mine_recordings.py --workers K`` over the videos with --track and --rank
  (decode, preprocess, inference, tracking, ranking signals, one result file a recording);
  frames per second is, as for the model alone, the sum over the workers of each one's
  frames over its time mining them (its recordings' seconds, from opening the video to
  the result made; its file is written after). Also recorded: all frames over the time from the first
  recording's start to the last one's end (span; the workers start a little apart, which
  a short benchmark feels and hours of recordings do not), and over the tool's whole run
  (start-up and model loading included).

Each is made --rounds times, alternating, and the medians are reported (with every
round's figure in the record): a single run of a few seconds moves with the machine.

The ratio whole loop / model only says how much of the machine the rest of the loop
costs; the goal is >= 0.8. Two breakdowns: the milliseconds a frame of decoding,
preprocessing and inference each alone (one process, all cores), and where the loop's time
goes in each worker (the results' ``stage_ms``: waiting for decoded frames, inference,
tracking, ranking signals, the hit list, other), per number of workers.

Examples:
    python tools/analysis/benchmark_mining.py work_dirs/deploy/end2end.onnx
    python tools/analysis/benchmark_mining.py work_dirs/int8/nano-ort/end2end.onnx \\
        --sequences 4 --frames 120 --workers 1 2 --record docs/records/mining_speed.json
"""
import json
import multiprocessing as mp
import os
import os.path as osp
import shutil
import statistics
import sys
import time
from typing import Dict, List

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from yolox_kpt.utils.cli import tool_parser  # noqa: E402
from yolox_kpt.utils.media import iter_frames  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'mining'))
import mine_recordings  # noqa: E402

GOAL = 0.8


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('model', help='exported model (.onnx)')
    parser.add_argument('--videos', help='folder of recordings (default: generated)')
    parser.add_argument('--work-dir', default='work_dirs/mining/benchmark',
                        help='generated videos and the mining results')
    parser.add_argument('--sequences', type=int, default=4, help='generated videos')
    parser.add_argument('--frames', type=int, default=120, help='frames a generated video')
    parser.add_argument('--img-size', type=int, nargs=2, default=(640, 384),
                        metavar=('W', 'H'))
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--warmup', type=int, default=10, help='model only: frames first')
    parser.add_argument('--repeat', type=int, default=100,
                        help='model only: frames timed a process')
    parser.add_argument('--rounds', type=int, default=3,
                        help='times each measurement is made (model only and whole loop '
                        'alternating); the medians are reported: one run of a few seconds '
                        'moves with the machine')
    parser.add_argument('--record', help='also write the result as a measurement record '
                        '(docs/records/mining_speed.json is the one the docs show)')
    return parser.parse_args(argv)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else \
        os.cpu_count() or 1


def videos(args) -> str:
    """The folder of recordings: --videos, or generated short synthetic drives."""
    if args.videos:
        return args.videos
    from yolox_kpt.data_tools.synthetic_sequences import generate_synthetic_sequences
    root = osp.join(args.work_dir, 'data')
    folder = osp.join(root, 'videos')
    want = [f'seq_{i:03d}.mp4' for i in range(args.sequences)]
    if not all(osp.isfile(osp.join(folder, f)) for f in want):
        generate_synthetic_sequences(root, num_sequences=args.sequences,
                                     frames_per_sequence=args.frames,
                                     img_size=tuple(args.img_size), video=True)
    return folder


def sample_frames(folder: str, num: int) -> List[np.ndarray]:
    """About ``num`` frames: the first ones of each recording of ``folder``."""
    recordings = list(mine_recordings.find_recordings(folder).values())
    each = -(-num // len(recordings))
    return [image for path in recordings
            for _, (_, _, image) in zip(range(each), iter_frames(path))]


def _model_only(model, threads, frames, warmup, repeat, barrier, results):
    """One process of the model-only measurement: its median seconds a frame."""
    from yolox_kpt.runtime import KeypointDetector
    from yolox_kpt.runtime.backends import build_backend
    mine_recordings.set_threads(threads)
    detector = KeypointDetector(model)
    backend = build_backend(model, threads=threads)
    inputs = [detector.preprocess(f)[0] for f in frames]
    for i in range(warmup):
        backend(inputs[i % len(inputs)])
    barrier.wait()  # the processes time their frames together
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        backend(inputs[i % len(inputs)])
        times.append(time.perf_counter() - start)
    results.put(statistics.median(times))


def model_only_fps(model: str, workers: int, frames, warmup: int, repeat: int) -> float:
    """Frames per second of ``workers`` processes running the backend at once."""
    # spawn, not fork: a process that has decoded video or run a model holds threads
    # (FFmpeg's, OpenCV's, ONNX Runtime's) whose locks a forked child inherits, locked
    ctx = mp.get_context('spawn')
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    threads = max(1, cores() // workers)
    procs = [ctx.Process(target=_model_only, args=(model, threads, frames, warmup, repeat,
                                                   barrier, results))
             for _ in range(workers)]
    for p in procs:
        p.start()
    medians = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return sum(1 / m for m in medians)


def read_json(path: str):
    with open(path) as f:
        return json.load(f)


def whole_loop(args, folder: str, workers: int) -> Dict[str, float]:
    """``mine_recordings.py --workers K --track --rank`` over ``folder``."""
    out = osp.join(args.work_dir, f'loop_{workers}--track--rank')
    shutil.rmtree(out, ignore_errors=True)  # else the finished recordings are skipped
    start = time.perf_counter()
    mine_recordings.main([folder, args.model, '--out-dir', out, '--workers', str(workers),
                          '--score-thr', str(args.score_thr), '--track', '--rank'])
    wall = time.perf_counter() - start
    rows = read_json(osp.join(out, mine_recordings.SUMMARY))['rows']
    results = [read_json(r['output']) for r in rows]
    frames = sum(r['frames'] for r in results)
    span = max(r['finished'] for r in results) - min(r['started'] for r in results)
    per_worker: Dict[int, List[float]] = {}
    for r in results:
        done = per_worker.setdefault(r['worker'], [0, 0.0])
        done[0] += r['frames']
        done[1] += r['seconds']
    stages = {k: sum(r['stage_ms'][k] * r['frames'] for r in results) / frames
              for k in results[0]['stage_ms']}
    return dict(frames=frames, loop_fps=sum(n / s for n, s in per_worker.values()),
                span_fps=frames / span, loop_s=span, wall_fps=frames / wall, wall_s=wall,
                threads=results[0]['threads'], stage_ms=stages)


def breakdown(model: str, frames) -> Dict[str, float]:
    """Milliseconds a frame (median, one process, all cores) of preprocessing and
    inference, and of decoding the videos."""
    from yolox_kpt.runtime import KeypointDetector
    detector = KeypointDetector(model)
    mine_recordings.set_threads(cores())
    ms = {}
    inputs = [detector.preprocess(f)[0] for f in frames]
    for name, fn, items in (('preprocess', detector.preprocess, frames),
                            ('inference', detector.backend, inputs)):
        times = []
        for item in items:
            start = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - start)
        ms[name] = 1000 * statistics.median(times[3:])
    return ms


def decode_ms(folder: str) -> float:
    start, n = time.perf_counter(), 0
    for path in mine_recordings.find_recordings(folder).values():
        for _ in iter_frames(path):
            n += 1
    return 1000 * (time.perf_counter() - start) / n


def main(argv=None):
    args = parse_args(argv)
    if not args.model.endswith('.onnx'):
        raise SystemExit(f'{args.model}: the benchmark runs an exported .onnx model')
    folder = videos(args)
    frames = sample_frames(folder, 40)
    rows = []
    med = statistics.median
    for workers in args.workers:
        # model only and the loop back to back, --rounds times, for each K: the same load
        model_runs, loops = [], []
        for _ in range(args.rounds):
            model_runs.append(model_only_fps(args.model, workers, frames, args.warmup,
                                             args.repeat))
            loops.append(whole_loop(args, folder, workers))
        model_fps = med(model_runs)
        loop = {k: med(x[k] for x in loops) for k in ('loop_fps', 'span_fps', 'loop_s',
                                                      'wall_fps', 'wall_s')}
        rows.append(dict(workers=workers, threads=loops[0]['threads'],
                         model_fps=round(model_fps, 2), loop_fps=round(loop['loop_fps'], 2),
                         ratio=round(loop['loop_fps'] / model_fps, 3),
                         span_fps=round(loop['span_fps'], 2), loop_s=round(loop['loop_s'], 3),
                         wall_fps=round(loop['wall_fps'], 2),
                         wall_s=round(loop['wall_s'], 3), frames=loops[0]['frames'],
                         model_fps_rounds=[round(x, 1) for x in model_runs],
                         loop_fps_rounds=[round(x['loop_fps'], 1) for x in loops],
                         stage_ms={k: round(med(x['stage_ms'][k] for x in loops), 3)
                                   for k in loops[0]['stage_ms']}))
    ms = breakdown(args.model, frames)
    ms['decode'] = decode_ms(folder)
    best = max(r['loop_fps'] for r in rows) / max(r['model_fps'] for r in rows)
    result = dict(model=args.model, recordings=len(mine_recordings.find_recordings(folder)),
                  frames=rows[0]['frames'], img_size=list(frames[0].shape[1::-1]),
                  generated=not args.videos, cores=cores(),
                  loop_options=dict(track=True, rank=True, score_thr=args.score_thr),
                  warmup=args.warmup, repeat=args.repeat, rounds=args.rounds, rows=rows,
                  breakdown_ms={k: round(v, 2) for k, v in ms.items()},
                  best_ratio=round(best, 3), goal=GOAL, met=best >= GOAL)
    print(f'\n{result["recordings"]} recordings, {result["frames"]} frames '
          f'{result["img_size"][0]}x{result["img_size"][1]}, {cores()} cores; loop: '
          'decode, preprocess, inference, --track, --rank')
    print(f'{"workers":>8} {"threads":>8} {"model fps":>10} {"loop fps":>9} {"ratio":>6} '
          f'{"span fps":>9} {"wall fps":>9}')
    for r in rows:
        print(f'{r["workers"]:>8} {r["threads"]:>8} {r["model_fps"]:>10.1f} '
              f'{r["loop_fps"]:>9.1f} {r["ratio"]:>6.2f} {r["span_fps"]:>9.1f} '
              f'{r["wall_fps"]:>9.1f}')
    print('ms a frame, each alone (one process): ' +
          ', '.join(f'{k} {v:.2f}' for k, v in ms.items()))
    print('ms a frame in the loop, each worker (stage_ms):')
    for r in rows:
        print(f'  {r["workers"]} worker(s): ' +
              ', '.join(f'{k} {v:.2f}' for k, v in r['stage_ms'].items()))
    print(f'best loop / best model only: {best:.2f} (goal >= {GOAL}: '
          f'{"met" if best >= GOAL else "missed"})')
    if args.record:
        from yolox_kpt.utils.records import write_record
        print(f'wrote record {write_record(args.record, result)}')


if __name__ == '__main__':
    main()
