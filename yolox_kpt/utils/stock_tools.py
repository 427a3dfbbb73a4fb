"""Run a script that mmdet's wheel ships (``mmdet/.mim/tools``) with yolox-kpt registered.

This module is part of the ``yolox_kpt`` package, so importing it has already imported the
package root: the plugin's modules are registered and ``yolox_kpt.compat`` is applied. The
script itself, and so its command line, is mmdet's own and unchanged.
"""
import argparse
import os.path as osp
import runpy
import sys
from typing import Callable, Optional, Sequence


def mmdet_tool_script(relative_path: str) -> str:
    """Path of ``mmdet/.mim/tools/<relative_path>``; exits naming the mmdet to install if the
    wheel has no such script."""
    import mmdet
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', relative_path)
    if not osp.isfile(script):
        sys.exit(f'mmdet {mmdet.__version__} ships no {script}; install mmdet==3.3.0')
    return script


def mmdet_tool_args(relative_path: str,
                    argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The arguments mmdet's script will see, parsed by the script's own ``parse_args``.

    Loading the script without ``__name__ == '__main__'`` only defines its functions, so
    the command line (``--cfg-options``, option spellings, ``--help``) is read exactly as
    the script reads it, not by a copy of its parser that could drift.

    Args:
        relative_path (str): e.g. ``'test.py'``.
        argv (Sequence[str], optional): arguments after the program name (default:
            ``sys.argv[1:]``).
    """
    script = mmdet_tool_script(relative_path)
    parse_args = runpy.run_path(script)['parse_args']
    saved = sys.argv
    sys.argv = [script, *(sys.argv[1:] if argv is None else argv)]
    try:
        return parse_args()
    finally:
        sys.argv = saved


def run_mmdet_tool(relative_path: str,
                   before: Optional[Callable[[argparse.Namespace], None]] = None) -> None:
    """Run ``mmdet/.mim/tools/<relative_path>`` as ``__main__`` with the current argv.

    Args:
        relative_path (str): e.g. ``'train.py'``.
        before (callable, optional): called with the parsed arguments
            (:func:`mmdet_tool_args`) before the script runs; it may ``sys.exit`` to refuse
            the run before any work (``tools/test.py`` refuses a checkpoint whose keypoint
            layout differs from the config's).
    """
    script = mmdet_tool_script(relative_path)
    if before is not None:
        before(mmdet_tool_args(relative_path))
    sys.argv[0] = script
    runpy.run_path(script, run_name='__main__')
