"""Horizontal boxes that carry their instances' keypoints through mmdet's transforms.

mmdet's geometric transforms (Mosaic, RandomAffine, MixUp, RandomFlip, Resize, Pad, and the
filters after them) only ever touch ``results['gt_bboxes']`` through the box API: ``rescale_``,
``translate_``, ``flip_``, ``project_``, ``clip_``, ``cat``, indexing and ``clone``. A box type
whose methods move keypoints too therefore makes every stock transform keypoint-aware without
copying one of them. (MMPose's YOLOX-Pose project does the same with ``BBoxKeypoints``.)
"""
from typing import Optional, Sequence, Tuple, TypeVar, Union

import cv2
import numpy as np
import torch
from mmdet.structures.bbox import HorizontalBoxes, register_box
from torch import Tensor

T = TypeVar('T')

#: Flip directions that mirror the image (and so swap left and right keypoints). A
#: 'diagonal' flip is a 180 degree rotation: sides keep their names.
MIRROR_DIRECTIONS = ('horizontal', 'vertical')


@register_box(name='kpt_hbox')
class KeypointBoxes(HorizontalBoxes):
    """``HorizontalBoxes`` (N, 4) with keypoints (N, K, 2) and visibilities (N, K).

    Visibility follows COCO: 0 not labelled (or pushed out of the image), 1 labelled but
    occluded, 2 visible. A keypoint that a transform moves outside the image gets 0.

    Args:
        data (Tensor | np.ndarray): (N, 4) boxes, x1 y1 x2 y2.
        keypoints (Tensor | np.ndarray, optional): (N, K, 2) in pixels. Default: K = 0.
        keypoints_visible (Tensor | np.ndarray, optional): (N, K). Default: all 2.
        flip_indices (Sequence[int], optional): (K,) slot each slot becomes under a mirror.
            Default: identity.
        dtype, device, clone, in_mode: as for ``HorizontalBoxes``.
    """

    def __init__(self,
                 data: Union[Tensor, np.ndarray],
                 keypoints: Optional[Union[Tensor, np.ndarray]] = None,
                 keypoints_visible: Optional[Union[Tensor, np.ndarray]] = None,
                 flip_indices: Optional[Sequence[int]] = None,
                 dtype: Optional[torch.dtype] = None,
                 device=None,
                 clone: bool = True,
                 in_mode: Optional[str] = None) -> None:
        super().__init__(data, dtype=dtype, device=device, clone=clone, in_mode=in_mode)
        num = self.tensor.shape[0] if self.tensor.dim() > 1 else 0
        if keypoints is None:
            keypoints = self.tensor.new_zeros((num, 0, 2))
        keypoints = torch.as_tensor(keypoints, dtype=self.tensor.dtype,
                                    device=self.tensor.device)
        if clone:
            keypoints = keypoints.clone()
        if keypoints.dim() != 3:
            # (N, K*2) or flat input; the slot count cannot be read off an empty one.
            if flip_indices is not None:
                num_kpts = len(flip_indices)
            else:
                num_kpts = keypoints.numel() // (2 * num) if num else 0
            keypoints = keypoints.reshape(num, num_kpts, 2)
        if keypoints_visible is None:
            keypoints_visible = keypoints.new_full(keypoints.shape[:2], 2.)
        keypoints_visible = torch.as_tensor(keypoints_visible, dtype=self.tensor.dtype,
                                            device=self.tensor.device)
        if clone:
            keypoints_visible = keypoints_visible.clone()
        keypoints_visible = keypoints_visible.reshape(keypoints.shape[:2])
        self.keypoints = keypoints
        self.keypoints_visible = keypoints_visible
        num_kpts = keypoints.shape[1]
        self.flip_indices = tuple(range(num_kpts)) if flip_indices is None else tuple(
            int(i) for i in flip_indices)
        if len(self.flip_indices) != num_kpts:
            raise ValueError(f'flip_indices has {len(self.flip_indices)} entries for '
                             f'{num_kpts} keypoints')

    @property
    def num_keypoints(self) -> int:
        return self.keypoints.shape[1]

    def _like(self, boxes: Tensor, keypoints: Tensor, visible: Tensor) -> 'KeypointBoxes':
        return type(self)(boxes, keypoints, visible, self.flip_indices, clone=False)

    # --------------------------------------------------------------- containers
    def __getitem__(self, index) -> 'KeypointBoxes':
        boxes = super().__getitem__(index)
        if isinstance(index, np.ndarray):
            index = torch.as_tensor(index, device=self.device)
        if isinstance(index, tuple):
            index = index[0]
        kpts, vis = self.keypoints[index], self.keypoints_visible[index]
        if kpts.dim() == 2:  # a single integer index
            kpts, vis = kpts[None], vis[None]
        return self._like(boxes.tensor, kpts, vis)

    def __setitem__(self, index, values) -> None:
        raise NotImplementedError(
            'KeypointBoxes does not support item assignment: it would leave keypoints '
            'behind their boxes')

    def __deepcopy__(self, memo):
        other = self._like(self.tensor.clone(), self.keypoints.clone(),
                           self.keypoints_visible.clone())
        memo[id(self)] = other
        return other

    def clone(self) -> 'KeypointBoxes':
        return self.__deepcopy__({})

    def to(self, *args, **kwargs) -> 'KeypointBoxes':
        return self._like(self.tensor.to(*args, **kwargs),
                          self.keypoints.to(*args, **kwargs),
                          self.keypoints_visible.to(*args, **kwargs))

    def cpu(self) -> 'KeypointBoxes':
        return self.to('cpu')

    def detach(self) -> 'KeypointBoxes':
        return self._like(self.tensor.detach(), self.keypoints.detach(),
                          self.keypoints_visible.detach())

    @classmethod
    def cat(cls, box_list: Sequence['KeypointBoxes'], dim: int = 0) -> 'KeypointBoxes':
        """Concatenate along instances (dim 0 only), keypoints included."""
        assert dim == 0, 'KeypointBoxes concatenate along instances only'
        if not box_list:
            raise ValueError('cat needs at least one KeypointBoxes')
        for boxes in box_list:
            if not isinstance(boxes, KeypointBoxes):
                raise TypeError(f'cannot cat KeypointBoxes with {type(boxes).__name__}')
        first = box_list[0]
        widths = {b.num_keypoints for b in box_list}
        if len(widths) != 1:
            raise ValueError(f'cannot cat KeypointBoxes with keypoint counts {widths}')
        return cls(torch.cat([b.tensor for b in box_list]),
                   torch.cat([b.keypoints for b in box_list]),
                   torch.cat([b.keypoints_visible for b in box_list]),
                   first.flip_indices, clone=False)

    # ----------------------------------------------------------------- geometry
    def flip_(self, img_shape: Tuple[int, int], direction: str = 'horizontal') -> None:
        """Flip boxes and keypoints; a mirror swaps left/right slots by ``flip_indices``."""
        super().flip_(img_shape, direction)
        kpts = self.keypoints.clone()
        if direction in ('horizontal', 'diagonal'):
            kpts[..., 0] = img_shape[1] - kpts[..., 0]
        if direction in ('vertical', 'diagonal'):
            kpts[..., 1] = img_shape[0] - kpts[..., 1]
        vis = self.keypoints_visible
        if direction in MIRROR_DIRECTIONS:
            order = list(self.flip_indices)
            kpts, vis = kpts[:, order], vis[:, order]
        self.keypoints, self.keypoints_visible = kpts, vis

    def translate_(self, distances: Tuple[float, float]) -> None:
        super().translate_(distances)
        self.keypoints = self.keypoints + self.keypoints.new_tensor(distances)

    def rescale_(self, scale_factor: Tuple[float, float]) -> None:
        super().rescale_(scale_factor)
        self.keypoints = self.keypoints * self.keypoints.new_tensor(scale_factor)

    def resize_(self, scale_factor: Tuple[float, float]) -> None:
        raise NotImplementedError(
            'resize_ scales boxes about their centres, which has no meaning for keypoints')

    def project_(self, homography_matrix: Union[Tensor, np.ndarray]) -> None:
        super().project_(homography_matrix)
        self.keypoints = _project_points(self.keypoints, homography_matrix)

    def rotate_(self, center: Tuple[float, float], angle: float) -> None:
        super().rotate_(center, angle)
        matrix = np.eye(3)
        matrix[:2] = cv2.getRotationMatrix2D(center, -angle, 1)
        self.keypoints = _project_points(self.keypoints, matrix)

    def clip_(self, img_shape: Tuple[int, int]) -> None:
        """Clip boxes to the image; keypoints outside it become not labelled (v = 0).

        Keypoint coordinates are not clamped: a clamped point would be a wrong label.
        """
        super().clip_(img_shape)
        self.set_outside_invisible(img_shape)

    def set_outside_invisible(self, img_shape: Tuple[int, int]) -> None:
        """Set v = 0 for keypoints outside ``[0, w] x [0, h]``."""
        h, w = img_shape[:2]
        x, y = self.keypoints[..., 0], self.keypoints[..., 1]
        outside = (x < 0) | (x > w) | (y < 0) | (y > h)
        self.keypoints_visible = self.keypoints_visible.masked_fill(outside, 0.)


def _project_points(points: Tensor, homography_matrix: Union[Tensor, np.ndarray]) -> Tensor:
    """Apply a 3x3 homography to (..., 2) points."""
    matrix = torch.as_tensor(np.asarray(homography_matrix) if not isinstance(
        homography_matrix, Tensor) else homography_matrix, dtype=points.dtype,
                             device=points.device)
    homo = torch.cat([points, points.new_ones(points.shape[:-1] + (1, ))], dim=-1)
    out = homo @ matrix.T
    return out[..., :2] / out[..., 2:3]
