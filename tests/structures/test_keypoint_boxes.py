"""KeypointBoxes as a container: empty sets, cat, indexing and copies keep keypoints aligned."""
import copy

import numpy as np
import pytest
import torch

from yolox_kpt.structures import KeypointBoxes


def boxes(n, k=3):
    data = torch.arange(n * 4, dtype=torch.float32).reshape(n, 4)
    kpts = torch.arange(n * k * 2, dtype=torch.float32).reshape(n, k, 2)
    return KeypointBoxes(data, kpts, torch.full((n, k), 2.), flip_indices=(1, 0, 2)[:k])


def test_empty_sets_keep_their_slot_count():
    # an image whose instances were all filtered out must still say K (was a crash)
    empty = KeypointBoxes(np.zeros((0, 4)), np.zeros((0, )), np.zeros((0, )),
                          flip_indices=range(6))
    assert empty.keypoints.shape == (0, 6, 2)
    assert empty.keypoints_visible.shape == (0, 6)
    both = KeypointBoxes.cat([boxes(2), boxes(0)])
    assert both.keypoints.shape == (2, 3, 2)


@pytest.mark.parametrize('index', [np.array([True, False, True]), np.array([2, 0]),
                                   torch.tensor([False, True, True]), 1, slice(1, 3)])
def test_indexing_keeps_keypoints_with_their_boxes(index):
    full = boxes(3)
    part = full[index]
    rows = torch.arange(3)[torch.as_tensor(index) if not isinstance(index, (int, slice))
                           else index].reshape(-1)
    torch.testing.assert_close(part.tensor, full.tensor[rows])
    torch.testing.assert_close(part.keypoints, full.keypoints[rows])
    assert part.flip_indices == full.flip_indices


def test_copies_are_independent_and_setitem_refuses():
    a = boxes(2)
    b = copy.deepcopy(a)
    c = a.clone()
    a.translate_([5, 5])
    assert torch.equal(b.keypoints, c.keypoints)
    assert not torch.equal(a.keypoints, b.keypoints)
    with pytest.raises(NotImplementedError):
        a[0] = b[0]


def test_cat_refuses_mixed_slot_counts():
    with pytest.raises(ValueError, match='keypoint counts'):
        KeypointBoxes.cat([boxes(1, 3), KeypointBoxes(torch.zeros(1, 4), torch.zeros(1, 2, 2))])
