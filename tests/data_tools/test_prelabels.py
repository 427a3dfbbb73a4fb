"""Pre-labels (``yolox_kpt.data_tools.prelabels``): detections -> COCO keypoints / LabelMe, read
back by pycocotools, the project's dataset and its LabelMe converter; the CVAT parts of the
COCO file; the reader of mine_frames' hits."""
import json
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from yolox_kpt.data_tools.coco import ConverterError, coco_categories
from yolox_kpt.data_tools.converters import labelme_to_coco
from yolox_kpt.data_tools.driving_schema import DRIVING_LAYOUT as LAYOUT
from yolox_kpt.data_tools.prelabels import (cvat_keypoint_coco, cvat_labels,
                                            detections_to_coco, detections_to_labelme,
                                            hit_detections, keypoint_states)
from yolox_kpt.runtime import Detections

THR = 0.3
W, H = 160, 96
# slots: front_left_tyre front_right_tyre rear_left_tyre rear_right_tyre front_wheel rear_wheel
VEHICLE, FACE, PEDESTRIAN, CYCLIST = range(4)


def frame_a():
    """Every case on one frame: a vehicle with a low-score tyre, a tyre outside the image and
    high scores in the cyclist's (not owned) slots; a cyclist; a keypoint-less pedestrian
    whose unowned slots all score high; a vehicle face; a box reaching out of the image."""
    kpts = np.zeros((4, 6, 2), np.float32)
    scores = np.zeros((4, 6), np.float32)
    kpts[0] = [[20.25, 60.5], [50.5, 62], [30, 55.75], [58, 57], [11, 12], [13, 14]]
    scores[0] = [0.9, 0.1, 0.8, 0.95, 0.99, 0.99]  # tyre 2 below THR; wheels not owned
    kpts[1] = [[1, 1], [2, 2], [3, 3], [4, 4], [100.5, 80], [130, 81.25]]
    scores[1] = [0.9, 0.9, 0.9, 0.9, 0.7, 0.31]
    kpts[2] = 40
    scores[2] = 0.99
    kpts[3, 0] = (170, 50)  # a tyre beyond the right edge, with a high score
    scores[3] = [0.9, 0.9, 0.9, 0.9, 0, 0]
    boxes = [[10, 30, 70, 70.5], [90, 40, 140, 90], [60, 10, 75, 50], [120, 20, 175, 60]]
    return Detections(np.array(boxes), np.array([0.91, 0.8, 0.77, 0.6]),
                      np.array([VEHICLE, CYCLIST, PEDESTRIAN, VEHICLE]), kpts, scores, LAYOUT)


def frame_b():
    """A frame of another size: a face, and a vehicle wholly right of the image (left out)."""
    return Detections(np.array([[70, 10, 90, 30], [5, 5, 30, 25]]), np.array([0.6, 0.5]),
                      np.array([VEHICLE, FACE]), np.full((2, 6, 2), 8), np.ones((2, 6)),
                      LAYOUT)


def frames():
    return [('a.jpg', W, H, frame_a()), ('sub_b.png', 64, 48, frame_b())]


def expected(dets, width, height):
    """Labels, (M, K_total, 3) x y v and clipped x1 y1 x2 y2 the files must give back,
    computed directly from the rules: detections with a box in the image; keypoints in an
    owned slot, with score >= THR and inside the image."""
    out = np.zeros((len(dets), LAYOUT.num_keypoints, 3))
    for i, label in enumerate(dets.labels):
        for s in LAYOUT.class_slots[label]:
            (x, y), score = dets.keypoints[i, s], dets.keypoint_scores[i, s]
            if score >= THR and 0 <= x <= width and 0 <= y <= height:
                out[i, s] = (x, y, 2)
    boxes = np.clip(dets.bboxes, 0, [width, height, width, height])
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return dets.labels[keep].tolist(), out[keep], boxes[keep]


def write_images(folder):
    for name, width, height, _ in frames():
        cv2.imwrite(str(folder / name), np.full((height, width, 3), 80, np.uint8))


