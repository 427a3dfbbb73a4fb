"""Image folder -> mp4 and mp4 -> GIF, for demos and READMEs.

OpenCV reads and writes the frames; Pillow (imported when used) writes the GIF.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import List, Optional, Sequence

import cv2
import numpy as np

from ..utils.progress import progress
from .coco import ConverterError, PathLike


def images_to_video(images: Sequence[PathLike], out_file: PathLike, fps: float = 10.0,
                    resize_to_first: bool = False, show_progress: bool = True) -> dict:
    """Write images, in the given order, as an mp4 ('mp4v') video.

    Args:
        images (Sequence[PathLike]): image files.
        out_file (PathLike): the video.
        fps (float): frames per second.
        resize_to_first (bool): resize frames to the first image's size instead of failing
            on a different size.
        show_progress (bool): show a progress bar.

    Returns:
        dict: ``frames`` written and ``size`` (width, height).
    """
    if not images:
        raise ConverterError('no images to write')
    if not fps > 0:
        raise ConverterError(f'--fps must be positive, got {fps}')
    first = _read(images[0])
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(out_file), cv2.VideoWriter_fourcc(*'mp4v'), float(fps),
                             (w, h))
    if not writer.isOpened():
        raise ConverterError(f'{out_file}: OpenCV cannot open an mp4v video writer')
    resized = 0
    try:
        it = progress(images, len(images), 'frames', 'img', show=show_progress)
        for i, path in enumerate(it):
            img = first if i == 0 else _read(path)
            if img.shape[:2] != (h, w):
                if not resize_to_first:
                    raise ConverterError(
                        f'{path}: image is {img.shape[1]}x{img.shape[0]} but the first image '
                        f'({images[0]}) is {w}x{h}; pass --resize-to-first to resize')
                img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
                resized += 1
            writer.write(img)
    finally:
        writer.release()
    return dict(frames=len(images), size=(w, h), resized=resized)


def _read(path: PathLike) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ConverterError(f'{path}: not a readable image')
    return img


def video_to_gif(video: PathLike, out_file: PathLike, fps: float = 10.0, start: float = 0.0,
                 duration: Optional[float] = None, scale: Optional[float] = None,
                 width: Optional[int] = None, loop: int = 0) -> dict:
    """Write part of a video as an animated GIF.

    Frames are sampled by time: output frame ``i`` is the last source frame at or before
    ``start + i / fps`` (never more often than the source's own frame rate).

    Args:
        video (PathLike): any video OpenCV reads.
        out_file (PathLike): the GIF.
        fps (float): GIF frames per second (GIF delays are whole 1/100 s).
        start (float): first second to take.
        duration (float, optional): seconds to take; default: to the end.
        scale (float, optional): resize factor.
        width (int, optional): output width in pixels (height keeps the aspect ratio).
        loop (int): GIF loop count; 0 loops forever.

    Returns:
        dict: ``frames`` in the GIF as Pillow reads it back (Pillow merges identical
        consecutive frames), ``size`` (width, height), ``bytes`` and ``source_fps``.
    """
    from PIL import Image  # only for writing GIFs
    if not fps > 0:
        raise ConverterError(f'--fps must be positive, got {fps}')
    if start < 0 or (duration is not None and duration <= 0):
        raise ConverterError(f'--start must be >= 0 and --duration > 0, got {start}, '
                              f'{duration}')
    if scale is not None and width is not None:
        raise ConverterError('give --scale or --width, not both')
    if (scale is not None and not scale > 0) or (width is not None and width < 1):
        raise ConverterError(f'--scale and --width must be positive, got {scale}, {width}')
    if not Path(video).is_file():
        raise ConverterError(f'{video}: no such video file')
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ConverterError(f'{video}: OpenCV cannot open it as a video')
    src_fps = cap.get(cv2.CAP_PROP_FPS)
    if not src_fps > 0:
        cap.release()
        raise ConverterError(f'{video}: the video reports no frame rate')
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    end = None if duration is None else start + duration
    step = 1.0 / min(fps, src_fps)
    frames: List[Image.Image] = []
    next_t, index, eps = start, 0, 1e-6
    try:
        # The reported frame count only sizes the bar: it can be off for some containers.
        for index in progress(itertools.count(), total, 'frames', 'frame'):
            t = index / src_fps
            if end is not None and t >= end - eps:
                break
            if t < next_t - eps:  # not due: skip without converting the frame
                if not cap.grab():
                    break
                continue
            ok, frame = cap.read()
            if not ok:
                break
            if scale is not None or width is not None:
                h, w = frame.shape[:2]
                nw = width if width is not None else max(1, round(w * scale))
                nh = max(1, round(h * nw / w))
                frame = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)
            frames.append(Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
            while next_t <= t + eps:
                next_t += step
    finally:
        cap.release()
    if not frames:
        raise ConverterError(f'{video}: no frames from {start} s (the video has '
                              f'{index} frames at {src_fps:g} fps)')
    # Browsers show GIF delays under 20 ms as 100 ms.
    frames[0].save(out_file, save_all=True, append_images=frames[1:],
                   duration=max(20, round(1000 * step)), loop=loop)
    with Image.open(out_file) as gif:
        n, size = getattr(gif, 'n_frames', 1), gif.size
    return dict(frames=n, size=size, bytes=Path(out_file).stat().st_size, source_fps=src_fps)
