"""mmdet's detection visualizer plus keypoints and per-class skeletons."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmdet.visualization.palette import get_palette
from mmengine.structures import InstanceData

from ..keypoint_layout import KeypointLayout, visibility_states

#: RGB ends of the keypoint score colour ramp: low scores red, high scores green.
LOW_SCORE_RGB = np.array([230, 40, 40], dtype=np.float32)
HIGH_SCORE_RGB = np.array([40, 220, 60], dtype=np.float32)


def score_color(score: float, threshold: float) -> Tuple[int, int, int]:
    """RGB colour of a keypoint with ``score``: red at ``threshold``, green at 1."""
    t = float(np.clip((score - threshold) / max(1.0 - threshold, 1e-6), 0.0, 1.0))
    return tuple(int(c) for c in LOW_SCORE_RGB * (1 - t) + HIGH_SCORE_RGB * t)


@VISUALIZERS.register_module()
class KptDetLocalVisualizer(DetLocalVisualizer):
    """``DetLocalVisualizer`` (boxes, class names, scores) that also draws keypoints.

    * Predictions (``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K)): each keypoint of
      the detection's class with score >= ``kpt_score_thr`` is a filled dot coloured by its
      score (red at the threshold, green at 1), ringed in the class colour. With
      ``keypoint_visibility`` (N, K, 3) (heads with the occlusion branch) the predicted
      COCO v (``keypoint_layout.visibility_states``) decides instead, as for ground
      truth: v=2 that filled dot, v=1 a hollow ring in the same colours (centre
      untouched), v=0 nothing.
    * Ground truth (``keypoints``, ``keypoints_visible`` with COCO's v): v=2 a filled dot
      in the class colour, v=1 (labelled but occluded) a hollow ring, v=0 nothing.
    * Each class's skeleton (``keypoint_layout.skeletons``) joins the dots drawn.

    Only the slots of the instance's own class are drawn (per-class keypoint sets). The
    layout comes from ``keypoint_layout`` or else from ``dataset_meta['keypoint_layout']``,
    which the Runner sets from ``CocoKptDataset.metainfo`` (so ``tools/test.py
    --show-dir`` needs nothing extra in the config but the visualizer's type).

    Args:
        keypoint_layout (dict, optional): ``dict(classes, keypoints, ...)`` as in the
            configs.
        kpt_score_thr (float): Predicted keypoints below this score are not drawn.
        kpt_radius (int): Dot radius in pixels; lines are ``max(1, kpt_radius // 2)`` wide.
        **kwargs: ``DetLocalVisualizer`` arguments.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 keypoint_layout: Optional[dict] = None,
                 kpt_score_thr: float = 0.3,
                 kpt_radius: int = 3,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self._layout = KeypointLayout.from_config(keypoint_layout) if keypoint_layout else None
        self.kpt_score_thr = kpt_score_thr
        self.kpt_radius = kpt_radius

    @property
    def layout(self) -> Optional[KeypointLayout]:
        """The explicit layout, else the dataset's (None when neither is known)."""
        if self._layout is not None:
            return self._layout
        cfg = (self.dataset_meta or {}).get('keypoint_layout')
        return KeypointLayout.from_config(cfg) if cfg else None

    def _draw_instances(self, image: np.ndarray, instances: InstanceData,
                        classes: Optional[List[str]],
                        palette: Optional[List[tuple]]) -> np.ndarray:
        """Boxes and labels as mmdet, then keypoints and skeletons.

        Args:
            image (np.ndarray): (H, W, 3) RGB.
            instances (InstanceData | Detections): ground truth or predictions (see class
                doc).

        Returns:
            np.ndarray: (H, W, 3) RGB drawn image.
        """
        instances = _instance_data(instances)
        if 'bboxes' in instances:
            instances = instances.clone()
            boxes = instances.bboxes
            # box structures (HorizontalBoxes) straight from a pipeline: mmdet draws tensors
            boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
            # YOLOX does not clip its boxes to the image; matplotlib would then widen the
            # axes to fit the box and shrink the picture inside a white margin
            h, w = image.shape[:2]
            boxes = boxes.clone().float()
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
            instances.bboxes = boxes
        drawn = super()._draw_instances(image, instances, classes, palette)
        canvas = self.draw_instance_keypoints(np.ascontiguousarray(drawn), instances, palette)
        self.set_image(canvas)
        return self.get_image()

    def draw_instance_keypoints(self, canvas: np.ndarray, instances,
                                palette: Optional[Sequence[tuple]]) -> np.ndarray:
        """Keypoints and skeletons of ``instances`` (predictions with ``keypoint_scores`` or
        ground truth with ``keypoints_visible``, v=2 when absent; an ``InstanceData`` or a
        ``Detections``) on ``canvas`` (H, W, 3) RGB, in place; nothing without a layout or
        keypoints."""
        layout = self.layout
        if layout is None or 'keypoints' not in instances or len(instances) == 0:
            return canvas
        labels = _numpy(instances.labels).astype(int)
        keypoints = _numpy(instances.keypoints).reshape(len(labels), -1, 2)
        states = instances.get('keypoint_visibility')
        if 'keypoint_scores' in instances and states is not None:
            scores = _numpy(instances.keypoint_scores)
            visible = visibility_states(_numpy(states).reshape(*keypoints.shape[:2], 3))
            shown = visible > 0
        elif 'keypoint_scores' in instances:
            scores = _numpy(instances.keypoint_scores)
            shown = scores >= self.kpt_score_thr
            visible = None
        else:
            visible = _numpy(instances.get('keypoints_visible',
                                           np.full(keypoints.shape[:2], 2.0)))
            scores = None
            shown = visible > 0
        return self.draw_keypoints(canvas, keypoints, labels, shown, scores, visible, layout,
                                   self.class_colors(palette))

    def class_colors(self, palette: Optional[Sequence[tuple]]) -> List[tuple]:
        """RGB colour per class of the layout, as mmdet colours the boxes."""
        return get_palette(self.bbox_color or palette or 'random', len(self.layout.classes))

    def draw_keypoints(self, canvas: np.ndarray, keypoints: np.ndarray, labels: np.ndarray,
                       shown: np.ndarray, scores: Optional[np.ndarray],
                       visible: Optional[np.ndarray], layout: KeypointLayout,
                       colors: Sequence[tuple]) -> np.ndarray:
        """Draw on ``canvas`` (H, W, 3) RGB in place and return it.

        Args:
            keypoints (np.ndarray): (N, K, 2) pixels. labels (np.ndarray): (N,).
            shown (np.ndarray): (N, K) bool, which keypoints to draw.
            scores (np.ndarray, optional): (N, K) predicted scores (colour ramp).
            visible (np.ndarray, optional): (N, K) COCO v, ground truth or predicted (ring
                when 1); None: predictions without states, all drawn as dots.
        """
        radius = self.kpt_radius
        width = max(1, radius // 2)
        for i, label in enumerate(labels):
            if label < 0 or label >= len(layout.class_slots):
                continue
            color = tuple(int(c) for c in colors[label])
            slots = layout.class_slots[label]
            pts = {s: (int(round(keypoints[i, s, 0])), int(round(keypoints[i, s, 1])))
                   for s in slots if shown[i, s]}
            # a ring (v=1) keeps its centre empty: skeleton lines stop at its edge
            rings = {s for s in pts if visible is not None and visible[i, s] < 2}
            for a, b in layout.skeletons[label] if label < len(layout.skeletons) else ():
                if a in pts and b in pts:
                    pa, pb = np.asarray(pts[a], float), np.asarray(pts[b], float)
                    gap = (pb - pa) * (radius + width) / max(np.hypot(*(pb - pa)), 1e-6)
                    pa, pb = pa + gap * (a in rings), pb - gap * (b in rings)
                    cv2.line(canvas, tuple(int(round(v)) for v in pa),
                             tuple(int(round(v)) for v in pb), color, width, cv2.LINE_AA)
            for s, xy in pts.items():
                dot = visible is None or visible[i, s] >= 2
                if scores is not None:
                    inner = score_color(scores[i, s], self.kpt_score_thr)
                    if dot:
                        cv2.circle(canvas, xy, radius + width, color, -1, cv2.LINE_AA)
                        cv2.circle(canvas, xy, radius, inner, -1)
                    else:  # predicted occluded: the same two colours as rings
                        cv2.circle(canvas, xy, radius + width, color, width, cv2.LINE_AA)
                        cv2.circle(canvas, xy, radius, inner, width)
                elif dot:
                    cv2.circle(canvas, xy, radius, color, -1)
                else:
                    cv2.circle(canvas, xy, radius, color, width, cv2.LINE_AA)
        return canvas


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


def _instance_data(instances) -> InstanceData:
    """``instances`` as mmdet's drawing code needs it: an ``InstanceData`` of tensors.

    A :class:`~yolox_kpt.runtime.Detections` has the same field names (numpy arrays), so
    this is a change of container, not of layout.
    """
    if isinstance(instances, InstanceData):
        return instances
    import torch
    return InstanceData(**{k: torch.as_tensor(v) for k, v in instances.items()
                           if v is not None})


def frame_visualizer(layout: KeypointLayout, **kwargs) -> 'KptDetLocalVisualizer':
    """A visualizer for tools that draw frames one by one (demos, mining, analysis)."""
    vis = KptDetLocalVisualizer(name=f'yolox_kpt_{id(layout)}_{np.random.randint(1 << 30)}',
                                keypoint_layout=layout.to_config(), **kwargs)
    vis.dataset_meta = dict(classes=layout.classes)
    return vis


def draw_box_texts(image: np.ndarray, boxes: np.ndarray,
                   texts: Sequence[Optional[str]]) -> np.ndarray:
    """Each text (None: nothing) in a dark strip just below its box (N, 4) x1 y1 x2 y2
    (inside the image at its bottom edge); on ``image`` (H, W, 3) in place, returned."""
    h = image.shape[0]
    for box, text in zip(np.asarray(boxes, np.float64).reshape(-1, 4), texts):
        if not text:
            continue
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        x, y = max(int(box[0]), 0), min(int(box[3]) + th + base + 2, h - 1)
        cv2.rectangle(image, (x, y - th - base), (x + tw, y), (0, 0, 0), -1)
        cv2.putText(image, text, (x, y - base), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255),
                    1, cv2.LINE_AA)
    return image


def draw_frame(vis: KptDetLocalVisualizer, image_bgr: np.ndarray, instances,
               fast: bool = False, texts: Optional[Sequence[Optional[str]]] = None
               ) -> np.ndarray:
    """``instances`` (an ``InstanceData`` of predictions or ground truth, or a
    :class:`~yolox_kpt.runtime.Detections`) drawn on a BGR image; BGR out.

    ``fast`` draws boxes and labels with OpenCV instead of mmdet's matplotlib canvas (same
    colours and keypoints; plainer text): about 1 ms instead of 80 ms a frame on the CI
    machine, which is what a video needs. ``texts`` (one per instance, None for none; e.g.
    ground distances) are written below the boxes.
    """
    if texts is not None:
        drawn = draw_frame(vis, image_bgr, instances, fast)
        return draw_box_texts(drawn, _numpy(instances.bboxes), texts)
    layout = vis.layout
    rgb = np.ascontiguousarray(image_bgr[..., ::-1])
    palette = vis.dataset_meta.get('palette')
    if not fast:
        drawn = vis._draw_instances(rgb, instances, list(layout.classes), palette)
        return np.ascontiguousarray(drawn[..., ::-1])
    colors = vis.class_colors(palette)
    labels = _numpy(instances.labels).astype(int)
    boxes = _numpy(instances.bboxes).reshape(-1, 4).round().astype(int)
    scores = _numpy(instances.scores) if 'scores' in instances else None
    for i, (box, label) in enumerate(zip(boxes, labels)):
        color = tuple(int(c) for c in colors[label])
        cv2.rectangle(rgb, tuple(box[:2]), tuple(box[2:]), color, 2)
        text = layout.classes[label] + ('' if scores is None else f' {100 * scores[i]:.1f}')
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        x, y = int(box[0]), max(int(box[1]), th + base)
        cv2.rectangle(rgb, (x, y - th - base), (x + tw, y), (0, 0, 0), -1)
        cv2.putText(rgb, text, (x, y - base), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (230, 230, 230),
                    1, cv2.LINE_AA)
    vis.draw_instance_keypoints(rgb, instances, palette)
    return np.ascontiguousarray(rgb[..., ::-1])
