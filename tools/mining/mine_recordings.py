"""Mine a folder of many recordings: parallel processes on this machine, shards across
machines, resumable per recording, one summary.

Every video under RECORDINGS (searched recursively) and every folder that holds images (a
recording of frames, in name order) is a recording, mined as tools/mining/mine_frames.py
mines one source, with the same options (--classes, --score-thr, --min-height, --every,
--calibration, --track, --rank ...). Its result is written, once the recording is done and
atomically (a temporary file renamed), to <out-dir>/<recording>.json: the recording's path
under RECORDINGS without its extension, holding mine_frames.py's hits JSON ("result"), with
--rank its ranked JSON ("ranked"), and the frames, hits, seconds and frames per second, with
the milliseconds a frame of each stage of the loop ("stage_ms": waiting for decoded frames,
inference, tracking, ranking signals, the hit list, other).

Resumable: a run that is stopped loses only the recordings it was mining; the next run with
the same model and options (their fingerprint is stored in each result) skips the finished
ones. A result of another model or other options is refused unless --overwrite.

Parallel: --workers K runs K processes, each mining whole recordings with cores // K
threads (ONNX Runtime, torch, OpenCV). Sharded: --shard I/N mines recordings I, I+N, I+2N
... of the sorted list; without it the shard comes from a Slurm job array
(SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT or _MIN/_MAX), else from torchrun (RANK,
WORLD_SIZE). N runs with one --out-dir on a shared file system mine every recording once.
Each run ends by merging every finished recording into <out-dir>/summary.json (per
recording: frames, hits, seconds, frames per second; and the recordings still missing);
--merge-only writes it again without mining.

Examples:
    python tools/mining/mine_recordings.py recordings/ work_dirs/deploy/end2end.onnx \\
        --classes cyclist pedestrian --every 5 --workers 2
    python tools/mining/mine_recordings.py recordings/ work_dirs/deploy/end2end.onnx \\
        --every 2 --track --rank --out-dir work_dirs/mining/recordings/ranked
    # Slurm job array: 16 machines, each mining every 16th recording with 4 processes
    sbatch --array=0-15 --cpus-per-task=8 --wrap="python tools/mining/mine_recordings.py \\
        /data/recordings work_dirs/deploy/end2end.onnx --workers 4 --out-dir /shared/mining"
    # torchrun: 2 machines x 4 processes, one shard each (RANK / WORLD_SIZE)
    torchrun --nnodes=2 --node-rank=0 --master-addr=HOST --nproc-per-node=4 \\
        tools/mining/mine_recordings.py /data/recordings MODEL --out-dir /shared/mining
    # once every shard has finished: the summary of all of them
    python tools/mining/mine_recordings.py /data/recordings MODEL --out-dir /shared/mining \\
        --merge-only
"""
import argparse
import hashlib
import json
import multiprocessing as mp
import os
import os.path as osp
import queue
import socket
import sys
import time
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

try:
    import yolox_kpt  # noqa: F401
except ImportError:
    # Run from a checkout without installing: the package lives two levels up.
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # mine_frames.py beside this file
from mine_frames import (StageClock, add_selection_args,  # noqa: E402
                         add_track_rank_args, check_args, load_model, mine)
from tqdm import tqdm  # noqa: E402

from yolox_kpt.utils.cli import add_model_args, tool_parser  # noqa: E402
from yolox_kpt.utils.media import IMAGE_EXTENSIONS  # noqa: E402
from yolox_kpt.utils.records import machine_info, write_record  # noqa: E402

TOOL = 'tools/mining/mine_recordings.py'
#: File name endings taken as videos (lower case).
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg',
                    '.ts', '.mts')
SUMMARY = 'summary.json'
#: Options that decide a recording's result (the fingerprint); --rank's only with --rank.
#: Workers, threads, shards and the device do not.
RESULT_OPTIONS = ('classes', 'score_thr', 'min_height', 'min_area', 'every', 'track', 'rank')
RANK_OPTIONS = ('flip', 'weights', 'top_k', 'margin_band', 'kpt_thr', 'dup_distance',
                'dup_gap')
