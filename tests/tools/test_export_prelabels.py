"""``tools/mining/export_prelabels.py`` on a hits file as mine_frames writes it and generated
frames: the COCO files, CVAT zips and labels, LabelMe files beside frame copies (read back by
the project's converter), the layout from an exported model's sidecar, and the refusal to
overwrite."""
import importlib.util
import json
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from yolox_kpt.data_tools.converters import labelme_to_coco
from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT as LAYOUT
from yolox_kpt.keypoint_layout import KeypointLayout
from yolox_kpt.runtime import Preprocess, RuntimeMeta

from small_run import REPO  # tests/tools/small_run.py

W, H = 128, 96


def load_tool():
    path = osp.join(REPO, 'tools', 'mining', 'export_prelabels.py')
    spec = importlib.util.spec_from_file_location('_export_prelabels', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def detection(label, box, **keypoints):
    """A detection as mine_frames writes it, keypoints as the demos do: name: [x, y, score]."""
    return dict(label=label, score=0.9, bbox=box,
                keypoints={k: list(v) for k, v in keypoints.items()})


@pytest.fixture
def mined(tmp_path):
    """An exported model's sidecar (the layout), the frames of --copy-to, and the hits."""
    model_dir = tmp_path / 'deploy'
    model_dir.mkdir()
    (model_dir / 'end2end.engine').write_bytes(b'engine')
    RuntimeMeta(layout=LAYOUT, preprocess=Preprocess(scale=(W, W))).write_sidecar(
        str(model_dir))
    frames = tmp_path / 'frames'
    frames.mkdir()
    for name in ('frame_000000.jpg', 'frame_000005.jpg'):
        cv2.imwrite(str(frames / name), np.full((H, W, 3), 90, np.uint8))
    hits = [
        dict(frame='frame_000000.jpg', seconds=0.0, detections=[
            detection('vehicle', [10, 20, 60, 70], front_left_tyre=(15, 68, 0.9),
                      front_right_tyre=(55, 69, 0.2), rear_left_tyre=(20, 60, 0.8)),
            detection('pedestrian', [70, 10, 90, 60])]),
        dict(frame='frame_000005.jpg', seconds=1.0, detections=[
            detection('cyclist', [30, 30, 100, 90], front_wheel=(90, 88, 0.7),
                      rear_wheel=(40, 87, 0.95))]),
    ]
    hits_file = tmp_path / 'drive03.json'
    hits_file.write_text(json.dumps(dict(
        source='drive03.mp4', model=str(model_dir / 'end2end.engine'),
        classes=list(LAYOUT.classes), score_thr=0.5, min_height=0, min_area=0, every=5,
        frames_seen=2, calibration=None, hits=hits)))
    return hits_file, frames


def test_export_writes_cvat_and_labelme_files(mined, tmp_path, capsys):
    hits_file, frames = mined
    out = tmp_path / 'prelabels'
    tool = load_tool()
    assert tool.main([str(hits_file), str(frames), '--out-dir', str(out)]) == 0
    log = capsys.readouterr().out
    assert '2 hit frames, 3 detections' in log and str(out / 'labelme') in log

    full = COCO(str(out / 'annotations' / 'instances_default.json'))
    assert [i['file_name'] for i in full.dataset['images']] == ['frame_000000.jpg',
                                                                 'frame_000005.jpg']
    assert [full.cats[a['category_id']]['name'] for a in full.dataset['annotations']] == \
        ['vehicle', 'pedestrian', 'cyclist']
    vehicle, _, cyclist = full.dataset['annotations']
    # low-score tyre (0.2 < 0.3) and the tyre the hit lacks: v=0
    assert vehicle['keypoints'] == [15, 68, 2, 0, 0, 0, 20, 60, 2, 0, 0, 0]
    assert cyclist['keypoints'] == [90, 88, 2, 40, 87, 2]

    kpt = json.loads((out / 'annotations' / 'person_keypoints_default.json').read_text())
    assert [c['name'] for c in kpt['categories']] == ['vehicle', 'cyclist']
    for zip_name, member in (('cvat_coco_keypoints.zip', 'person_keypoints_default.json'),
                             ('cvat_coco_boxes.zip', 'instances_default.json')):
        with zipfile.ZipFile(out / zip_name) as z:
            assert z.namelist() == [f'annotations/{member}']
            assert json.loads(z.read(z.namelist()[0])) == json.loads(
                (out / 'annotations' / member).read_text())
    assert KeypointLayout.from_json(out / 'layout.json') == LAYOUT
    labels = json.loads((out / 'cvat_labels.json').read_text())
    assert [(lb['name'], lb['type']) for lb in labels] == [
        ('vehicle', 'skeleton'), ('vehicle_face', 'rectangle'), ('pedestrian', 'rectangle'),
        ('cyclist', 'skeleton')]

    # LabelMe: frame copies with their JSON beside them; the converter reads them back
    jsons = sorted((out / 'labelme').glob('*.json'))
    assert [p.name for p in jsons] == ['frame_000000.json', 'frame_000005.json']
    assert (out / 'labelme' / 'frame_000000.jpg').is_file()
    data = json.loads(jsons[0].read_text())
    assert data['imagePath'] == 'frame_000000.jpg' and data['imageData'] is None
    back, counts = labelme_to_coco(jsons, LAYOUT, out / 'labelme', show_progress=False)
    assert counts['missing_images'] == []
    for a, b in zip(back['annotations'], full.dataset['annotations']):
        assert (a['category_id'], a['bbox'], a['keypoints']) == \
            (b['category_id'], b['bbox'], b['keypoints'])


def test_export_refuses_to_overwrite(mined, tmp_path):
    hits_file, frames = mined
    out = tmp_path / 'prelabels'
    tool = load_tool()
    argv = [str(hits_file), str(frames), '--out-dir', str(out), '--format', 'labelme']
    tool.main(argv)
    first = (out / 'labelme' / 'frame_000000.json').read_text()
    with pytest.raises(SystemExit, match='frame_000000.jpg already exists; pass --overwrite'):
        tool.main(argv + ['--kpt-thr', '0.1'])
    assert (out / 'labelme' / 'frame_000000.json').read_text() == first
    assert not (out / 'annotations').exists()  # --format labelme wrote no COCO
    tool.main(argv + ['--kpt-thr', '0.1', '--overwrite'])
    assert '"front_right_tyre"' in (out / 'labelme' / 'frame_000000.json').read_text()
    # the other format into the same folder: its layout.json is the same, so no refusal
    tool.main(argv[:-1] + ['coco'])
    assert (out / 'cvat_coco_keypoints.zip').is_file()


def test_export_names_a_missing_frame_and_an_unknown_layout(mined, tmp_path):
    hits_file, frames = mined
    tool = load_tool()
    (frames / 'frame_000005.jpg').unlink()
    with pytest.raises(SystemExit, match=r'hits\[1\] \(frame_000005.jpg\).*--copy-to'):
        tool.main([str(hits_file), str(frames), '--out-dir', str(tmp_path / 'a')])
    hits = json.loads(hits_file.read_text())
    hits['model'] = str(tmp_path / 'gone.onnx')
    hits_file.write_text(json.dumps(hits))
    with pytest.raises(SystemExit, match='pass --config or --layout'):
        tool.main([str(hits_file), str(frames), '--out-dir', str(tmp_path / 'b')])
