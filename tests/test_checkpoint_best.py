"""The best checkpoint is replaced atomically: a run killed at any point of a new best's
save still has a loadable best file (mmengine 0.10.7 removes the old best first)."""
import pytest
from mmengine.hooks import Hook

from yolox_kpt.checkpoint import AtomicCheckpointHook, safe_torch_load
from yolox_kpt.testing.runner import toy_runner


class _Killed(Exception):
    pass


class _KillInSave(Hook):
    """Stands for SIGKILL inside the save of epoch ``epoch`` (after mmengine would have
    removed the previous best, before the new one is on disk)."""

    def __init__(self):
        self.armed = False

    def before_save_checkpoint(self, runner, checkpoint):
        if self.armed:
            raise _Killed


def _best_then_kill(tmp_path, hook_type):
    """A best at epoch 1 (acc 0.5), then a better one at epoch 2 whose save is killed.

    Returns:
        tuple: (runner, killer, path of the epoch-1 best).
    """
    killer = _KillInSave()
    runner = toy_runner(tmp_path, max_epochs=3, hooks=[killer],
                        name=f'best_ckpt_{tmp_path.name}')
    hook = hook_type(interval=1, save_best='acc', rule='greater')
    hook.before_train(runner)
    runner.train_loop._epoch = 1
    hook._save_best_checkpoint(runner, dict(acc=0.5))
    first = hook.best_ckpt_path
    assert safe_torch_load(first)['meta']['epoch'] == 1
    runner.train_loop._epoch = 2
    killer.armed = True
    with pytest.raises(_Killed):
        hook._save_best_checkpoint(runner, dict(acc=0.7))
    return runner, killer, first


def test_killed_while_saving_a_new_best_keeps_the_old_best(tmp_path):
    runner, killer, first = _best_then_kill(tmp_path, AtomicCheckpointHook)
    # The kill came before the new best was written: the old one must still load.
    assert safe_torch_load(first)['meta']['epoch'] == 1

    # A killed run resumes from its last regular checkpoint, saved before this validation:
    # its message hub names the old best.
    killer.armed = False
    runner.message_hub.update_info('best_ckpt', first)
    runner.message_hub.update_info('best_score', 0.5)
    hook = AtomicCheckpointHook(interval=1, save_best='acc', rule='greater')
    hook.before_train(runner)
    runner.train_loop._epoch = 3
    hook._save_best_checkpoint(runner, dict(acc=0.9))
    best = sorted(p.name for p in tmp_path.glob('best_*.pth'))
    assert best == ['best_acc_epoch_3.pth'], best  # the old best goes once the new is saved
    assert safe_torch_load(tmp_path / best[0])['meta']['epoch'] == 3


def test_stock_hook_loses_the_best_on_such_a_kill(tmp_path):
    """The upstream behaviour the hook above fixes (if mmengine fixes it, drop the shim)."""
    from mmengine.hooks import CheckpointHook
    _, _, first = _best_then_kill(tmp_path, CheckpointHook)
    assert not list(tmp_path.glob('best_*.pth')), first


def test_without_save_best_a_validation_saves_nothing_and_does_not_fail(tmp_path):
    """mmengine never sets ``best_ckpt_path`` without ``save_best``; the override used to
    read it after every validation (AttributeError at the first one)."""
    runner = toy_runner(tmp_path, max_epochs=1, name=f'no_best_{tmp_path.name}')
    hook = AtomicCheckpointHook(interval=1, save_best=None)
    hook.before_train(runner)
    hook._save_best_checkpoint(runner, dict(acc=0.5))
    assert not list(tmp_path.glob('best_*.pth'))
