"""Sorted summaries of weighted values, and their compaction: the steps of the weighted
quantiles sketch (:mod:`beam_stats.sketches.weighted_quantiles`), each a whole-array numpy
call.

A summary is strictly increasing values with float64 weights > 0.

Compaction:
    With ``C_j`` the weight before item ``j`` and ``W`` the total, items are grouped by
    ``floor((C_j + w_j / 2) / width)``, ``width = W / capacity``: at most ``capacity`` groups
    of consecutive items, an item heavier than ``2 width`` alone in its group. When heavy items
    leave buckets unused (< 90 % of ``capacity`` groups), up to 8 bisection steps on
    ``log(width)`` find a narrower width that still fits. Each group becomes its weighted
    median item (lower median in even groups, upper in odd ones, so that ties do not push mass
    one way) carrying the group's weight. Its displaced mass is ``max(below, above)``, the
    weight of the group's items below and above the representative (at most half the group);
    the compaction's largest displaced mass is added to ``error``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["collapse", "compact", "compact_unit", "run_starts", "sort_by_value", "union"]

F64 = npt.NDArray[np.float64]
Summary = tuple[F64, F64]  # strictly increasing values, their weights (> 0)


def run_starts(keys: F64) -> npt.NDArray[np.intp]:
    """Indices where a run of equal ``keys`` begins."""
    changes = np.flatnonzero(keys[1:] != keys[:-1])
    changes += 1
    return np.concatenate((np.zeros(1, dtype=np.intp), changes))


def collapse(values: F64, weights: F64) -> Summary:
    """Sums the weights of equal neighbours of sorted ``values``; the rank function is kept."""
    starts = run_starts(values)
    if starts.size >= values.size:
        return values, weights
    return values[starts], np.add.reduceat(weights, starts)


def sort_by_value(values: F64, weights: F64) -> Summary:
    """Non-NaN ``values`` in increasing order with their ``weights``, in the order
    :meth:`~beam_stats.sketches.weighted_quantiles.WeightedQuantilesAccumulator.add` puts
    them (the arrays themselves when already sorted, as a chunk of exact values is). Adding
    the result, or the values alone to another sketch, gives the same state as adding the
    unsorted values: sorting once serves several sketches of the same values."""
    if not np.any(values[1:] < values[:-1]):
        return values, weights
    order = np.argsort(values)  # unstable is fine: equal values are summed next
    return values.take(order), weights.take(order)


def union(parts: Sequence[Summary]) -> Summary:
    if len(parts) == 1:
        return parts[0]
    values = np.concatenate([p[0] for p in parts])
    order = np.argsort(values, kind="stable")  # sorted runs: timsort merges them in O(n)
    return collapse(values[order], np.concatenate([p[1] for p in parts])[order])


def _bucket(mid: F64, width: float) -> F64:
    """``floor(mid / width)``, in one array."""
    key: F64 = np.divide(mid, width)
    return np.floor(key, out=key)


def _grouping(mid: F64, total: float, capacity: int) -> npt.NDArray[np.intp]:
    """First item of each group: buckets of item midpoints, at most ``capacity`` groups."""
    width = total / capacity
    # mid < W, so at most capacity groups (the clip only catches float rounding at the top)
    key = _bucket(mid, width)
    starts = run_starts(np.minimum(key, capacity - 1, out=key))
    # Heavy items leave buckets unused: bisect log(width) for the narrowest that still fits.
    low = width / capacity
    for _ in range(8 if starts.size < 0.9 * capacity and low > 0.0 else 0):
        trial = math.sqrt(low) * math.sqrt(width)  # no underflow for tiny weights
        trial_starts = run_starts(_bucket(mid, trial))
        if trial_starts.size > capacity:
            low = trial
            continue
        width, starts = trial, trial_starts
        if starts.size >= 0.9 * capacity:
            break
    return starts


def compact(summary: Summary, capacity: int) -> tuple[Summary, float]:
    """Reduces ``summary`` to at most ``capacity`` items; returns it and the rank error added."""
    values, weights = summary
    if values.size <= capacity:
        return summary, 0.0
    cum = np.cumsum(weights)
    before = cum - weights
    mid = np.multiply(weights, 0.5)
    mid += before  # before + weights / 2
    starts = _grouping(mid, float(cum[-1]), capacity)
    ends = np.append(starts[1:], values.size)
    group_weight = np.add.reduceat(weights, starts)
    half = before[starts] + 0.5 * group_weight
    # Lower weighted median in even groups, upper in odd ones: with two equal items per group
    # always taking the lower one would move all mass down, and the errors would add up.
    median = np.searchsorted(cum, half, side="left")
    median[1::2] = np.searchsorted(cum, half[1::2], side="right")
    median = np.clip(median, starts, ends - 1)  # float rounding must not leave the group
    below = before[median] - before[starts]
    above = group_weight - below - weights[median]
    displaced = float(np.maximum(below, above).max())
    return (values[median], group_weight), max(displaced, 0.0)


def _unit_starts(n: int, capacity: int) -> npt.NDArray[np.intp]:
    """What :func:`_grouping` gives for ``n > capacity`` items of weight 1, in O(capacity).

    Item ``j`` has midpoint ``j + 0.5`` and key ``floor((j + 0.5) / width)``; every key from 0
    to ``capacity - 1`` occurs (``width >= 1``), and group ``g`` starts at the first ``j`` whose
    key reaches ``g``: near ``g * width - 0.5``, stepped to the exact float answer.
    """
    width = n / capacity
    g = np.arange(capacity, dtype=np.float64)
    j = np.maximum(np.ceil(g * width - 0.5).astype(np.intp) - 2, 0)
    for _ in range(5):
        step = np.minimum(np.floor((j + 0.5) / width), capacity - 1) < g
        if not step.any():
            return j
        j += step
    raise AssertionError("unit-weight grouping did not converge")  # pragma: no cover


def compact_unit(values: F64, capacity: int) -> tuple[Summary, float]:
    """:func:`compact` of items of weight 1, without a pass over cumulative weights."""
    n = values.size
    starts = _unit_starts(n, capacity)
    ends = np.append(starts[1:], n)
    size = ends - starts
    half = starts + 0.5 * size
    median = np.ceil(half).astype(np.intp) - 1  # first j with j + 1 >= half
    median[1::2] = np.floor(half[1::2]).astype(np.intp)  # first j with j + 1 > half
    median = np.clip(median, starts, ends - 1)
    below = median - starts
    displaced = float(np.maximum(below, size - below - 1).max())
    return (values[median], size.astype(np.float64)), displaced
