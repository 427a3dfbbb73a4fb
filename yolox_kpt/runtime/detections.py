"""``Detections``: one image's detections, what every inference path returns."""
from dataclasses import dataclass
from typing import Any, Iterator, List, Tuple

import numpy as np

from ..keypoint_layout import KeypointLayout

#: The per-detection fields, as mmengine's ``InstanceData`` of a YOLOXKptHead names them.
FIELDS: Tuple[str, ...] = ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores')


def _numpy(x: Any) -> np.ndarray:
    # torch tensors without importing torch (the runtime has none on some targets)
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


@dataclass
class Detections:
    """One image's detections in original-image pixels, with ``InstanceData``'s field names.

    ``KeypointDetector`` (exported models) and ``KptInferencer`` (PyTorch or exported)
    return it; the visualizer draws it as it draws an ``InstanceData``, since the names
    match (it answers ``'keypoints' in dets``, ``dets.get(name)`` and ``len(dets)``).

    Attributes:
        bboxes (np.ndarray): (N, 4) float32 x1 y1 x2 y2.
        scores (np.ndarray): (N,) float32.
        labels (np.ndarray): (N,) int64, index into ``layout.classes``.
        keypoints (np.ndarray): (N, K, 2) float32 x y, K = ``layout.num_keypoints``; slots
            the detection's class does not own are 0.
        keypoint_scores (np.ndarray): (N, K) float32; 0 in slots the class does not own.
        layout (KeypointLayout): classes and keypoint slots (names, skeletons).
    """
    bboxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    layout: KeypointLayout

    def __post_init__(self) -> None:
        n, k = len(self.scores), self.layout.num_keypoints
        self.bboxes = _numpy(self.bboxes).astype(np.float32, copy=False).reshape(n, 4)
        self.scores = _numpy(self.scores).astype(np.float32, copy=False)
        self.labels = _numpy(self.labels).astype(np.int64, copy=False)
        self.keypoints = _numpy(self.keypoints).astype(np.float32, copy=False).reshape(n, k, 2)
        self.keypoint_scores = _numpy(self.keypoint_scores).astype(
            np.float32, copy=False).reshape(n, k)

    @classmethod
    def from_instances(cls, instances: Any, layout: KeypointLayout) -> 'Detections':
        """From an ``InstanceData`` (a model's ``pred_instances``; tensors on any device)."""
        return cls(**{f: getattr(instances, f) for f in FIELDS}, layout=layout)

    @property
    def class_names(self) -> Tuple[str, ...]:
        return self.layout.classes

    @property
    def keypoint_names(self) -> Tuple[str, ...]:
        return self.layout.keypoint_names

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: Any) -> 'Detections':
        """The detections at ``index`` (a boolean mask, indices, a slice or one index)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Detections(**{f: getattr(self, f)[index] for f in FIELDS}, layout=self.layout)

    def to_json(self) -> List[dict]:
        """One JSON-ready dict per detection, as the demos and mining tools write them:
        ``label`` (class name), ``score``, ``bbox`` (x1 y1 x2 y2) and ``keypoints``
        (``{name: [x, y, score]}`` for the slots with a score above 0)."""
        return [dict(label=self.class_names[int(lb)], score=round(float(s), 4),
                     bbox=[round(float(v), 2) for v in box],
                     keypoints={self.keypoint_names[k]: [round(float(x), 2), round(float(y), 2),
                                                         round(float(ks), 4)]
                                for k, ((x, y), ks) in enumerate(zip(kp, kp_scores)) if ks > 0})
                for box, s, lb, kp, kp_scores in zip(self.bboxes, self.scores, self.labels,
                                                     self.keypoints, self.keypoint_scores)]

    # ``InstanceData``'s read interface, for code that draws either
    def __contains__(self, name: str) -> bool:
        return name in FIELDS

    def keys(self) -> Tuple[str, ...]:
        return FIELDS

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in FIELDS else default

    def items(self) -> Iterator[Tuple[str, np.ndarray]]:
        return ((f, getattr(self, f)) for f in FIELDS)

