"""Random models that behave like trained ones, for tool and export tests."""
import cv2
import numpy as np
import torch


def confident_random_checkpoint(cfg, path, calib_img, seed=0):
    """Random weights that behave like a trained model's: batch-norm statistics taken from
    one batch (a fresh network's activations explode through BN with unit statistics) and
    spread-out objectness/class biases, so that some dozens of detections of mixed classes
    with distinct scores pass the threshold. ``calib_img``: an image like the test ones."""
    from mmdet.registry import MODELS
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = 1.0
    model.train()
    with torch.no_grad():
        img = cv2.resize(cv2.imread(calib_img), (320, 320)).astype(np.float32)
        model.bbox_head(model.extract_feat(torch.from_numpy(img).permute(2, 0, 1)[None]))
        head = model.bbox_head
        # (convs, weight scale, bias mean, bias std): boxes of a few strides, offsets
        # within a few strides, so that outputs stay in a trained model's range
        for convs, scale, mean, std in ((head.multi_level_conv_obj, 0.1, -1.5, 1.0),
                                        (head.multi_level_conv_cls, 0.1, 0.0, 1.0),
                                        (head.multi_level_conv_reg, 0.02, 1.0, 0.5),
                                        (head.multi_level_conv_kpt, 0.02, 0.0, 1.0),
                                        (head.multi_level_conv_kpt_vis, 0.1, 0.0, 1.0)):
            for conv in convs:
                conv.weight.mul_(scale)
                conv.bias.normal_(mean, std)
    torch.save({'state_dict': model.state_dict()}, path)
    return path
