"""Find the frames worth labelling: run a model over a folder of images or a video and list
the frames with chosen classes above a score and a size.

MODEL is a config (then give CHECKPOINT; a config whose classes or keypoints differ from the
checkpoint's is refused) or an exported model. A frame is a hit when at
least one detection has a class in --classes (all classes by default), a score >= --score-thr
and a box at least --min-height pixels tall and --min-area pixels^2 large. Writes JSON (every
hit with its detections), and optionally --list (one frame per line), --copy-to (the hit
frames as image files; video frames are written as JPEG named by frame index) and --sheet
(the first hits with their detections drawn, in one picture). With --calibration (a camera
calibration JSON, see docs/geometry.md) each hit detection carries "ground": its distance,
lateral offset and heading on the road from its contact points (and the box-bottom
baseline), so hits can also be chosen by distance afterwards. With --track (a video, or a
folder of frames in name order) the objects are tracked over the frames looked at
(yolox_kpt.runtime.tracking: ByteTrack-style, tyre and wheel keypoints in the matching):
each hit detection carries its "track_id", only tracked detections count, and "tracks"
sums up each hit track (class, frames, first and last frame), so a long sequence gives
each object once instead of once a frame.

With --rank, every frame looked at is also scored for how much it is worth labelling
(yolox_kpt.runtime.mining_signals: detections near --score-thr, uncertain keypoints,
contact points no vehicle or cyclist shows, and with --track flickering tracks, with --flip
disagreement with the mirrored frame) and near-duplicate frames (alike and close in time)
are dropped; --rank-out gets every frame's signals, combined score, the order and the
reasons, --rank-sheet the --top best frames with their reasons drawn. --flip runs the model
a second time on each mirrored frame: twice the inference time.

Examples:
    python tools/mining/mine_frames.py recordings/drive03.mp4 work_dirs/deploy/end2end.onnx \\
        --classes cyclist pedestrian --score-thr 0.5 --min-height 40 --every 5 \\
        --copy-to work_dirs/mining/drive03_frames
    python tools/mining/mine_frames.py data/new_frames/ CONFIG CHECKPOINT --classes vehicle \\
        --out work_dirs/mining/vehicles.json --list work_dirs/mining/vehicles.txt \\
        --calibration configs/calibration/example_1280x720.json
    python tools/mining/mine_frames.py recordings/drive03.mp4 work_dirs/deploy/end2end.onnx \\
        --classes cyclist --every 2 --track --out work_dirs/mining/cyclists.json
    python tools/mining/mine_frames.py recordings/drive03.mp4 work_dirs/deploy/end2end.onnx \\
        --every 2 --track --rank --flip --top 24 --weights flip_disagreement=2 \\
        --rank-out work_dirs/mining/ranked.json --rank-sheet work_dirs/mining/ranked.jpg
"""
import json
import os
import os.path as osp
import queue
import shutil
import threading
import time
from collections import defaultdict
from typing import Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional

import cv2
import numpy as np
from tqdm import tqdm

from yolox_kpt.runtime import (Detections, estimate_labels, estimates_json, ground_estimates,
                               load_calibration)
from yolox_kpt.runtime.mining_signals import (DEFAULT_WEIGHTS, frame_fingerprint,
                                              frame_signals, rank_frames, temporal_flicker,
                                              unflip_detections)
from yolox_kpt.runtime.tracking import KeypointTracker, track_labels
from yolox_kpt.utils.cli import add_model_args, tool_parser
from yolox_kpt.utils.media import iter_frames


