"""Images and video frames for the tools: listing, opening, iterating, with clear errors."""
import os
import os.path as osp
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

import cv2
import numpy as np

#: File name endings taken as images when a folder is listed (lower case): the one list of
#: every tool, demo and data tool. ``.gif`` is in: ``check_consistency`` counted GIFs, and
#: without them its ``--fix`` would drop GIF frames that exist from an annotation file.
#: OpenCV 5 (the dataset's mmcv backend, the demos) reads a GIF's first frame; an older
#: OpenCV fails on it with an error naming the file, never silently.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.gif')


def list_folder_images(folder: Union[str, os.PathLike], pattern: Optional[str] = None,
                       recursive: bool = False) -> List[Path]:
    """Image files of a folder, sorted by path: the one image lister of the repository.

    Args:
        folder (str | PathLike): the folder.
        pattern (str, optional): a glob such as ``'*.png'``; default: every file whose name
            ends in one of :data:`IMAGE_EXTENSIONS`.
        recursive (bool): also look in sub-folders.
    """
    root = Path(folder)
    if pattern is not None:
        found = root.rglob(pattern) if recursive else root.glob(pattern)
    else:
        found = (p for p in (root.rglob('*') if recursive else root.iterdir())
                 if p.suffix.lower() in IMAGE_EXTENSIONS)
    return sorted(p for p in found if p.is_file())


def list_images(path: str) -> List[str]:
    """The image files of a file or folder (sorted by name); SystemExit naming the path."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise SystemExit(f'{path}: no such file or folder')
    files = [str(p) for p in list_folder_images(path)]
    if not files:
        raise SystemExit(f'{path}: no images ({", ".join(IMAGE_EXTENSIONS)})')
    return files


def read_image(path: str) -> np.ndarray:
    image = cv2.imread(path)
    if image is None:
        raise SystemExit(f'{path}: not a readable image')
    return image


def open_video(path: str) -> Tuple[cv2.VideoCapture, float, Tuple[int, int], int]:
    """``(capture, fps, (width, height), frame count)``; SystemExit when unreadable."""
    cap = cv2.VideoCapture(path)
    if not osp.isfile(path) or not cap.isOpened():
        raise SystemExit(f'{path}: not a readable video')
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return cap, fps, size, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))


def iter_frames(source: str,
                every: int = 1) -> Iterator[Tuple[str, Optional[float], np.ndarray]]:
    """``(name, seconds, BGR image)`` for each image of a folder (seconds None) or for every
    ``every``-th frame of a video (named ``frame_NNNNNN.jpg`` by frame index)."""
    if osp.isdir(source):
        for path in list_images(source):
            yield osp.basename(path), None, read_image(path)
        return
    cap, fps, _, _ = open_video(source)
    index = -1
    while True:
        ok, image = cap.read()
        if not ok:
            break
        index += 1
        if index % every == 0:
            yield f'frame_{index:06d}.jpg', round(index / fps, 3), image
    cap.release()
