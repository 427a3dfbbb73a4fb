"""A checkpoint from before the occlusion branch (no ``multi_level_conv_kpt_occ``) loads
through the safe loader into today's model: every other weight restored, the branch at its
fixed "never occluded" start, a warning that names it."""
import io
import logging
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner.checkpoint import load_checkpoint

CONFIG = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def test_checkpoint_without_the_occlusion_branch_loads(tmp_path):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(0)
    old = MODELS.build(cfg.model)
    state = {k: v for k, v in old.state_dict().items() if 'kpt_occ' not in k}
    assert len(state) < len(old.state_dict())
    path = tmp_path / 'old.pth'
    # as mmengine's stock Runner writes it: numpy scalars in meta need the allow-list loader
    torch.save(dict(meta=dict(epoch=np.int64(20)), state_dict=state), path)

    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        ckpt = load_checkpoint(model, str(path), map_location='cpu', logger=logger)
    finally:
        logger.removeHandler(handler)
    assert ckpt['meta']['epoch'] == 20
    log = stream.getvalue()
    assert 'multi_level_conv_kpt_occ' in log and 'untrained' in log
    assert 'missing keys' not in log
    loaded = model.state_dict()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key
    for conv in model.bbox_head.multi_level_conv_kpt_occ:
        assert (conv.weight == 0).all()
        torch.testing.assert_close(conv.bias.sigmoid(), torch.full_like(conv.bias, 0.01))
