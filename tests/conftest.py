"""Shared fixtures: registries set up once; small generated data only (no shared/ data)."""
import pytest


@pytest.fixture(scope='session', autouse=True)
def _registered():
    import yolox_kpt  # noqa: F401
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def synthetic_data(tmp_path_factory):
    """Factory: ``synthetic_data(num_train, num_val, seed)`` -> root of a generated set."""
    from yolox_kpt.data_tools.synthetic_driving import generate_synthetic_driving

    def make(num_train: int, num_val: int, seed: int):
        root = tmp_path_factory.mktemp('synth')
        generate_synthetic_driving(root, num_train=num_train, num_val=num_val, seed=seed)
        return root

    return make