def test_states_follow_score_ownership_and_image():
    dets = frame_a()
    states = keypoint_states(dets, W, H, THR)
    assert states[0].tolist() == [2, 0, 2, 2, 0, 0]  # low tyre 0, wheels not the vehicle's
    assert states[1].tolist() == [0, 0, 0, 0, 2, 2]  # 0.31 >= THR kept
    assert states[2].tolist() == [0] * 6  # the pedestrian owns no slot
    assert states[3].tolist() == [0, 2, 2, 2, 0, 0]  # x=170 is outside the 160 px image
    vis = np.full((4, 6), 2)
    vis[0, 2] = 1
    vis[0, 3] = 0
    states = keypoint_states(dets, W, H, THR, vis)
    assert states[0].tolist() == [2, 0, 1, 0, 0, 0]


def test_coco_reads_back_with_pycocotools_and_the_dataset(tmp_path):
    from pycocotools.coco import COCO

    from yolox_kpt.datasets import CocoKptDataset
    write_images(tmp_path)
    coco = detections_to_coco(frames(), LAYOUT, THR)
    ann_file = tmp_path / 'instances_default.json'
    ann_file.write_text(json.dumps(coco))

    api = COCO(str(ann_file))
    assert [c['name'] for c in api.loadCats(api.getCatIds())] == list(LAYOUT.classes)
    assert api.dataset['categories'] == coco_categories(LAYOUT)
    img_a = api.getImgIds()[0]
    anns = api.loadAnns(api.getAnnIds(imgIds=[img_a]))
    labels, want, boxes = expected(frame_a(), W, H)
    assert [a['category_id'] - 1 for a in anns] == labels
    for ann, label, kp, box in zip(anns, labels, want, boxes):
        slots = list(LAYOUT.class_slots[label])
        # only the class's own keypoints, in its category's order
        assert np.allclose(np.reshape(ann['keypoints'], (-1, 3)), kp[slots])
        assert ann['num_keypoints'] == int((kp[:, 2] > 0).sum())
        assert np.allclose(ann['bbox'], [box[0], box[1], box[2] - box[0], box[3] - box[1]],
                           atol=0.01)
    assert anns[0]['score'] == pytest.approx(0.91) and anns[2]['keypoints'] == []

    ds = CocoKptDataset(ann_file=str(ann_file), data_root='',
                        data_prefix=dict(img=str(tmp_path)),
                        keypoint_layout=LAYOUT.to_config(), test_mode=True, pipeline=[])
    ds.full_init()
    assert len(ds) == 2
    for i, (name, width, height, dets) in enumerate(frames()):
        info = ds.get_data_info(i)
        assert info['img_path'].endswith(name)
        labels, want, boxes = expected(dets, width, height)
        got = info['instances']
        assert [g['bbox_label'] for g in got] == labels
        assert np.allclose([g['bbox'] for g in got], boxes, atol=0.01)
        assert np.allclose([g['keypoints'] for g in got], want, atol=0.01)


def test_labelme_round_trip_through_the_converter(tmp_path):
    write_images(tmp_path)
    files = []
    for name, width, height, dets in frames():
        data = detections_to_labelme(name, width, height, dets, LAYOUT, THR)
        assert data['imagePath'] == name and data['imageData'] is None
        path = tmp_path / (name.rsplit('.', 1)[0] + '.json')
        path.write_text(json.dumps(data))
        files.append(path)
        for shape in data['shapes']:  # points only of their rectangle's class
            if shape['shape_type'] == 'point':
                rect = next(s for s in data['shapes'] if s['shape_type'] == 'rectangle'
                            and s['group_id'] == shape['group_id'])
                label = LAYOUT.classes.index(rect['label'])
                assert shape['label'] in LAYOUT.class_keypoint_names(label)

    coco, counts = labelme_to_coco(files, LAYOUT, tmp_path, show_progress=False)
    assert counts['missing_images'] == [] and counts['occluded'] == 0
    assert [i['file_name'] for i in coco['images']] == ['a.jpg', 'sub_b.png']
    for image, (_, width, height, dets) in zip(coco['images'], frames()):
        assert (image['width'], image['height']) == (width, height)
        anns = [a for a in coco['annotations'] if a['image_id'] == image['id']]
        labels, want, boxes = expected(dets, width, height)
        assert [a['category_id'] - 1 for a in anns] == labels
        for ann, label, kp, box in zip(anns, labels, want, boxes):
            slots = list(LAYOUT.class_slots[label])
            assert np.allclose(np.reshape(ann['keypoints'], (-1, 3)), kp[slots], atol=0.01)
            assert np.allclose(ann['bbox'], [box[0], box[1], box[2] - box[0],
                                             box[3] - box[1]], atol=0.01)
    # the same objects as the COCO pre-labels, within their rounding
    direct = detections_to_coco(frames(), LAYOUT, THR)
    for a, b in zip(coco['annotations'], direct['annotations']):
        assert a['category_id'] == b['category_id']
        assert np.allclose(a['bbox'], b['bbox'], atol=0.01)
        assert np.allclose(a['keypoints'], b['keypoints'], atol=0.01)


