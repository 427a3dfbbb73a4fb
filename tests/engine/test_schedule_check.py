"""ScheduleCheckHook on a real mmengine Runner with mmdet's YOLOX schedule (its own
config's param_scheduler and hooks), after overriding ``train_cfg.max_epochs`` alone as
``--cfg-options`` does: the warning names the values, and its suggested overrides fit the
schedule (the learning rate then ends at eta_min, which it does not before)."""
import glob
import os.path as osp

import mmdet
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader, Dataset

from yolox_kpt.engine.hooks.schedule_check_hook import ScheduleCheckHook, ScheduleError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# mmdet's own YOLOX-s recipe file (what `_base_ = 'mmdet::yolox/...'` reads)
MMDET_YOLOX = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'yolox',
                       'yolox_s_8xb8-300e_coco.py')
BASE_LR = 0.01  # mmdet's YOLOX-s recipe; eta_min is 5% of it


class Head(nn.Module):
    use_l1 = False  # YOLOXModeSwitchHook turns it on


class ToyDetector(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.bbox_head = Head()

    def forward(self, inputs=None, data_samples=None, mode='tensor'):
        return dict(loss=self.fc(torch.ones(1, 2)).sum())


class ToyData(Dataset):
    skip_type_keys = None

    def __init__(self, size=2):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        return i

    def update_skip_type_keys(self, keys):  # what YOLOXModeSwitchHook calls
        self.skip_type_keys = keys


def yolox_schedule(**cfg_options):
    """mmdet's YOLOX-s schedule parts and hooks plus the check, with ``cfg_options``
    merged as tools/train.py merges ``--cfg-options``."""
    full = Config.fromfile(MMDET_YOLOX)
    cfg = Config(dict(train_cfg=full.train_cfg, param_scheduler=full.param_scheduler,
                      custom_hooks=list(full.custom_hooks) + [dict(type='ScheduleCheckHook')],
                      optim_wrapper=full.optim_wrapper, default_scope='mmdet'))
    cfg.merge_from_dict(cfg_options)
    return cfg


def train(cfg, work_dir, name, strict=False, extra_hooks=(), iters_per_epoch=2):
    hooks = [dict(h, strict=strict) if h['type'] == 'ScheduleCheckHook' else h
             for h in cfg.custom_hooks] + list(extra_hooks)
    runner = Runner(model=ToyDetector(), work_dir=str(work_dir),
                    train_dataloader=DataLoader(ToyData(iters_per_epoch), batch_size=1,
                                                collate_fn=lambda x: dict(inputs=x)),
                    train_cfg=cfg.train_cfg, optim_wrapper=cfg.optim_wrapper,
                    param_scheduler=cfg.param_scheduler, custom_hooks=hooks,
                    default_hooks=dict(checkpoint=None), default_scope='mmdet', cfg=cfg,
                    experiment_name=name)
    runner.train()
    check = next(h for h in runner.hooks if isinstance(h, ScheduleCheckHook))
    return runner, check


def log_text(work_dir):
    (path, ) = glob.glob(osp.join(str(work_dir), '*', '*.log'))
    with open(path) as f:
        return f.read()


def test_max_epochs_overridden_alone_warns_and_the_suggestion_fits(tmp_path):
    cfg = yolox_schedule(**{'train_cfg.max_epochs': 30})
    runner, check = train(cfg, tmp_path / 'alone', 'schedule_alone')
    log = log_text(tmp_path / 'alone')
    assert 'the schedule does not fit train_cfg.max_epochs=30' in log
    assert ('param_scheduler.1 (CosineAnnealingLR) ends at epoch 285, after training stops '
            'at epoch 30') in log
    assert 'param_scheduler.2 (ConstantLR) begins at epoch 285' in log
    # the same schedule at 30 epochs: 1 warm-up epoch (5 of 300), cosine to 29, constant
    # for the last epoch, YOLOX's last-epochs phase starting where the constant one does
    assert check.overrides == {
        'param_scheduler.0.end': 1, 'param_scheduler.1.begin': 1,
        'param_scheduler.1.T_max': 28, 'param_scheduler.1.end': 28,
        'param_scheduler.2.begin': 28, 'param_scheduler.2.end': 30,
        'custom_hooks.0.num_last_epochs': 2}
    assert ('--cfg-options train_cfg.max_epochs=30 param_scheduler.0.end=1 '
            'param_scheduler.1.begin=1') in log
    # what the warning is about: the run ended near its peak learning rate
    assert runner.optim_wrapper.get_lr()['lr'][0] > 0.9 * BASE_LR

    fixed = yolox_schedule(**{'train_cfg.max_epochs': 30}, **check.overrides)
    runner, check = train(fixed, tmp_path / 'fixed', 'schedule_fixed')
    assert check.problems == []
    assert 'does not fit' not in log_text(tmp_path / 'fixed')
    # (mmdet's T_max equals end although the cosine begins after warm-up, so it stops a
    # little above eta_min, as mmdet's 300-epoch run does)
    assert runner.optim_wrapper.get_lr()['lr'][0] < 0.06 * BASE_LR


@pytest.mark.parametrize('max_epochs, expected', [
    (10, 'YOLOXModeSwitchHook num_last_epochs=15 >= max_epochs=10: it switches at the first '
         'epoch'),
    (600, 'every parameter scheduler has ended before training stops (last end: 50% of the '
          'run)'),
])
def test_strict_refuses_before_the_first_iteration(tmp_path, max_epochs, expected):
    cfg = yolox_schedule(**{'train_cfg.max_epochs': max_epochs})
    with pytest.raises(ScheduleError) as e:
        train(cfg, tmp_path, f'schedule_strict_{max_epochs}', strict=True)
    assert expected in str(e.value)
    assert f'--cfg-options train_cfg.max_epochs={max_epochs} ' in str(e.value)


def test_a_run_too_short_for_the_phases_gets_no_scaled_schedule(tmp_path):
    """4 of 300 epochs: warm-up, cosine and the constant phase cannot all keep an epoch, so
    no override line is made up; the problems are still named."""
    runner, check = train(yolox_schedule(**{'train_cfg.max_epochs': 4}), tmp_path,
                          'schedule_short')
    assert check.overrides == {} and len(check.problems) >= 3
    assert 'a run this short has no room for every phase' in log_text(tmp_path)


class StopBeforeFirstEpoch(Hook):
    """Ends the run once every before_train hook (the check among them) has run."""
    priority = 'LOWEST'

    def before_train(self, runner):
        runner.train_loop.stop_training = True


RECIPES = sorted(glob.glob(osp.join(REPO, 'configs', 'yolox-kpt', '**', '*.py'),
                           recursive=True))


@pytest.mark.parametrize('path', RECIPES, ids=osp.basename)
def test_every_recipe_carries_the_check_and_fits_its_own_schedule(tmp_path, path):
    """The recipes' schedules as written pass strict checking on a real Runner (their
    param_scheduler, train_cfg and schedule hooks; no epoch is trained), with 100 iterations
    an epoch (the synthetic set at batch size 8; iteration-based warm-ups count on it)."""
    recipe = Config.fromfile(path)
    assert 'ScheduleCheckHook' in {h['type'] for h in recipe.custom_hooks}
    hooks = [h for h in recipe.custom_hooks
             if h['type'] in ('YOLOXModeSwitchHook', 'EMAHook', 'ScheduleCheckHook')]
    cfg = Config(dict(train_cfg=recipe.train_cfg, param_scheduler=recipe.param_scheduler,
                      custom_hooks=hooks, optim_wrapper=dict(optimizer=dict(type='SGD',
                                                                            lr=BASE_LR)),
                      default_scope='mmdet'))
    runner, check = train(cfg, tmp_path, 'recipe_' + osp.basename(path), strict=True,
                          extra_hooks=[StopBeforeFirstEpoch()], iters_per_epoch=100)
    assert check.problems == [] and runner.epoch == 0


def test_a_recipe_written_from_max_epochs_keeps_its_shape_when_scaled(tmp_path):
    """The CPU recipe writes its cosine as begin=1, T_max=max_epochs - 1, end=max_epochs:
    the suggestion for 10 epochs keeps T_max the phase's length, and the recipe with it
    passes the strict check."""
    recipe = Config.fromfile(osp.join(REPO, 'configs', 'yolox-kpt',
                                      'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py'))

    def schedule(**options):
        cfg = Config(dict(train_cfg=recipe.train_cfg, param_scheduler=recipe.param_scheduler,
                          custom_hooks=[dict(type='ScheduleCheckHook')],
                          optim_wrapper=dict(optimizer=dict(type='SGD', lr=BASE_LR)),
                          default_scope='mmdet'))
        cfg.merge_from_dict(options)
        return cfg

    _, check = train(schedule(**{'train_cfg.max_epochs': 10}), tmp_path / 'a', 'cpu_short',
                     extra_hooks=[StopBeforeFirstEpoch()], iters_per_epoch=100)
    assert check.overrides == {'param_scheduler.1.T_max': 9, 'param_scheduler.1.end': 10}
    _, check = train(schedule(**{'train_cfg.max_epochs': 10}, **check.overrides),
                     tmp_path / 'b', 'cpu_short_fixed', strict=True,
                     extra_hooks=[StopBeforeFirstEpoch()], iters_per_epoch=100)
    assert check.problems == []
