"""Where a property-based test may corrupt a JSON document."""
from typing import Iterator, Tuple, Union


def json_containers(node: Union[dict, list], path: Tuple = ()) -> Iterator[Tuple[Tuple,
                                                                                   object]]:
    """Every dict and list of a JSON document (the document first), with its key path."""
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, (dict, list)):
            yield from json_containers(value, path + (key, ))
