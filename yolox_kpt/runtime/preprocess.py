"""The test pipeline of a YOLOX config, in numpy/OpenCV (no mmcv), pixel for pixel."""
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Tuple

import numpy as np


@dataclass
class Preprocess:
    """Resize (keep ratio or to a fixed size), pad, pad to a size divisor, normalise.

    Reproduces mmdet's ``Resize`` + ``Pad`` + ``DetDataPreprocessor`` exactly (the same
    rounding, interpolation, pad values and scale factor), so that an exported model sees
    the input PyTorch saw:

    * ``Resize(keep_ratio=True)`` is ``mmcv.imrescale``: factor ``min(max(scale) / long
      edge, min(scale) / short edge)``, size ``int(w * factor + 0.5)``, bilinear
      (``cv2.INTER_LINEAR``); the scale factor that maps back is the actual
      ``(new_w / w, new_h / h)``, as mmdet's ``Resize`` stores it.
    * ``Pad`` pads bottom/right with ``pad_val`` to a square, to a multiple of
      ``pad_size_divisor``, or to ``pad_size`` (mmdet's ``Pad`` order of precedence).
    * ``DetDataPreprocessor`` then pads to ``size_divisor`` with ``divisor_pad_val`` (0, not
      the pipeline's 114), after normalisation.

    A static export (fixed ``pad_size``) letterboxes: the frame is resized to fit in
    ``pad_size`` keeping its aspect ratio, then padded. The factor is then ``min(W / w,
    H / h)``, which is ``imrescale``'s for a frame of the input's orientation (landscape
    into landscape, or any frame into a square); a portrait frame into a landscape input,
    which mmdet's pipeline cannot pad, is fitted too.

    Attributes:
        scale (tuple): (w, h) of the config's ``Resize``.
        keep_ratio (bool): mmcv's ``imrescale`` when True, else resize to ``scale``.
        pad_to_square (bool): ``Pad(pad_to_square=True)``, bottom/right.
        pad_val (float): Value of the pipeline's ``Pad`` (YOLOX: 114).
        size_divisor (int): ``DetDataPreprocessor.pad_size_divisor`` (pads with
            ``divisor_pad_val``).
        divisor_pad_val (float): ``DetDataPreprocessor.pad_value``.
        mean, std (sequence, optional): Per-channel normalisation (YOLOX: none).
        bgr_to_rgb (bool): Channel swap before the network.
        pad_size (tuple, optional): (w, h): ``Pad(size=...)``, a static export's input.
        pad_size_divisor (int): ``Pad(size_divisor=...)`` (pads with ``pad_val``).
    """
    scale: Tuple[int, int]
    keep_ratio: bool = True
    pad_to_square: bool = False
    pad_val: float = 114.0
    size_divisor: int = 1
    divisor_pad_val: float = 0.0
    mean: Optional[Sequence[float]] = None
    std: Optional[Sequence[float]] = None
    bgr_to_rgb: bool = False
    pad_size: Optional[Tuple[int, int]] = None
    pad_size_divisor: int = 1

    def resized_size(self, w: int, h: int) -> Tuple[int, int]:
        """(new_w, new_h) of a (w, h) frame after the ``Resize`` step."""
        if not self.keep_ratio:
            return tuple(self.scale)
        if self.pad_size is not None:
            factor = min(self.pad_size[0] / w, self.pad_size[1] / h)
        else:
            factor = min(max(self.scale) / max(h, w), min(self.scale) / min(h, w))
        return int(w * factor + 0.5), int(h * factor + 0.5)

    def padded_size(self, w: int, h: int) -> Tuple[int, int]:
        """(w, h) of a resized (w, h) image after ``Pad`` (before the data preprocessor)."""
        if self.pad_to_square:
            w = h = max(w, h)
        if self.pad_size_divisor > 1:
            d = self.pad_size_divisor
            return -(-w // d) * d, -(-h // d) * d
        if self.pad_size is not None:
            return tuple(self.pad_size)
        return w, h

    def __call__(self, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """BGR uint8 (H, W, 3) -> input (1, 3, H', W') float32 and the (w, h) scale factor
        from original to network pixels."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'expected a BGR image (H, W, 3), got shape {image.shape}')
        # imported here so that the export contract (which holds a Preprocess) reads and
        # writes metadata on machines without OpenCV
        import cv2
        h, w = image.shape[:2]
        new_w, new_h = self.resized_size(w, h)
        img = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        scale_factor = np.array([new_w / w, new_h / h], dtype=np.float32)
        pw, ph = self.padded_size(new_w, new_h)
        if pw < new_w or ph < new_h:
            raise ValueError(f'a {w}x{h} image resizes to {new_w}x{new_h}, larger than the '
                             f'padded input {pw}x{ph}')
        if (pw, ph) != (new_w, new_h):
            img = cv2.copyMakeBorder(img, 0, ph - new_h, 0, pw - new_w,
                                     cv2.BORDER_CONSTANT, value=(self.pad_val, ) * 3)
        img = img.astype(np.float32)
        if self.bgr_to_rgb:
            img = img[..., ::-1]
        if self.mean is not None:
            img = (img - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        ph = -(-img.shape[0] // self.size_divisor) * self.size_divisor
        pw = -(-img.shape[1] // self.size_divisor) * self.size_divisor
        if (ph, pw) != img.shape[:2]:
            img = cv2.copyMakeBorder(img, 0, ph - img.shape[0], 0, pw - img.shape[1],
                                     cv2.BORDER_CONSTANT, value=(self.divisor_pad_val, ) * 3)
        return np.ascontiguousarray(img.transpose(2, 0, 1)[None]), scale_factor

    @classmethod
    def from_meta(cls, meta: dict) -> 'Preprocess':
        """From :meth:`to_meta`'s dict (the ``preprocess`` entry of the runtime meta)."""
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in meta.items()})

    def to_meta(self) -> dict:
        """JSON-ready dict of the fields (tuples as lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}
