"""Export mined frames with the model's boxes and keypoints as pre-labels for CVAT and LabelMe.

HITS_JSON is what tools/mining/mine_frames.py wrote; FRAMES the folder it wrote with
--copy-to. The keypoint layout comes from --config / --layout, else from the hits file's model
(an exported model's runtime meta, or a config). A keypoint becomes a labelled point (v=2,
or v=1 where the hits carry an occluded state) when its score is at least --kpt-thr, unless
the hits give it state 0; boxes are clipped to the image. mine_frames writes the model's
predicted states (``visibility``) for a model that outputs keypoint_visibility. Writes into
--out-dir (default work_dirs/prelabels/<HITS_JSON name>):

  coco (CVAT):
    annotations/instances_default.json        every class: boxes, keypoints, scores; the
                                               project's dataset reads it; CVAT "COCO 1.0"
    annotations/person_keypoints_default.json the classes with keypoints; CVAT "COCO
                                               Keypoints 1.0" (skeletons; CVAT drops boxes)
    cvat_coco_keypoints.zip, cvat_coco_boxes.zip   each one of the two, ready to upload
    cvat_labels.json                           the task's labels for CVAT's Raw label editor
  labelme:
    labelme/<frame> and labelme/<frame stem>.json   a copy of each frame, its LabelMe file
                                               beside it (imagePath relative, no imageData)
  layout.json                                  the keypoint layout used (for --layout of
                                               labelme_to_coco.py after review)

Existing outputs are kept unless --overwrite.

Examples:
    python tools/mining/mine_frames.py recordings/drive03.mp4 work_dirs/deploy/end2end.onnx \\
        --classes cyclist --out work_dirs/mining/drive03.json \\
        --copy-to work_dirs/mining/drive03_frames
    python tools/mining/export_prelabels.py work_dirs/mining/drive03.json \\
        work_dirs/mining/drive03_frames --format both --kpt-thr 0.4
    # then labelme work_dirs/prelabels/drive03/labelme, or upload the zips to CVAT
"""
import json
import os
import os.path as osp
import shutil
import zipfile
from pathlib import Path

from yolox_kpt.data_tools.converters.common import add_layout_args, check_free
from yolox_kpt.data_tools.coco import ConverterError, summary, write_json
from yolox_kpt.data_tools.prelabels import (cvat_keypoint_coco, cvat_labels,
                                            detections_to_coco, detections_to_labelme,
                                            hits_frames, hits_layout, load_hits)
from yolox_kpt.utils.cli import tool_parser
from yolox_kpt.utils.progress import progress


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('hits', help="mine_frames' JSON (its --out)")
    parser.add_argument('frames', help="the folder of hit frames (mine_frames' --copy-to)")
    parser.add_argument('--format', choices=('coco', 'labelme', 'both'), default='both')
    parser.add_argument('--out-dir', help='default: work_dirs/prelabels/<hits file name>')
    parser.add_argument('--kpt-thr', type=float, default=0.3,
                        help='keypoint score from which a keypoint is written')
    parser.add_argument('--subset', default='default',
                        help="the COCO files' subset name (CVAT's default task subset)")
    add_layout_args(parser, "config whose keypoint_layout is the model's (default: the "
                    "hits file's model)")
    parser.add_argument('--overwrite', action='store_true', help='replace existing outputs')
    return parser.parse_args(argv)


def zip_annotation(zip_path: Path, json_path: Path) -> None:
    """A zip with ``annotations/<file>`` only: CVAT's COCO import layout without images."""
    tmp = zip_path.with_name(zip_path.name + '.tmp')
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as z:
        z.write(json_path, f'annotations/{json_path.name}')
    os.replace(tmp, zip_path)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out_dir or osp.join('work_dirs', 'prelabels', Path(args.hits).stem))
    coco_files = dict(
        full=out / 'annotations' / f'instances_{args.subset}.json',
        keypoints=out / 'annotations' / f'person_keypoints_{args.subset}.json',
        zip_keypoints=out / 'cvat_coco_keypoints.zip', zip_boxes=out / 'cvat_coco_boxes.zip',
        labels=out / 'cvat_labels.json')
    layout_file = out / 'layout.json'
    try:
        if not osp.isdir(args.frames):
            raise ConverterError(f'{args.frames}: no such folder')
        hits = load_hits(args.hits)
        layout = hits_layout(hits, args.hits, args.config, args.layout)
        labelme_files = {h['frame']: (out / 'labelme' / h['frame'],
                                      (out / 'labelme' / h['frame']).with_suffix('.json'))
                         for h in hits['hits']}
        planned = ((list(coco_files.values()) if args.format != 'labelme' else []) +
                   ([p for pair in labelme_files.values() for p in pair]
                    if args.format != 'coco' else []))
        for path in planned:
            check_free(path, args.overwrite)
        # the same layout again (a second --format into one folder) is no overwrite
        if layout_file.exists() and layout_file.read_text() != json.dumps(
                layout.to_config(), indent=2):
            check_free(layout_file, args.overwrite)
        frames, states = hits_frames(hits, args.frames, layout, args.hits)
        coco = args.format != 'labelme' and detections_to_coco(
            frames, layout, args.kpt_thr, states, description=f'pre-labels of {args.hits}')
    except ConverterError as e:
        raise SystemExit(f'error: {e}')
    print(f'{len(frames)} hit frames, {sum(len(f[3]) for f in frames)} detections '
          f'(layout: {", ".join(layout.classes)})')
    layout_file.parent.mkdir(parents=True, exist_ok=True)
    layout.to_json(layout_file)
    if coco:
        write_json(coco_files['full'], coco)
        kpt_coco = cvat_keypoint_coco(coco)
        write_json(coco_files['keypoints'], kpt_coco)
        zip_annotation(coco_files['zip_boxes'], coco_files['full'])
        zip_annotation(coco_files['zip_keypoints'], coco_files['keypoints'])
        write_json(coco_files['labels'], cvat_labels(layout))
        print(f'COCO, every class ({summary(coco)}): {coco_files["full"]}')
        print(f'COCO keypoints, classes with keypoints ({summary(kpt_coco)}): '
              f'{coco_files["keypoints"]}')
        print(f'CVAT uploads: {coco_files["zip_keypoints"]} ("COCO Keypoints 1.0", '
              f'skeletons) and {coco_files["zip_boxes"]} ("COCO 1.0", boxes); task labels '
              f'for the Raw label editor: {coco_files["labels"]}')
    if args.format != 'coco':
        for (name, width, height, dets), vis in progress(
                list(zip(frames, states)), len(frames), 'labelme', 'frame'):
            image, ann = labelme_files[name]
            image.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(osp.join(args.frames, name), image)
            write_json(ann, detections_to_labelme(name, width, height, dets, layout,
                                                  args.kpt_thr, vis))
        print(f'LabelMe: {len(frames)} frames, each with its JSON beside it, in '
              f'{out / "labelme"}')
    print(f'keypoint layout: {layout_file}')
    return 0


if __name__ == '__main__':
    main()
