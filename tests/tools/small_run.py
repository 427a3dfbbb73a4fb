"""What the tool tests share: the CPU demo config pointed at a small generated data set."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'yolox-kpt',
                  'yolox-kpt_nano_1xb8-20e_synthetic-driving-cpu.py')


def small_run_options(root, epochs: int, batch_size: int) -> list:
    """``--cfg-options`` values: data under ``root``, ``epochs``, no dataloader workers."""
    data_root = f'{root}/'
    return [f'train_dataloader.dataset.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}',
            f'val_evaluator.ann_file={data_root}annotations/val.json',
            f'test_evaluator.ann_file={data_root}annotations/val.json',
            f'train_cfg.max_epochs={epochs}', f'train_dataloader.batch_size={batch_size}',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
