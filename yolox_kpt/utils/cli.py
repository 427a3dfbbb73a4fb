"""What every command-line tool of this repository shares."""
import argparse
import statistics
import time
from typing import Callable


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """An argparse parser whose description is the module docstring's first paragraph and
    whose epilog (shown by ``--help``) is the rest: the tool's examples."""
    head, _, rest = doc.strip().partition('\n\n')
    return argparse.ArgumentParser(description=head, epilog=rest,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def median_seconds(fn: Callable[[], object], repeat: int, warmup: int):
    """Median wall time of ``repeat`` calls after ``warmup`` calls, and the last result."""
    for _ in range(warmup):
        fn()
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value