#: A temporary result file older than this (seconds) belongs to a run that was stopped.
STALE_TMP_S = 600


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('recordings', help='folder of recordings: videos and folders of '
                        'images, searched recursively')
    add_model_args(parser, score_thr=0.5)
    add_selection_args(parser)
    parser.add_argument('--out-dir', default='work_dirs/mining/recordings',
                        help='one <recording>.json a recording and summary.json')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes on this machine, each mining whole recordings; '
                        'on a CPU, one a core mines the most frames a second '
                        '(docs/mining.md, Throughput)')
    parser.add_argument('--threads', type=int,
                        help='threads a worker (default: cores // workers)')
    parser.add_argument('--shard', metavar='I/N',
                        help='mine recordings I, I+N, I+2N ... (0 <= I < N); default from '
                        'SLURM_ARRAY_TASK_ID/COUNT, else torchrun\'s RANK/WORLD_SIZE, else 0/1')
    parser.add_argument('--overwrite', action='store_true',
                        help='mine again the recordings whose results have another model '
                        'or other options (default: refuse)')
    parser.add_argument('--merge-only', action='store_true',
                        help='mine nothing: write summary.json of the results there are')
    add_track_rank_args(parser, sheets=False)
    args = check_args(parser, parser.parse_args(argv))
    if args.workers < 1 or (args.threads is not None and args.threads < 1):
        parser.error('--workers and --threads must be >= 1')
    try:
        args.shard = resolve_shard(args.shard, os.environ)
    except ValueError as e:
        parser.error(str(e))
    return args


# ------------------------------------------------------------------------- recordings
def find_recordings(root: str) -> Dict[str, str]:
    """``{name: path}`` of the recordings under ``root``, sorted by name.

    A recording is a video file (:data:`VIDEO_EXTENSIONS`) or a folder holding images
    (:data:`~yolox_kpt.utils.media.IMAGE_EXTENSIONS`); its name is its path relative to
    ``root`` without the extension, with '/' separators (``root`` itself, when it holds
    images, is named by its base name).

    Raises:
        SystemExit: ``root`` is no folder, holds no recording, or two recordings have the
            same name (``drive.mp4`` and ``drive.avi``, or a video and a folder).
    """
    if not osp.isdir(root):
        raise SystemExit(f'{root}: no such folder of recordings')
    found: Dict[str, str] = {}

    def add(name: str, path: str) -> None:
        if name in found:
            raise SystemExit(f'{found[name]} and {path} are both recording {name!r}: their '
                             'results would be one file; rename or move one')
        found[name] = path

    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = osp.relpath(folder, root)
        if any(f.lower().endswith(IMAGE_EXTENSIONS) for f in files):
            add(osp.basename(osp.abspath(root)) if rel == '.' else rel.replace(os.sep, '/'),
                folder)
        for f in sorted(files):
            if f.lower().endswith(VIDEO_EXTENSIONS):
                add(osp.splitext(osp.normpath(osp.join(rel, f)))[0].replace(os.sep, '/'),
                    osp.join(folder, f))
    if not found:
        raise SystemExit(f'{root}: no recordings (videos {", ".join(VIDEO_EXTENSIONS)} or '
                         'folders of images)')
    return dict(sorted(found.items()))


def resolve_shard(shard: Optional[str], env) -> Tuple[int, int, str]:
    """``(index, count, where from)`` of this run's shard: ``--shard I/N``, else a Slurm
    job array's task, else torchrun's rank, else ``(0, 1)``.

    Slurm: ``SLURM_ARRAY_TASK_ID`` with ``SLURM_ARRAY_TASK_MIN``/``_MAX`` (and ``_STEP``)
    where set (``--array=1-16`` is shards 0..15), else with ``SLURM_ARRAY_TASK_COUNT``
    (ids from 0).

    Raises:
        ValueError: naming the option or variable that is malformed or out of range.
    """
    if shard is not None:
        where = f'--shard {shard}'
        try:
            index, count = (int(v) for v in shard.split('/'))
        except ValueError:
            raise ValueError(f'{where}: expected I/N, e.g. 0/4') from None
    elif 'SLURM_ARRAY_TASK_ID' in env:
        where = 'SLURM_ARRAY_TASK_ID ' + env['SLURM_ARRAY_TASK_ID']
        try:
            task = int(env['SLURM_ARRAY_TASK_ID'])
            step = int(env.get('SLURM_ARRAY_TASK_STEP', 1))
            if 'SLURM_ARRAY_TASK_MIN' in env and 'SLURM_ARRAY_TASK_MAX' in env:
                first, last = (int(env[f'SLURM_ARRAY_TASK_{k}']) for k in ('MIN', 'MAX'))
                index, count = (task - first) // step, (last - first) // step + 1
            else:
                index, count = task, int(env['SLURM_ARRAY_TASK_COUNT'])
        except (KeyError, ValueError):
            raise ValueError(f'{where}: a Slurm array task needs integer '
                             'SLURM_ARRAY_TASK_MIN and _MAX, or _COUNT') from None
    elif 'RANK' in env and 'WORLD_SIZE' in env:
        where = f'RANK {env["RANK"]} of WORLD_SIZE {env["WORLD_SIZE"]}'
        try:
            index, count = int(env['RANK']), int(env['WORLD_SIZE'])
        except ValueError:
            raise ValueError(f'{where}: not integers') from None
    else:
        return 0, 1, 'one shard'
    if not 0 <= index < count:
        raise ValueError(f'{where}: shard {index} of {count} is out of range (0 <= I < N)')
    return index, count, where


