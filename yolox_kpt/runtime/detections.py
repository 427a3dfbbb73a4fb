"""``Detections``: one image's detections, what every inference path returns."""
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Tuple

import numpy as np

from ..keypoint_layout import KeypointLayout, visibility_states

#: The per-detection fields, as mmengine's ``InstanceData`` of a YOLOXKptHead names them.
FIELDS: Tuple[str, ...] = ('bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores')
#: Fields a model may not predict (None then): ``keypoint_visibility``, from heads with the
#: occlusion branch and exports that output it.
OPTIONAL_FIELDS: Tuple[str, ...] = ('keypoint_visibility', )


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
        keypoint_scores (np.ndarray): (N, K) float32, P(labelled) = P(COCO v > 0); 0 in
            slots the class does not own.
        layout (KeypointLayout): classes and keypoint slots (names, skeletons).
        keypoint_visibility (np.ndarray, optional): (N, K, 3) float32, probabilities of COCO
            v = 0, 1, 2 (not labelled, occluded, visible) per slot; (1, 0, 0) in slots the
            class does not own. None when the model does not predict it (an export made
            before it existed, a head without the occlusion branch).
    """
    bboxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    layout: KeypointLayout
    keypoint_visibility: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        n, k = len(self.scores), self.layout.num_keypoints
        self.bboxes = _numpy(self.bboxes).astype(np.float32, copy=False).reshape(n, 4)
        self.scores = _numpy(self.scores).astype(np.float32, copy=False)
        self.labels = _numpy(self.labels).astype(np.int64, copy=False)
        self.keypoints = _numpy(self.keypoints).astype(np.float32, copy=False).reshape(n, k, 2)
        self.keypoint_scores = _numpy(self.keypoint_scores).astype(
            np.float32, copy=False).reshape(n, k)
        if self.keypoint_visibility is not None:
            self.keypoint_visibility = _numpy(self.keypoint_visibility).astype(
                np.float32, copy=False).reshape(n, k, 3)

    @classmethod
    def from_instances(cls, instances: Any, layout: KeypointLayout) -> 'Detections':
        """From an ``InstanceData`` (a model's ``pred_instances``; tensors on any device),
        with ``keypoint_visibility`` when it has that field."""
        fields = {f: getattr(instances, f) for f in FIELDS}
        for name in OPTIONAL_FIELDS:
            try:
                fields[name] = getattr(instances, name)
            except (AttributeError, KeyError):  # KeyError: a results.pkl dict behind it
                pass
        return cls(**fields, layout=layout)

    @property
    def keypoint_states(self) -> Optional[np.ndarray]:
        """(N, K) uint8 predicted COCO v per slot (:func:`~yolox_kpt.keypoint_layout.
        visibility_states` of ``keypoint_visibility``: 0 not labelled, 1 occluded, 2
        visible); None without ``keypoint_visibility``."""
        if self.keypoint_visibility is None:
            return None
        return visibility_states(self.keypoint_visibility)

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
        # the fields are already checked and converted (__post_init__): indexing along the
        # first axis keeps their dtypes and trailing shapes, so the copy skips the checks
        # (the tracker and the mining loop take a few subsets a frame)
        out = object.__new__(type(self))
        out.layout, out.keypoint_visibility = self.layout, None
        for f, v in self.items():
            setattr(out, f, v[index])
        if out.bboxes.ndim != 2:  # an index that is not along the detections
            raise IndexError(f'Detections index {index!r} does not select detections')
        return out

    def to_json(self) -> List[dict]:
        """One JSON-ready dict per detection, as the demos and mining tools write them:
        ``label`` (class name), ``score``, ``bbox`` (x1 y1 x2 y2), ``keypoints``
        (``{name: [x, y, score]}`` for the slots with a score above 0) and, when the model
        predicts it, ``visibility`` (``{name: v}``, the predicted COCO v of the same slots;
        what ``yolox_kpt.data_tools.prelabels.hit_detections`` reads back)."""
        states = self.keypoint_states
        layout = self.layout
        # Python numbers first (``tolist``): a numpy scalar a value costs more than the
        # rounding, and the mining tools write every frame's detections
        boxes, scores, labels = self.bboxes.tolist(), self.scores.tolist(), self.labels.tolist()
        points, point_scores = self.keypoints.tolist(), self.keypoint_scores.tolist()
        state_rows = states.tolist() if states is not None else None
        slot_names = {}  # class -> each slot's key (KeypointLayout.slot_keys)
        out = []
        for i, label in enumerate(labels):
            if label not in slot_names:
                slot_names[label] = layout.slot_keys(label)
            names, kp, kp_scores = slot_names[label], points[i], point_scores[i]
            slots = [k for k, v in enumerate(kp_scores) if v > 0]
            det = dict(label=layout.classes[label], score=round(scores[i], 4),
                       bbox=[round(v, 2) for v in boxes[i]],
                       keypoints={names[k]: [round(kp[k][0], 2), round(kp[k][1], 2),
                                             round(kp_scores[k], 4)] for k in slots})
            if state_rows is not None:
                det['visibility'] = {names[k]: state_rows[i][k] for k in slots}
            out.append(det)
        return out

    # ``InstanceData``'s read interface, for code that draws either: an optional field is
    # there only when set, as an InstanceData field is
    def keys(self) -> Tuple[str, ...]:
        return FIELDS + tuple(f for f in OPTIONAL_FIELDS if getattr(self, f) is not None)

    def __contains__(self, name: str) -> bool:
        return name in self.keys()

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name) if name in self.keys() else default

    def items(self) -> Iterator[Tuple[str, np.ndarray]]:
        """(name, array) of every field set, optional ones included: what a copy of the
        detections (a subset, a reordering) carries over."""
        return ((f, getattr(self, f)) for f in self.keys())

