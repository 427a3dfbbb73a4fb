"""Report the corrupt image files training skipped, per iteration and per epoch."""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from ...datasets.transforms.checked_loading import SKIPPED_KEY

INFO_KEY = 'corrupt_images_skipped'


def skipped_in_batch(data_samples) -> dict:
    """``dict(count, names)`` of the skipped files a batch's data samples carry."""
    count, names = 0, []
    for sample in data_samples or ():
        skipped = sample.metainfo.get(SKIPPED_KEY) if hasattr(sample, 'metainfo') else None
        if skipped:
            count += skipped['count']
            names += skipped['names']
    return dict(count=count, names=names)


@HOOKS.register_module()
class CorruptImageLogHook(Hook):
    """Log the files ``LoadImageFromFileChecked(on_corrupt='skip')`` skipped.

    The loader runs in dataloader workers; the names reach the main process in the metainfo
    of a later sample (``skipped_corrupt_images``). Each iteration that brings some logs a
    warning naming them; each epoch after the first skip ends with the epoch's and the
    run's count, which the message hub keeps under ``corrupt_images_skipped`` (so it is
    saved in checkpoints and goes on after ``--resume``).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self) -> None:
        self._epoch_count = 0

    def before_train_epoch(self, runner) -> None:
        self._epoch_count = 0

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        data_samples = data_batch.get('data_samples') if isinstance(data_batch, dict) else None
        skipped = skipped_in_batch(data_samples)
        if not skipped['count']:
            return
        self._epoch_count += skipped['count']
        hub = runner.message_hub
        hub.update_info(INFO_KEY, hub.get_info(INFO_KEY, 0) + skipped['count'])
        runner.logger.warning(
            f'skipped {skipped["count"]} corrupt image(s) (epoch {runner.epoch + 1}, iter '
            f'{runner.iter + 1}): ' + '; '.join(skipped['names']))

    def after_train_epoch(self, runner) -> None:
        total = runner.message_hub.get_info(INFO_KEY, 0)
        if total:
            runner.logger.info(
                f'Epoch {runner.epoch + 1}: skipped {self._epoch_count} corrupt training '
                f'image(s), {total} since the start of the run')
