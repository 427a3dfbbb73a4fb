"""The package's import graph: layers point down, no cycles, the ground floor needs no torch.

Every module of ``yolox_kpt/`` and ``tools/`` is parsed with ``ast`` (no import is run):
module-level and function-level ``import yolox_kpt...`` / ``from ... import`` statements,
relative ones resolved against the importing module. A room is the first package under
``yolox_kpt`` (``models``, ``runtime``, ...); ``tools/`` is one room on top.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple


ROOT = Path(__file__).resolve().parents[1]
PACKAGE = 'yolox_kpt'

# Rooms and their floors. An import may go to the same floor or below, never above.
LAYERS: Dict[str, int] = {
    'keypoint_layout': 0, 'runtime': 0, 'utils': 0,
    'compat': 1, 'checkpoint': 1, 'structures': 1,
    'models': 2, 'datasets': 2, 'evaluation': 2, 'visualization': 2, 'engine': 2,
    'testing': 2,
    'apis': 3, 'deploy': 3, 'data_tools': 3,
    'tools': 4,
}
# Entry points of the tools that live in the package (they run as a tool's ``__main__``):
# they may import the package root, and nothing in the library may import them.
TOOL_HELPERS = {'yolox_kpt.utils.cli', 'yolox_kpt.utils.stock_tools'}
GROUND_FLOOR = ('yolox_kpt.keypoint_layout', 'yolox_kpt.runtime', 'yolox_kpt.utils.media')
HEAVY = ('torch', 'mmdet', 'mmengine', 'mmcv')


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _modules() -> Dict[str, Path]:
    found = {}
    for top in (PACKAGE, 'tools'):
        for path in sorted((ROOT / top).rglob('*.py')):
            if '__pycache__' not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[Tuple[str, int]]:
    """(imported yolox_kpt module, line) for every import in the file, at any depth."""
    is_package = path.name == '__init__.py'
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split('.')[0] == PACKAGE:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # ``from .x import y`` in a package's __init__ is relative to the package
                base = name.split('.')
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            if target.split('.')[0] != PACKAGE:
                continue
            for alias in node.names:
                # ``from pkg import submodule`` imports the submodule
                sub = f'{target}.{alias.name}'
                yield (sub if sub in MODULES else target), node.lineno


EDGES: Dict[str, List[Tuple[str, int]]] = {n: list(_imports(n, p)) for n, p in MODULES.items()}


def _room(module: str) -> str:
    parts = module.split('.')
    return parts[0] if parts[0] == 'tools' else (parts[1] if len(parts) > 1 else '')


def test_every_room_has_a_floor():
    rooms = {_room(m) for m in MODULES} - {''}
    assert not rooms - set(LAYERS), f'assign a layer to {sorted(rooms - set(LAYERS))}'
    assert len(set(LAYERS.values())) <= 5


def _upward(edges: Dict[str, List[Tuple[str, int]]]) -> List[str]:
    """``module:line imports target`` for each import of a higher floor than the module's."""
    found = []
    for module, targets in edges.items():
        if module in TOOL_HELPERS or not _room(module):
            continue
        for target, line in targets:
            if _room(target) and LAYERS[_room(target)] > LAYERS[_room(module)]:
                found.append(f'{module}:{line} ({_room(module)}, L{LAYERS[_room(module)]}) '
                             f'imports {target} (L{LAYERS[_room(target)]})')
    return found


def test_imports_point_down():
    upward = _upward(EDGES)
    assert not upward, '\n'.join(upward)


def test_nothing_in_the_package_imports_its_root():
    offenders = [f'{MODULES[m].relative_to(ROOT)}:{line}' for m, targets in EDGES.items()
                 if m.startswith(PACKAGE) and m not in TOOL_HELPERS
                 for target, line in targets if target == PACKAGE]
    assert not offenders, offenders


def test_tool_helpers_are_not_imported_by_the_library():
    offenders = [f'{MODULES[m].relative_to(ROOT)}:{line} imports {t}'
                 for m, targets in EDGES.items()
                 if m.startswith(PACKAGE) and m not in TOOL_HELPERS and m != 'yolox_kpt.utils'
                 for t, line in targets if t in TOOL_HELPERS]
    assert not offenders, offenders


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_cycles_between_modules_or_rooms():
    modules = {m: {t for t, _ in ts if t in MODULES and t != m} for m, ts in EDGES.items()}
    assert not _cycles(modules)
    rooms: Dict[str, Set[str]] = {}
    for m, targets in EDGES.items():
        if m in TOOL_HELPERS or not _room(m):
            continue
        rooms.setdefault(_room(m), set()).update(
            _room(t) for t, _ in targets if _room(t) and _room(t) != _room(m))
    assert not _cycles(rooms), rooms


def test_the_graph_is_what_the_test_thinks_it_is():
    """The parser finds known edges, so the checks above cannot pass on an empty graph."""
    assert 'yolox_kpt.compat' in {t for t, _ in EDGES['yolox_kpt']}
    head = EDGES['yolox_kpt.models.dense_heads.yolox_kpt_head']
    assert ('yolox_kpt.keypoint_layout', ) <= tuple(t for t, _ in head)
    assert any(t == 'yolox_kpt.structures' for t, _ in
               EDGES['yolox_kpt.datasets.transforms.loading'])
    assert _cycles({'a': {'b'}, 'b': {'a'}, 'c': {'a'}}) == [['a', 'b']]
    assert _upward({'yolox_kpt.compat': [('yolox_kpt.engine.hooks', 3)],
                    'yolox_kpt.models.x': [('yolox_kpt.structures', 4)]}) == [
        'yolox_kpt.compat:3 (compat, L1) imports yolox_kpt.engine.hooks (L2)']


def test_dataset_room_holds_only_the_dataset():
    lines = sum(len(p.read_text().splitlines()) for p in (ROOT / PACKAGE / 'datasets').rglob(
        '*.py'))
    assert lines <= 700, (f'yolox_kpt/datasets/ is {lines} lines: it holds the dataset, its '
                          'sampler and its transforms; converters, curation and generators '
                          'belong in '
                          'yolox_kpt/data_tools/')


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_ground_floor_imports_without_torch_or_mmdet():
    """Their own imports, with the package root bypassed (it registers into mmdet when
    mmdet is installed): nothing heavy may be loaded afterwards."""
    code = f"""
import sys, types
root = types.ModuleType({PACKAGE!r})
root.__path__ = [{str(ROOT / PACKAGE)!r}]
sys.modules[{PACKAGE!r}] = root
import importlib
for name in {GROUND_FLOOR!r}:
    importlib.import_module(name)
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '[]', proc.stdout


def test_ground_floor_imports_where_torch_and_mmdet_are_missing():
    """A deployment target: the real package root, with torch and mmdet not installed."""
    blocked = ', '.join(f'{m!r}: None' for m in HEAVY)
    code = f"""
import sys
sys.modules.update({{{blocked}}})
import importlib
for name in {GROUND_FLOOR!r}:
    importlib.import_module(name)
import yolox_kpt
assert yolox_kpt.KeypointLayout is not None
"""
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
