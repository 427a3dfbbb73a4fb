"""``tools/dataset_converters/build_mixed_real.py`` in-process on generated stand-ins for the
shared COCO-person and AP-10K samples: the classes and their keypoints, the derived head
box, and an earlier output kept unless --overwrite."""
import json

import pytest

COCO_NAMES = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear'] + \
    [f'body_{i}' for i in range(12)]
AP10K_NAMES = ['left_eye', 'right_eye', 'nose'] + [f'limb_{i}' for i in range(14)]


def write_sample(folder, name, category, names, keypoints, bbox):
    folder.mkdir(parents=True)
    (folder / 'a.jpg').write_bytes(b'not read: linked')
    (folder / name).write_text(json.dumps(dict(
        images=[dict(id=7, file_name='a.jpg', width=200, height=100)],
        annotations=[dict(id=3, image_id=7, category_id=1, bbox=bbox, keypoints=keypoints,
                          num_keypoints=sum(v > 0 for v in keypoints[2::3]))],
        categories=[dict(id=1, name=category, keypoints=names, skeleton=[])])))


@pytest.fixture
def shared(tmp_path):
    face = [50, 20, 2, 44, 16, 2, 56, 16, 2, 40, 18, 1, 0, 0, 0]  # nose, eyes, left ear
    write_sample(tmp_path / 'shared' / 'coco-person-sample', 'test_coco.json', 'person',
                 COCO_NAMES, face + [0] * 36, [30, 5, 40, 90])
    write_sample(tmp_path / 'shared' / 'ap10k-sample', 'test_ap10k.json', 'dog',
                 AP10K_NAMES, [120, 30, 2, 140, 30, 2, 130, 40, 2] + [0] * 42,
                 [100, 10, 80, 80])
    return tmp_path / 'shared'


def test_builds_three_classes_and_keeps_an_earlier_output(tool, shared, tmp_path, capsys):
    build = tool('build_mixed_real').main
    out = tmp_path / 'mixed'
    build(['--shared', str(shared), '--out-dir', str(out)])
    coco = json.loads((out / 'annotations.json').read_text())
    cats = {c['name']: c['keypoints'] for c in coco['categories']}
    assert cats == dict(person=['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear'],
                        animal=['left_eye', 'right_eye', 'nose'], head=[])
    person, head, animal = coco['annotations']
    assert person['keypoints'][:12] == [50, 20, 2, 44, 16, 2, 56, 16, 2, 40, 18, 1]
    assert person['num_keypoints'] == 4 and animal['category_id'] == 2
    # the labelled face points span 16 x 4 px: a square of 1.5 x 16 around their centre
    assert head['category_id'] == 3 and head['bbox'] == [36.0, 6.0, 24.0, 24.0]
    assert "share_keypoints='same_set'" in (out / 'mixed_real_tiny.py').read_text()

    # a second run refuses before writing anything, naming the file and the flag
    (out / 'annotations.json').write_text('{"kept": true}')
    with pytest.raises(SystemExit, match='annotations.json already exists.*--overwrite'):
        build(['--shared', str(shared), '--out-dir', str(out), '--share', 'by_name'])
    assert json.loads((out / 'annotations.json').read_text()) == {'kept': True}
    assert "'same_set'" in (out / 'mixed_real_tiny.py').read_text()
    build(['--shared', str(shared), '--out-dir', str(out), '--share', 'by_name',
           '--overwrite'])
    assert len(json.loads((out / 'annotations.json').read_text())['annotations']) == 3
    assert "share_keypoints='by_name'" in (out / 'mixed_real_tiny.py').read_text()
