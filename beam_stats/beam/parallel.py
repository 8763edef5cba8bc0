"""The in-process engine on several processes (``workers`` > 1): the statistics of local
files computed by a pool of worker processes, still without a Beam pipeline.

The work units (:func:`~beam_stats.beam.reading.work_units`: ranges of Parquet row groups,
whole files of the other formats) are found here, then dealt out before any is read: largest
first, each to the worker with the fewest bytes so far (Parquet: the row groups' sizes; other
formats: the file's). The deal depends on the inputs alone, so the same inputs and number of
workers give the same statistics on every run. Each worker (a process started afresh,
``spawn``: safe beside the threads Arrow runs) reads its units in their order into one
accumulator, as the one-process engine does, and returns the accumulator's state
(:func:`~beam_stats.stats.wire.to_bytes`) and its error records (a file of JSON lines);
the states are merged in the workers' order and the error records follow the matching's,
worker by worker.

Statistics of several workers equal one worker's up to the order of merging: exact counts
alike, sums and means up to the last bits of float rounding, sketches within their stated
bounds (as with two runners). Memory: each worker holds its batch and its accumulator; this
process, the workers' states while it merges them.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import IO, Any

import pyarrow.parquet as pq

from beam_stats.beam.column_parts import add_read
from beam_stats.beam.reading import Unit, UnitReader, record_line
from beam_stats.errors import BeamStatsError, InvalidInputError
from beam_stats.pandas_free import pyarrow_without_pandas
from beam_stats.stats import SlicingSpec, StatisticsSpec
from beam_stats.stats.coalesce import BufferedAccumulator
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.sliced import SlicedAccumulators
from beam_stats.stats.wire import from_bytes, to_bytes


@dataclasses.dataclass(frozen=True)
class _Task:
    """What one worker reads (`units`, in order), how, and where its error records go."""

    units: list[Unit]
    spec: StatisticsSpec
    slicing: SlicingSpec | None
    batch_size: int
    block_size: int
    hide_values: bool
    errors: str
    whole: str  # the whole dataset's key


def unit_size(unit: Unit, parquet: pq.ParquetFile | None) -> int:
    """The bytes of `unit` the deal weighs it by: its Parquet row groups' (uncompressed)
    sizes, else the file's size."""
    path, _, first, last = unit
    if parquet is not None:
        metadata = parquet.metadata
        return sum(metadata.row_group(g).total_byte_size for g in range(max(first, 0), last + 1))
    try:
        return os.path.getsize(path)
    except OSError:  # the reader reports it
        return 0


def deal(sizes: Sequence[int], workers: int) -> list[list[int]]:
    """The indexes of `sizes` dealt to `workers` lists: largest first, each to the list of
    the smallest total (the first such list on a tie); each list in increasing order."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    totals = [0] * workers
    dealt: list[list[int]] = [[] for _ in range(workers)]
    for index in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        worker = min(range(workers), key=lambda w: (totals[w], w))
        totals[worker] += sizes[index]
        dealt[worker].append(index)
    return [sorted(indexes) for indexes in dealt]


def _work(task: _Task) -> list[tuple[str, bytes]]:
    """One worker: (key, state) of each accumulator of `task`'s units (``task.whole``'s
    alone without slicing; else :meth:`~beam_stats.stats.sliced.SlicedAccumulators.states`'),
    sorted by key; its error records written to ``task.errors``."""
    if not task.spec.statistics and (task.slicing is None or not task.slicing.functions):
        pyarrow_without_pandas()  # only beam-stats' code runs here, no user function
    sliced = None if task.slicing is None else SlicedAccumulators(task.spec, task.slicing)
    accumulator = BufferedAccumulator(task.spec)
    # Unsliced, a wide row group is read a few columns at a time, as in one process.
    parts = sliced is None and accumulator.takes_parts
    reader = UnitReader(task.batch_size, task.block_size, task.hide_values, column_parts=parts)
    with open(task.errors, "wb") as errors:
        for unit in task.units:
            for item in reader.read(unit):
                if isinstance(item, dict):
                    errors.write(record_line(item))
                elif sliced is None:
                    add_read(accumulator, item)
                else:
                    sliced.add(item)
    if sliced is None:
        accumulator.flush()
        return [(task.whole, to_bytes(accumulator))]
    return sorted((key, to_bytes(state)) for key, state in sliced.states(task.whole))


def statistics_with_workers(
    items: Iterable[Any],
    spec: StatisticsSpec,
    slicing: SlicingSpec | None,
    workers: int,
    spool: IO[bytes],
    *,
    whole: str,
    batch_size: int,
    block_size: int,
    hide_values: bool,
) -> dict[str, DatasetAccumulator]:
    """The accumulators of the units of `items` (:func:`~beam_stats.beam.reading.opened_units`
    of the matched files: (unit, opened Parquet file) pairs and error records), computed by
    `workers` processes and merged here in the workers' order, by key: `whole` for the whole
    dataset (absent when no batch was read with `slicing`), else a slice key. Every error
    record is written to `spool` as a JSON line.

    Raises:
        InvalidInputError: `spec` or `slicing` cannot be sent to another process (a slicing
            function defined in a function, say).
        BeamStatsError: a worker process ended without an answer (killed, out of memory).
    """
    units: list[Unit] = []
    sizes: list[int] = []
    for item in items:
        if isinstance(item, dict):
            spool.write(record_line(item))
        else:
            units.append(item[0])
            sizes.append(unit_size(*item))
    try:
        pickle.dumps((spec, slicing))
    except Exception as e:  # noqa: BLE001 - pickle raises several types
        raise InvalidInputError(
            f"workers > 1 send the spec and the slicing to other processes, and they do not "
            f"pickle: {type(e).__name__}: {e} (give workers=1)"
        ) from e
    folder = tempfile.mkdtemp(prefix="beam-stats-workers-")
    try:
        tasks = [
            _Task(
                [units[i] for i in indexes],
                spec,
                slicing,
                batch_size,
                block_size,
                hide_values,
                os.path.join(folder, f"errors-{w}.jsonl"),
                whole,
            )
            for w, indexes in enumerate(deal(sizes, workers))
        ]
        context = multiprocessing.get_context("spawn")
        merged: dict[str, DatasetAccumulator] = {}
        with concurrent.futures.ProcessPoolExecutor(len(tasks), mp_context=context) as pool:
            try:
                for states in pool.map(_work, tasks):  # in the workers' order
                    for key, state in states:
                        accumulator = from_bytes(state, spec)
                        if key in merged:
                            merged[key].merge(accumulator)
                        else:
                            merged[key] = accumulator
            except BrokenProcessPool as e:
                raise BeamStatsError(
                    f"a worker process ended without finishing ({e}): killed, or out of "
                    "memory? Fewer workers need less memory"
                ) from e
        for task in tasks:
            with open(task.errors, "rb") as errors:
                shutil.copyfileobj(errors, spool)
        return merged
    finally:
        shutil.rmtree(folder, ignore_errors=True)
