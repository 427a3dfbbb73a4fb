"""Test instrument: stall inside a checkpoint save, so a test can kill the run right there."""
import sys
import time

from mmdet.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class SlowSaveHook(Hook):
    """Announce and sleep in ``before_save_checkpoint`` of epoch ``epoch`` (the old
    checkpoint mmengine would already have deleted; the new one not yet written)."""

    priority = 'LOWEST'

    def __init__(self, epoch: int, seconds: float = 60) -> None:
        self.epoch, self.seconds = epoch, seconds

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if checkpoint.get('meta', {}).get('epoch') == self.epoch:
            print(f'SAVING epoch {self.epoch}', flush=True)
            sys.stdout.flush()
            time.sleep(self.seconds)
