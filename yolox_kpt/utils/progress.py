"""The one progress bar of the data tools (converters, synthetic generator, their tools)."""
from typing import Iterable, Optional, TypeVar

T = TypeVar('T')


def progress(iterable: Iterable[T], total: Optional[int] = None, desc: str = '',
             unit: str = 'file', show: bool = True) -> Iterable[T]:
    """A tqdm progress bar around ``iterable``, or the iterable itself.

    tqdm is imported here, when a bar is asked for, and is optional: without it (or with
    ``show=False``) the plain iterable comes back, so callers never branch on it.

    Args:
        iterable (Iterable): what to iterate.
        total (int, optional): the number of items, when ``iterable`` has no ``len``.
        desc (str): the bar's label.
        unit (str): what one item is ('file', 'img', 'frame').
        show (bool): False returns ``iterable`` unchanged.

    Returns:
        Iterable: yields the items of ``iterable`` in order.
    """
    if not show:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True)
