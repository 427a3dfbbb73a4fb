"""The compatibility shims: listed once, applied once by ``import yolox_kpt``, logged once,
and each doing what its row says."""
import json
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.runner.checkpoint import CheckpointLoader

from yolox_kpt import checkpoint, compat


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_every_shim_is_one_row_with_its_upstream_bug():
    names = [s.name for s in compat.SHIMS]
    assert len(names) == len(set(names))
    assert set(names) == {'safe_checkpoint_loading', 'cpu_distributed', 'atomic_local_writes',
                          'torchscript_onnx_export'}
    for shim in compat.SHIMS:
        assert shim.upstream and shim.why and callable(shim.apply)
        assert shim.applied_by in ('import', 'export')
    # only the export needs the ONNX default; training and testing never change it
    assert [s.name for s in compat.SHIMS if s.applied_by == 'export'] == [
        'torchscript_onnx_export']


def test_import_applies_its_shims_into_mmengine():
    loaders = CheckpointLoader._schemes
    assert loaders[''] is checkpoint.load_local_checkpoint
    assert loaders['https://'] is checkpoint.load_http_checkpoint
    assert LocalBackend.put.__module__ == 'yolox_kpt.compat'
    import mmengine.dist.utils as dist_utils
    assert dist_utils._init_dist_pytorch.__module__ == 'yolox_kpt.compat'


def test_each_shim_is_logged_once_and_the_export_shim_is_not_applied_on_import():
    proc = _python("""
        from mmengine.logging import MMLogger
        MMLogger.get_instance('shims', log_level='DEBUG')
        import torch
        import yolox_kpt
        from yolox_kpt import compat
        compat.apply_all()
        compat.apply_all()
        print('ONNX', hasattr(torch.onnx.export, '__wrapped_onnx_export__'))
        compat.default_to_torchscript_onnx_export()
        compat.default_to_torchscript_onnx_export()
        print('ONNX', hasattr(torch.onnx.export, '__wrapped_onnx_export__'))
    """)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    for name in ('safe_checkpoint_loading', 'cpu_distributed', 'atomic_local_writes',
                 'torchscript_onnx_export'):
        assert out.count(f'yolox_kpt.compat: applied {name} ') == 1, out
    assert proc.stdout.count('ONNX False') == 1 and proc.stdout.count('ONNX True') == 1


def test_default_log_level_prints_nothing_on_import():
    """Tools that print to stdout (JSON, tables) keep their output unchanged."""
    proc = _python('import yolox_kpt')
    assert proc.returncode == 0, proc.stderr
    assert 'yolox_kpt.compat' not in proc.stdout + proc.stderr


def test_torchscript_context_restores_the_exporter():
    before = torch.onnx.export
    with compat.torchscript_onnx_export():
        assert torch.onnx.export.__wrapped_onnx_export__ is before
    assert torch.onnx.export is before


def test_unknown_shim_is_named():
    with pytest.raises(KeyError, match="no shim 'nope'"):
        compat.apply('nope')


def test_concurrent_metric_dumps_are_never_seen_half_written(tmp_path):
    """mmengine's LoggerHook dumps the test metrics JSON on every rank to one path. With the
    put_text shim, a reader polling the file while two processes race on it only ever sees
    whole records (plain 'w' writes show truncated or mixed files within a few hundred
    writes), and the last record is complete."""
    target = tmp_path / 'metrics.json'
    script = (
        'import sys, yolox_kpt\n'
        'from mmengine.fileio import dump\n'
        'n = int(sys.argv[2])\n'
        'for i in range(400):\n'
        '    dump({"rank": n, "i": i, "pad": "x" * (n * 9973 + i)}, sys.argv[1])\n')
    procs = [subprocess.Popen([sys.executable, '-c', script, str(target), str(n)])
             for n in (1, 2)]
    reads, broken = 0, 0
    while any(p.poll() is None for p in procs):
        if target.exists():
            reads += 1
            try:
                json.loads(target.read_text())
            except ValueError:
                broken += 1
    assert all(p.returncode == 0 for p in procs)
    assert reads > 10 and broken == 0, (reads, broken)
    record = json.loads(target.read_text())
    assert record['i'] == 399 and len(record['pad']) == record['rank'] * 9973 + 399
    assert not list(tmp_path.glob('.*tmp*'))  # no temporary files left behind


