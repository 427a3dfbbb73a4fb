"""Measurement records: the JSON file a measuring tool writes beside its printed table.

Every figure the README and ``docs/`` show is rendered from such a record
(``tools/misc/render_doc_tables.py``), so each one keeps its source: the command that
measured it, when, and on what machine. A record is the tool's own result dictionary plus
one reserved key, ``source``::

    {"source": {"command": "python tools/analysis/get_flops.py ...",
                "date": "2026-11-29T13:05:12+00:00",
                "machine": {"arch": "x86_64", "cpu": "...", "cores": 2, "python": "3.11.7",
                            "packages": {"torch": "2.13.0+cpu", ...}},
                "load_avg": [3.1, 2.8, 2.2]},
     ...the tool's results...}

``load_avg`` is the machine's 1/5/15-minute load when the record was written: timings taken
while other jobs ran are noisy, and a reader needs to know that. Standard library only, and
nothing is imported that the tool has not imported itself (versions come from package
metadata), so writing a record never changes what was measured.
"""
import datetime
import importlib.metadata
import json
import os
import os.path as osp
import platform
import shlex
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Union

SOURCE_KEY = 'source'
#: packages whose versions decide the figures (missing ones are left out)
PACKAGES = ('torch', 'mmcv', 'mmengine', 'mmdet', 'mmdeploy', 'onnxruntime', 'onnx',
            'pycocotools', 'faster-coco-eval', 'numpy', 'opencv-python-headless')


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> Dict[str, object]:
    """Architecture, CPU, core count, Python and the versions of :data:`PACKAGES`; torch's
    intra-op thread count too when the tool has imported torch (it decides CPU timings)."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    info = dict(arch=platform.machine(), cpu=cpu_model(), cores=os.cpu_count(),
                os=platform.system(), python=platform.python_version(), packages=packages)
    torch = sys.modules.get('torch')
    if torch is not None and hasattr(torch, 'get_num_threads'):
        info['torch_threads'] = torch.get_num_threads()
    return info


def command_line(argv: Optional[Sequence[str]] = None) -> str:
    """``python SCRIPT ARGS`` as typed, the script made relative to the working directory
    so that a record reads the same on every checkout."""
    argv = list(sys.argv if argv is None else argv)
    if argv and osp.isabs(argv[0]):
        rel = osp.relpath(argv[0])
        argv[0] = argv[0] if rel.startswith('..') else rel
    return 'python ' + shlex.join(argv)


def load_average() -> List[float]:
    """1, 5 and 15-minute load averages, or [] where the platform has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return []


def write_record(path: str, results: Dict[str, object],
                 command: Optional[Union[str, Sequence[str]]] = None,
                 date: Optional[str] = None,
                 machine: Optional[Dict[str, object]] = None,
                 indent: Optional[int] = 1) -> str:
    """Write ``results`` as a measurement record with its ``source`` block.

    Args:
        path: JSON file to write (folders are created). Written to a temporary file and
            renamed, so a reader (or the docs renderer) never sees half a record.
        results: The tool's results; must be JSON-serialisable and must not use the key
            ``source``.
        command: What was run; default ``sys.argv`` as ``python SCRIPT ARGS``.
        date: ISO 8601 time; default now, in UTC.
        machine: Default :func:`machine_info`.
        indent: JSON indentation; None writes one line, several times faster (large
            machine-read results, e.g. a mined recording's).

    Returns:
        The absolute path written.

    Raises:
        ValueError: ``results`` already has a ``source`` key (it would be overwritten).
    """
    if SOURCE_KEY in results:
        raise ValueError(f'results may not have a {SOURCE_KEY!r} key: it holds the record\'s '
                         'command, date and machine')
    if command is None or not isinstance(command, str):
        command = command_line(command)
    source = dict(command=command,
                  date=date or datetime.datetime.now(datetime.timezone.utc).isoformat(
                      timespec='seconds'),
                  machine=machine if machine is not None else machine_info(),
                  load_avg=load_average())
    record = {SOURCE_KEY: source, **results}
    path = osp.abspath(path)
    os.makedirs(osp.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.record-', suffix='.json', dir=osp.dirname(path))
    try:
        with os.fdopen(fd, 'w') as f:
            # json.dumps: with indent None it uses json's C encoder (json.dump never does)
            f.write(json.dumps(record, indent=indent))
            f.write('\n')
        # mkstemp creates the file 0600; a record is as readable as any file the user writes
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_record(path: str) -> Dict[str, object]:
    """Load a record and check its ``source`` block names a command, a date and a machine.

    Raises:
        ValueError: naming the file, when the block or one of those is missing.
    """
    with open(path) as f:
        record = json.load(f)
    source = record.get(SOURCE_KEY) if isinstance(record, dict) else None
    missing = [k for k in ('command', 'date', 'machine') if not (source or {}).get(k)]
    if missing:
        raise ValueError(f'{path}: not a measurement record: its "{SOURCE_KEY}" block lacks '
                         f'{", ".join(missing)} (write it with '
                         'yolox_kpt.utils.records.write_record)')
    return record
