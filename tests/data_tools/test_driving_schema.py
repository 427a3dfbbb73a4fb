"""The driving schema is defined once, and the data tools stay out of the library."""
import ast
from pathlib import Path

import pytest

from yolox_kpt.apis.layout import check_layouts_match, config_layout
from yolox_kpt.data_tools.driving_schema import (CLASSES, DRIVING_LAYOUT, KEYPOINTS, SIGMAS,
                                                 coco_categories)

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / 'yolox_kpt'


def imported_modules(path: Path):
    """Absolute names of the modules a file imports (relative imports resolved)."""
    parts = list(path.relative_to(REPO).with_suffix('').parts)
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                # ``from .x import y`` in a/b/c.py (or a/b/__init__.py) is a.b.x.
                pkg = parts[:-1]
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = '.'.join(pkg + ([base] if base else []))
            names.add(base)
            names.update(f'{base}.{a.name}' for a in node.names)
    return names


def test_driving_categories_are_the_layout():
    cats = coco_categories()
    assert [c['id'] for c in cats] == [1, 2, 3, 4]
    assert tuple(c['name'] for c in cats) == CLASSES == DRIVING_LAYOUT.classes
    assert {c['supercategory'] for c in cats} == {'road'}
    assert {c['name']: tuple(c['keypoints']) for c in cats} == KEYPOINTS
    # 1-based, within the class's own keypoints, as COCO files and the synthetic set have it.
    assert [c['skeleton'] for c in cats] == [[[1, 2], [3, 4], [1, 3], [2, 4]], [], [],
                                             [[1, 2]]]
    assert DRIVING_LAYOUT.keypoint_names == ('front_left_tyre', 'front_right_tyre',
                                             'rear_left_tyre', 'rear_right_tyre',
                                             'front_wheel', 'rear_wheel')
    # Left/right are the vehicle's own sides: a flip swaps them; wheels have no side.
    assert DRIVING_LAYOUT.flip_indices == (1, 0, 3, 2, 4, 5)
    assert dict(zip(DRIVING_LAYOUT.keypoint_names, DRIVING_LAYOUT.sigmas)) == SIGMAS


def test_real_data_tools_do_not_import_the_synthetic_generator():
    synthetic = 'yolox_kpt.data_tools.synthetic_driving'
    real = [PACKAGE / 'data_tools' / 'curation.py', PACKAGE / 'data_tools' / 'coco.py',
            PACKAGE / 'data_tools' / 'driving_schema.py',
            *sorted((PACKAGE / 'data_tools' / 'converters').glob('*.py'))]
    for path in real:
        assert not any(m.startswith(synthetic) for m in imported_modules(path)), path


def test_library_does_not_import_the_data_tools():
    for path in sorted(PACKAGE.rglob('*.py')):
        if 'data_tools' in path.relative_to(PACKAGE).parts:
            continue
        found = [m for m in imported_modules(path) if m.startswith('yolox_kpt.data_tools')]
        assert not found, f'{path} imports {found}: training code must not need the data tools'


def test_imports_resolve_relative_names():
    # The checks above rely on this resolution; a wrong one would make them pass vacuously.
    names = imported_modules(PACKAGE / 'data_tools' / 'converters' / 'driving.py')
    assert 'yolox_kpt.data_tools.driving_schema.DRIVING_LAYOUT' in names
    assert 'yolox_kpt.utils.progress' in names


# driving_layout_head_tail.py splits the face class on purpose (checked against the schema
# in tests/data_tools/converters/test_driving_layouts.py)
DRIVING_CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*driving*.py')
                         if p.name != 'driving_layout_head_tail.py')


@pytest.mark.parametrize('config', DRIVING_CONFIGS, ids=lambda p: p.name)
def test_driving_configs_use_the_schema_layout(config):
    from mmengine.config import Config
    layout = config_layout(Config.fromfile(str(config)), config.name)
    check_layouts_match(layout, DRIVING_LAYOUT, config.name, 'driving_schema.DRIVING_LAYOUT')
    assert dict(zip(layout.keypoint_names, layout.sigmas)) == SIGMAS
