"""The export contract: what an exported yolox-kpt model outputs and how it describes itself.

``yolox_kpt.deploy`` writes it, ``yolox_kpt.runtime`` (and mmdeploy's backend model, through
:func:`unpack_outputs`) reads it; nothing else spells these names. A model describes itself
twice: in the ONNX file's ``metadata_props`` (one key, :data:`ONNX_METADATA_KEY`, a JSON
value; Ultralytics' exporter does the same, so an ``.onnx`` alone is enough) and in
:data:`SIDECAR_FILE` beside it (a TensorRT engine has no metadata of its own).

numpy and the standard library only: ``onnx`` / ``onnxruntime`` are imported inside the
functions that read or write an ONNX file.
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ..keypoint_layout import KeypointLayout
from .preprocess import Preprocess

#: Output tensors of the graph, in order: ``dets`` (B, N, 5) x1 y1 x2 y2 score,
#: ``labels`` (B, N) int (-1 in padded rows), ``keypoints`` (B, N, K, 3) x y score, all in
#: the network input's pixels; ``keypoint_visibility`` (B, N, K, 3) float, probabilities of
#: COCO v = 0, 1, 2 per slot (no unit, nothing to rescale). The last is optional: a model
#: exported before it existed, or from a head without the occlusion branch, has the first
#: three (:data:`REQUIRED_OUTPUTS`); its runtime meta's ``outputs`` says which.
OUTPUT_NAMES: Tuple[str, ...] = ('dets', 'labels', 'keypoints', 'keypoint_visibility')
#: The outputs every yolox-kpt export has (all of them before ``keypoint_visibility``).
REQUIRED_OUTPUTS: Tuple[str, ...] = OUTPUT_NAMES[:3]
#: Written beside the exported model (ONNX and engine).
SIDECAR_FILE = 'yolox_kpt_runtime.json'
#: Key of the JSON runtime meta in an ONNX file's ``metadata_props``.
ONNX_METADATA_KEY = 'yolox_kpt_runtime'


class RuntimeMetaError(ValueError):
    """Runtime meta that is missing or does not describe a yolox-kpt export."""


def check_outputs(outputs: Sequence[str], source: str = 'model') -> Tuple[str, ...]:
    """``outputs`` as a tuple if they are an export's: :data:`OUTPUT_NAMES` or
    :data:`REQUIRED_OUTPUTS`, in that order.

    Raises:
        RuntimeMetaError: other names (not a yolox-kpt export, or one of an incompatible
            version); the message quotes ``source``.
    """
    outputs = tuple(outputs)
    if outputs not in (OUTPUT_NAMES, REQUIRED_OUTPUTS):
        raise RuntimeMetaError(f'{source}: outputs {list(outputs)}, expected '
                               f'{list(OUTPUT_NAMES)} (or the first three, exports without '
                               'keypoint_visibility); export the model again with '
                               'tools/deploy.py')
    return outputs


def unpack_outputs(dets: Any, labels: Any, keypoints: Any,
                   keypoint_visibility: Any = None) -> Dict[str, Any]:
    """The graph's outputs under ``InstanceData``'s field names.

    The only place where the packed ``keypoints`` (x, y, score) are split. Indexing only, so
    numpy arrays and torch tensors alike (the runtime and mmdeploy's backend model).

    Args:
        dets: (B, N, 5) x1 y1 x2 y2 score.
        labels: (B, N).
        keypoints: (B, N, K, 3) x y score.
        keypoint_visibility (optional): (B, N, K, 3) probabilities of COCO v = 0, 1, 2;
            None for a model without that output.

    Returns:
        dict: ``bboxes`` (B, N, 4), ``scores`` (B, N), ``labels`` (B, N), ``keypoints``
        (B, N, K, 2), ``keypoint_scores`` (B, N, K); views, in the network input's pixels;
        and ``keypoint_visibility`` (B, N, K, 3) when given.
    """
    out = dict(bboxes=dets[..., :4], scores=dets[..., 4], labels=labels,
               keypoints=keypoints[..., :2], keypoint_scores=keypoints[..., 2])
    if keypoint_visibility is not None:
        out['keypoint_visibility'] = keypoint_visibility
    return out


@dataclass
class RuntimeMeta:
    """What the runtime needs to run an exported model: layout, preprocessing, input shape.

    Attributes:
        layout (KeypointLayout): the exported head's layout (classes, keypoint slots,
            skeletons and flip pairs from the annotation file the checkpoint was trained on).
        preprocess (Preprocess): the config's test pipeline as mmdeploy runs it.
        static_input_shape (tuple, optional): (w, h) of a static export; None when dynamic.
        backend (str): the deploy config's backend ('onnxruntime' or 'tensorrt').
        outputs (tuple): the graph's outputs, :data:`OUTPUT_NAMES` or, for a model without
            ``keypoint_visibility``, :data:`REQUIRED_OUTPUTS` (the default, as for a meta
            file without the entry: the export always says).
    """
    layout: KeypointLayout
    preprocess: Preprocess
    static_input_shape: Optional[Tuple[int, int]] = None
    backend: str = 'onnxruntime'
    outputs: Tuple[str, ...] = REQUIRED_OUTPUTS

    def __post_init__(self) -> None:
        self.outputs = check_outputs(self.outputs, 'RuntimeMeta')

    # ------------------------------------------------------------------ dict / JSON
    def to_dict(self) -> dict:
        """JSON-ready form (the sidecar's and the ONNX metadata's value)."""
        return dict(
            preprocess=self.preprocess.to_meta(),
            static_input_shape=list(self.static_input_shape)
            if self.static_input_shape else None,
            keypoint_layout=self.layout.to_config(),
            # redundant with the layout; kept for readers of the file that do not build one
            keypoint_names=list(self.layout.keypoint_names),
            outputs=list(self.outputs),
            backend=self.backend)

    @classmethod
    def from_dict(cls, meta: Mapping, source: str = 'runtime meta') -> 'RuntimeMeta':
        """From :meth:`to_dict`'s form; ``source`` (a file name) is quoted in errors.

        Raises:
            RuntimeMetaError: missing entries, or outputs other than :data:`OUTPUT_NAMES`
                or :data:`REQUIRED_OUTPUTS` (not a yolox-kpt export, or one of an
                incompatible version).
        """
        missing = [k for k in ('preprocess', 'keypoint_layout') if k not in meta]
        if missing:
            raise RuntimeMetaError(f'{source}: no {missing} entry; not a yolox-kpt runtime '
                                   'meta (tools/deploy.py writes it)')
        # every meta has listed its outputs; one without the entry predates the fourth
        outputs = check_outputs(meta.get('outputs', REQUIRED_OUTPUTS), source)
        shape = meta.get('static_input_shape')
        return cls(layout=KeypointLayout.from_config(meta['keypoint_layout']),
                   preprocess=Preprocess.from_meta(meta['preprocess']),
                   static_input_shape=tuple(shape) if shape else None,
                   backend=meta.get('backend', 'onnxruntime'), outputs=outputs)

    # ------------------------------------------------------------------ sidecar
    def write_sidecar(self, directory: str) -> str:
        """Write :data:`SIDECAR_FILE` into ``directory``; returns its path."""
        path = osp.join(directory, SIDECAR_FILE)
        with open(path, 'w') as f:
            json.dump(self.to_dict(), f, indent=1)
        return path

    @classmethod
    def from_sidecar(cls, path: str) -> 'RuntimeMeta':
        """From a sidecar file (``yolox_kpt_runtime.json``)."""
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: not found; tools/deploy.py writes it beside the '
                                    'exported model')
        with open(path) as f:
            return cls.from_dict(json.load(f), path)

    # ------------------------------------------------------------------ ONNX metadata
    def to_onnx_metadata(self, model_proto: Any) -> Any:
        """Put the meta into an ``onnx.ModelProto``'s ``metadata_props`` (replacing an older
        entry of ours, keeping everyone else's); returns the proto."""
        value = json.dumps(self.to_dict())
        for prop in model_proto.metadata_props:
            if prop.key == ONNX_METADATA_KEY:
                prop.value = value
                return model_proto
        prop = model_proto.metadata_props.add()
        prop.key, prop.value = ONNX_METADATA_KEY, value
        return model_proto

    def write_onnx(self, path: str) -> None:
        """Write the meta into the ONNX file at ``path``, in place."""
        import onnx
        model = onnx.load(path)
        onnx.save(self.to_onnx_metadata(model), path)

    @classmethod
    def from_onnx(cls, path: str) -> Optional['RuntimeMeta']:
        """From an ONNX file's ``metadata_props``; None when the file has none of ours.

        Reads the file with ``onnx`` when installed, else with ONNX Runtime (a deployment
        target may have only the latter).
        """
        try:
            import onnx
        except ImportError:
            import onnxruntime as ort
            session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
            props = session.get_modelmeta().custom_metadata_map
        else:
            model = onnx.load(path, load_external_data=False)
            props = {p.key: p.value for p in model.metadata_props}
        if ONNX_METADATA_KEY not in props:
            return None
        return cls.from_dict(json.loads(props[ONNX_METADATA_KEY]),
                             f'{path} (metadata {ONNX_METADATA_KEY})')

    # ------------------------------------------------------------------ either
    @classmethod
    def read(cls, model: str, meta: Optional[str] = None) -> 'RuntimeMeta':
        """The meta of an exported model.

        Args:
            model (str): ``.onnx`` or a TensorRT engine.
            meta (str, optional): a sidecar file, which then wins.

        Returns:
            RuntimeMeta: from ``meta`` if given; for an ``.onnx``, from its metadata (an
            ONNX file alone is enough), else from the sidecar beside the model.
        """
        if meta is not None:
            return cls.from_sidecar(meta)
        if model.endswith('.onnx'):
            found = cls.from_onnx(model)
            if found is not None:
                return found
        return cls.from_sidecar(osp.join(osp.dirname(osp.abspath(model)), SIDECAR_FILE))
