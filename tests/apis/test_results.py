"""prediction_instances: a results.pkl entry as tensors, every prediction field carried."""
import numpy as np
import torch

from yolox_kpt.apis import prediction_instances


def result(with_visibility):
    pred = dict(bboxes=np.arange(12, dtype=np.float32).reshape(3, 4),
                scores=np.array([0.9, 0.2, 0.6], np.float32), labels=np.array([0, 1, 0]),
                keypoints=np.ones((3, 2, 2), np.float32),
                keypoint_scores=np.array([[0.9, 0.1], [0, 0], [0.8, 0.7]], np.float32))
    if with_visibility:
        pred['keypoint_visibility'] = np.array(
            [[[.1, .2, .7], [.9, .05, .05]], [[1, 0, 0], [1, 0, 0]],
             [[.2, .6, .2], [.3, .1, .6]]], np.float32)
    return dict(img_id=1, pred_instances=pred)


def test_keypoint_visibility_is_carried_and_filtered_with_the_scores():
    res = result(True)
    out = prediction_instances(res, score_thr=0.5)
    assert len(out) == 2
    torch.testing.assert_close(out.keypoint_visibility,
                               torch.from_numpy(res['pred_instances']['keypoint_visibility'][
                                   [0, 2]]))
    assert out.keypoint_visibility.argmax(-1).tolist() == [[2, 0], [1, 2]]


def test_older_results_without_it():
    out = prediction_instances(result(False))
    assert len(out) == 3 and 'keypoint_visibility' not in out
    assert set(out.keys()) == {'bboxes', 'scores', 'labels', 'keypoints', 'keypoint_scores'}
