"""The test pipeline of a YOLOX config, in numpy/OpenCV (no mmcv), pixel for pixel."""
from dataclasses import asdict, dataclass
from typing import Optional, Sequence, Tuple

import numpy as np


@dataclass
class Preprocess:
    """Resize (keep ratio or to a fixed size), pad, pad to a size divisor, normalise.

    Attributes:
        scale (tuple): (w, h) of the config's ``Resize``.
        keep_ratio (bool): mmcv's ``imrescale`` when True, else resize to ``scale``.
        pad_to_square (bool): ``Pad(pad_to_square=True)``, bottom/right.
        pad_val (float): Value of that pad (YOLOX: 114).
        size_divisor (int): ``DetDataPreprocessor.pad_size_divisor`` (pads with
            ``divisor_pad_val``).
        mean, std (sequence, optional): Per-channel normalisation (YOLOX: none).
        bgr_to_rgb (bool): Channel swap before the network.
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

    def __call__(self, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """BGR uint8 (H, W, 3) -> input (1, 3, H', W') float32 and the (w, h) scale factor
        from original to network pixels."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'expected a BGR image (H, W, 3), got shape {image.shape}')
        # imported here so that the export contract (which holds a Preprocess) reads and
        # writes metadata on machines without OpenCV
        import cv2
        h, w = image.shape[:2]
        if self.keep_ratio:
            # mmcv.imrescale: fit the long edge in max(scale), the short in min(scale)
            factor = min(max(self.scale) / max(h, w), min(self.scale) / min(h, w))
            new_w, new_h = int(w * factor + 0.5), int(h * factor + 0.5)
        else:
            new_w, new_h = self.scale
        img = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        scale_factor = np.array([new_w / w, new_h / h], dtype=np.float32)
        if self.pad_to_square:
            side = max(new_w, new_h)
            img = cv2.copyMakeBorder(img, 0, side - new_h, 0, side - new_w,
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
