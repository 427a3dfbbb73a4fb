"""Run a script that mmdet's wheel ships (``mmdet/.mim/tools``) with yolox-kpt registered."""
import os.path as osp
import runpy
import sys


def run_mmdet_tool(relative_path: str) -> None:
    """Run ``mmdet/.mim/tools/<relative_path>`` as ``__main__`` with the current argv.

    Importing ``yolox_kpt`` first registers its modules and applies ``yolox_kpt.compat``;
    the script itself, and so its command line, is mmdet's own and unchanged.
    """
    import mmdet

    import yolox_kpt  # noqa: F401
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', relative_path)
    if not osp.isfile(script):
        sys.exit(f'mmdet {mmdet.__version__} ships no {script}; install mmdet==3.3.0')
    sys.argv[0] = script
    runpy.run_path(script, run_name='__main__')
