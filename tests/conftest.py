"""Shared fixtures: registries set up once; small generated data only (no shared/ data)."""
import pytest


@pytest.fixture(scope='session', autouse=True)
def _registered():
    import yolox_kpt  # noqa: F401
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
