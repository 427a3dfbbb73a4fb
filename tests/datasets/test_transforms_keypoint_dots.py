"""Keypoints move exactly with the pixels: paint dots, transform, find each dot again."""
import copy

import numpy as np
import pytest
from mmdet.registry import TRANSFORMS

from yolox_kpt.datasets.transforms import LoadKptAnnotations, PackKptDetInputs

# Well separated pure colours, one per (instance, mirror pair): a mirror pair shares its
# colour, because a flip swaps the slots' names while the painted pixels keep their colour.
COLOURS = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255),
                    (0, 255, 255)], dtype=np.float64)
NUM_KPTS = 4
FLIP = (1, 0, 3, 2)  # slots 0<->1 and 2<->3 are left/right mirrors


def colour_of(instance: int, slot: int) -> np.ndarray:
    return COLOURS[2 * instance + slot // 2]


def make_sample(seed: int, shape=(192, 256)) -> dict:
    """A black image with 3 boxes, each with 4 coloured 5x5 dots at its keypoints.

    ``instances[i]['bbox_label']`` is ``i``, so a test can tell whose dot to look for.

    Dot centres are pixel centres (c + 0.5), the continuous convention of mmdet boxes.
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    img = np.zeros((h, w, 3), dtype=np.uint8)
    instances = []
    for i in range(3):
        # One column band per instance, so no two dots of an image ever overlap.
        band = w / 3
        x1 = i * band + rng.uniform(4, 12)
        x2 = (i + 1) * band - rng.uniform(4, 12)
        y1 = rng.uniform(10, h / 2 - 20)
        y2 = y1 + rng.uniform(50, h / 2)
        kpts = np.zeros((NUM_KPTS, 3), dtype=np.float32)
        for k in range(NUM_KPTS):
            cx = int(x1 + (x2 - x1) * (0.15 + 0.7 * (k % 2)))
            cy = int(y1 + (y2 - y1) * (0.15 + 0.7 * (k // 2)))
            img[cy - 2:cy + 3, cx - 2:cx + 3] = colour_of(i, k)[::-1]  # BGR
            kpts[k] = (cx + 0.5, cy + 0.5, 2)
        instances.append(dict(bbox=[x1, y1, x2, y2], bbox_label=i, ignore_flag=0,
                              keypoints=kpts))
    results = dict(img=img, img_shape=shape, ori_shape=shape, instances=instances,
                   flip_indices=FLIP, img_path=f'mem{seed}.png')
    return LoadKptAnnotations(with_bbox=True, with_label=True)(results)


def find_dot(img: np.ndarray, x: float, y: float, colour: np.ndarray, radius: int = 6):
    """Centroid (continuous coords) of pixels of ``colour``'s hue near (x, y), or None."""
    h, w = img.shape[:2]
    x0, x1 = max(int(x) - radius, 0), min(int(x) + radius + 1, w)
    y0, y1 = max(int(y) - radius, 0), min(int(y) + radius + 1, h)
    patch = img[y0:y1, x0:x1, ::-1].astype(np.float64)  # to RGB
    norm = np.linalg.norm(patch, axis=-1, keepdims=True)
    direction = patch / np.maximum(norm, 1e-6)
    target = colour / np.linalg.norm(colour)
    weight = ((direction @ target) > 0.97) * norm[..., 0]
    weight = weight * (norm[..., 0] > 40)
    if weight.sum() == 0:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1]
    return ((weight * (xs + 0.5)).sum() / weight.sum(),
            (weight * (ys + 0.5)).sum() / weight.sum())


def assert_dots_follow(results: dict, min_visible: int = 1, tol: float = 1.0) -> None:
    boxes = results['gt_bboxes']
    img = results['img']
    checked = 0
    for kpts, vis, label in zip(boxes.keypoints.numpy(), boxes.keypoints_visible.numpy(),
                                results['gt_bboxes_labels']):
        for k, ((x, y), v) in enumerate(zip(kpts, vis)):
            if v == 0:
                continue
            # Dots within 3 px of the border may be cut by it: their centroid shifts.
            if not (3 <= x <= img.shape[1] - 3 and 3 <= y <= img.shape[0] - 3):
                continue
            found = find_dot(img, x, y, colour_of(int(label), k))
            assert found is not None, f'no dot of colour {k} near ({x:.1f}, {y:.1f})'
            dist = np.hypot(found[0] - x, found[1] - y)
            assert dist <= tol, f'dot {k} at {found}, keypoint says ({x:.1f}, {y:.1f})'
            checked += 1
    assert checked >= min_visible


def mixed(transform_cfg: dict, seed: int, num_mix: int) -> dict:
    results = make_sample(seed)
    results['mix_results'] = [make_sample(seed + 100 + i) for i in range(num_mix)]
    return TRANSFORMS.build(transform_cfg)(results)