def shard_of(names: List[str], index: int, count: int) -> List[str]:
    """Shard ``index`` of ``count``: every ``count``-th name from the ``index``-th."""
    return names[index::count]


# ------------------------------------------------------------------------ fingerprint
def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(args) -> Tuple[str, dict]:
    """``(hash, options)``: the model's, checkpoint's and calibration's contents and the
    options that decide a recording's result (:data:`RESULT_OPTIONS`)."""
    options = {k: getattr(args, k) for k in RESULT_OPTIONS}
    if args.rank:
        options.update({k: getattr(args, k) for k in RANK_OPTIONS})
    for key in ('model', 'checkpoint', 'calibration'):
        path = getattr(args, key)
        options[key] = path and dict(file=osp.basename(path), sha256=file_sha256(path))
    text = json.dumps(options, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16], json.loads(text)


def result_path(out_dir: str, name: str) -> str:
    return osp.join(out_dir, *name.split('/')) + '.json'


def read_result(path: str) -> Optional[dict]:
    """A finished recording's result, or None: absent, unreadable or incomplete (a file
    cut short by a full disk or a copy) is mined again."""
    try:
        with open(path) as f:
            result = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or result.get('complete') is not True or \
            'fingerprint' not in result:
        return None
    return result


def differences(old: dict, new: dict) -> str:
    """The options (model first) that differ between two fingerprints, as text."""
    order = ('model', 'checkpoint', 'calibration') + RESULT_OPTIONS + RANK_OPTIONS
    keys = sorted((k for k in set(old) | set(new) if old.get(k) != new.get(k)),
                  key=lambda k: order.index(k) if k in order else len(order))
    return ', '.join(f'{k} {old.get(k, "unset")!r} -> {new.get(k, "unset")!r}'
                     for k in keys[:4])


# ---------------------------------------------------------------------------- workers
def set_threads(threads: int) -> None:
    """OpenCV's and (where imported) torch's threads; ONNX Runtime's are the session's."""
    import cv2
    cv2.setNumThreads(threads)
    torch = sys.modules.get('torch')
    if torch is not None:
        torch.set_num_threads(threads)


def worker_model(args, threads: int):
    """:func:`mine_frames.load_model` with ``threads`` ONNX Runtime intra-op threads (its
    default, one a core, would oversubscribe the cores with several workers)."""
    return load_model(argparse.Namespace(**{**vars(args), 'threads': threads}), TOOL)


def work(index: int, args, threads: int, tasks: Iterable[dict], fp: str, options: dict,
         position: int) -> Iterator[tuple]:
    """Worker ``index``: mine each recording of ``tasks`` and write its result.

    Yields ``('done', row)`` per recording mined, ``('failed', name, message)`` per
    recording that could not be (the others go on), ``('fatal', message)`` when the model
    does not load (then nothing else).
    """
    set_threads(threads)
    try:
        model = worker_model(args, threads)
    except (Exception, SystemExit) as e:
        yield 'fatal', error_text(e)
        return
    where = dict(host=socket.gethostname(), shard=list(args.shard[:2]), worker=index,
                 threads=threads)
    machine = machine_info()  # once: package metadata look-ups take a while
    for task in tasks:
        try:
            yield 'done', mine_recording(args, model, task, fp, options, where, machine,
                                         position)
        except (Exception, SystemExit) as e:
            yield 'failed', task['name'], error_text(e)


