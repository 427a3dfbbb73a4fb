"""Build a small real mixed-class keypoint set from the shared COCO-person and AP-10K samples:
three classes with different keypoint sets, one with none, non-square images, and keypoint
names that two classes share. Used to check that the model fits classes of different shapes
(``tools/misc/overfit_check.py``); the output is built, not committed.

Classes (label order):
    person  5 face points: nose, left_eye, right_eye, left_ear, right_ear (from COCO's 17)
    animal  3 points in AP-10K's order: left_eye, right_eye, nose (AP-10K's 54 species as one)
    head    no keypoints: a square box around each person's labelled face points (at least 2
            of them), 1.5 x their larger extent, at least 8 px; derived, so approximate

All three names of ``animal`` are also ``person`` names. Persons without a labelled point stay
persons (all v = 0). Images are symlinked (``--copy`` to copy) under OUT_DIR/images; image ids
are renumbered 1..N, annotation ids 1..M. A config for the overfit check is written beside
the annotations (YOLOX-tiny with this layout), with the slot-sharing mode of ``--share``. An
existing annotations.json or config in OUT_DIR is not replaced without ``--overwrite``.

Examples:
    python tools/dataset_converters/build_mixed_real.py
    python tools/dataset_converters/build_mixed_real.py --shared ../shared/datasets \\
        --out-dir work_dirs/mixed_real --share by_name --overwrite
    python tools/misc/overfit_check.py work_dirs/mixed_real/mixed_real_tiny.py \\
        --ann-file work_dirs/mixed_real/annotations.json \\
        --img-dir work_dirs/mixed_real/images --work-dir work_dirs/mixed_real/overfit
"""
import os
import os.path as osp
import shutil
from pathlib import Path

import numpy as np

from yolox_kpt.data_tools.coco import ConverterError, load_coco, summary, write_json
from yolox_kpt.data_tools.converters.common import check_free
from yolox_kpt.keypoint_layout import DEFAULT_SHARE, SHARE_MODES
from yolox_kpt.utils.cli import tool_parser

REPO = Path(__file__).resolve().parents[2]
PERSON_KPTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear')
ANIMAL_KPTS = ('left_eye', 'right_eye', 'nose')
CLASSES = ('person', 'animal', 'head')

CONFIG = '''# Written by tools/dataset_converters/build_mixed_real.py: YOLOX-tiny, the mixed layout.
_base_ = {base!r}

keypoint_layout = dict(
    classes={classes!r},
    keypoints=dict(person={person!r}, animal={animal!r}),
    share_keypoints={share!r})
model = dict(bbox_head=dict(num_classes=3, keypoint_layout=keypoint_layout))
'''


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('--shared', default=str(REPO.parent / 'shared' / 'datasets'),
                        help='folder holding coco-person-sample/ and ap10k-sample/ '
                        '(default: %(default)s)')
    parser.add_argument('--out-dir', default='work_dirs/mixed_real',
                        help='output folder (default: %(default)s)')
    parser.add_argument('--share', default=DEFAULT_SHARE, choices=SHARE_MODES,
                        help="share_keypoints of the written config's layout "
                        '(default: %(default)s)')
    parser.add_argument('--copy', action='store_true', help='copy images, not symlink')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace the annotations and config of an earlier run in '
                        '--out-dir (default: refuse)')
    return parser.parse_args(argv)


def _pick(kpts, names, wanted):
    """(len(wanted) * 3) list: the x, y, v of ``wanted`` from a COCO keypoint list."""
    k = np.asarray(kpts, dtype=float).reshape(-1, 3)
    return [float(x) for n in wanted for x in k[list(names).index(n)]]


def head_box(face):
    """Square box around the labelled face points, or None with fewer than 2.

    Args:
        face (list[float]): (5 * 3) x, y, v of the person's face points.
    """
    k = np.asarray(face).reshape(-1, 3)
    k = k[k[:, 2] > 0, :2]
    if len(k) < 2:
        return None
    centre = (k.min(0) + k.max(0)) / 2
    side = max(float((k.max(0) - k.min(0)).max()) * 1.5, 8.0)
    return [float(centre[0] - side / 2), float(centre[1] - side / 2), side, side]


def build(shared: Path, out_dir: Path, copy: bool = False) -> dict:
    """Write OUT_DIR/annotations.json and OUT_DIR/images/; return the COCO dict."""
    sources = [(shared / 'coco-person-sample', 'test_coco.json'),
               (shared / 'ap10k-sample', 'test_ap10k.json')]
    images, anns = [], []
    img_dir = out_dir / 'images'
    img_dir.mkdir(parents=True, exist_ok=True)
    for folder, ann_name in sources:
        coco = load_coco(folder / ann_name)
        cats = {c['id']: c for c in coco['categories']}
        id_map = {}
        for img in sorted(coco['images'], key=lambda i: i['id']):
            id_map[img['id']] = len(images) + 1
            images.append(dict(id=id_map[img['id']], file_name=img['file_name'],
                               width=img['width'], height=img['height']))
            src, dst = folder / img['file_name'], img_dir / img['file_name']
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            if copy:
                shutil.copyfile(src, dst)
            else:
                os.symlink(osp.abspath(src), dst)
        for ann in sorted(coco['annotations'], key=lambda a: a['id']):
            names = cats[ann['category_id']]['keypoints']
            person = ann['category_id'] == 1 and folder.name.startswith('coco')
            wanted = PERSON_KPTS if person else ANIMAL_KPTS
            kpts = _pick(ann['keypoints'], names, wanted)
            common = dict(image_id=id_map[ann['image_id']], iscrowd=0)
            anns.append(dict(common, category_id=1 if person else 2, bbox=ann['bbox'],
                             area=float(ann['bbox'][2] * ann['bbox'][3]), keypoints=kpts,
                             num_keypoints=int(sum(v > 0 for v in kpts[2::3]))))
            box = head_box(kpts) if person else None
            if box is not None:
                anns.append(dict(common, category_id=3, bbox=box, area=box[2] * box[3],
                                 keypoints=[], num_keypoints=0))
    for i, ann in enumerate(anns, 1):
        ann['id'] = i
    categories = [dict(id=1, name='person', supercategory='person',
                       keypoints=list(PERSON_KPTS), skeleton=[[1, 2], [1, 3], [2, 4], [3, 5]]),
                  dict(id=2, name='animal', supercategory='animal',
                       keypoints=list(ANIMAL_KPTS), skeleton=[[1, 3], [2, 3]]),
                  dict(id=3, name='head', supercategory='person', keypoints=[],
                       skeleton=[])]
    out = dict(images=images, annotations=anns, categories=categories)
    write_json(out_dir / 'annotations.json', out)
    return out


def main(argv=None):
    args = parse_args(argv)
    shared, out_dir = Path(args.shared), Path(args.out_dir)
    cfg = out_dir / 'mixed_real_tiny.py'
    try:
        for path in (out_dir / 'annotations.json', cfg):  # before anything is written
            check_free(path, args.overwrite)
        coco = build(shared, out_dir, args.copy)
    except (ConverterError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    base = REPO / 'configs' / 'yolox-kpt' / 'yolox-kpt_tiny_8xb8-300e_coco-person.py'
    cfg.write_text(CONFIG.format(base=str(base), classes=CLASSES, person=PERSON_KPTS,
                                 animal=ANIMAL_KPTS, share=args.share))
    print(f"wrote {out_dir / 'annotations.json'}: {summary(coco)}")
    print(f'wrote {cfg} (share_keypoints={args.share!r})')


if __name__ == '__main__':
    main()
