"""KptBatchSyncRandomResize scales keypoints exactly as the stock one scales boxes."""
import torch
from mmdet.structures import DetDataSample
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData

from yolox_kpt.models import KptBatchSyncRandomResize


def test_keypoints_scale_with_boxes():
    MessageHub.get_instance('test_batch_resize').update_info('iter', 0)
    resize = KptBatchSyncRandomResize(random_size_range=(320, 320), size_divisor=32,
                                      interval=1)
    resize._input_size = (96, 160)  # the size this batch goes to (h, w)
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64)))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[10., 20., 30., 40.]]),
        keypoints=torch.tensor([[[10., 20.], [30., 40.]]]),
        keypoints_visible=torch.tensor([[2., 1.]]))
    inputs, samples = resize(torch.rand(1, 3, 64, 64), [sample])
    assert inputs.shape[-2:] == (96, 160)
    gt = samples[0].gt_instances
    torch.testing.assert_close(gt.bboxes, torch.tensor([[25., 30., 75., 60.]]))
    # keypoints (x, y) scaled by (160/64, 96/64), landing on the box corners as before
    torch.testing.assert_close(gt.keypoints, torch.tensor([[[25., 30.], [75., 60.]]]))
