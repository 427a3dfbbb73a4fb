"""Helpers of the property-based (hypothesis) tests: where to corrupt a JSON document, and
the example budgets of the quick and the long runs."""
import copy
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


def corrupt_json(draw, data: Union[dict, list], values, add_keys: Sequence[str] = ()) -> None:
    """One random edit of ``data`` in place, inside a ``hypothesis.strategies.composite``:
    at a random dict or list, replace or delete a member, duplicate a list element, or
    (with ``add_keys``) add a member (a key of ``add_keys`` to a dict) with a value drawn
    from the ``values`` strategy."""
    from hypothesis import strategies as st
    _, node = draw(st.sampled_from(list(json_containers(data))))
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    actions = ['replace', 'delete', 'duplicate'] + (['add'] if add_keys else [])
    action = draw(st.sampled_from(actions))
    if action == 'add' or not keys:
        if add_keys and isinstance(node, dict):
            node[draw(st.sampled_from(list(add_keys)))] = draw(values)
        elif add_keys:
            node.append(draw(values))
        return
    key = draw(st.sampled_from(keys))
    if action == 'replace':
        node[key] = draw(values)
    elif action == 'delete':
        del node[key]
    elif isinstance(node, list):
        node.append(copy.deepcopy(node[key]))
