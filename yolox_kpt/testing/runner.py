"""A real mmengine ``Runner`` around a one-layer model, for checkpoint tests that need the
Runner's own save/resume code without the cost of a detector."""
from typing import Optional, Sequence


def toy_runner(work_dir, max_epochs: int = 1, hooks: Optional[Sequence] = None,
               checkpoint_hook: Optional[dict] = None, name: str = 'toy'):
    """An mmengine ``Runner`` that trains ``Linear(2, 1)`` on 2 one-sample batches per
    epoch with SGD.

    Args:
        work_dir: where the Runner writes.
        max_epochs (int): epochs of ``train()``.
        hooks (Sequence, optional): custom hook objects.
        checkpoint_hook (dict, optional): ``default_hooks.checkpoint`` (None: no hook).
        name (str): experiment name; mmengine's message hub is a global per name, so runners
            that must not share state need different names.
    """
    import torch
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from torch import nn
    from torch.utils.data import DataLoader

    class ToyModel(BaseModel):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, inputs=None, data_samples=None, mode='tensor'):
            return dict(loss=self.fc(torch.ones(1, 2)).sum())

    return Runner(model=ToyModel(), work_dir=str(work_dir),
                  train_dataloader=DataLoader([0, 1], batch_size=1,
                                              collate_fn=lambda x: dict(inputs=x)),
                  train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
                  default_hooks=dict(checkpoint=checkpoint_hook),
                  custom_hooks=list(hooks) if hooks else None, experiment_name=name)