def test_occluded_state_reaches_coco_and_labelme(tmp_path):
    write_images(tmp_path)
    vis = np.full((4, 6), 2)
    vis[0, 0] = 1
    coco = detections_to_coco(frames(), LAYOUT, THR, visibility=[vis, None])
    assert coco['annotations'][0]['keypoints'][2::3] == [1, 0, 2, 2]
    data = detections_to_labelme('a.jpg', W, H, frame_a(), LAYOUT, THR, vis)
    occluded = [s['label'] for s in data['shapes'] if s['flags'].get('occluded')]
    assert occluded == ['front_left_tyre']
    path = tmp_path / 'a.json'
    path.write_text(json.dumps(data))
    back, counts = labelme_to_coco([path], LAYOUT, tmp_path, show_progress=False)
    assert counts['occluded'] == 1
    assert back['annotations'][0]['keypoints'][2::3] == [1, 0, 2, 2]


def with_model_visibility(dets, occluded):
    """``dets`` with the head's (N, K, 3) probabilities of COCO v: p0 = 1 - s, p1 = s * o,
    p2 = s * (1 - o) from the keypoint scores s (0 in foreign slots) and P(occluded |
    labelled) ``occluded``."""
    s = np.where(LAYOUT.class_slot_mask()[dets.labels], dets.keypoint_scores, 0.0)
    vis = np.stack([1 - s, s * occluded, s * (1 - occluded)], -1)
    return Detections(*(getattr(dets, f) for f in ('bboxes', 'scores', 'labels', 'keypoints',
                                                   'keypoint_scores')),
                      LAYOUT, keypoint_visibility=vis)


def frames_with_visibility():
    """frame_a with the model's visibility: the vehicle's front-left tyre and the
    cyclist's front wheel occluded; the rear wheel (score 0.31) more likely unlabelled
    (p0 = 0.69) than either labelled state. frame_b as it is (without visibility)."""
    occluded = np.full((4, 6), 0.1)
    occluded[0, 0] = 0.9
    occluded[1, 4] = 0.8
    return [('a.jpg', W, H, with_model_visibility(frame_a(), occluded)),
            ('sub_b.png', 64, 48, frame_b())]


