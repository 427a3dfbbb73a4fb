"""KptDetLocalVisualizer: keypoints land on their pixels, per-class slots, skeletons, GT vs
prediction side by side."""
import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from yolox_kpt.visualization import KptDetLocalVisualizer, score_color
from yolox_kpt.visualization.local_visualizer import HIGH_SCORE_RGB

LAYOUT = dict(classes=('vehicle', 'cyclist'),
              keypoints=dict(vehicle=('front_left_tyre', 'front_right_tyre'),
                             cyclist=('front_wheel', 'rear_wheel')),
              sigmas=dict(front_left_tyre=0.05, front_right_tyre=0.05, front_wheel=0.05,
                          rear_wheel=0.05),
              skeletons=dict(cyclist=[[1, 2]]))
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def visualizer(**kwargs):
    vis = KptDetLocalVisualizer(name=f'vis{np.random.randint(1 << 30)}', bbox_color=[RED, BLUE],
                                kpt_radius=3, **kwargs)
    vis.dataset_meta = dict(classes=LAYOUT['classes'])
    return vis


def blank(h=80, w=120):
    return np.zeros((h, w, 3), dtype=np.uint8)


def test_predicted_keypoint_painted_at_its_pixel_in_its_score_colour():
    vis = visualizer(keypoint_layout=LAYOUT)
    pred = InstanceData(bboxes=torch.tensor([[5., 5., 100., 70.]]), labels=torch.tensor([0]),
                        scores=torch.tensor([0.9]),
                        keypoints=torch.tensor([[[40., 30.], [70., 50.], [20., 60.],
                                                 [90., 20.]]]),
                        keypoint_scores=torch.tensor([[1.0, 0.2, 1.0, 1.0]]))
    out = vis._draw_instances(blank(), pred, list(LAYOUT['classes']), None)
    assert tuple(out[30, 40]) == tuple(HIGH_SCORE_RGB.astype(int))
    assert tuple(out[30, 40 + 4]) == RED  # ring in the class colour
    assert out[50, 70].sum() == 0  # score 0.2 < 0.3: not drawn
    assert out[60, 20].sum() == 0 and out[20, 90].sum() == 0  # cyclist slots of a vehicle


def test_score_colour_ramp():
    assert score_color(0.3, 0.3) == (230, 40, 40)
    assert score_color(1.0, 0.3) == (40, 220, 60)
    assert score_color(0.65, 0.3) == (135, 130, 50)


def test_ground_truth_visibility_and_skeleton():
    vis = visualizer()
    vis.dataset_meta = dict(classes=LAYOUT['classes'], keypoint_layout=LAYOUT)  # from dataset
    gt = InstanceData(
        bboxes=torch.tensor([[2., 2., 118., 78.], [2., 2., 118., 78.]]),
        labels=torch.tensor([1, 0]),
        keypoints=torch.tensor([[[0., 0.], [0., 0.], [30., 40.], [80., 40.]],
                                [[20., 15.], [60., 15.], [0., 0.], [0., 0.]]]),
        keypoints_visible=torch.tensor([[0., 0., 2., 2.], [2., 1., 0., 0.]]))
    out = vis._draw_instances(blank(), gt, list(LAYOUT['classes']), None)
    assert tuple(out[40, 30]) == BLUE  # cyclist v=2: filled dot
    assert out[40, 55, 2] > 100  # its skeleton line between the two wheels
    assert tuple(out[15, 20]) == RED  # vehicle v=2
    assert out[15, 60].sum() == 0  # v=1: hollow ring, centre untouched ...
    assert out[15, 63, 0] > 100  # ... ring at the radius
    assert out[0, 0].sum() == 0  # v=0 slots are not drawn at (0, 0)
    assert out[15, 40].sum() == 0  # the vehicle layout has no skeleton


