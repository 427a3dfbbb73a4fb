"""Helpers of the property-based (hypothesis) tests: where to corrupt a JSON document, and
the example budgets of the quick and the long runs."""
import os
from typing import Iterator, Sequence, Tuple, Union


def json_containers(node: Union[dict, list], path: Tuple = ()) -> Iterator[Tuple[Tuple,
                                                                                   object]]:
    """Every dict and list of a JSON document (the document first), with its key path."""
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, (dict, list)):
            yield from json_containers(value, path + (key, ))


def fuzz_settings(slow: bool, suppress: Sequence[str] = ()):
    """hypothesis ``settings`` of a quick run (``make test``: ``YOLOX_KPT_FUZZ_FAST``
    examples, default 200, derandomized so CI is repeatable) or a long one (marked slow:
    ``YOLOX_KPT_FUZZ_EXAMPLES``, default 5000, random). ``too_slow`` is never a failure;
    ``suppress`` names more health checks to switch off (e.g. 'function_scoped_fixture')."""
    from hypothesis import HealthCheck, settings  # a dev dependency, for tests only
    if slow:
        examples = int(os.environ.get('YOLOX_KPT_FUZZ_EXAMPLES', 5000))
    else:
        examples = int(os.environ.get('YOLOX_KPT_FUZZ_FAST', 200))
    checks = [HealthCheck.too_slow] + [getattr(HealthCheck, name) for name in suppress]
    return settings(max_examples=examples, deadline=None, derandomize=not slow,
                    suppress_health_check=checks)
