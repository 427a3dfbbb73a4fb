"""The runtime's modules are Python 3.8 code (JetPack 5's Python), checked without a 3.8.

Two checks on every module of ``yolox_kpt/runtime/`` (globbed, so new modules are covered),
``yolox_kpt/keypoint_layout.py`` and ``yolox_kpt/__init__.py``: the parser's own
``feature_version=(3, 8)`` (``match``, ``except*``, parenthesised context managers, relaxed
decorators, ...), and what that parser lets through but 3.8 fails on when it runs: builtin
generics (``list[int]``) and ``X | Y`` in annotations evaluated at run time, and calls,
arguments and imports that came after 3.8. Only those runtimes were not run on a real 3.8.
"""
import ast
import glob
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the runtime, and what tools/device_check.py runs on a device's Python (JetPack 5: 3.8)
FILES = sorted(glob.glob(osp.join(REPO, 'yolox_kpt', 'runtime', '*.py'))) + sorted(
    glob.glob(osp.join(REPO, 'yolox_kpt', 'evaluation', 'functional', '*.py'))) + [
    osp.join(REPO, 'yolox_kpt', 'keypoint_layout.py'),
    osp.join(REPO, 'yolox_kpt', '__init__.py'),
    osp.join(REPO, 'yolox_kpt', 'evaluation', '__init__.py'),
    osp.join(REPO, 'yolox_kpt', 'utils', 'cli.py'),
    osp.join(REPO, 'yolox_kpt', 'utils', 'progress.py'),
    osp.join(REPO, 'tools', 'device_check.py'),
    osp.join(REPO, 'tools', 'analysis', 'eval_exported.py'),
]
BUILTIN_GENERICS = {'list', 'dict', 'tuple', 'set', 'frozenset', 'type'}
# methods, functions and keyword arguments that Python 3.9-3.13 added
NEW_METHODS = {'removeprefix', 'removesuffix', 'bit_count', 'is_relative_to', 'with_stem',
               'randbytes', 'readlink'}
NEW_FUNCTIONS = {('functools', 'cache'), ('itertools', 'pairwise'), ('itertools', 'batched'),
                 ('math', 'lcm'), ('math', 'nextafter'), ('math', 'ulp'), ('math', 'cbrt'),
                 ('math', 'exp2'), ('importlib.resources', 'files'), ('os', 'pidfd_open'),
                 ('typing', 'get_type_hints_extras')}
NEW_KEYWORDS = {('zip', 'strict'), ('dataclass', 'slots'), ('dataclass', 'kw_only'),
                ('dataclass', 'match_args'), ('field', 'kw_only')}
NEW_MODULES = {'zoneinfo', 'graphlib', 'tomllib'}
NEW_TYPING = {'Annotated', 'TypeAlias', 'ParamSpec', 'Concatenate', 'TypeGuard', 'Self',
              'Never', 'LiteralString', 'Required', 'NotRequired', 'Unpack', 'TypeVarTuple',
              'override', 'assert_never', 'assert_type', 'reveal_type', 'dataclass_transform',
              'is_typeddict', 'get_overloads', 'clear_overloads', 'TypeIs', 'ReadOnly'}


def _annotations(tree, future):
    """Annotations that Python evaluates when the module runs: function signatures and
    module/class-level variable annotations, unless ``from __future__ import annotations``.
    """
    if future:
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg,
                                                                            args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
            # variable annotations inside a function body are never evaluated
        elif isinstance(node, (ast.Module, ast.ClassDef)):
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign):
                    yield stmt.annotation