_GLOO_RUN = """
    import atexit, gc, os, tempfile, torch
    torch.set_num_threads(1)

    def threads():
        return len(os.listdir('/proc/self/task'))

    class Runner:  # a finished mmengine Runner: a cycle holding the DDP-wrapped model
        pass

    def train(model):
        runner = Runner()
        runner.runner, runner.model = runner, model
        model(torch.randn(4, 3)).sum().backward()
        obj = [{'metric': 1.0}]
        torch.distributed.broadcast_object_list(obj, src=0)  # as mmengine's evaluator

    {imports}
    torch.nn.Linear(3, 2)(torch.randn(4, 3)).sum().backward()  # thread pools started
    # a file rendezvous: no TCPStore server threads (under torchrun the agent hosts it)
    store = tempfile.mktemp()
    init_method = f'file://{store}?rank=0&world_size=1'
    baseline = threads()
    # registered first, so it runs after any exit handler registered by init
    atexit.register(lambda: print('THREADS AT EXIT', threads() - baseline, flush=True))
    {init}
    print('THREADS WHILE RUNNING', threads() - baseline, flush=True)
    os.remove(store)
"""


def _gloo_run(imports: str, init: str) -> subprocess.CompletedProcess:
    """:data:`_GLOO_RUN` with its ``imports`` (before the thread baseline) and ``init``."""
    def indent(code: str) -> str:
        return textwrap.dedent(code).strip().replace('\n', '\n    ')

    return _python(_GLOO_RUN.replace('{imports}', indent(imports))
                   .replace('{init}', indent(init)))


def _thread_counts(stdout: str) -> tuple:
    """(threads while the group runs, threads left at exit), beyond the count before init."""
    lines = dict(line.rsplit(' ', 1) for line in stdout.splitlines() if line.startswith('THR'))
    return int(lines['THREADS WHILE RUNNING']), int(lines['THREADS AT EXIT'])


def test_gloo_worker_threads_are_joined_before_the_interpreter_finalizes():
    """The exit handler of the cpu_distributed shim leaves no gloo thread behind after a
    run like mmengine's (DDP-wrapped model held by a garbage Runner cycle, a broadcast as
    the last collective): no thread can then take the GIL during finalization, which
    aborted 3 in 33 two-process runs ("terminate called without an active exception")."""
    proc = _gloo_run(imports="""
        import yolox_kpt
        from mmengine.dist import init_dist
        from mmengine.model import MMDistributedDataParallel
    """, init="""
        init_dist('pytorch', init_method=init_method)
        train(MMDistributedDataParallel(module=torch.nn.Linear(3, 2), device_ids=[0]))
    """)
    assert proc.returncode == 0, proc.stderr
    running, at_exit = _thread_counts(proc.stdout)
    assert running > 0 and at_exit == 0, proc.stdout  # gloo: 2 workers and 1 I/O loop


def test_upstream_destroy_process_group_leaves_gloo_threads_running():
    """Pins the upstream behaviour the shim works around: after torch's own
    ``destroy_process_group`` and a collection, gloo's threads still run (DDP imported
    ``torch.distributed.nn.functional`` after init, whose defaults hold ``group.WORLD``),
    so they are alive when the interpreter finalizes. When this fails, torch joins them
    itself and the teardown part of the shim can go."""
    proc = _gloo_run(imports='from torch.nn.parallel import DistributedDataParallel', init="""
        torch.distributed.init_process_group('gloo', init_method=init_method)
        train(DistributedDataParallel(torch.nn.Linear(3, 2)))
        torch.distributed.destroy_process_group()
        gc.collect()
    """)
    assert proc.returncode == 0, proc.stderr
    running, at_exit = _thread_counts(proc.stdout)
    assert running > 0 and at_exit == running, proc.stdout