def error_text(e: BaseException) -> str:
    """A tool's SystemExit as its message, any other error with its type."""
    return str(e) if isinstance(e, SystemExit) else f'{type(e).__name__}: {e}'


def mine_recording(args, model, task: dict, fp: str, options: dict, where: dict,
                   machine: dict, position: int) -> dict:
    """Mine one recording and write its result (atomically); its summary row."""
    inferencer, wanted, wanted_ids, calib = model
    run_args = argparse.Namespace(**dict(vars(args), source=task['path']))
    started, start = time.time(), time.perf_counter()
    clock = StageClock()
    result, ranker = mine(run_args, inferencer, wanted, wanted_ids, calib,
                          bar=dict(desc=task['name'][-24:], position=position, leave=False,
                                   unit='frame'), clock=clock)
    with clock('ranking'):
        ranked = ranker.to_json(inferencer)[0] if ranker else None
    frames = result['frames_seen']
    # the time is the result's making (the file holding it is written after)
    seconds = time.perf_counter() - start
    clock.seconds['other'] = seconds - sum(clock.seconds.values())
    row = dict(recording=task['name'], path=task['path'], frames=frames,
               hits=len(result['hits']), seconds=round(seconds, 3),
               fps=round(frames / seconds, 2) if seconds > 0 else None,
               started=round(started, 3), finished=round(time.time(), 3), **where)
    write_record(task['out'], dict(complete=True, fingerprint=fp, options=options, **row,
                                   stage_ms=clock.per_frame_ms(frames), result=result,
                                   ranked=ranked), machine=machine,
                 indent=None)  # read by the tool and scripts: one line, json's C encoder
    return row


def _child(index, args, threads, tasks, results, fp, options):
    """A worker process: recordings from the ``tasks`` queue (None: no more), messages to
    ``results``."""
    for message in work(index, args, threads, iter(tasks.get, None), fp, options,
                        index + 1):
        results.put(message)


def run_workers(args, todo: List[dict], threads: int, fp: str,
                options: dict) -> Iterator[tuple]:
    """The workers' messages (:func:`work`) as they come; one worker runs in this
    process, several in their own."""
    workers = min(args.workers, len(todo))
    if workers <= 1:
        yield from work(0, args, threads, todo, fp, options, 1)
        return
    # spawn, not fork: a process that has decoded video or run a model holds threads
    # (FFmpeg's, OpenCV's, ONNX Runtime's) whose locks a forked child inherits, locked
    ctx = mp.get_context('spawn')
    tasks, results = ctx.Queue(), ctx.Queue()
    for task in todo + [None] * workers:
        tasks.put(task)
    procs = [ctx.Process(target=_child, args=(i, args, threads, tasks, results, fp, options),
                         daemon=True) for i in range(workers)]
    for p in procs:
        p.start()
    pending = len(todo)
    try:
        while pending:
            try:
                message = results.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    yield 'fatal', (f'the workers ended with {pending} recording(s) not '
                                    f'done (exit codes {[p.exitcode for p in procs]}: '
                                    'killed, out of memory?); run again to resume')
                    return
                continue
            if message[0] == 'fatal':
                yield message
                return
            pending -= 1
            yield message
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()


# ------------------------------------------------------------------------------ merge
def remove_stale_tmp(out_dir: str) -> int:
    """Remove the temporary result files of stopped runs (older than
    :data:`STALE_TMP_S`: a result is written in well under a second)."""
    removed, now = 0, time.time()
    for folder, _, files in os.walk(out_dir):
        for f in files:
            path = osp.join(folder, f)
            if f.startswith('.record-') and now - osp.getmtime(path) > STALE_TMP_S:
                os.unlink(path)
                removed += 1
    return removed