def test_add_datasample_puts_ground_truth_and_prediction_side_by_side(tmp_path):
    vis = visualizer(keypoint_layout=LAYOUT)
    sample = DetDataSample()
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[10., 10., 60., 60.]]), labels=torch.tensor([0]),
        keypoints=torch.tensor([[[20., 50.], [50., 50.], [0., 0.], [0., 0.]]]),
        keypoints_visible=torch.tensor([[2., 2., 0., 0.]]))
    sample.pred_instances = InstanceData(
        bboxes=torch.tensor([[10., 10., 60., 60.], [0., 0., 5., 5.]]),
        labels=torch.tensor([0, 1]), scores=torch.tensor([0.9, 0.1]),
        keypoints=torch.tensor([[[22., 50.], [50., 52.], [0., 0.], [0., 0.]],
                                [[1., 1.], [2., 2.], [3., 3.], [4., 4.]]]),
        keypoint_scores=torch.tensor([[1., 1., 0., 0.], [1., 1., 1., 1.]]))
    out_file = tmp_path / 'pair.jpg'
    vis.add_datasample('pair', blank(), sample, show=False, pred_score_thr=0.3,
                       out_file=str(out_file))
    drawn = vis.get_image()
    assert drawn.shape == (80, 240, 3)  # ground truth | prediction
    assert tuple(drawn[50, 20]) == RED  # GT dot, left half
    assert tuple(drawn[50, 120 + 22]) == tuple(HIGH_SCORE_RGB.astype(int))  # pred, right
    assert drawn[3, 120 + 3].sum() == 0  # the 0.1-score detection is filtered out
    assert out_file.stat().st_size > 0


def test_without_any_layout_only_boxes_are_drawn():
    vis = visualizer()
    pred = InstanceData(bboxes=torch.tensor([[5., 5., 100., 70.]]), labels=torch.tensor([0]),
                        scores=torch.tensor([0.9]), keypoints=torch.tensor([[[40., 30.]] * 4]),
                        keypoint_scores=torch.ones(1, 4))
    out = vis._draw_instances(blank(), pred, list(LAYOUT['classes']), None)
    assert out[30, 40].sum() == 0


@pytest.mark.parametrize('config', ['yolox-kpt_s_8xb8-300e_coco-person.py'])
def test_configs_use_it(config):
    import os.path as osp

    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'yolox-kpt', config))
    assert cfg.visualizer.type == 'KptDetLocalVisualizer'


def test_boxes_past_the_border_do_not_shift_the_picture():
    """YOLOX boxes can reach past the image; drawn as they are, matplotlib rescales the
    canvas and the whole picture moves inside a white margin."""
    vis = visualizer(keypoint_layout=LAYOUT)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (80, 120, 3), dtype=np.uint8)
    pred = InstanceData(bboxes=torch.tensor([[90., -10., 135., 40.]]), labels=torch.tensor([0]),
                        scores=torch.tensor([0.9]), keypoints=torch.zeros(1, 4, 2),
                        keypoint_scores=torch.zeros(1, 4))
    out = vis._draw_instances(image, pred, list(LAYOUT['classes']), None)
    assert out.shape == image.shape
    assert np.array_equal(out[50:, :80], image[50:, :80])


def test_fast_drawing_for_video_matches_colours_and_keypoints():
    from yolox_kpt.keypoint_layout import KeypointLayout
    from yolox_kpt.visualization import draw_frame
    vis = visualizer(keypoint_layout=LAYOUT)
    pred = InstanceData(bboxes=torch.tensor([[10., 20., 60., 70.]]), labels=torch.tensor([1]),
                        scores=torch.tensor([0.9]),
                        keypoints=torch.tensor([[[0., 0.], [0., 0.], [30., 60.], [50., 60.]]]),
                        keypoint_scores=torch.tensor([[0., 0., 1., 1.]]))
    bgr = draw_frame(vis, blank(), pred, fast=True)
    assert tuple(bgr[45, 10][::-1]) == BLUE  # left box edge in the class colour (BGR out)
    assert tuple(bgr[60, 30][::-1]) == tuple(HIGH_SCORE_RGB.astype(int))
    assert bgr[60, 40, 0] > 100  # the cyclist skeleton between the wheels
    assert bgr[15:20, 10:40].max() > 200  # the label's text above the box
    assert KeypointLayout.from_config(LAYOUT) == vis.layout


