"""tools/analysis/active_learning.py end to end at a tiny size: one seed, a few generated
frames, two epochs a training. What is checked is what a bug in the experiment would break:
the sets it trains on, the picks, and the record the docs render."""
import json
import os.path as osp
import subprocess
import sys

from small_run import REPO  # tests/tools/small_run.py

sys.path.insert(0, osp.join(REPO, 'tools', 'misc'))
import render_doc_tables  # noqa: E402

from yolox_kpt.data_tools.active_learning import pick_random  # noqa: E402

NO_WORKERS = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
              'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']


def names(path):
    with open(path) as f:
        data = json.load(f)
    return [img['file_name'] for img in data['images']], data


def test_active_learning_round_trains_on_the_picks_and_records_them(tmp_path):
    labelled, pool, k, seed = 4, 6, 2, 5
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'analysis', 'active_learning.py'),
         '--labelled', str(labelled), '--pool', str(pool), '--k', str(k), '--val', '2',
         '--epochs', '2', '--finetune-epochs', '2', '--seeds', str(seed), '--work-dir', str(tmp_path),
         '--img-size', '160', '128', '--mine-args=--score-thr 0.2 --margin-band 0.19',
         '--cfg-options', *NO_WORKERS],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / 'active_learning.json').read_text())
    assert record['source']['command'].startswith('python tools/analysis/active_learning.py')
    assert record['sizes'] == dict(labelled=labelled, pool=pool, k=k, val=2)
    assert record['mining']['options'] == ['--rank', '--flip', '--score-thr', '0.2',
                                           '--margin-band', '0.19']
    assert record['mining']['score_thr'] == 0.2  # the options reached mine_frames
    assert 'flip_disagreement' in record['mining']['signals']
    (run,) = record['runs']
    seed_dir = tmp_path / f'seed{seed}'
    labelled_names, _ = names(seed_dir / 'labelled.json')
    pool_names, _ = names(seed_dir / 'pool.json')
    assert sorted(labelled_names) == run['labelled'] and len(labelled_names) == labelled
    assert len(pool_names) == pool and not set(pool_names) & set(labelled_names)
    assert sorted(p.name for p in (seed_dir / 'pool').iterdir()) == sorted(pool_names)

    # ranked: the head of the rank mine_frames wrote; random: the seed's draw
    with open(run['ranking_file']) as f:
        ranking = json.load(f)
    assert sorted(f['frame'] for f in ranking['frames']) == sorted(pool_names)
    assert run['picks']['ranked'] == ranking['order'][:k]
    assert run['picks']['random'] == pick_random(pool_names, k, seed)
    scores = {f['frame']: f['score'] for f in ranking['frames']}
    assert run['scored_frames'] == sum(s > 0 for s in scores.values())
    assert run['ranked_scores'] == [scores[n] for n in run['picks']['ranked']]
    assert min(run['ranked_scores']) >= max(
        s for n, s in scores.items() if n not in run['picks']['ranked'])
    for arm in ('ranked', 'random'):
        picks = run['picks'][arm]
        assert len(set(picks)) == k and set(picks) <= set(pool_names)
        trained, data = names(seed_dir / f'train_{arm}.json')
        assert trained == labelled_names + picks  # what the arm trained on
        ids = {img['id'] for img in data['images']}
        assert len(data['annotations']) == (run['labels']['labelled']['objects'] +
                                            run['labels'][arm]['objects'])
        assert all(a['image_id'] in ids for a in data['annotations'])
        config = open(seed_dir / arm / 'config.py').read()
        assert config.count(str(seed_dir / f'train_{arm}.json')) == 1
        # both arms start from model A's last checkpoint
        assert f"load_from='{seed_dir / 'model_a' / 'epoch_2.pth'}'" in config

    # every arm scored, and the summary is made of the runs' figures
    for arm in ('labelled', 'ranked', 'random'):
        metrics = run['metrics'][arm]
        assert 0 <= metrics['bbox_mAP'] <= 1 and 'kpt_AP_vehicle' in metrics
        assert record['summary'][arm]['bbox_mAP']['values'] == [metrics['bbox_mAP']]
    diff = record['difference']['kpt_AP']
    assert diff['values'] == [round(run['metrics']['ranked']['kpt_AP'] -
                                    run['metrics']['random']['kpt_AP'], 4)]

    # the docs' view reads the record
    lines = render_doc_tables.view_active_learning(record, {})
    assert lines[0].startswith('| metric | model A (4 labelled frames) | + 2 ranked |')
    assert any(line.startswith('| keypoint AP vehicle |') for line in lines)
    assert '1 seeds' in lines[-1] and 'model A fine-tuned' in lines[-1]
    assert record['epochs'] == dict(model_a=2, arms=2)
    assert f'record written to {tmp_path / "active_learning.json"}' in proc.stdout
