"""Items cut into consecutive groups of a bounded size: how ``merge_all`` joins many states'
arrays without one join growing past what a buffer may hold (Arrow's binary offsets stop at
2 GiB) or what memory should."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def bounded_groups(items: Iterable[T], size: Callable[[T], int], limit: int) -> Iterator[list[T]]:
    """`items` in order, as consecutive groups whose sizes add up to at most `limit` (an item
    larger than `limit` is a group of its own); no group is empty."""
    group: list[T] = []
    held = 0
    for item in items:
        weight = size(item)
        if group and held + weight > limit:
            yield group
            group, held = [], 0
        group.append(item)
        held += weight
    if group:
        yield group
