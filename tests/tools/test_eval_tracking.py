"""``tools/analysis/eval_tracking.py``: a tiny run on generated sequences writes the JSON
(and record) with every variant's HOTA/IDF1/MOTA/IDSW; perfect detections score perfectly;
on hand-made crossing vehicles the keypoint-aware tracker is no worse than IoU alone; bad
files are refused naming the field."""
import importlib.util
import json
import os.path as osp

import pytest

from small_run import REPO  # tests/tools/small_run.py

from yolox_kpt.data_tools.driving_schema import coco_categories
from yolox_kpt.data_tools.synthetic_sequences import generate_synthetic_sequences

COLUMNS = {'HOTA', 'DetA', 'AssA', 'IDF1', 'MOTA', 'IDSW'}
EXACT = ['--box-jitter', '0', '--miss-rate', '0', '--fp-rate', '0', '--score-noise', '0',
         '--kpt-jitter', '0', '--occlusion-cut', '0', '--min-visibility', '0.5']


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location(
        '_tool_eval_tracking', osp.join(REPO, 'tools', 'analysis', 'eval_tracking.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def ann_file(tmp_path_factory):
    root = tmp_path_factory.mktemp('seqs')
    return str(generate_synthetic_sequences(root, num_sequences=2, frames_per_sequence=15,
                                            img_size=(320, 192), seed=5,
                                            num_actors=(6, 8))['annotations'])


def test_tiny_run_json_and_record(tool, ann_file, tmp_path, capsys):
    out, record = tmp_path / 'out.json', tmp_path / 'record.json'
    result = tool.main([ann_file, '--out', str(out), '--record', str(record)])
    printed = capsys.readouterr().out
    assert 'keypoint  all' in printed and 'iou       all' in printed
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    assert saved['data']['sequences'] == 2 and saved['data']['frames'] == 30
    assert saved['detections']['kind'].startswith('ground truth perturbed')
    assert saved['tracker']['oks_weight'] == 0.5
    for variant in ('keypoint', 'iou'):
        res = saved['variants'][variant]
        assert COLUMNS <= set(res['all']) and 'vehicle' in res
        assert 0 < res['all']['HOTA'] <= 100 and res['all']['IDSW'] >= 0
        assert res['keypoint_error_px'] > 0
    # smoothing: the returned keypoints are closer to the labels than the detected ones
    assert saved['variants']['keypoint']['keypoint_error_px'] < \
        saved['variants']['keypoint_error_px_as_detected']
    rec = json.loads(record.read_text())
    assert rec['source']['command'] and rec['variants'] == saved['variants']


def test_exact_detections_track_perfectly(tool, ann_file, tmp_path):
    result = tool.main([ann_file, '--out', str(tmp_path / 'o.json'), *EXACT])
    for variant in ('keypoint', 'iou'):
        res = result['variants'][variant]['all']
        # a track is returned from its second frame on (once confirmed): not quite 100
        assert res['IDSW'] == 0 and res['AssA'] > 95 and res['DetA'] > 95


def _crossing_file(path, pairs=3, frames=30, speed=8):
    """Vehicle pairs crossing: the far one (higher box, higher tyres) passes behind the
    near one; visibility from the boxes' overlap."""
    images, anns, videos = [], [], []

    def cover(a, b):
        ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
        iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
        return ix * iy / ((a[2] - a[0]) * (a[3] - a[1]))

    for p in range(pairs):
        videos.append(dict(id=p + 1, name=f'cross{p}'))
        for f in range(frames):
            images.append(dict(id=len(images) + 1, file_name=f'{p}/{f}.jpg', width=640,
                               height=384, video_id=p + 1, frame_id=f))
            xa, xb = 60 + speed * f, 60 + speed * (frames - 1 - f)
            far, near = [xa, 190, xa + 80, 238], [xb, 196, xb + 110, 262]
            for tid, box, other, tyres in ((2 * p + 1, far, near, (10, 40)),
                                           (2 * p + 2, near, None, (64, 94))):
                vis = 1 - cover(box, other) if other else 1.0
                kpts = [0, 0, 0] * 2 + [box[0] + tyres[0], box[3], 2, box[0] + tyres[1],
                                        box[3], 2]
                anns.append(dict(id=len(anns) + 1, image_id=len(images), category_id=1,
                                 bbox=[box[0], box[1], box[2] - box[0], box[3] - box[1]],
                                 area=1, iscrowd=0, keypoints=kpts, num_keypoints=2,
                                 track_id=tid, visibility=round(vis, 3)))
    path.write_text(json.dumps(dict(videos=videos, images=images, annotations=anns,
                                    categories=coco_categories())))
    return str(path)


def test_keypoints_no_worse_than_iou_on_crossings(tool, tmp_path):
    ann = _crossing_file(tmp_path / 'cross.json')
    for seed in ('0', '1'):
        res = tool.main([ann, '--out', str(tmp_path / 'c.json'), '--seed', seed,
                         '--box-jitter', '0.08'])['variants']
        kp, iou = res['keypoint']['all'], res['iou']['all']
        assert kp['HOTA'] >= iou['HOTA'] and kp['IDF1'] >= iou['IDF1']
        assert kp['IDSW'] <= iou['IDSW']


def test_bad_files_are_refused(tool, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(images=[], annotations=[], categories=[])))
    with pytest.raises(SystemExit, match='no "videos" list'):
        tool.main([str(bad)])
    bad.write_text(json.dumps(dict(videos=[dict(id=1)], images=[dict(id=7, video_id=1)],
                                   annotations=[], categories=[])))
    with pytest.raises(SystemExit, match='image 7 has no "frame_id"'):
        tool.main([str(bad)])
    bad.write_text(json.dumps(dict(videos=[], images=[], categories=[],
                                   annotations=[dict(id=3, image_id=1)])))
    with pytest.raises(SystemExit, match='annotation 3 has no "track_id"'):
        tool.main([str(bad)])
