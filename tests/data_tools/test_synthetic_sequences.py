"""Synthetic video sequences: ground-truth track ids are consistent (one class and one box
a frame per id, never reused by another actor), objects move smoothly, enter, leave and
occlude each other, and the COCO-VID file is complete, deterministic and what the tool
writes."""
import json
from collections import defaultdict

import cv2
import numpy as np
import pytest

from yolox_kpt.data_tools.synthetic_sequences import generate_synthetic_sequences


@pytest.fixture(scope='module')
def sequences(tmp_path_factory):
    root = tmp_path_factory.mktemp('sequences')
    paths = generate_synthetic_sequences(root, num_sequences=2, frames_per_sequence=24,
                                         img_size=(256, 160), seed=3, num_actors=(8, 10),
                                         video=True)
    return paths, json.loads(paths['annotations'].read_text())


def test_file_layout(sequences):
    paths, data = sequences
    assert [v['name'] for v in data['videos']] == ['seq_000', 'seq_001']
    assert all('camera' in v and v['fps'] == 10.0 for v in data['videos'])
    assert len(data['images']) == 48
    for img in data['images']:
        assert img['file_name'] == f'seq_{img["video_id"] - 1:03d}/{img["frame_id"]:06d}.jpg'
        assert (paths['images'] / img['file_name']).is_file()
    frames = defaultdict(list)
    for img in data['images']:
        frames[img['video_id']].append(img['frame_id'])
    assert all(f == list(range(24)) for f in frames.values())
    for ann in data['annotations']:
        assert ann['track_id'] == ann['instance_id'] >= 1 and 0 <= ann['visibility'] <= 1
        assert len(ann['keypoints']) == 3 * {1: 4, 2: 0, 3: 0, 4: 2}[ann['category_id']]
    for mp4 in paths['videos']:
        cap = cv2.VideoCapture(str(mp4))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 24
        assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) \
            == (256, 160)
        cap.release()


def test_track_ids_are_consistent(sequences):
    _, data = sequences
    video_of = {img['id']: img['video_id'] for img in data['images']}
    per_track = defaultdict(list)
    per_image = defaultdict(list)
    for ann in data['annotations']:
        per_track[ann['track_id']].append(ann)
        per_image[ann['image_id']].append(ann['track_id'])
    assert all(len(ids) == len(set(ids)) for ids in per_image.values())
    for anns in per_track.values():
        assert len({a['category_id'] for a in anns}) == 1
        assert len({video_of[a['image_id']] for a in anns}) == 1
    faces = [a for a in data['annotations'] if a['category_id'] == 2]
    parent_track = {a['id']: a['track_id'] for a in data['annotations']}
    # a face keeps to one vehicle: its parent vehicle's track id never changes
    by_face = defaultdict(set)
    for f in faces:
        by_face[f['track_id']].add(parent_track[f['parent_id']])
    assert faces and all(len(v) == 1 for v in by_face.values())


def test_objects_move_cross_occlude_enter_and_leave(sequences):
    _, data = sequences
    frame_of = {img['id']: (img['video_id'], img['frame_id']) for img in data['images']}
    tracks = defaultdict(dict)
    for ann in data['annotations']:
        x, y, w, h = ann['bbox']
        tracks[ann['track_id']][frame_of[ann['image_id']][1]] = np.array([x + w / 2, y + h / 2])
    steps, moving = [], 0
    for frames in tracks.values():
        f = sorted(frames)
        d = [np.linalg.norm(frames[b] - frames[a]) for a, b in zip(f, f[1:]) if b == a + 1]
        steps += d
        moving += bool(d) and np.median(d) > 0.3
    assert moving >= len(tracks) // 2  # most objects move...
    assert np.percentile(steps, 99) < 40  # ...smoothly (centres at 256 px wide)
    lengths = [len(f) for f in tracks.values()]
    assert min(lengths) < 24 and max(lengths) == 24  # some enter or leave, some stay
    assert any(a['visibility'] < 0.5 for a in data['annotations'])  # occlusions
    # crossing: two objects of one class whose left-right order flips in a sequence
    flips = 0
    ids = list(tracks)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            common = sorted(set(tracks[a]) & set(tracks[b]))
            side = {np.sign(tracks[a][f][0] - tracks[b][f][0]) for f in common}
            flips += len(common) > 1 and {-1.0, 1.0} <= side
    assert flips >= 1


def test_deterministic(sequences, tmp_path):
    paths, data = sequences
    again = generate_synthetic_sequences(tmp_path, num_sequences=2, frames_per_sequence=24,
                                         img_size=(256, 160), seed=3, num_actors=(8, 10))
    assert json.loads(again['annotations'].read_text()) == data
    other = generate_synthetic_sequences(tmp_path / 'o', num_sequences=1,
                                         frames_per_sequence=2, img_size=(256, 160), seed=4)
    assert json.loads(other['annotations'].read_text())['videos'][0]['camera'] != \
        data['videos'][0]['camera']


def test_tool(tmp_path, capsys):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / 'tools' / 'misc' / \
        'generate_synthetic_sequences.py'
    spec = importlib.util.spec_from_file_location('_gen_seq', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(['--out-dir', str(tmp_path), '--sequences', '1',
                      '--frames-per-sequence', '3', '--img-size', '128', '96']) == 0
    out = capsys.readouterr().out
    assert '1 sequences, 3 frames' in out and 'annotations written to' in out
    assert (tmp_path / 'annotations' / 'sequences.json').is_file()
    with pytest.raises(SystemExit):
        tool.main(['--out-dir', str(tmp_path), '--frames-per-sequence', '0'])
