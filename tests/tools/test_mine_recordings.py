"""``tools/mining/mine_recordings.py``: shards cover every recording exactly once (from
--shard, a Slurm array or torchrun's variables), a second run skips what is finished and
mines again what is not (a result cut short, a stale temporary file, a failed recording), a
result of other options is refused without --overwrite, and two worker processes give the
results one gives. The model is the constant-scene ONNX graph of ``test_geometry_tools``;
the recordings are tiny generated videos and a folder of frames."""
import importlib
import json
import os
import time

import cv2
import numpy as np
import pytest

from test_eval_geometry import _load  # a tool's module by its path
import test_geometry_tools as geometry_tools  # its constant model, by its fixture


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEIGHT, WIDTH = geometry_tools.HEIGHT, geometry_tools.WIDTH
tool_inputs = geometry_tools.tool_inputs  # the constant-scene ONNX model (module scope)


@pytest.fixture(scope='module')
def tool():
    # imported by its module name (the tool puts its folder on sys.path): the worker
    # processes are spawned and find their function by it
    _load('tools/mining/mine_recordings.py')
    return importlib.import_module('mine_recordings')


@pytest.fixture(scope='module')
def recordings(tmp_path_factory, tool_inputs):
    """Four short videos (2..5 frames, two in a sub-folder) and a folder of two frames."""
    root = tmp_path_factory.mktemp('recordings')
    (root / 'day2').mkdir()
    for i, rel in enumerate(('drive_a.mp4', 'drive_b.avi', 'day2/drive_c.mp4',
                             'day2/drive_d.mp4')):
        video = cv2.VideoWriter(str(root / rel), cv2.VideoWriter_fourcc(*'mp4v'), 5,
                                (WIDTH, HEIGHT))
        for j in range(2 + i):
            video.write(np.full((HEIGHT, WIDTH, 3), 60 + 20 * j, np.uint8))
        video.release()
    frames = root / 'day2' / 'frames_e'
    frames.mkdir()
    for name in ('000.jpg', '001.jpg'):
        cv2.imwrite(str(frames / name), np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    (root / 'notes.txt').write_text('not a recording')
    return root


NAMES = ['day2/drive_c', 'day2/drive_d', 'day2/frames_e', 'drive_a', 'drive_b']
FRAMES = dict(zip(NAMES, (4, 5, 2, 2, 3)))


def mine(tool, recordings, model, out, *extra):
    tool.main([str(recordings), model, '--out-dir', str(out), *map(str, extra)])
    return {name: json.loads((out / f'{name}.json').read_text()) for name in NAMES
            if (out / f'{name}.json').exists()}


def test_finds_recordings_and_shards_partition_them(tool, recordings, tool_inputs,
                                                    tmp_path, capsys):
    found = tool.find_recordings(str(recordings))
    assert list(found) == NAMES and found['drive_b'].endswith('drive_b.avi')
    for count in range(1, 7):
        shards = [tool.shard_of(NAMES, i, count) for i in range(count)]
        assert sorted(sum(shards, [])) == NAMES  # each exactly once
    env_forms = [
        (dict(SLURM_ARRAY_TASK_ID='5', SLURM_ARRAY_TASK_MIN='4', SLURM_ARRAY_TASK_MAX='7'),
         (1, 4)),
        (dict(SLURM_ARRAY_TASK_ID='6', SLURM_ARRAY_TASK_MIN='0', SLURM_ARRAY_TASK_MAX='8',
              SLURM_ARRAY_TASK_STEP='2'), (3, 5)),
        (dict(SLURM_ARRAY_TASK_ID='2', SLURM_ARRAY_TASK_COUNT='3'), (2, 3)),
        (dict(RANK='1', WORLD_SIZE='2'), (1, 2)),
        ({}, (0, 1)),
    ]
    for env, expected in env_forms:
        assert tool.resolve_shard(None, env)[:2] == expected, env
    # every task of a Slurm array --array=1-3 covers the list once
    covered = sum((tool.shard_of(NAMES, *tool.resolve_shard(None, dict(
        SLURM_ARRAY_TASK_ID=str(t), SLURM_ARRAY_TASK_MIN='1', SLURM_ARRAY_TASK_MAX='3'))[:2])
        for t in (1, 2, 3)), [])
    assert sorted(covered) == NAMES
    assert tool.resolve_shard('2/3', dict(RANK='0', WORLD_SIZE='2'))[:2] == (2, 3)
    for bad, env in (('3/3', {}), ('x', {}), (None, dict(RANK='2', WORLD_SIZE='2')),
                     (None, dict(SLURM_ARRAY_TASK_ID='1'))):
        with pytest.raises(ValueError):
            tool.resolve_shard(bad, env)

    # three shards into one folder: each mines its own; the last merge sees them all
    out = tmp_path / 'out'
    for i in range(3):
        results = mine(tool, recordings, tool_inputs['model'], out, '--shard', f'{i}/3')
        assert set(results) == set(sum((tool.shard_of(NAMES, k, 3) for k in range(i + 1)),
                                       []))
        summary = json.loads((out / 'summary.json').read_text())
        assert summary['missing'] == [n for n in NAMES if n not in results]
    assert {n: r['frames'] for n, r in results.items()} == FRAMES
    assert all(r['shard'] == [NAMES.index(n) % 3, 3] for n, r in results.items())
    assert summary['done'] == 5 and summary['frames'] == sum(FRAMES.values())
    assert [r['recording'] for r in summary['rows']] == NAMES
    assert 'summary written to' in capsys.readouterr().out


def test_resume_skips_finished_and_redoes_the_rest(tool, recordings, tool_inputs,
                                                   tmp_path, capsys):
    out = tmp_path / 'out'
    first = mine(tool, recordings, tool_inputs['model'], out)
    assert set(first) == set(NAMES)
    hit = first['drive_a']['result']['hits'][0]
    assert hit['frame'] == 'frame_000000.jpg' and len(hit['detections']) == 3
    stamps = {n: os.stat(out / f'{n}.json').st_mtime_ns for n in NAMES}
    # a result cut short, one deleted, and the temporary file of a stopped run
    cut = out / 'day2' / 'drive_d.json'
    cut.write_text(cut.read_text()[:200])
    (out / 'drive_b.json').unlink()
    stale = out / '.record-abc123.json'
    stale.write_text('{"complete": tr')
    old = time.time() - 2 * tool.STALE_TMP_S
    os.utime(stale, (old, old))
    capsys.readouterr()
    second = mine(tool, recordings, tool_inputs['model'], out)
    log = capsys.readouterr().out
    assert '5, 3 already done, 2 to mine' in log
    for name in NAMES:
        redone = name in ('day2/drive_d', 'drive_b')
        assert (os.stat(out / f'{name}.json').st_mtime_ns != stamps[name]) == redone, name
        assert second[name]['result'] == first[name]['result']
    assert not stale.exists() and 'temporary file(s) of stopped runs removed' in log
    # a recording that cannot be read fails alone: the others are done, it is missing
    bad = tmp_path / 'with_bad'
    bad.mkdir()
    (bad / 'broken.mp4').write_bytes(b'not a video')
    os.symlink(recordings / 'drive_a.mp4', bad / 'drive_a.mp4')
    with pytest.raises(SystemExit, match='1 recording.* failed.*broken'):
        tool.main([str(bad), tool_inputs['model'], '--out-dir', str(tmp_path / 'bad_out')])
    summary = json.loads((tmp_path / 'bad_out' / 'summary.json').read_text())
    assert summary['missing'] == ['broken'] and summary['done'] == 1


def test_other_options_are_refused_without_overwrite(tool, recordings,
                                                     tool_inputs, tmp_path):
    out = tmp_path / 'out'
    first = mine(tool, recordings, tool_inputs['model'], out, '--shard', '0/2')
    with pytest.raises(SystemExit, match=r'(?s)drive_c\.json: score_thr 0\.5 -> 0\.4.*'
                       '--overwrite'):
        mine(tool, recordings, tool_inputs['model'], out, '--score-thr', 0.4)
    assert all(json.loads((out / f'{n}.json').read_text()) == r for n, r in first.items())
    again = mine(tool, recordings, tool_inputs['model'], out, '--score-thr', 0.4,
                 '--overwrite')
    assert set(again) == set(NAMES)
    assert all(r['options']['score_thr'] == 0.4 and r['result']['score_thr'] == 0.4
               for r in again.values())
    assert len({r['fingerprint'] for r in again.values()} |
               {r['fingerprint'] for r in first.values()}) == 2


def test_two_workers_give_the_results_of_one(tool, recordings, tool_inputs,
                                             tmp_path):
    args = ('--track', '--rank', '--classes', 'vehicle', 'pedestrian')
    one = mine(tool, recordings, tool_inputs['model'], tmp_path / 'one', *args)
    two = mine(tool, recordings, tool_inputs['model'], tmp_path / 'two', *args,
               '--workers', 2)
    assert set(one) == set(two) == set(NAMES)
    cores = len(os.sched_getaffinity(0))
    for name in NAMES:
        assert two[name]['result'] == one[name]['result'], name
        assert two[name]['ranked'] == one[name]['ranked'], name
        assert two[name]['frames'] == one[name]['frames'] == FRAMES[name]
        assert one[name]['threads'] == cores and two[name]['threads'] == max(1, cores // 2)
        assert two[name]['result']['hits'][0]['detections'][0]['track_id'] == 1
    assert {r['worker'] for r in two.values()} <= {0, 1}
    assert one['drive_a']['ranked']['order']
    # where each recording's time went: the stages add up to its seconds
    for result in (*one.values(), *two.values()):
        stages = result['stage_ms']
        assert set(stages) == {'frames', 'inference', 'tracking', 'ranking', 'hits', 'other'}
        # (seconds are rounded to the millisecond, each stage to the microsecond)
        assert sum(stages.values()) == pytest.approx(
            1000 * result['seconds'] / result['frames'], abs=0.5 / result['frames'] + 0.01)
        assert min(stages.values()) >= 0 and stages['inference'] > 0


def test_benchmark_sums_the_workers_and_renders(tool, recordings, tool_inputs, tmp_path,
                                                monkeypatch):
    """tools/analysis/benchmark_mining.py on the small recordings, 2 workers, one round:
    the loop's frames per second is the sum of each worker's own (its results' frames over
    their seconds), the ratio is loop over model only, and the doc view shows the record."""
    monkeypatch.syspath_prepend(os.path.join(REPO, 'tools', 'analysis'))
    bench = importlib.import_module('benchmark_mining')  # by name: spawned processes
    record = tmp_path / 'mining_speed.json'
    bench.main([tool_inputs['model'], '--videos', str(recordings), '--work-dir',
                str(tmp_path / 'bench'), '--workers', '2', '--rounds', '1', '--repeat', '3',
                '--warmup', '1', '--record', str(record)])
    result = json.loads(record.read_text())
    row, = result['rows']
    mined = [json.loads(p.read_text()) for p in (tmp_path / 'bench').rglob('*.json')
             if p.name != 'summary.json']
    assert sum(r['frames'] for r in mined) == sum(FRAMES.values()) == row['frames']
    per_worker = {}
    for r in mined:
        frames, seconds = per_worker.get(r['worker'], (0, 0.0))
        per_worker[r['worker']] = (frames + r['frames'], seconds + r['seconds'])
    assert row['loop_fps'] == pytest.approx(sum(f / s for f, s in per_worker.values()),
                                            rel=1e-3)
    assert row['ratio'] == pytest.approx(row['loop_fps'] / row['model_fps'], abs=1e-3)
    assert result['best_ratio'] == pytest.approx(row['ratio'], abs=1e-3)
    assert result['met'] == (result['best_ratio'] >= 0.8)
    render = _load('tools/misc/render_doc_tables.py')
    text = '\n'.join(render.view_mining_speed(result, {}))
    assert f"| 2 | 1 | {row['model_fps']:.1f} | {row['loop_fps']:.1f} |" in text
    assert '| tracking |' in text and 'goal >= 0.8' in text


def test_help_names_slurm_and_torchrun(tool, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tool.parse_args(['--help'])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert 'sbatch --array' in text and 'torchrun' in text and '--workers' in text


def test_a_worker_builds_its_session_with_its_share_of_threads(tool, recordings,
                                                                tool_inputs):
    args = tool.parse_args([str(recordings), tool_inputs['model']])
    inferencer = tool.worker_model(args, 1)[0]
    options = inferencer.detector.backend.session.get_session_options()
    assert options.intra_op_num_threads == 1
    # its thread pool does not spin between frames, taking the loop's cores
    assert options.get_session_config_entry('session.force_spinning_stop') == '1'
    assert args.threads is None  # the worker's share does not leak into the run's options


def test_the_loop_decodes_ahead_in_order_and_stops_cleanly(tool, tool_inputs, tmp_path):
    """mine_frames.prefetch (the decoding thread of the frame loop): the source's items in
    their order, an error in its place, the thread and the source closed when the loop
    stops early; and the loop's frames and fingerprints are the decoder's."""
    import sys
    import threading

    from yolox_kpt.runtime import KeypointDetector
    from yolox_kpt.runtime.mining_signals import frame_fingerprint
    from yolox_kpt.utils.media import iter_frames
    frames = sys.modules['mine_frames']  # the tool's sibling, imported by it
    assert list(frames.prefetch(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield from range(3)
        raise ValueError('frame 3 is broken')
    got = []
    with pytest.raises(ValueError, match='frame 3 is broken'):
        for item in frames.prefetch(failing()):
            got.append(item)
    assert got == [0, 1, 2]

    closed = threading.Event()

    def endless():
        try:
            yield from iter(int, 1)  # zeros for ever
        finally:
            closed.set()
    loop = frames.prefetch(endless(), depth=3)
    assert [next(loop) for _ in range(5)] == [0] * 5
    loop.close()
    assert closed.is_set() and 'prefetch' not in [t.name for t in threading.enumerate()]

    video = str(tmp_path / 'noise.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 5, (WIDTH, HEIGHT))
    rng = np.random.default_rng(0)
    for _ in range(7):
        writer.write(rng.integers(0, 255, (HEIGHT, WIDTH, 3), np.uint8))
    writer.release()
    looped = list(frames.detect_frames(video, 2, KeypointDetector(tool_inputs['model']), 0.3,
                                       bar=dict(disable=True), fingerprints=True))
    decoded = list(iter_frames(video, 2))
    assert [f.name for f in looped] == [name for name, _, _ in decoded] and len(looped) == 4
    for frame, (_, _, image) in zip(looped, decoded):
        assert np.array_equal(frame.image, image)
        assert np.array_equal(frame.fingerprint, frame_fingerprint(image))
    assert len({f.fingerprint.tobytes() for f in looped}) == 4  # noise: no two alike