def merge(recordings: Dict[str, str], out_dir: str, fp: str, options: dict) -> dict:
    """Write ``<out_dir>/summary.json`` from every finished result of ``recordings`` (any
    shard's); the summary."""
    rows, missing, other = [], [], []
    for name in recordings:
        result = read_result(result_path(out_dir, name))
        if result is None:
            missing.append(name)
        elif result['fingerprint'] != fp:
            other.append(name)
        else:
            rows.append(dict(recording=name, output=result_path(out_dir, name),
                             **{k: result[k] for k in ('frames', 'hits', 'seconds', 'fps',
                                                       'host', 'shard', 'worker',
                                                       'threads')}))
    frames, seconds = sum(r['frames'] for r in rows), sum(r['seconds'] for r in rows)
    summary = dict(fingerprint=fp, options=options, recordings=len(recordings),
                   done=len(rows), frames=frames, hits=sum(r['hits'] for r in rows),
                   seconds=round(seconds, 3),
                   fps_per_worker=round(frames / seconds, 2) if seconds else None,
                   missing=missing, other_options=other, rows=rows)
    summary['path'] = write_record(osp.join(out_dir, SUMMARY), summary)
    return summary


# ------------------------------------------------------------------------------- main
def plan(args, recordings: Dict[str, str], fp: str, options: dict):
    """This shard's recordings to mine (tasks) and the number already done.

    Raises:
        SystemExit: results of another model or other options, without --overwrite.
    """
    index, count, _ = args.shard
    todo, done, conflicts = [], 0, []
    for name in shard_of(list(recordings), index, count):
        out = result_path(args.out_dir, name)
        result = read_result(out)
        if result is not None and result['fingerprint'] == fp:
            done += 1
            continue
        if result is not None and not args.overwrite:
            conflicts.append(f'  {out}: {differences(result.get("options", {}), options)}')
            continue
        todo.append(dict(name=name, path=recordings[name], out=out))
    if conflicts:
        raise SystemExit(f'{len(conflicts)} result(s) in {args.out_dir} were mined with '
                         'another model or other options:\n' + '\n'.join(conflicts[:10]) +
                         '\ngive --overwrite to mine them again, or another --out-dir')
    return todo, done


def main(argv=None):
    args = parse_args(argv)
    recordings = find_recordings(args.recordings)
    fp, options = fingerprint(args)
    os.makedirs(args.out_dir, exist_ok=True)
    failed: List[Tuple[str, str]] = []
    if not args.merge_only:
        index, count, where = args.shard
        todo, done = plan(args, recordings, fp, options)
        workers = max(1, min(args.workers, len(todo)))
        cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else \
            os.cpu_count() or 1
        # torchrun starts LOCAL_WORLD_SIZE copies of this tool on the machine
        local = int(os.environ.get('LOCAL_WORLD_SIZE', 1)) if where.startswith('RANK') else 1
        threads = args.threads or max(1, cores // (workers * max(local, 1)))
        print(f'{len(recordings)} recordings in {args.recordings}; shard {index}/{count} '
              f'({where}): {len(todo) + done}, {done} already done, {len(todo)} to mine with '
              f'{workers} worker(s) x {threads} thread(s)')
        bar = tqdm(total=len(todo), desc='recordings', unit='rec', position=0)
        for message in run_workers(args, todo, threads, fp, options):
            if message[0] == 'fatal':
                bar.close()
                raise SystemExit(f'{TOOL}: {message[1]}')
            if message[0] == 'failed':
                failed.append(message[1:])
                tqdm.write(f'{message[1]}: failed: {message[2]}')
            else:
                row = message[1]
                bar.set_postfix_str(f'{row["recording"][-20:]} {row["fps"]} fps')
            bar.update()
        bar.close()
    removed = remove_stale_tmp(args.out_dir)
    summary = merge(recordings, args.out_dir, fp, options)
    print(f'{summary["done"]} of {len(recordings)} recordings mined: {summary["frames"]} '
          f'frames, {summary["hits"]} hit frames; results written to '
          f'{osp.abspath(args.out_dir)}/<recording>.json')
    if removed:
        print(f'{removed} temporary file(s) of stopped runs removed')
    if summary['missing']:
        print(f'{len(summary["missing"])} recording(s) not mined yet (other shards, or '
              f'failed): {", ".join(summary["missing"][:5])}'
              f'{" ..." if len(summary["missing"]) > 5 else ""}')
    print(f'summary written to {summary["path"]}')
    if failed:
        raise SystemExit(f'{len(failed)} recording(s) failed (run again to retry): ' +
                         '; '.join(f'{n}: {m}' for n, m in failed[:5]))


if __name__ == '__main__':
    main()