def parse_args(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument('source', help='folder of images or a video file')
    add_model_args(parser, score_thr=0.5)
    add_selection_args(parser)
    parser.add_argument('--out', default='work_dirs/mining/hits.json')
    parser.add_argument('--list', help='also write the hit frames, one per line')
    parser.add_argument('--copy-to', help='also copy (images) or write (video) the hit frames')
    parser.add_argument('--sheet', help='also write a contact sheet: the first --sheet-size '
                        'hit frames with their hits drawn, in one image')
    parser.add_argument('--sheet-size', type=int, default=12)
    add_track_rank_args(parser)
    return check_args(parser, parser.parse_args(argv))


def add_selection_args(parser) -> None:
    """--classes, --min-height, --min-area, --every: which frames are hits."""
    parser.add_argument('--classes', nargs='+', help='class names to look for (default all)')
    parser.add_argument('--min-height', type=float, default=0, help='box height, pixels')
    parser.add_argument('--min-area', type=float, default=0, help='box area, pixels^2')
    parser.add_argument('--every', type=int, default=1, help='video: look at every N-th frame')


def add_track_rank_args(parser, sheets: bool = True) -> None:
    """--calibration, --track and the ranking options (--rank ...); ``sheets``: also the
    ranking's own outputs (--top, --rank-out, --rank-sheet)."""
    parser.add_argument('--calibration', help='camera calibration JSON: distances on the road')
    parser.add_argument('--track', action='store_true',
                        help='track objects over the frames: hits carry a track_id')
    rank = parser.add_argument_group('ranking frames (--rank)')
    rank.add_argument('--rank', action='store_true',
                      help='score every frame for labelling and rank the frames')
    rank.add_argument('--flip', action='store_true',
                      help='also run the model on each mirrored frame (twice the inference '
                      'time) for the flip_disagreement signal')
    if sheets:
        rank.add_argument('--top', type=int, default=12,
                          help='frames on the ranked contact sheet')
    rank.add_argument('--weights', nargs='+', default=[], metavar='SIGNAL=W',
                      help=f'signal weights (default 1 each; 0 turns one off): '
                      f'{", ".join(DEFAULT_WEIGHTS)}')
    rank.add_argument('--top-k', type=int, default=1,
                      help='objects averaged per signal and frame (1: the worst object)')
    rank.add_argument('--margin-band', type=float, default=0.2,
                      help='low_margin: scores within this of --score-thr count (the model '
                      'is run down to --score-thr minus it)')
    rank.add_argument('--kpt-thr', type=float, default=0.3,
                      help='keypoint score at which a keypoint counts as seen')
    rank.add_argument('--dup-distance', type=float, default=0.1,
                      help='near duplicate: share of fingerprint bits that may differ')
    rank.add_argument('--dup-gap', type=float, default=10.0,
                      help='near duplicate: most seconds between the frames (video)')
    if sheets:
        rank.add_argument('--rank-out', default='work_dirs/mining/ranked.json')
        rank.add_argument('--rank-sheet', default='work_dirs/mining/ranked.jpg',
                          help='contact sheet of the --top ranked frames with their reasons')


def check_args(parser, args):
    """The checks across options; --weights parsed into ``{signal: weight}``."""
    if args.flip and not args.rank:
        parser.error('--flip is a ranking signal: give --rank too')
    args.weights = parse_weights(parser, args.weights)
    return args


def parse_weights(parser, items: List[str]) -> dict:
    """``['flip_disagreement=2', ...]`` -> ``{name: weight}``; a parser error names a
    wrong item."""
    weights = {}
    for item in items:
        name, _, value = item.partition('=')
        try:
            weights[name] = float(value)
        except ValueError:
            parser.error(f'--weights {item!r}: expected SIGNAL=NUMBER')
        if name not in DEFAULT_WEIGHTS:
            parser.error(f'--weights {item!r}: unknown signal, one of {list(DEFAULT_WEIGHTS)}')
        if weights[name] < 0:
            parser.error(f'--weights {item!r}: weights are >= 0')
    return weights


def caption(tile: np.ndarray, lines: List[str], scale: float = 0.38) -> np.ndarray:
    """``lines`` written from the top left of ``tile`` (BGR, in place), white on black."""
    y = 0
    for line in lines:
        (tw, th), base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        y += th + base + 2
        cv2.rectangle(tile, (0, y - th - base - 2), (tw + 4, y), (0, 0, 0), -1)
        cv2.putText(tile, line, (2, y - base), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def contact_sheet(tiles, columns=4, width=320, captions=None):
    """One BGR image of ``tiles`` (BGR images) resized to ``width``, ``columns`` a row;
    ``captions`` (per tile, a list of lines) are written on the resized tiles."""
    tiles = [cv2.resize(t, (width, round(t.shape[0] * width / t.shape[1]))) for t in tiles]
    for tile, lines in zip(tiles, captions or []):
        caption(tile, lines)
    height = max(t.shape[0] for t in tiles)
    rows = [tiles[i:i + columns] for i in range(0, len(tiles), columns)]
    blank = np.full((height, width, 3), 255, np.uint8)
    return np.vstack([np.hstack([cv2.copyMakeBorder(t, 0, height - t.shape[0], 0, 0,
                                                    cv2.BORDER_CONSTANT, value=(255, 255, 255))
                                 for t in row] + [blank] * (columns - len(row)))
                      for row in rows])


def wanted_classes(dets: Detections, wanted_ids: np.ndarray) -> np.ndarray:
    """(N,) bool: detections of the classes ``wanted_ids`` (``np.isin`` of the labels, by
    a lookup: a frame's few labels against a few ids)."""
    wanted = np.zeros(len(dets.layout.classes), bool)
    wanted[wanted_ids] = True
    return wanted[dets.labels]


def big_enough(dets: Detections, args) -> np.ndarray:
    """(N,) bool: boxes at least --min-height tall and --min-area large."""
    wh = dets.bboxes[:, 2:] - dets.bboxes[:, :2]
    return (wh[:, 1] >= args.min_height) & (wh[:, 0] * wh[:, 1] >= args.min_area)


class Frame(NamedTuple):
    """One frame looked at: ``dets`` all detections at the loop's threshold, ``tracked``
    the tracker's answer on them (None without one), ``flipped_back`` the mirrored frame's
    detections mapped back onto this frame (None without --flip), ``fingerprint`` its
    :func:`frame_fingerprint` (None: not made yet)."""
    name: str
    seconds: Optional[float]
    image: np.ndarray
    dets: Detections
    tracked: Optional[object] = None
    flipped_back: Optional[Detections] = None
    fingerprint: Optional[np.ndarray] = None


def prefetch(items: Iterable, depth: int = 2) -> Iterator:
    """The items of ``items``, in order, made ``depth`` ahead by a thread.

    The frame loop's decoding (and a frame's fingerprint) runs in OpenCV, which lets go
    of Python's lock: the next frames are decoded while the model runs on this one (and
    while the tracker and the signals work), on a core the loop leaves idle. The items and
    their order are those of ``items``; an error making one is raised here, in its place.
    Stopping early (``close()``, an error in the loop) stops the thread.
    """
    buffer: 'queue.Queue[tuple]' = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(message: tuple) -> bool:
        while not stop.is_set():
            try:
                buffer.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put(('item', item)):
                    break
            else:
                put(('end', None))
        except BaseException as e:  # raised in the loop, in the item's place
            put(('error', e))
        finally:
            close = getattr(it, 'close', None)  # a generator: its video is released here
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name='prefetch', daemon=True)
    thread.start()
    try:
        while True:
            kind, value = buffer.get()
            if kind == 'end':
                return
            if kind == 'error':
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


class StageClock:
    """Seconds the frame loop spends in each stage (``seconds[stage]``), summed over the
    frames: where a recording's time goes (mine_recordings.py writes it to each result).

    ``with clock('tracking'): ...`` adds the block's time to its stage."""

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = defaultdict(float)
        self._stage: Optional[str] = None
        self._start = 0.0

    def __call__(self, stage: str) -> 'StageClock':
        self._stage = stage
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.seconds[self._stage] += time.perf_counter() - self._start

    def per_frame_ms(self, frames: int) -> Dict[str, float]:
        """Milliseconds a frame of each stage."""
        return {k: round(1000 * v / max(frames, 1), 3) for k, v in self.seconds.items()}


def detect_frames(source: str, every: int, inferencer, score_thr: float,
                  tracker: Optional[KeypointTracker] = None, flip: bool = False,
                  bar: Optional[dict] = None, fingerprints: bool = False,
                  clock: Optional[StageClock] = None) -> Iterator[Frame]:
    """The frame loop: each frame of ``source`` (every ``every``-th of a video) with the
    model's detections (>= ``score_thr``), tracked, and on the mirrored frame. ``bar``:
    tqdm's options for the frames' progress bar (desc, position, leave, disable).
    ``fingerprints``: the frames' :func:`frame_fingerprint` too (for --rank), made with
    the decoding, ahead of the model (:func:`prefetch`). ``clock``: gets the seconds of
    ``'frames'`` (waiting for the next decoded frame), ``'inference'`` (preprocessing,
    network and its outputs; twice with ``flip``) and ``'tracking'``."""
    clock = clock or StageClock()
    decoded = ((name, seconds, image, frame_fingerprint(image) if fingerprints else None)
               for name, seconds, image in iter_frames(source, every))
    frames = iter(tqdm(prefetch(decoded), **{'desc': 'frames', **(bar or {})}))
    try:
        while True:
            with clock('frames'):
                item = next(frames, None)
            if item is None:
                return
            name, seconds, image, fingerprint = item
            with clock('inference'):
                dets = inferencer(image, score_thr=score_thr)
                flipped = None
                if flip:
                    flipped = unflip_detections(
                        inferencer(np.ascontiguousarray(image[:, ::-1]), score_thr=score_thr),
                        image.shape[1])
            with clock('tracking'):
                tracked = tracker.update(dets) if tracker else None
            yield Frame(name, seconds, image, dets, tracked, flipped, fingerprint)
    finally:
        frames.close()  # the bar closes, and with it the decoding thread stops


class Ranker:
    """--rank: the signals of each frame of the loop, then the ranking, JSON and sheet."""

    def __init__(self, args, wanted_ids: np.ndarray) -> None:
        self.args, self.wanted_ids = args, wanted_ids
        self.frames: List[dict] = []
        self.signals: List[dict] = []
        self.history: List[tuple] = []
        self.prints: List[np.ndarray] = []

    def _wanted(self, dets: Detections) -> np.ndarray:
        return wanted_classes(dets, self.wanted_ids) & big_enough(dets, self.args)

    def add(self, frame: Frame) -> None:
        args, dets = self.args, frame.dets
        keep = self._wanted(dets)
        flipped = frame.flipped_back
        if flipped is not None:
            flipped = flipped[self._wanted(flipped)]
        # on all detections (a vehicle's face may be of a class not asked for), then kept
        signals = {k: v.select(keep) for k, v in frame_signals(
            dets, args.score_thr, args.kpt_thr, flipped, args.margin_band).items()}
        ids = np.full(len(dets), -1, np.int64)  # untracked detections: -1
        if frame.tracked is not None:
            ids[frame.tracked.indices] = frame.tracked.track_ids
        dets, ids = dets[keep], ids[keep]
        self.signals.append(signals)
        self.history.append((ids, dets))
        self.prints.append(frame_fingerprint(frame.image) if frame.fingerprint is None
                           else frame.fingerprint)
        self.frames.append(dict(frame=frame.name, seconds=frame.seconds,
                                size=frame.image.shape[1::-1]))

    def to_json(self, inferencer):
        """The ranking of the frames added: ``(ranked JSON dict, Ranking)``."""
        args = self.args
        if args.track:
            for signals, flicker in zip(self.signals, temporal_flicker(
                    self.history, args.kpt_thr,
                    image_sizes=[f['size'] for f in self.frames])):
                signals['temporal_flicker'] = flicker
        ranking = rank_frames(self.signals, args.weights, args.top_k, self.prints,
                              [f['seconds'] for f in self.frames],
                              max_distance=args.dup_distance, max_gap_s=args.dup_gap)
        rank_of = {int(f): r + 1 for r, f in enumerate(ranking.order)}
        records = []
        for i, (info, signals, (ids, dets)) in enumerate(zip(self.frames, self.signals,
                                                             self.history)):
            detections = dets.to_json()
            for det, tid in zip(detections, ids):
                if tid >= 0:
                    det['track_id'] = int(tid)
            dup = int(ranking.duplicate_of[i])
            records.append(dict(
                frame=info['frame'], seconds=info['seconds'], rank=rank_of.get(i),
                score=round(float(ranking.scores[i]), 4),
                duplicate_of=self.frames[dup]['frame'] if dup >= 0 else None,
                reasons=ranking.reasons[i],
                signals={name: dict(score=round(ranking.signal_scores[i][name], 4),
                                    objects=sig.to_json()) for name, sig in signals.items()},
                detections=detections))
        weights = dict(DEFAULT_WEIGHTS, **args.weights)
        return dict(source=args.source, model=args.model, score_thr=args.score_thr,
                    kpt_thr=args.kpt_thr, every=args.every, flip=args.flip,
                    track=args.track, top_k=args.top_k, weights=weights,
                    signals=sorted(set().union(*self.signals)) if self.signals else [],
                    near_duplicates=dict(max_distance=args.dup_distance,
                                         max_gap_s=args.dup_gap),
                    keypoint_layout=inferencer.layout.to_config(),
                    order=[self.frames[int(f)]['frame'] for f in ranking.order],
                    frames=records), ranking

    def finish(self, inferencer, vis) -> None:
        """Write --rank-out and the --rank-sheet of the --top frames."""
        from yolox_kpt.visualization import draw_frame
        args = self.args
        ranked, ranking = self.to_json(inferencer)
        weights = ranked['weights']
        os.makedirs(osp.dirname(osp.abspath(args.rank_out)), exist_ok=True)
        with open(args.rank_out, 'w') as f:
            json.dump(ranked, f, indent=1)
        dups = int((ranking.duplicate_of >= 0).sum())
        print(f'{len(ranking.order)} frames ranked ({dups} near duplicates dropped'
              f'{"; --flip ran the model twice a frame" if args.flip else ""}); ranking '
              f'written to {osp.abspath(args.rank_out)}')
        top = [int(f) for f in ranking.order[:args.top]]
        if not args.rank_sheet or not top:
            return
        wanted = {self.frames[f]['frame']: f for f in top}
        images = {}  # a second pass decodes the frames only, up to the last one needed
        for name, _, image in iter_frames(args.source, args.every):
            if name in wanted:
                images[name] = image
                if len(images) == len(wanted):
                    break
        tiles, captions = [], []
        for r, f in enumerate(top):
            signals, (_, dets) = self.signals[f], self.history[f]
            tiles.append(draw_frame(vis, images[self.frames[f]['frame']], dets, fast=True,
                                    texts=object_reasons(signals, len(dets), weights)))
            captions.append([f'{r + 1}. {self.frames[f]["frame"]} {ranking.scores[f]:.2f}'] +
                            [reason[:60] for reason in ranking.reasons[f]])
        os.makedirs(osp.dirname(osp.abspath(args.rank_sheet)), exist_ok=True)
        cv2.imwrite(args.rank_sheet, contact_sheet(tiles, captions=captions))
        print(f'contact sheet of the {len(tiles)} best frames written to '
              f'{osp.abspath(args.rank_sheet)}')


def object_reasons(signals: dict, num: int, weights: dict) -> List[Optional[str]]:
    """Per detection, the reason of its strongest weighted signal (None: none scored)."""
    best = [(0.0, None)] * num
    for name, sig in signals.items():
        for score, reason, obj in zip(sig.scores, sig.reasons, sig.objects):
            value = weights.get(name, 1.0) * score
            if obj >= 0 and value > best[obj][0]:
                best[obj] = (value, reason)
    return [reason for _, reason in best]


def load_model(args, tool: str = 'tools/mining/mine_frames.py'):
    """The model of MODEL [CHECKPOINT] --device, the --classes asked for (names and ids)
    and the --calibration: ``(inferencer, wanted, wanted_ids, calibration or None)``."""
    from yolox_kpt.apis import tool_inferencer
    calib = load_calibration(args.calibration) if args.calibration else None
    inferencer = tool_inferencer(args, tool)
    names = inferencer.layout.classes
    wanted = args.classes or list(names)
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise SystemExit(f'--classes {unknown} not in the model\'s classes {list(names)}')
    return inferencer, wanted, np.array([names.index(c) for c in wanted]), calib


class Mined(NamedTuple):
    """What :func:`mine` found: ``hits`` the --out JSON (``frames_seen``, ``hits``,
    ``tracks`` ...), ``ranker`` the frames' signals under --rank (else None)."""
    hits: dict
    ranker: Optional[Ranker]


def mine(args, inferencer, wanted: List[str], wanted_ids: np.ndarray, calib=None,
         on_hit: Optional[Callable] = None, bar: Optional[dict] = None,
         clock: Optional[StageClock] = None) -> Mined:
    """Mine ``args.source``: the frame loop, the hit test, ground estimates, track sums
    and (--rank) each frame's signals.

    Args:
        args: the options of :func:`parse_args` (``source``, ``every``, ``score_thr``,
            ``track``, ``rank`` ...).
        inferencer: from :func:`load_model`.
        wanted, wanted_ids: the class names looked for and their ids.
        calib: a camera calibration, or None.
        on_hit: called ``on_hit(frame, dets, ground, track_ids)`` per hit frame with its
            hit detections (``dets``: N of them; ``ground``: N estimates or None;
            ``track_ids``: (N,) or None).
        bar: tqdm options of the frames' progress bar.
        clock: gets the seconds of the loop's stages (:func:`detect_frames`'s, and
            ``'ranking'``: each frame's signals; ``'hits'``: the hit test and its JSON,
            ground estimates and track sums).
    """
    clock = clock or StageClock()
    hits, seen = [], 0
    tracker = args.track and KeypointTracker.for_score_thr(inferencer.layout, args.score_thr)
    tracks = {}
    infer_thr = tracker.low_thr if tracker else args.score_thr
    if args.rank:  # low_margin looks at scores below the threshold too
        infer_thr = max(min(infer_thr, args.score_thr - args.margin_band), 0.01)
    ranked = Ranker(args, wanted_ids) if args.rank else None
    for frame in detect_frames(args.source, args.every, inferencer, infer_thr, tracker,
                               args.flip and args.rank, bar, fingerprints=args.rank,
                               clock=clock):
        seen += 1
        if ranked:
            with clock('ranking'):
                ranked.add(frame)
        with clock('hits'):
            hit = _hit(args, frame, wanted_ids, calib, tracks, hits)
        if hit is not None and on_hit:
            on_hit(frame, *hit)
    return Mined(dict(source=args.source, model=args.model, classes=wanted,
                      score_thr=args.score_thr, min_height=args.min_height,
                      min_area=args.min_area, every=args.every, frames_seen=seen,
                      calibration=calib and calib.to_dict(), track=args.track,
                      tracks={str(k): v for k, v in sorted(tracks.items())} if tracker
                      else None, keypoint_layout=inferencer.layout.to_config(), hits=hits),
                 ranked)


def _hit(args, frame: Frame, wanted_ids: np.ndarray, calib, tracks: dict, hits: list):
    """The hit test of one frame: appends its hit record to ``hits`` and sums its tracks
    into ``tracks``; ``(dets, ground, track_ids)`` of its hit detections, None for no
    hit."""
    name, seconds, image, dets = frame[:4]
    track_ids = None
    if frame.tracked is not None:  # only tracked detections are hits
        dets, track_ids = frame.tracked.detections, frame.tracked.track_ids
    keep = (wanted_classes(dets, wanted_ids) & (dets.scores >= args.score_thr) &
            big_enough(dets, args))
    if not keep.any():
        return None
    hits.append(dict(frame=name, seconds=seconds, detections=dets[keep].to_json()))
    # estimated over all detections: a vehicle's face may be one that is not a hit
    ground = calib and [g for g, k in zip(ground_estimates(
        dets, calib, image_size=image.shape[1::-1]), keep) if k]
    for det, est in zip(hits[-1]['detections'], estimates_json(ground or [])):
        det['ground'] = est
    if track_ids is not None:
        for det, tid in zip(hits[-1]['detections'], track_ids[keep]):
            det['track_id'] = int(tid)
            t = tracks.setdefault(int(tid), dict(label=det['label'], frames=0,
                                                 first=name, last=name))
            t['frames'] += 1
            t['last'] = name
    return dets[keep], ground, None if track_ids is None else track_ids[keep]


def main(argv=None):
    args = parse_args(argv)
    from yolox_kpt.visualization import draw_frame, frame_visualizer

    inferencer, wanted, wanted_ids, calib = load_model(args)
    if args.copy_to:
        os.makedirs(args.copy_to, exist_ok=True)
    tiles = []
    vis = frame_visualizer(inferencer.layout) if args.sheet or args.rank else None

    def on_hit(frame, dets, ground, track_ids):
        if args.sheet and len(tiles) < args.sheet_size:
            texts = ground and estimate_labels(ground)
            if track_ids is not None:
                texts = track_labels(track_ids, texts)
            tiles.append(draw_frame(vis, frame.image, dets, fast=True, texts=texts))
        if args.copy_to:
            target = osp.join(args.copy_to, frame.name)
            if osp.isdir(args.source):
                shutil.copy2(osp.join(args.source, frame.name), target)
            else:
                cv2.imwrite(target, frame.image)

    clock = StageClock()
    result, ranked = mine(args, inferencer, wanted, wanted_ids, calib, on_hit, clock=clock)
    hits = result['hits']
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=1)
    print(f'{len(hits)} of {result["frames_seen"]} frames have {", ".join(wanted)} '
          f'(score >= {args.score_thr}, height >= {args.min_height} px)')
    if args.track:
        print(f'{len(result["tracks"])} tracked objects in the hits')
    print('ms a frame: ' + ', '.join(f'{stage} {ms:.2f}' for stage, ms in
                                     clock.per_frame_ms(result['frames_seen']).items()))
    print(f'hits written to {osp.abspath(args.out)}')
    if args.list:
        with open(args.list, 'w') as f:
            f.writelines(h['frame'] + '\n' for h in hits)
        print(f'frame list written to {osp.abspath(args.list)}')
    if args.copy_to:
        print(f'hit frames written to {osp.abspath(args.copy_to)}')
    if args.sheet and tiles:
        os.makedirs(osp.dirname(osp.abspath(args.sheet)), exist_ok=True)
        cv2.imwrite(args.sheet, contact_sheet(tiles))
        print(f'contact sheet of {len(tiles)} hit frames written to {osp.abspath(args.sheet)}')
    if ranked:
        ranked.finish(inferencer, vis)


if __name__ == '__main__':
    main()
