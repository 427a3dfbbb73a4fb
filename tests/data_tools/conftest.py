"""Fixtures of the data-tools tests: the command-line tools they drive, loaded as modules."""
import importlib.util
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters'


@pytest.fixture(scope='session')
def tool():
    """``tool(name)``: the module ``tools/dataset_converters/<name>.py``, whose ``main``
    takes an argv list, so a test runs the tool in-process and sees its SystemExit."""
    def load(name):
        spec = importlib.util.spec_from_file_location(f'_tool_{name}', TOOLS / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
