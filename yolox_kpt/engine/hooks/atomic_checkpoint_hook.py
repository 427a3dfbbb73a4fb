"""A CheckpointHook that never leaves the run without a complete latest checkpoint."""
import os.path as osp

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ...compat import atomic_write_bytes


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with a crash-safe order of work.

    mmengine 0.10.7 deletes the oldest checkpoint (``max_keep_ckpts``) *before* writing the
    new one and rewrites ``last_checkpoint`` in place; a run killed in between keeps neither
    a complete new checkpoint nor the old one that ``last_checkpoint`` names, and ``--resume``
    silently starts from scratch. Here: write the checkpoint (atomically, see
    ``yolox_kpt.compat`` shim 4), then point ``last_checkpoint`` at it (atomically), and
    only then delete what ``max_keep_ckpts`` drops. Arguments are ``CheckpointHook``'s.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(self.last_ckpt.encode(), osp.join(runner.work_dir,
                                                             'last_checkpoint'))
        for old in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
