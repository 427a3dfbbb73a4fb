"""bfloat16 autocast training on a CPU (CPUAutocastOptimWrapper) and channels-last weights
(ChannelsLastHook): what runs in low precision, what stays float32, and a real run."""
import os.path as osp
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from mmdet.registry import HOOKS, MODELS, OPTIM_WRAPPERS
from mmengine.config import Config

from yolox_kpt.checkpoint import safe_torch_load

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'tools'))
from small_run import small_run_options  # noqa: E402  (tests/tools/small_run.py)

CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_tiny_1xb8-bf16-7e_synthetic-driving-4k-cpu.py')


def conv_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8),
                               torch.nn.ReLU(), torch.nn.Conv2d(8, 2, 1))


def test_forward_in_bfloat16_step_in_float32():
    model, ref = conv_net(), conv_net()
    x = torch.rand(2, 3, 16, 16)
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='CPUAutocastOptimWrapper',
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())

    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    ref(x).square().mean().backward()
    ref_opt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert p.dtype == torch.float32
        # the same step as float32 training, to bfloat16's 8 significant bits
        torch.testing.assert_close(p, q, rtol=0.02, atol=0.02)
    assert not torch.equal(model[0].weight, conv_net()[0].weight)


def test_dtype_must_be_a_low_precision_type():
    with pytest.raises(ValueError, match='bfloat16'):
        OPTIM_WRAPPERS.build(dict(type='CPUAutocastOptimWrapper', dtype='float32',
                                  optimizer=torch.optim.SGD(conv_net().parameters(), lr=1)))


def test_channels_last_hook_keeps_parameters_outputs_and_checkpoints():
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model).eval()
    params = list(model.parameters())
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        before = model.bbox_head(model.extract_feat(x))
    HOOKS.build(dict(type='ChannelsLastHook')).before_run(SimpleNamespace(model=model))
    # the optimizer built before the hook holds these very objects
    assert all(p is q for p, q in zip(params, model.parameters()))
    weights = [p for p in model.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last)
                           for p in weights)
    with torch.no_grad():
        after = model.bbox_head(model.extract_feat(x))
    for a, b in zip(before, after):
        for level_a, level_b in zip(a, b):
            torch.testing.assert_close(level_a, level_b, rtol=1e-4, atol=1e-4)
    fresh = MODELS.build(cfg.model)
    fresh.load_state_dict(model.state_dict())
    assert all(p.is_contiguous() for p in fresh.parameters())


def test_bfloat16_recipe_trains_validates_and_saves_float32(synthetic_data, tmp_path):
    data = synthetic_data(num_train=4, num_val=2, seed=53)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path),
         '--cfg-options', *small_run_options(data, epochs=2, batch_size=2),
         'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=2'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    losses = [float(v) for v in re.findall(r'Epoch\(train\).* loss: ([0-9.naif]+)', log)]
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    assert 'coco/kpt_AP' in log  # validation ran on the channels-last model
    state = safe_torch_load(str(tmp_path / 'epoch_2.pth'))['state_dict']
    assert all(v.dtype == torch.float32 for v in state.values() if v.is_floating_point())