@pytest.mark.parametrize('seed', range(3))
def test_random_flip_moves_and_swaps_keypoints(seed):
    results = make_sample(seed)
    before = results['gt_bboxes'].keypoints.clone()
    out = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0))(results)
    assert_dots_follow(out, min_visible=12)
    # left/right slots swapped: slot 0 now holds old slot 1 mirrored.
    w = out['img'].shape[1]
    np.testing.assert_allclose(out['gt_bboxes'].keypoints[:, 0, 0].numpy(),
                               w - before[:, 1, 0].numpy(), atol=1e-4)


@pytest.mark.parametrize('seed', range(3))
def test_resize_and_pad(seed):
    out = TRANSFORMS.build(dict(type='Resize', scale=(416, 416), keep_ratio=True))(
        make_sample(seed))
    assert_dots_follow(out, min_visible=12)
    out = TRANSFORMS.build(dict(type='Pad', pad_to_square=True,
                                pad_val=dict(img=(0, 0, 0))))(out)
    assert out['img'].shape[0] == out['img'].shape[1]
    assert_dots_follow(out, min_visible=12)


@pytest.mark.parametrize('seed', range(4))
def test_random_affine(seed):
    np.random.seed(seed)
    out = TRANSFORMS.build(dict(type='RandomAffine', scaling_ratio_range=(0.7, 1.3),
                                max_rotate_degree=10, max_shear_degree=2,
                                border=(0, 0), border_val=(0, 0, 0)))(make_sample(seed))
    assert_dots_follow(out)


@pytest.mark.parametrize('seed', range(4))
def test_mosaic(seed):
    np.random.seed(seed)
    out = mixed(dict(type='Mosaic', img_scale=(256, 192), pad_val=0, prob=1.0), seed, 3)
    assert_dots_follow(out, min_visible=8)


@pytest.mark.parametrize('seed', range(4))
def test_mixup(seed):
    np.random.seed(seed)
    out = mixed(dict(type='MixUp', img_scale=(256, 192), ratio_range=(0.8, 1.2), pad_val=0,
                     flip_ratio=0.5), seed, 1)
    # mmdet's MixUp resizes the image to int(w * ratio) pixels twice (scale, then jitter)
    # but rescales boxes by the exact ratio, so its own boxes drift by up to ~1.5 px from
    # the pixels at the far edge, and its 50% blend lets an overlapping dot of the
    # other image pull a centroid. Keypoints follow the boxes exactly (the full-pipeline
    # test pins that), so they inherit that drift and no more.
    assert_dots_follow(out, min_visible=8, tol=2.5)


def test_full_yolox_pipeline_and_pack():
    """Mosaic -> RandomAffine -> MixUp -> Flip -> Resize -> Pad -> Filter -> Pack."""
    np.random.seed(0)
    results = make_sample(0)
    results['mix_results'] = [make_sample(i) for i in (1, 2, 3)]
    for cfg in (dict(type='Mosaic', img_scale=(256, 192), pad_val=0),
                dict(type='RandomAffine', scaling_ratio_range=(0.8, 1.2), border=(-96, -128),
                     border_val=(0, 0, 0))):
        results = TRANSFORMS.build(cfg)(results)
    results['mix_results'] = [make_sample(7)]
    for cfg in (dict(type='MixUp', img_scale=(256, 192), pad_val=0),
                dict(type='RandomFlip', prob=1.0),
                dict(type='Resize', scale=(320, 320), keep_ratio=True),
                dict(type='Pad', pad_to_square=True, pad_val=dict(img=(0, 0, 0))),
                dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False)):
        results = TRANSFORMS.build(cfg)(results)
    assert_dots_follow(results, tol=2.5)  # MixUp's own drift, see test_mixup
    snapshot = copy.deepcopy(results['gt_bboxes'])
    packed = PackKptDetInputs()(results)
    gt = packed['data_samples'].gt_instances
    assert gt.keypoints.shape == (len(snapshot), NUM_KPTS, 2)
    np.testing.assert_allclose(gt.keypoints.numpy(), snapshot.keypoints.numpy())
    h, w = results['img_shape']
    inside = ((gt.keypoints[..., 0] >= 0) & (gt.keypoints[..., 0] <= w) &
              (gt.keypoints[..., 1] >= 0) & (gt.keypoints[..., 1] <= h))
    assert not ((gt.keypoints_visible > 0) & ~inside).any()


def test_keypoints_pushed_outside_become_invisible():
    results = make_sample(0)
    results['gt_bboxes'].translate_([-1000, 0])
    results['gt_bboxes'].clip_(results['img_shape'])
    assert (results['gt_bboxes'].keypoints_visible == 0).all()