@pytest.mark.parametrize('fast', [True, False])
def test_detections_are_drawn_as_their_instance_data(fast):
    """The runtime's record has InstanceData's field names: the same picture either way."""
    from yolox_kpt.keypoint_layout import KeypointLayout
    from yolox_kpt.runtime import Detections
    from yolox_kpt.visualization import draw_frame
    pred = InstanceData(bboxes=torch.tensor([[10., 20., 60., 70.], [70., 5., 110., 40.]]),
                        labels=torch.tensor([1, 0]), scores=torch.tensor([0.9, 0.6]),
                        keypoints=torch.tensor([[[0., 0.], [0., 0.], [30., 60.], [50., 60.]],
                                                [[80., 30.], [100., 30.], [0., 0.], [0., 0.]]]),
                        keypoint_scores=torch.tensor([[0., 0., 1., 0.8], [0.9, 0.5, 0., 0.]]))
    dets = Detections(**{k: v.numpy() for k, v in pred.items()},
                      layout=KeypointLayout.from_config(LAYOUT))
    drawn = draw_frame(visualizer(keypoint_layout=LAYOUT), blank(), dets, fast=fast)
    assert np.array_equal(drawn, draw_frame(visualizer(keypoint_layout=LAYOUT), blank(), pred,
                                            fast=fast))
    assert tuple(drawn[60, 30][::-1]) == tuple(HIGH_SCORE_RGB.astype(int))  # a keypoint
    assert drawn[60, 40, 0] > 100  # the cyclist skeleton (BGR: blue first)


@pytest.mark.parametrize('fast', [True, False])
def test_predicted_visibility_states_dot_ring_nothing(fast):
    """With keypoint_visibility its argmax decides, not kpt_score_thr: v=2 a filled dot
    (centre in the score colour), v=1 a ring (centre untouched, ring at the radius), v=0
    nothing, even with a keypoint score above the threshold."""
    from yolox_kpt.keypoint_layout import KeypointLayout
    from yolox_kpt.runtime import Detections
    from yolox_kpt.visualization import draw_frame
    pred = InstanceData(bboxes=torch.tensor([[5., 5., 115., 75.]]), labels=torch.tensor([1]),
                        scores=torch.tensor([0.9]),
                        keypoints=torch.tensor([[[0., 0.], [0., 0.], [30., 40.], [80., 40.]]]),
                        keypoint_scores=torch.tensor([[0., 0., 1.0, 1.0]]),
                        keypoint_visibility=torch.tensor([[[1., 0., 0.], [1., 0., 0.],
                                                           [0., 0., 1.], [0., 1., 0.]]]))
    rgb = lambda bgr: bgr[..., ::-1]  # noqa: E731
    out = rgb(draw_frame(visualizer(keypoint_layout=LAYOUT), blank(), pred, fast=fast))
    assert tuple(out[40, 30]) == tuple(HIGH_SCORE_RGB.astype(int))  # v=2: filled
    assert out[40, 80].sum() == 0  # v=1: centre untouched ...
    assert tuple(out[40, 83]) == tuple(HIGH_SCORE_RGB.astype(int))  # ... ring at radius 3
    assert out[40, 84, 2] > 150 and out[40, 84, :2].sum() == 0  # ... in the class ring
    # the same detection predicted absent (v=0) at the second wheel: not drawn at all
    pred.keypoint_visibility[0, 3] = torch.tensor([0.6, 0.3, 0.1])
    out = rgb(draw_frame(visualizer(keypoint_layout=LAYOUT), blank(), pred, fast=fast))
    assert out[38:43, 77:85].sum() == 0 and tuple(out[40, 30]) == tuple(
        HIGH_SCORE_RGB.astype(int))
    # a Detections record is drawn the same
    dets = Detections.from_instances(pred, KeypointLayout.from_config(LAYOUT))
    assert np.array_equal(out, rgb(draw_frame(visualizer(keypoint_layout=LAYOUT), blank(),
                                              dets, fast=fast)))