def _is_string(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def problems(path):
    """(line, what) of every 3.9+ construct found in the file."""
    with open(path) as f:
        src = f.read()
    try:
        tree = ast.parse(src, path, feature_version=(3, 8))
    except SyntaxError as e:
        return [(e.lineno, f'not Python 3.8 syntax: {e.msg}')]
    found = []
    future = any(isinstance(n, ast.ImportFrom) and n.module == '__future__' and
                 any(a.name == 'annotations' for a in n.names) for n in tree.body)
    for ann in _annotations(tree, future):
        for node in ast.walk(ann):
            if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and
                    node.value.id in BUILTIN_GENERICS):
                found.append((node.lineno, f'{node.value.id}[...] in an annotation (3.9)'))
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
                found.append((node.lineno, 'X | Y in an annotation (3.10)'))
    in_annotations = {id(n) for ann in _annotations(tree, False) for n in ast.walk(ann)}
    in_annotations |= {id(n) for stmt in ast.walk(tree) if isinstance(stmt, ast.AnnAssign)
                       for n in ast.walk(stmt.annotation)}
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split('.')[0] in NEW_MODULES:
                    found.append((node.lineno, f'import {a.name} (3.9+)'))
                imported[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                if node.module.split('.')[0] in NEW_MODULES:
                    found.append((node.lineno, f'from {node.module} (3.9+)'))
                if node.module == 'typing' and a.name in NEW_TYPING:
                    found.append((node.lineno, f'typing.{a.name} (3.9+)'))
                if (node.module, a.name) in NEW_FUNCTIONS:
                    found.append((node.lineno, f'{node.module}.{a.name} (3.9+)'))
        elif isinstance(node, ast.Attribute):
            base = node.value
            module = imported.get(base.id) if isinstance(base, ast.Name) else None
            if module and (module, node.attr) in NEW_FUNCTIONS:
                found.append((node.lineno, f'{module}.{node.attr} (3.9+)'))
            elif module == 'typing' and node.attr in NEW_TYPING:
                found.append((node.lineno, f'typing.{node.attr} (3.9+)'))
            elif node.attr in NEW_METHODS:
                found.append((node.lineno, f'.{node.attr}() (3.9+)'))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, 'attr', None)
            for kw in node.keywords:
                if (name, kw.arg) in NEW_KEYWORDS:
                    found.append((node.lineno, f'{name}({kw.arg}=...) (3.10)'))
            # isinstance(x, int | str) evaluates X | Y at run time (3.10)
            if name in ('isinstance', 'issubclass') and len(node.args) == 2 and isinstance(
                    node.args[1], ast.BinOp) and isinstance(node.args[1].op, ast.BitOr):
                found.append((node.lineno, f'{name}(x, X | Y) (3.10)'))
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and \
                node.value.id in BUILTIN_GENERICS and not _is_string(node.slice):
            # list[int] outside annotations (e.g. a type alias) runs at import time
            if id(node) not in in_annotations:
                found.append((node.lineno, f'{node.value.id}[...] at run time (3.9)'))
    return sorted(set(found))


@pytest.mark.parametrize('path', FILES, ids=[osp.relpath(f, REPO) for f in FILES])
def test_module_is_python38(path):
    assert not problems(path), '\n'.join(f'{osp.relpath(path, REPO)}:{line}: {what}'
                                         for line, what in problems(path))


def test_the_checker_finds_what_3_8_fails_on(tmp_path):
    """The checks above, on code that 3.8 refuses or fails to run."""
    bad = tmp_path / 'bad.py'
    bad.write_text(
        'import functools\n'
        'from dataclasses import dataclass\n'
        'from typing import TypeAlias\n'
        'def f(x: list[int], y: int | None = None) -> dict[str, int]:\n'
        '    return {}\n'
        '@dataclass(slots=True)\n'
        'class A:\n'
        '    a: tuple[int, ...] = ()\n'
        'Alias = list[int]\n'
        's = "ab".removeprefix("a")\n'
        'g = functools.cache(f)\n'
        'z = zip([1], [2], strict=True)\n'
        'ok = isinstance(1, int | str)\n')
    whats = [what for _, what in problems(str(bad))]
    for expected in ('list[...] in an annotation', 'X | Y in an annotation',
                     'dict[...] in an annotation', 'tuple[...] in an annotation',
                     'dataclass(slots=...)', 'list[...] at run time', '.removeprefix()',
                     'functools.cache', 'zip(strict=...)', 'typing.TypeAlias',
                     'isinstance(x, X | Y)'):
        assert any(expected in w for w in whats), (expected, whats)
    syntax = tmp_path / 'match.py'
    syntax.write_text('match 1:\n    case 1:\n        pass\n')
    assert 'not Python 3.8 syntax' in problems(str(syntax))[0][1]
    fine = tmp_path / 'fine.py'
    fine.write_text('from __future__ import annotations\n'
                    'from typing import List\n'
                    'def f(x: list[int] | None, y: List[int]) -> dict[str, int]:\n'
                    '    if (n := len(y)) > 1:\n'
                    '        z: list[int] = []\n'
                    '    return {}\n')
    assert problems(str(fine)) == []
