"""Refuse to train a head whose keypoint layout differs from the dataset's.

Model against data, inside a run. A trained checkpoint against the config it is run with is
``yolox_kpt.apis.layout.resolve_layout``'s job, called by the tools before any work.
"""
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ...keypoint_layout import KeypointLayout


@HOOKS.register_module()
class KeypointLayoutCheckHook(Hook):
    """Before the first iteration, compare ``bbox_head.layout`` with each dataset's.

    A head built for other keypoints than the data would train silently on wrong slots;
    this makes it an error naming both sides before any compute is spent.
    """

    priority = 'VERY_HIGH'

    def _check(self, runner, loader_name: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        head = getattr(model, 'bbox_head', None)
        layout = getattr(head, 'layout', None)
        loader = getattr(runner, loader_name, None)
        dataset = getattr(loader, 'dataset', None)
        meta = getattr(dataset, 'metainfo', None) or {}
        if layout is None or 'keypoint_layout' not in meta:
            return
        layout.check_same(KeypointLayout.from_config(meta['keypoint_layout']),
                          'model.bbox_head', f'{loader_name}.dataset')

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader')