def test_the_models_own_states_reach_coco_labelme_and_the_hits_round_trip(tmp_path):
    from yolox_kpt.datasets import CocoKptDataset
    write_images(tmp_path)
    frames_v = frames_with_visibility()
    dets = frames_v[0][3]
    states = keypoint_states(dets, W, H, THR)
    assert states[0].tolist() == [1, 0, 2, 2, 0, 0]
    assert states[1].tolist() == [0, 0, 0, 0, 1, 0]  # 0.31 >= THR, but argmax says 0
    assert states[3].tolist() == [0, 2, 2, 2, 0, 0]
    # given states still win over the model's
    assert keypoint_states(dets, W, H, THR, np.full((4, 6), 2))[0].tolist() == \
        [2, 0, 2, 2, 0, 0]

    coco = detections_to_coco(frames_v, LAYOUT, THR)
    v = [a['keypoints'][2::3] for a in coco['annotations']]
    assert v[:2] == [[1, 0, 2, 2], [1, 0]] and v[3] == [0, 2, 2, 2]
    assert coco['annotations'][1]['num_keypoints'] == 1
    ann_file = tmp_path / 'instances_default.json'
    ann_file.write_text(json.dumps(coco))
    ds = CocoKptDataset(ann_file=str(ann_file), data_root='',
                        data_prefix=dict(img=str(tmp_path)),
                        keypoint_layout=LAYOUT.to_config(), test_mode=True, pipeline=[])
    ds.full_init()
    got = np.array([g['keypoints'] for g in ds.get_data_info(0)['instances']])
    assert got[0, :, 2].tolist() == [1, 0, 2, 2, 0, 0]
    assert got[1, :, 2].tolist() == [0, 0, 0, 0, 1, 0]

    # LabelMe: occluded flags, read back as v=1 by the project's converter
    files = []
    for name, width, height, d in frames_v:
        path = tmp_path / (name.rsplit('.', 1)[0] + '.json')
        path.write_text(json.dumps(detections_to_labelme(name, width, height, d, LAYOUT, THR)))
        files.append(path)
    back, counts = labelme_to_coco(files, LAYOUT, tmp_path, show_progress=False)
    assert counts['occluded'] == 2
    for a, b in zip(back['annotations'], coco['annotations']):
        assert np.allclose(a['keypoints'], b['keypoints'], atol=0.01)

    # mine_frames writes Detections.to_json into its hits; export_prelabels reads them back
    # with the same states
    hit, vis = hit_detections(dets.to_json(), LAYOUT, 'hits.json: hits[0]')
    assert hit.keypoint_visibility is None
    np.testing.assert_array_equal(keypoint_states(hit, W, H, THR, vis), states)
    again = detections_to_coco([('a.jpg', W, H, hit)], LAYOUT, THR, visibility=[vis])
    for a, b in zip(again['annotations'], coco['annotations']):
        assert np.allclose(a['keypoints'], b['keypoints'], atol=0.01)


def test_cvat_files_have_what_its_importers_read():
    coco = detections_to_coco(frames(), LAYOUT, THR)
    for ann in coco['annotations']:  # Datumaro's COCO extractor requires these types
        assert isinstance(ann['id'], int) and isinstance(ann['iscrowd'], int)
        assert ann['segmentation'] == [] and len(ann['bbox']) == 4
        cat = coco['categories'][ann['category_id'] - 1]
        assert len(ann['keypoints']) == 3 * len(cat['keypoints'])
    kpt = cvat_keypoint_coco(coco)
    # one skeleton category per class with keypoints, ids kept; boxes-only classes dropped
    assert [(c['id'], c['name']) for c in kpt['categories']] == [(1, 'vehicle'), (4, 'cyclist')]
    assert {a['category_id'] for a in kpt['annotations']} == {1, 4}
    assert len(kpt['annotations']) == 3 and kpt['images'] == coco['images']

    labels = {lb['name']: lb for lb in cvat_labels(LAYOUT)}
    assert labels['pedestrian']['type'] == labels['vehicle_face']['type'] == 'rectangle'
    for cat in kpt['categories']:
        label = labels[cat['name']]
        assert label['type'] == 'skeleton'
        assert [s['name'] for s in label['sublabels']] == cat['keypoints']
        svg = ET.fromstring(f'<svg>{label["svg"]}</svg>')
        nodes = {int(c.get('data-node-id')): c.get('data-label-name')
                 for c in svg.iter('circle')}
        assert nodes == dict(enumerate(cat['keypoints'], 1))
        edges = [[int(e.get('data-node-from')), int(e.get('data-node-to'))]
                 for e in svg.iter('line')]
        assert edges == cat['skeleton']


def test_detections_of_another_layout_are_refused():
    other = LAYOUT.build(['vehicle'], {'vehicle': ['hub']}, {'hub': 1.0})
    dets = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros((0, 1, 2)),
                      np.zeros((0, 1)), other)
    with pytest.raises(ConverterError, match='x.jpg'):
        detections_to_coco([('x.jpg', 10, 10, dets)], LAYOUT)


