"""The keypoint data contract shared by dataset, head, metric, visualizer and export.

Classes may own different keypoint sets, or none (vehicles: tyre points; pedestrians: none).
The model predicts one fixed slot layout of ``K_total`` keypoints; each class owns an ordered
list of slots. Which classes share a slot for a keypoint name is ``share_keypoints``: by
default (``'same_set'``) classes with the same set of keypoint names share their slots, so a
54-species animal set with the same 17 points has ``K_total = 17``, not 54 x 17, while a
person's ``nose`` and an animal's ``nose`` (classes with different sets) get a slot each
(``person.nose``, ``animal.nose``): one output cannot learn two shapes from few examples.

This module imports neither torch nor mmdet: the exported-model runtime reads the layout from
JSON written beside the model.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

#: COCO person keypoint names, in COCO's order.
COCO_PERSON_KEYPOINTS: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
    'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
    'right_ankle')

#: COCO's per-keypoint OKS sigmas (pycocotools ``COCOeval.kpt_oks_sigmas``).
COCO_PERSON_SIGMAS: Dict[str, float] = dict(
    zip(COCO_PERSON_KEYPOINTS,
        (.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07,
         .87, .87, .89, .89)))
COCO_PERSON_SIGMAS = {k: v / 10.0 for k, v in COCO_PERSON_SIGMAS.items()}

#: COCO person skeleton (1-based, as in the COCO file).
COCO_PERSON_SKELETON: Tuple[Tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13),
    (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3),
    (2, 4), (3, 5), (4, 6), (5, 7))

# Side words, lower case, and their mirror images. Two-letter tokens are a position letter
# (front, rear/back, middle, top, hind) followed by the side: FL/FR, RL/RR, BL/BR, ...
_SIDE_WORDS = {'left': 'right', 'right': 'left', 'l': 'r', 'r': 'l'}
_SIDE_WORDS.update({p + a: p + b for p in 'fbrmth' for a, b in (('l', 'r'), ('r', 'l'))})
# A name's tokens: split at separators, then at CamelCase and letter/digit boundaries
# ('frontLeftTyre', 'FL_tyre', 'LEye', 'eye_l' -> front Left Tyre, FL tyre, L Eye, eye l).
_TOKEN = re.compile(r'[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+')


def visibility_states(visibility) -> np.ndarray:
    """The predicted COCO v of each slot from its three-state probabilities.

    Hierarchical, as the head predicts them: a slot is labelled when P(v > 0) >= 0.5
    (``keypoint_scores``' own threshold), and a labelled slot is occluded when
    P(v = 1 | v > 0) > 0.5. (A plain argmax of the three would call a point with
    P(v > 0) = 0.6 split evenly between occluded and visible "absent".)

    Args:
        visibility: (..., K, 3) P(v = 0, 1, 2) (``keypoint_visibility``); numpy or torch.

    Returns:
        np.ndarray: (..., K) uint8, 0 not labelled, 1 occluded, 2 visible.
    """
    p = np.asarray(visibility.detach().cpu() if hasattr(visibility, 'detach') else visibility,
                   dtype=np.float32)
    labelled = p[..., 0] <= 0.5
    return np.where(labelled, np.where(p[..., 1] > p[..., 2], 1, 2), 0).astype(np.uint8)


class KeypointLayoutError(ValueError):
    """A keypoint layout that cannot be built or does not match the data."""


def _same_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word.capitalize()
    return word


def mirror_name(name: str) -> Optional[str]:
    """The left/right mirror of a keypoint name, or None if it has no side.

    Sides are whole tokens of the name (``left``/``right``, ``l``/``r``, and position-side
    abbreviations ``fl``/``fr``, ``rl``/``rr``, ``bl``/``br``...), in any case, separated by
    ``_``, ``-``, ``.``, spaces or CamelCase; every side token is swapped and its case kept.

    Args:
        name (str): e.g. ``'left_eye'``, ``'front_left_tyre'``, ``'FL'``, ``'LEye'``.

    Returns:
        str | None: e.g. ``'right_eye'``, ``'front_right_tyre'``, ``'FR'``, ``'REye'``.
    """
    out, last, sided = [], 0, False
    for match in _TOKEN.finditer(name):
        token = match.group()
        mirror = _SIDE_WORDS.get(token.lower())
        if mirror is None:
            continue
        sided = True
        out.append(name[last:match.start()])
        out.append(_same_case(mirror, token))
        last = match.end()
    if not sided:
        return None
    out.append(name[last:])
    return ''.join(out)


_LOGGED = set()


def _log_once(message: str) -> None:
    """Log through mmengine's current logger when it is there (training, tools), else the
    ``logging`` module (the mmdet-free runtime); each message once per process."""
    if message in _LOGGED:
        return
    _LOGGED.add(message)
    try:
        from mmengine.logging import print_log
    except ImportError:
        import logging
        logging.getLogger(__name__).info(message)
    else:
        print_log(message, logger='current')


def infer_flip_indices(names: Sequence[str], source: str = 'config') -> List[int]:
    """Flip partners from the names: each sided name must find its mirror.

    Args:
        names (Sequence[str]): the K_total slot names.
        source (str): quoted in errors.

    Returns:
        list[int]: (K_total,) the slot each slot becomes under a horizontal flip.

    Raises:
        KeypointLayoutError: a name that looks sided (``left_eye``, ``FL``, ``eyeL``) has no
            mirror among ``names``: a flip would otherwise silently keep its side.
    """
    flip = list(range(len(names)))
    unpaired = []
    for i, name in enumerate(names):
        mirror = mirror_name(name)
        if mirror is None:
            continue
        if mirror in names:
            flip[i] = names.index(mirror)
        else:
            unpaired.append(f'{name!r} (no {mirror!r})')
    if unpaired:
        raise KeypointLayoutError(
            f'{source}: keypoints {", ".join(unpaired)} look left/right but have no mirror '
            'keypoint, so a horizontal flip could not swap them. Give the pairs explicitly, '
            "e.g. keypoint_layout=dict(..., flip_pairs=[['a_left', 'a_right'], ...]) "
            '(flip_pairs=[] if no keypoint swaps)')
    return flip


def _check_types(classes, keypoints, sigmas, flip_pairs, skeletons, source: str) -> None:
    """What a user can type wrong in a layout, as one error naming the field."""
    def names_list(value) -> bool:
        return isinstance(value, (list, tuple)) and all(
            isinstance(n, str) and n for n in value)

    def pairs(value, item_type) -> bool:
        return isinstance(value, (list, tuple)) and all(
            isinstance(p, (list, tuple)) and len(p) == 2
            and all(isinstance(x, item_type) and not isinstance(x, bool) for x in p)
            for p in value)

    problems = []
    if not names_list(classes):
        problems.append(f'classes must be a list of names, got {classes!r:.80}')
    if not isinstance(keypoints, Mapping) or not all(
            v is None or names_list(v) for v in keypoints.values()):
        problems.append('keypoints must map class names to lists of keypoint names, got '
                        f'{keypoints!r:.80}')
    if sigmas is not None and not (isinstance(sigmas, Mapping) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in sigmas.values())):
        problems.append(f'sigmas must map keypoint names to numbers, got {sigmas!r:.80}')
    if flip_pairs is not None and not pairs(flip_pairs, str):
        problems.append(f'flip_pairs must be a list of [name, name] pairs, got '
                        f'{flip_pairs!r:.80}')
    if skeletons is not None and not (isinstance(skeletons, Mapping) and all(
            v is None or pairs(v, int) for v in skeletons.values())):
        problems.append('skeletons must map class names to lists of [i, j] (1-based) pairs, '
                        f'got {skeletons!r:.80}')
    if problems:
        raise KeypointLayoutError(f'{source}: ' + '; '.join(problems))


#: ``share_keypoints`` of a layout that does not say (see :meth:`KeypointLayout.build`).
DEFAULT_SHARE = 'same_set'
SHARE_MODES = ('same_set', 'by_name', 'none')


def _share_groups(share, classes: Tuple[str, ...], class_kpts: List[Tuple[str, ...]],
                  source: str):
    """The sharing mode in canonical form and, per class, the name of its sharing group
    (the group's first class; classes of one group share same-named slots)."""
    if isinstance(share, str):
        if share not in SHARE_MODES:
            raise KeypointLayoutError(
                f'{source}: share_keypoints must be one of {list(SHARE_MODES)} or a list of '
                f'class-name groups, got {share!r}')
        if share == 'by_name':
            return share, [''] * len(classes)
        if share == 'none':
            return share, list(classes)
        first = {}
        for cls_name, kpts in zip(classes, class_kpts):
            first.setdefault(frozenset(kpts), cls_name)
        return share, [first[frozenset(k)] for k in class_kpts]
    if not isinstance(share, (list, tuple)) or not all(
            isinstance(g, (list, tuple)) and all(isinstance(c, str) for c in g)
            for g in share):
        raise KeypointLayoutError(
            f'{source}: share_keypoints must be one of {list(SHARE_MODES)} or a list of '
            f'class-name groups such as [["cat", "dog"]], got {share!r:.80}')
    group, seen = list(classes), set()
    for g in share:
        unknown = [c for c in g if c not in classes]
        if unknown:
            raise KeypointLayoutError(
                f'{source}: share_keypoints names classes {unknown} that are not in '
                f'{list(classes)}')
        for c in dict.fromkeys(g):
            if c in seen:
                raise KeypointLayoutError(
                    f'{source}: class {c!r} is in two share_keypoints groups')
            seen.add(c)
            group[classes.index(c)] = g[0]
    return tuple(tuple(g) for g in share), group


def _flip_pair_slots(pair, names: List[str], keys: List[Tuple[str, str]]):
    """Slot pairs a flip pair names: two slot names, else two keypoint names of one group
    (every group that has both)."""
    if len(pair) != 2:
        return []
    if all(p in names for p in pair):
        return [(names.index(pair[0]), names.index(pair[1]))]
    out = []
    for g in dict.fromkeys(g for g, _ in keys):
        if (g, pair[0]) in keys and (g, pair[1]) in keys:
            out.append((keys.index((g, pair[0])), keys.index((g, pair[1]))))
    return out


@dataclass
class KeypointLayout:
    """Slot layout of keypoints over classes.

    Attributes:
        classes (tuple[str]): Class names, in label order.
        keypoint_names (tuple[str]): Name of each of the ``K_total`` slots.
        class_slots (tuple[tuple[int]]): For each class, its keypoints' slot indices, in the
            order of that class's keypoints in the COCO file (empty for classes without any).
        sigmas (np.ndarray): (K_total,) OKS sigma per slot.
        flip_indices (tuple[int]): (K_total,) slot that each slot becomes under a horizontal
            flip (itself when it has no side).
        skeletons (tuple[tuple[tuple[int, int]]]): Per class, 0-based pairs of *slot* indices.
        share_keypoints (str | tuple[tuple[str]]): Which classes share a slot for a keypoint
            name (see :meth:`build`).
        base_names (tuple[str]): (K_total) each slot's keypoint name as the classes' files
            write it: ``'nose'`` for slot ``'animal.nose'``. Empty: ``keypoint_names``.
    """

    classes: Tuple[str, ...]
    keypoint_names: Tuple[str, ...]
    class_slots: Tuple[Tuple[int, ...], ...]
    sigmas: np.ndarray
    flip_indices: Tuple[int, ...]
    skeletons: Tuple[Tuple[Tuple[int, int], ...], ...] = field(default=())
    share_keypoints: object = 'by_name'
    base_names: Tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not self.base_names:
            self.base_names = tuple(self.keypoint_names)

    @property
    def num_keypoints(self) -> int:
        """K_total, the number of slots the model predicts."""
        return len(self.keypoint_names)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_slot_mask(self) -> np.ndarray:
        """(num_classes, K_total) bool: True where a class owns a slot."""
        mask = np.zeros((self.num_classes, self.num_keypoints), dtype=bool)
        for label, slots in enumerate(self.class_slots):
            mask[label, list(slots)] = True
        return mask

    def class_keypoint_names(self, label: int) -> Tuple[str, ...]:
        """The keypoint names of class ``label`` as its annotation files write them (a
        slot's base name, ``'nose'`` for slot ``'animal.nose'``), in the class's order."""
        return tuple(self.base_names[s] for s in self.class_slots[label])

    def slot_keys(self, label: int) -> Tuple[str, ...]:
        """(K_total) the key of each slot in a detection of class ``label`` as JSON and
        pre-labels write it: a slot the class owns by its annotation files' name
        (``'nose'`` for slot ``'animal.nose'``), any other by its slot name, so that no
        two slots share a key."""
        own = set(self.class_slots[label])
        return tuple(self.base_names[k] if k in own else self.keypoint_names[k]
                     for k in range(self.num_keypoints))

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls,
              classes: Sequence[str],
              keypoints: Mapping[str, Sequence[str]],
              sigmas: Optional[Mapping[str, float]] = None,
              flip_pairs: Optional[Sequence[Sequence[str]]] = None,
              skeletons: Optional[Mapping[str, Sequence[Sequence[int]]]] = None,
              source: str = 'config',
              share_keypoints=DEFAULT_SHARE) -> 'KeypointLayout':
        """Build the layout from per-class keypoint names.

        Args:
            classes (Sequence[str]): Class names in label order.
            keypoints (Mapping[str, Sequence[str]]): Keypoint names per class; a class that is
                absent or maps to an empty list has no keypoints.
            sigmas (Mapping[str, float], optional): OKS sigma per keypoint name. Names that are
                COCO person keypoints default to COCO's sigmas; any other name without a sigma
                is an error (never a silent uniform guess).
            flip_pairs (Sequence[Sequence[str]], optional): Pairs of names swapped by a
                horizontal flip. Default: derived from left/right in the names.
            skeletons (Mapping[str, Sequence[Sequence[int]]], optional): Per class, 1-based
                pairs into that class's keypoint list (COCO's ``skeleton``).
            source (str): Where the names came from, quoted in errors.
            share_keypoints (str | Sequence[Sequence[str]]): Which classes share a slot for
                a keypoint name they both list:

                * ``'same_set'`` (default): classes whose keypoint lists hold the same set
                  of names (species of one skeleton, vehicle types with the same tyres).
                  A name that classes with different sets use gets a slot per set.
                * ``'by_name'``: every class that lists a name (the layout before this
                  option): a person's and an animal's ``nose`` are one output.
                * ``'none'``: no class shares a slot.
                * groups of class names, e.g. ``[['cat', 'dog']]``: the classes of a group
                  share their same-named slots; a class in no group shares with none.

                A name with several slots is qualified by the first class of each group,
                ``'person.nose'`` and ``'animal.nose'``; a name with one slot keeps its name.
                Flip pairs and sigmas given by name apply to each of its slots.

        Returns:
            KeypointLayout
        """
        _check_types(classes, keypoints, sigmas, flip_pairs, skeletons, source)
        classes = tuple(classes)
        if len(set(classes)) != len(classes):
            raise KeypointLayoutError(f'{source}: a class is listed twice in {list(classes)}')
        unknown = sorted(set(keypoints) - set(classes))
        if unknown:
            raise KeypointLayoutError(
                f'{source}: keypoints given for classes {unknown} that are not in classes '
                f'{list(classes)}')
        class_kpts = []
        for cls_name in classes:
            cls_kpts = tuple(keypoints.get(cls_name, ()) or ())
            if len(set(cls_kpts)) != len(cls_kpts):
                raise KeypointLayoutError(
                    f'{source}: class {cls_name!r} lists a keypoint name twice: {cls_kpts}')
            class_kpts.append(cls_kpts)
        share_keypoints, group = _share_groups(share_keypoints, classes, class_kpts, source)
        # slots keyed by (group, name), in order of first use
        keys: List[Tuple[str, str]] = []
        class_slots = []
        for label, cls_kpts in enumerate(class_kpts):
            slots = []
            for name in cls_kpts:
                key = (group[label], name)
                if key not in keys:
                    keys.append(key)
                slots.append(keys.index(key))
            class_slots.append(tuple(slots))
        base = [name for _, name in keys]
        names = [f'{g}.{n}' if base.count(n) > 1 else n for g, n in keys]
        split = sorted({b for b, n in zip(base, names) if b != n})
        if split:
            qualified = [n for n, b in zip(names, base) if n != b]
            _log_once(f'{source}: keypoints {split} get a slot per class set '
                      f'(share_keypoints={share_keypoints!r}): {qualified}; '
                      "share_keypoints=[['class_a', 'class_b']] would share them")
        if len(set(names)) != len(names):
            raise KeypointLayoutError(
                f'{source}: keypoint slot names {names} clash (a class-qualified name equals '
                'another keypoint name); rename a class or keypoint')

        sigmas = dict(sigmas or {})

        def sigma_of(slot: int):
            for key in (names[slot], base[slot]):
                if key in sigmas:
                    return sigmas[key]
            return COCO_PERSON_SIGMAS.get(base[slot])

        missing = [names[i] for i in range(len(names)) if sigma_of(i) is None]
        if missing:
            raise KeypointLayoutError(
                f'{source}: no OKS sigma for keypoints {missing}. They are not COCO person '
                'keypoints, so give their sigmas, e.g. '
                f"keypoint_layout=dict(..., sigmas=dict({missing[0]}=0.05, ...)). "
                'A sigma is the spread of human labels for that point relative to object '
                'scale; COCO uses 0.025 (eyes) to 0.107 (hips).')
        sigma_arr = np.array([sigma_of(i) for i in range(len(names))], dtype=np.float64)
        if not np.all(np.isfinite(sigma_arr)) or np.any(sigma_arr <= 0):
            raise KeypointLayoutError(f'{source}: sigmas must be positive, got {sigmas}')

        if flip_pairs is None:
            if names == base:
                flip = infer_flip_indices(names, source)
            else:  # each group's names on their own (a mirror is in the same group)
                flip = list(range(len(names)))
                for g in dict.fromkeys(g for g, _ in keys):
                    idx = [i for i, k in enumerate(keys) if k[0] == g]
                    for i, j in zip(idx, infer_flip_indices([base[i] for i in idx], source)):
                        flip[i] = idx[j]
        else:
            flip = list(range(len(names)))
            for pair in flip_pairs:
                slot_pairs = _flip_pair_slots(pair, names, keys)
                if not slot_pairs:
                    raise KeypointLayoutError(
                        f'{source}: flip pair {list(pair)} must name two keypoints of '
                        f'{names} (or two names of one class)')
                for a, b in slot_pairs:
                    flip[a], flip[b] = b, a
        if names:
            pairs = [[names[i], names[j]] for i, j in enumerate(flip) if i < j]
            how = 'inferred from the names' if flip_pairs is None else 'as given'
            _log_once(f'{source}: keypoint flip pairs {how}: {pairs or "none"}')

        skel_out = []
        skeletons = skeletons or {}
        for cls_name, slots in zip(classes, class_slots):
            pairs = []
            for pair in skeletons.get(cls_name, ()) or ():
                a, b = int(pair[0]), int(pair[1])
                if not (1 <= a <= len(slots) and 1 <= b <= len(slots)):
                    raise KeypointLayoutError(
                        f'{source}: skeleton pair {[a, b]} of class {cls_name!r} is out of '
                        f'range 1..{len(slots)} (COCO skeletons are 1-based)')
                pairs.append((slots[a - 1], slots[b - 1]))
            skel_out.append(tuple(pairs))
        return cls(classes, tuple(names), tuple(class_slots), sigma_arr, tuple(flip),
                   tuple(skel_out), share_keypoints, tuple(base))

    @classmethod
    def from_config(cls, cfg: Mapping) -> 'KeypointLayout':
        """From the config form ``dict(classes=..., keypoints=..., sigmas=..., ...)``."""
        if isinstance(cfg, KeypointLayout):
            return cfg
        if not isinstance(cfg, Mapping):
            raise KeypointLayoutError(
                f'keypoint_layout must be a dict(classes=..., keypoints=...), got {cfg!r:.80}')
        known = {'classes', 'keypoints', 'sigmas', 'flip_pairs', 'skeletons',
                 'share_keypoints'}
        extra = set(cfg) - known
        if extra:
            raise KeypointLayoutError(
                f'keypoint_layout has unknown keys {sorted(extra)}; expected {sorted(known)}')
        if 'classes' not in cfg:
            raise KeypointLayoutError('keypoint_layout needs `classes`')
        return cls.build(cfg['classes'], cfg.get('keypoints') or {}, cfg.get('sigmas'),
                         cfg.get('flip_pairs'), cfg.get('skeletons'),
                         share_keypoints=cfg.get('share_keypoints', DEFAULT_SHARE))

    def to_config(self) -> dict:
        """The config/JSON form; ``from_config(to_config())`` gives an equal layout."""
        return dict(
            classes=list(self.classes),
            keypoints={c: list(self.class_keypoint_names(label))
                       for label, c in enumerate(self.classes) if self.class_slots[label]},
            sigmas={n: float(s) for n, s in zip(self.keypoint_names, self.sigmas)},
            flip_pairs=[[self.keypoint_names[i], self.keypoint_names[j]]
                        for i, j in enumerate(self.flip_indices) if i < j],
            skeletons={c: [[slots.index(a) + 1, slots.index(b) + 1] for a, b in skel]
                       for c, slots, skel in zip(self.classes, self.class_slots,
                                                 self.skeletons) if skel},
            share_keypoints=(self.share_keypoints if isinstance(self.share_keypoints, str)
                             else [list(g) for g in self.share_keypoints]))

    def to_json(self, path) -> None:
        """Write the layout as JSON (used beside exported models)."""
        with open(path, 'w') as f:
            json.dump(self.to_config(), f, indent=2)

    @classmethod
    def from_json(cls, path) -> 'KeypointLayout':
        with open(path) as f:
            return cls.from_config(json.load(f))

    def __eq__(self, other) -> bool:
        if not isinstance(other, KeypointLayout):
            return NotImplemented
        return (self.classes == other.classes and self.keypoint_names == other.keypoint_names
                and self.class_slots == other.class_slots
                and np.allclose(self.sigmas, other.sigmas)
                and self.flip_indices == other.flip_indices
                and self.skeletons == other.skeletons)

    def check_same(self, other: 'KeypointLayout', what: str, other_what: str) -> None:
        """Raise a readable error if two layouts (say model and dataset) disagree."""
        for attr in ('classes', 'keypoint_names', 'class_slots', 'flip_indices'):
            a, b = getattr(self, attr), getattr(other, attr)
            if a != b:
                raise KeypointLayoutError(
                    f'keypoint layout of {what} and {other_what} differ in {attr}: '
                    f'{a} vs {b}')
        if not np.allclose(self.sigmas, other.sigmas):
            raise KeypointLayoutError(
                f'keypoint layout of {what} and {other_what} differ in sigmas: '
                f'{self.sigmas.tolist()} vs {other.sigmas.tolist()}')
