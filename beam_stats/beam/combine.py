"""The one fused ``CombineFn`` behind every statistics transform.

All features of a dataset are combined by one :class:`StatisticsCombineFn`, so a run costs
one shuffle whatever the number of features (as in TFDV). The accumulator is a
:class:`~beam_stats.stats.DatasetAccumulator`; it travels between workers as its lossless
``DatasetState`` proto (sketch objects do not pickle), and its size is bounded by the sketch
sizes times the number of features, never by the number of rows.

:class:`GenerateStatistics <beam_stats.beam.transforms.GenerateStatistics>` adds the batches
of each bundle to one accumulator (:class:`AddBatches`, as the combine's own pre-combining
would) and combines those partial states with :class:`MergeStatesFn`, so that one state
of no data can join them: the combine then always has an input and its one output, without
``CombineGlobally``'s default. That default passes the finished statistics through a side
input, which holds two more copies of them (hundreds of MB for 100,000 sparse features);
feeding an empty record batch instead would put every batch between two stages (a Flatten
is not fused), costing gigabytes for sparse batches.

Small batches are joined before they reach an accumulator (:mod:`beam_stats.stats.coalesce`:
a batch has a fixed cost whatever its rows). :class:`AddBatches` joins a bundle's batches;
:class:`StatisticsCombineFn` keeps a :class:`BatchCoalescer` in each of its accumulators
(``CombinePerKey`` holds one per slice key), bounded per accumulator and over all of one
worker's, and flushes it before the accumulator is compacted, merged, encoded or finished,
so no batch is left behind when an accumulator leaves the worker.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.artifacts import is_text_path
from beam_stats.beam.batch_coder import RecordBatchCoder
from beam_stats.beam.statsfiles import finished_statistics, write_accumulator
from beam_stats.stats import DatasetAccumulator, StatisticsSpec, wire
from beam_stats.stats.coalesce import (
    COALESCE_TOTAL_BYTES,
    BatchCoalescer,
    BufferedAccumulator,
    flushed,
    is_identity,
)

# A serialized DatasetState never starts with a zero byte (no field is numbered 0).
_ROWS = b"\x00"
_BATCHES = RecordBatchCoder()


class DatasetAccumulatorCoder(beam.coders.Coder):
    """Encodes a DatasetAccumulator as its DatasetState proto, one feature at a time
    (:mod:`beam_stats.stats.wire`: the whole message never exists); one that is only a few
    pending rows (:meth:`BufferedAccumulator.travels_as_rows`), as those rows."""

    def __init__(self, spec: StatisticsSpec) -> None:
        self._spec = spec

    def encode(self, value: DatasetAccumulator) -> bytes:
        if isinstance(value, BufferedAccumulator) and value.travels_as_rows():
            (rows,) = value.take_pending()
            value.buffer(rows)  # held again: encoding leaves the value as it was
            return _ROWS + _BATCHES.encode(rows)
        return wire.to_bytes(flushed(value))

    def decode(self, encoded: bytes) -> DatasetAccumulator:
        if encoded[:1] == _ROWS:
            accumulator = BufferedAccumulator(self._spec)
            accumulator.buffer(_BATCHES.decode(memoryview(encoded)[1:]))  # type: ignore[arg-type]
            return accumulator
        return wire.from_bytes(encoded, self._spec)

    def estimate_size(self, value: DatasetAccumulator) -> int:
        # Beam samples element sizes; by default it would encode the whole state again.
        if isinstance(value, BufferedAccumulator) and value.travels_as_rows():
            return value.pending.nbytes
        return wire.estimated_size(value)

    def is_deterministic(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatasetAccumulatorCoder) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash((type(self), self._spec))


class StatisticsCombineFn(beam.CombineFn):
    """Record batches in, one ``DatasetFeatureStatisticsList`` out.

    Batches are joined before they are added (see the module docstring): each accumulator
    holds up to :data:`~beam_stats.stats.coalesce.COALESCE_ROWS` rows, and the
    accumulators this instance made hold up to
    :data:`~beam_stats.stats.coalesce.COALESCE_TOTAL_BYTES` together (then all are flushed).
    """

    def __init__(self, spec: StatisticsSpec, name: str = "", include_state: bool = True) -> None:
        super().__init__()
        self._spec = spec
        self._name = name
        self._include_state = include_state
        self._holding: weakref.WeakSet[BufferedAccumulator] | None = None
        self._held_bytes = 0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_holding"], state["_held_bytes"] = None, 0  # a worker's own
        return state

    def create_accumulator(self) -> DatasetAccumulator:
        return BufferedAccumulator(self._spec)

    def add_input(
        self, accumulator: DatasetAccumulator, batch: pa.RecordBatch
    ) -> DatasetAccumulator:
        if not isinstance(accumulator, BufferedAccumulator):  # e.g. decoded from a state
            accumulator.add(batch)
            return accumulator
        before = accumulator.pending.nbytes
        accumulator.buffer(batch)
        self._held_bytes += accumulator.pending.nbytes - before
        if accumulator.pending:
            if self._holding is None:
                self._holding = weakref.WeakSet()
            self._holding.add(accumulator)
        if self._held_bytes > COALESCE_TOTAL_BYTES:
            self._flush_all()
        return accumulator

    def _flush_all(self) -> None:
        """Flushes every accumulator this instance holds batches in, if they hold more than
        the bound (the running count also counts accumulators flushed elsewhere)."""
        holding = list(self._holding or ())
        self._held_bytes = sum(accumulator.pending.nbytes for accumulator in holding)
        if self._held_bytes > COALESCE_TOTAL_BYTES:
            for accumulator in holding:
                accumulator.flush()
            self._holding, self._held_bytes = None, 0

    def compact(self, accumulator: DatasetAccumulator, *args: Any, **kwargs: Any) -> Any:
        # Called by the lifted combine before an accumulator leaves its bundle: a few rows
        # leave as rows (the coder's), anything else as a state.
        if isinstance(accumulator, BufferedAccumulator) and accumulator.travels_as_rows():
            return accumulator
        return flushed(accumulator)

    def merge_accumulators(
        self, accumulators: Iterable[DatasetAccumulator], *args: Any, **kwargs: Any
    ) -> DatasetAccumulator:
        # An accumulator of nothing is the identity: skipped, rather than copying every
        # feature of the others into it. Pending rows are gathered and held by the result
        # (added once, joined), not added to each accumulator before it is merged.
        merged: DatasetAccumulator | None = None
        others: list[DatasetAccumulator] = []
        rows: list[pa.RecordBatch] = []
        for accumulator in accumulators:
            if isinstance(accumulator, BufferedAccumulator):
                rows += accumulator.take_pending()
            if merged is None or is_identity(merged):
                merged = accumulator
            elif not is_identity(accumulator):
                others.append(accumulator)
        if merged is None:
            merged = self.create_accumulator()
        merged.merge_all(others)  # each sketch merges them all at once
        if isinstance(merged, BufferedAccumulator):
            for batch in rows:
                merged.buffer(batch)
        else:  # a decoded state: the rows joined, then added
            joined = BatchCoalescer()
            for batch in rows:
                merged.add_all(joined.add(batch))
            merged.add_all(joined.flush())
        return merged

    def extract_output(
        self, accumulator: DatasetAccumulator, *args: Any, **kwargs: Any
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        return finished_statistics(accumulator, self._name, self._include_state)

    def get_accumulator_coder(self) -> DatasetAccumulatorCoder:
        return DatasetAccumulatorCoder(self._spec)


class AddBatches(beam.DoFn):
    """Record batches to one partial state per bundle: the serialized ``DatasetState`` of
    the bundle's batches (:mod:`beam_stats.stats.wire`), emitted when the bundle ends, in
    the global window. A bundle without batches emits nothing. Small batches are joined
    first (:class:`~beam_stats.stats.coalesce.BatchCoalescer`)."""

    def __init__(self, spec: StatisticsSpec) -> None:
        super().__init__()
        self._spec = spec
        self._accumulator: BufferedAccumulator | None = None

    def start_bundle(self) -> None:
        self._accumulator = None

    def process(self, batch: pa.RecordBatch) -> Iterator[bytes]:
        if self._accumulator is None:
            self._accumulator = BufferedAccumulator(self._spec)
        self._accumulator.buffer(batch)
        return iter(())  # the bundle's state comes out in finish_bundle

    def finish_bundle(self) -> Iterable[WindowedValue]:
        if self._accumulator is None:
            return
        accumulator, self._accumulator = flushed(self._accumulator), None
        yield GlobalWindows.windowed_value(wire.to_bytes(accumulator))


class MergeStatesFn(StatisticsCombineFn):
    """:class:`StatisticsCombineFn` of serialized partial states (:class:`AddBatches`) rather
    than record batches: the same accumulator, coder and output."""

    def add_input(self, accumulator: DatasetAccumulator, state: bytes) -> DatasetAccumulator:
        return self.merge_accumulators([accumulator, wire.from_bytes(state, self._spec)])


class WriteStatesFn(MergeStatesFn):
    """:class:`MergeStatesFn` whose output is the statistics file it writes at `path` (the
    output is the path), as :func:`~beam_stats.beam.statsfiles.write_accumulator` writes
    it."""

    def __init__(
        self,
        spec: StatisticsSpec,
        path: str,
        name: str = "",
        include_state: bool = True,
        text: bool | None = None,
    ) -> None:
        super().__init__(spec, name, include_state)
        self._path = path
        self._text = is_text_path(path) if text is None else text

    def extract_output(self, accumulator: DatasetAccumulator, *args: Any, **kwargs: Any) -> str:
        return write_accumulator(
            accumulator, self._path, self._name, self._include_state, self._text
        )


class FinishDatasetFn(StatisticsCombineFn):
    """:class:`StatisticsCombineFn` whose output is the finished dataset serialized
    (:func:`wire.dataset_bytes`), made a feature at a time: the message never exists, and
    the bytes cross Beam stages without being pickled feature by feature."""

    def extract_output(
        self, accumulator: DatasetAccumulator, *args: Any, **kwargs: Any
    ) -> wire.DatasetBytes:
        return wire.dataset_bytes(flushed(accumulator), self._name, self._include_state)