def test_hit_detections_reads_both_keypoint_forms():
    named = dict(label='cyclist', score=0.8, bbox=[1, 2, 30, 40],
                 keypoints={'front_wheel': [5, 6, 0.9], 'rear_wheel': [7, 8, 0.2]},
                 visibility={'front_wheel': 1})
    per_slot = dict(label='vehicle', score=0.7, bbox=[0, 0, 9, 9],
                    keypoints=[[i, i + 0.5] for i in range(6)],
                    keypoint_scores=[0.9, 0.1, 0.9, 0.9, 0, 0])
    boxes_only = dict(label='pedestrian', score=0.6, bbox=[3, 3, 8, 9])
    dets, vis = hit_detections([named, per_slot, boxes_only], LAYOUT, 'hits.json: hits[0]')
    assert dets.labels.tolist() == [CYCLIST, VEHICLE, PEDESTRIAN]
    assert dets.keypoints[0, 4].tolist() == [5, 6] and dets.keypoint_scores[0, 5] == \
        pytest.approx(0.2)
    assert dets.keypoints[1, 3].tolist() == [3, 3.5]
    assert not dets.keypoint_scores[2].any()
    assert vis[0, 4] == 1 and vis[0, 5] == 2
    assert keypoint_states(dets, 100, 100, THR, vis)[0].tolist() == [0, 0, 0, 0, 1, 0]
    _, vis = hit_detections([per_slot], LAYOUT, 'x')
    assert vis is None


@pytest.mark.parametrize('det, match', [
    (dict(label='truck', score=0.5, bbox=[0, 0, 1, 1]), "detection 0: label 'truck'"),
    (dict(label='vehicle', score=0.5, bbox=[0, 0, 1]), 'detection 0: bbox'),
    (dict(label='vehicle', score=None, bbox=[0, 0, 1, 1]), 'detection 0: score'),
    (dict(label='vehicle', score=0.5, bbox=[0, 0, 1, 1], keypoints={'nose': [1, 1, 1]}),
     "keypoint 'nose'"),
    (dict(label='vehicle', score=0.5, bbox=[0, 0, 1, 1], keypoints=[[0, 0]] * 6),
     'keypoint_scores'),
])
def test_bad_hit_detections_are_named(det, match):
    with pytest.raises(ConverterError, match=match) as err:
        hit_detections([det], LAYOUT, 'hits.json: hits[3] (frame_000010.jpg)')
    assert 'hits.json: hits[3] (frame_000010.jpg)' in str(err.value)


def test_split_slots_are_written_and_read_by_the_names_the_classes_use():
    """Classes with different keypoint sets that share a name get a slot each
    ('person.nose', 'animal.nose'); detections' JSON and the hits reader speak the class's
    own name ('nose'), and each reaches its own class's slot."""
    from yolox_kpt.keypoint_layout import KeypointLayout
    layout = KeypointLayout.build(('person', 'animal'), dict(
        person=('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear'),
        animal=('left_eye', 'right_eye', 'nose')))
    nose = {c: layout.keypoint_names.index(f'{c}.nose') for c in ('person', 'animal')}
    k = layout.num_keypoints
    kpts = np.arange(2 * k * 2, dtype=float).reshape(2, k, 2)
    scores = layout.class_slot_mask()[[0, 1]].astype(float) * 0.9
    dets = Detections(np.array([[0, 0, 9, 9], [1, 1, 8, 8]], float), np.array([0.9, 0.8]),
                      np.array([0, 1]), kpts, scores, layout)
    written = dets.to_json()
    assert set(written[0]['keypoints']) == {'nose', 'left_eye', 'right_eye', 'left_ear',
                                            'right_ear'}
    assert written[1]['keypoints']['nose'][:2] == kpts[1, nose['animal']].tolist()
    back, _ = hit_detections(written, layout, 'hits.json')
    np.testing.assert_allclose(back.keypoints[0, nose['person']], kpts[0, nose['person']])
    np.testing.assert_allclose(back.keypoints[1, nose['animal']], kpts[1, nose['animal']])
    assert back.keypoint_scores[1, nose['person']] == 0  # not the person's slot
    # a score in a slot the class does not own keeps its slot name: no two slots share a key
    scores[1, nose['person']] = 0.5
    written = Detections(dets.bboxes, dets.scores, dets.labels, kpts, scores,
                         layout).to_json()
    assert written[1]['keypoints']['nose'][:2] == kpts[1, nose['animal']].tolist()
    assert written[1]['keypoints']['person.nose'][:2] == kpts[1, nose['person']].tolist()
    back, _ = hit_detections(written, layout, 'hits.json')
    np.testing.assert_allclose(back.keypoints[1, nose['person']], kpts[1, nose['person']])
    np.testing.assert_allclose(back.keypoints[1, nose['animal']], kpts[1, nose['animal']])
