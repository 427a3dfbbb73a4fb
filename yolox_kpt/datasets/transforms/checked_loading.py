"""Loading images with a policy for corrupt files: skip them (counted) or stop naming them.

mmcv's ``LoadImageFromFile`` fails inside a dataloader worker on a zero-byte file (OpenCV's
``!buf.empty()``, no file name) and on a text file named ``.jpg``; OpenCV 4 decodes a
truncated JPEG with a warning on stderr only (the missing part grey). A worker cannot count
into the main process, so files skipped here wait in this process's ledger until the next
``PackKptDetInputs`` puts them in its sample's metainfo (``skipped_corrupt_images``), where
``CorruptImageLogHook`` logs them.
"""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS
from mmengine import fileio

# JPEG, PNG, BMP, GIF, TIFF (both byte orders); WebP is 'RIFF....WEBP'.
IMAGE_MAGIC = (b'\xff\xd8\xff', b'\x89PNG', b'BM', b'GIF8', b'II*\x00', b'MM\x00*', b'RIFF')
_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'  # the IEND chunk: length 0, type, CRC
SKIPPED_KEY = 'skipped_corrupt_images'
_MAX_NAMES = 100  # names kept per pending batch; the count is exact

_pending = dict(count=0, names=[])


class CorruptImageError(ValueError):
    """An image file that cannot be used; the message names the file and image id."""


def looks_like_image(head: bytes) -> bool:
    """Whether a file's first 12 bytes start like a JPEG/PNG/BMP/GIF/TIFF/WebP."""
    return head.startswith(IMAGE_MAGIC) and (not head.startswith(b'RIFF')
                                             or head[8:12] == b'WEBP')


def _jpeg_is_complete(data: bytes) -> bool:
    """Whether a JPEG reaches its end-of-image marker (FFD9).

    The marker segments before the first scan are walked by their lengths (an EXIF
    thumbnail inside APP1 has its own FFD9, which must not count); after the scan header,
    the entropy-coded data cannot contain FFD9 (a 0xFF there is stuffed as FF00), so an
    FFD9 after it is the end of the image. Bytes appended after the end (motion photos)
    are fine.
    """
    pos, size = 2, len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:  # stray bytes between segments (libjpeg skips them too)
            pos = data.find(b'\xff', pos)
            if pos < 0:
                return False
            continue
        marker = data[pos + 1]
        if marker == 0xD9:
            return True
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:  # fill / no length
            pos += 1 if marker == 0xFF else 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], 'big')
        if marker == 0xDA:  # start of scan
            return data.find(b'\xff\xd9', pos + 2 + length) >= 0
        pos += 2 + length
    return False


def image_bytes_problem(data: bytes) -> Optional[str]:
    """What is wrong with an image file's bytes, or None when nothing is seen (the decoder
    may still refuse it)."""
    if not data:
        return 'empty file (0 bytes)'
    if not looks_like_image(data[:12]):
        return f'not an image (starts with {data[:12]!r})'
    if data.startswith(b'\xff\xd8\xff') and not _jpeg_is_complete(data):
        return 'truncated JPEG (no end-of-image marker)'
    if data.startswith(b'\x89PNG') and _PNG_END not in data:
        return 'truncated PNG (no IEND chunk)'
    return None


def take_skipped() -> Optional[dict]:
    """``dict(count, names)`` of the files skipped in this process since the last call, or
    None; empties the ledger."""
    if not _pending['count']:
        return None
    taken = dict(_pending)
    _pending.update(count=0, names=[])
    return taken


@TRANSFORMS.register_module()
class LoadImageFromFileChecked(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that checks the file and follows a policy when it is
    corrupt: empty, not an image, a truncated JPEG or PNG, unreadable or undecodable.

    Args:
        on_corrupt (str): ``'raise'`` (default): :class:`CorruptImageError` naming the file,
            its image id and what is wrong (a worker's error reaches the main process with
            this message). ``'skip'``: return None, so mmengine's dataset (training mode)
            loads another sample; the file is counted (module doc). Not for validation or
            test: mmengine refuses a None sample there, and a metric must not drop images.
        **kwargs: as for ``LoadImageFromFile`` (``file_client_args`` is not supported).

    Added keys: ``img`` (H, W, 3) uint8 (float32 with ``to_float32``), ``img_shape``,
    ``ori_shape`` (H, W).
    """

    def __init__(self, on_corrupt: str = 'raise', **kwargs) -> None:
        if on_corrupt not in ('raise', 'skip'):
            raise ValueError(f"on_corrupt must be 'raise' or 'skip', got {on_corrupt!r}")
        if kwargs.get('file_client_args') is not None:
            raise ValueError('LoadImageFromFileChecked takes backend_args, not the '
                             'deprecated file_client_args')
        super().__init__(**kwargs)
        self.on_corrupt = on_corrupt

    def transform(self, results: dict) -> Optional[dict]:
        path, img = results['img_path'], None
        try:
            data = fileio.get(path, backend_args=self.backend_args)
            problem = image_bytes_problem(data)
            if problem is None:
                img = mmcv.imfrombytes(data, flag=self.color_type,
                                       backend=self.imdecode_backend)
                problem = 'cannot be decoded' if img is None else None
        except Exception as err:  # missing, unreadable, refused by the decoder
            problem = f'cannot be read or decoded ({type(err).__name__}: {err})'
        if problem is not None:
            name = f"{path} (image id {results.get('img_id', '?')}): {problem}"
            if self.on_corrupt == 'raise':
                raise CorruptImageError(
                    f'corrupt image {name}. Fix or remove the file, or let training skip '
                    "such files with on_corrupt='skip' on the LoadImageFromFileChecked step.")
            _pending['count'] += 1
            _pending['names'] = (_pending['names'] + [name])[:_MAX_NAMES]
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return results
