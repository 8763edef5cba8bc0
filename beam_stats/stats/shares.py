"""A share of a sliced run's slices, finished apart (by another process, or later here).

With many slices, most of a run's time is its end: each slice's held rows added, the whole
dataset merged from its slices and every slice finished, a little Python work per (slice,
feature) that one process does on one core (1,000 slices of 1M rows: about 7 of 9 s, issue
16). :meth:`~beam_stats.stats.sliced.SlicedAccumulators.share` hands the slices that have no
accumulator yet, every other one in key order, to a :class:`SliceShare`: their held rows
only, which :func:`finish_share` adds, merges into one partial whole dataset and finishes,
beside this process's own slices (:mod:`beam_stats.beam.sharing` runs it in a second
process when the machine has the cores).

The statistics do not depend on where a share is finished: its partial whole travels as
its state (:func:`~beam_stats.stats.wire.to_bytes`) either way, and the whole dataset merges
it after the slices kept here. A run that shares gives every slice the bytes it gives
without sharing (the same rows, added as :func:`~beam_stats.stats.grouped.add_groups` adds
them); its whole dataset is merged in another order (counts alike, sums up to the last bits
of rounding, sketches within their bounds).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import pyarrow as pa

from beam_stats._memory import give_back
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.finishing import finished
from beam_stats.stats.grouped import add_groups
from beam_stats.stats.spec import StatisticsSpec
from beam_stats.stats.wire import DatasetBytes, to_bytes

#: (keys, rows, bounds): key ``keys[i]`` holds rows ``bounds[i]:bounds[i + 1]`` of the
#: batch (:meth:`~beam_stats.stats.coalesce.KeyedCoalescer.flush_groups`).
Group = tuple[list[str], pa.RecordBatch, list[int]]

#: (Slice, column) pairs of slices with held rows only (no accumulator yet) from which a
#: run shares half of those slices. Their end costs about 0.35 ms a pair (1,000 slices of
#: 20 columns: about 7 s), and a share about 0.5 s of CPU (its files written and read, the
#: second process's imports beside the reading): 150 slices of 10 columns (1,500 pairs,
#: 20,000 rows) took 1.41 s alone and 1.55 s shared, 300 of 10 (3,000 pairs, 100,000 rows)
#: 2.15 s alone and 1.87 s shared.
SHARE_PAIRS = 2048


def worth_sharing(slices: int, columns: int) -> bool:
    """Whether `slices` slices of `columns` columns each, with held rows only, make an end
    long enough to share (:data:`SHARE_PAIRS`)."""
    return slices >= 2 and slices * max(columns, 1) >= SHARE_PAIRS


class SliceShare(NamedTuple):
    """The held rows of the slices of a share, none of which has an accumulator yet, as
    groups of consecutive slices' rows (each iterable gone through once, `merged` first)."""

    spec: StatisticsSpec
    #: Rows of slices that partition their batches: the whole dataset merges these slices.
    merged: Iterable[Group]
    #: Rows of slices the whole dataset added itself (a batch they do not partition).
    apart: Iterable[Group]


class ShareResult(NamedTuple):
    """A finished share: (key, finished dataset) of each of its slices (gone through
    once), and the state (:func:`~beam_stats.stats.wire.to_bytes`) of the merge of those
    the whole dataset merges (None if none)."""

    datasets: Iterable[tuple[str, DatasetBytes]]
    whole: bytes | None


def finish_share(
    share: SliceShare, include_state: bool = True
) -> tuple[bytes | None, Iterator[tuple[str, DatasetBytes]]]:
    """The share's slices added, on one thread (its process shares the machine with the
    run's), and merged: the state (:func:`~beam_stats.stats.wire.to_bytes`) of the merge
    of those the whole dataset merges (None if none), and (key, finished dataset) of each
    slice, finished as they are taken."""
    merged = _added(share.spec, share.merged)
    apart = _added(share.spec, share.apart)
    give_back()  # what adding held, before the merge and the finished slices
    whole = None
    if merged:
        partial = DatasetAccumulator(share.spec)
        partial.merge_all(list(merged.values()))
        whole = to_bytes(partial)
    for key, accumulator in apart.items():
        if key in merged:
            merged[key].merge(accumulator)
        else:
            merged[key] = accumulator
    return whole, finished(((key, merged.pop(key)) for key in list(merged)), include_state)


def _added(spec: StatisticsSpec, groups: Iterable[Group]) -> dict[str, DatasetAccumulator]:
    accumulators: dict[str, DatasetAccumulator] = {}
    for keys, rows, bounds in groups:
        targets = [accumulators.setdefault(key, DatasetAccumulator(spec)) for key in keys]
        add_groups(targets, rows, bounds)
    return accumulators
