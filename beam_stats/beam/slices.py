"""Sliced statistics in Beam: every slice's finished dataset, as bytes, in one list.

``batches | SliceDatasets(...)`` slices each record batch (:mod:`beam_stats.stats.slicing`),
combines each slice key's rows (``CombinePerKey``, so slices spread over workers) and
finishes each slice where it was combined, to the serialized bytes of its one
``DatasetFeatureStatistics`` (:func:`~beam_stats.stats.wire.dataset_bytes`, a feature at a
time). The (key, bytes) pairs are gathered on one worker: bytes cross stages as they are
(no message is pickled), and :func:`~beam_stats.stats.wire.datasets_chunks` writes them
framed, in order, without a message of the whole list ever existing
(:class:`~beam_stats.beam.transforms.GenerateAndWriteStatistics`);
:class:`~beam_stats.beam.transforms.GenerateStatistics` parses them into one message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.slice_combine import APART, MERGED, WHOLE, SliceCombineFn, finish_whole
from beam_stats.beam.writing import write_file
from beam_stats.stats import SlicingSpec, StatisticsSpec, wire
from beam_stats.stats.coalesce import BatchCoalescer
from beam_stats.stats.slicing import SliceCounter, too_many_slices, warn_many_slices

Pair = tuple[str, Any]  # (key, whatever the combine of the key gave)
SliceBytes = tuple[str, wire.DatasetBytes]


@beam.typehints.with_input_types(pa.RecordBatch)
class SliceDatasets(beam.PTransform):
    """``PCollection[RecordBatch]`` to one list of (key, :class:`~beam_stats.stats.wire.
    DatasetBytes`): the whole dataset under `whole` and each slice under its key, each
    finished without a name (in no order: :func:`~beam_stats.stats.wire.datasets_chunks`
    orders them). More than ``slicing.max_slices`` slices fail the run with
    :class:`~beam_stats.errors.InvalidInputError`."""

    def __init__(
        self, spec: StatisticsSpec, whole: str, include_state: bool, slicing: SlicingSpec
    ) -> None:
        super().__init__()
        self._spec, self._whole = spec, whole
        self._include_state, self._slicing = include_state, slicing

    def expand(self, batches: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        spec, whole, include_state = self._spec, self._whole, self._include_state
        return (
            batches
            | "Slice" >> beam.ParDo(_SliceBatches(self._slicing, whole))
            | "CombinePerSlice" >> beam.CombinePerKey(SliceCombineFn(spec, include_state))
            | "Collect" >> beam.CombineGlobally(_CollectSlices(self._slicing, whole))
            | "FinishWhole" >> beam.Map(finish_whole, whole, spec, include_state)
        )


def assemble_slices(
    datasets: list[SliceBytes], whole: str
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """One list: the whole dataset first (empty if there was no data), then slices by key."""
    out = statistics_pb2.DatasetFeatureStatisticsList()
    for name, dataset in wire.datasets_in_order(whole, datasets):
        entry = out.datasets.add()
        entry.ParseFromString(dataset.data)
        entry.name = name
    return out


def write_slices(datasets: list[SliceBytes], path: str, whole: str) -> str:
    """Writes the binary statistics file of the datasets (as :func:`assemble_slices`
    orders them) at `path`, a dataset at a time, and returns the path.

    Raises:
        OutputError: the file would exceed protobuf's 2 GiB (before any byte is written),
            or cannot be written.
    """
    return write_file(path, wire.datasets_chunks(whole, datasets))


class _SliceBatches(beam.DoFn):
    """(whole, batch) and the (key, rows) of its slices, counting the keys this worker saw.

    Small batches are joined before they are sliced (a 500-row batch makes as many tiny
    parts as it has slice keys); the combine that follows joins each key's parts again
    (:class:`~beam_stats.beam.combine.StatisticsCombineFn`). The count bounds the lifted
    combine that follows on the same worker, which keeps one accumulator per key until its
    bundle ends (up to 100,000 keys in Beam's Python SDK).
    """

    def __init__(self, slicing: SlicingSpec, whole: str) -> None:
        super().__init__()
        self._slicing, self._whole = slicing, whole
        self._counter: SliceCounter | None = None
        self._coalescer = BatchCoalescer()

    def setup(self) -> None:
        self._counter = SliceCounter(self._slicing)

    def start_bundle(self) -> None:
        self._coalescer = BatchCoalescer()

    def _slices(self, batch: pa.RecordBatch) -> Iterator[tuple[str, tuple[int, pa.RecordBatch]]]:
        if self._counter is None:  # a runner that skips setup
            self._counter = SliceCounter(self._slicing)
        parts, through_slices = self._counter.partition(batch)
        if not through_slices:
            yield self._whole, (WHOLE, batch)
        slot = MERGED if through_slices else APART
        for key, part in parts:
            yield key, (slot, part)

    def process(self, batch: pa.RecordBatch) -> Iterator[tuple[str, tuple[int, pa.RecordBatch]]]:
        for ready in self._coalescer.add(batch):
            yield from self._slices(ready)

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for ready in self._coalescer.flush():
            for pair in self._slices(ready):
                yield GlobalWindows.windowed_value(pair)


class _CollectSlices(beam.CombineFn):
    """Every (key, result) in one list (as ``ToList``), failing past ``max_slices``: the one
    worker that gathers them holds them all. The key `whole` (the whole dataset, which may
    be missing when it is merged from its slices) is no slice; without it, every key but
    one is counted until the end."""

    def __init__(self, slicing: SlicingSpec, whole: str | None = None) -> None:
        super().__init__()
        self._slicing, self._whole = slicing, whole

    def _check(self, collected: list[Pair], exact: bool = False) -> list[Pair]:
        slices = len(collected) - 1  # a lower bound: the whole dataset is no slice
        if exact and self._whole is not None:
            slices = sum(1 for key, _ in collected if key != self._whole)
        if slices > self._slicing.max_slices:
            raise too_many_slices(self._slicing, slices)
        return collected

    def create_accumulator(self) -> list[Any]:
        return []

    def add_input(self, collected: list[Pair], element: Pair) -> list[Pair]:
        collected.append(element)
        return self._check(collected)

    def merge_accumulators(
        self, accumulators: Iterable[list[Pair]], *args: Any, **kwargs: Any
    ) -> list[Pair]:
        merged = [element for collected in accumulators for element in collected]
        return self._check(merged)

    def extract_output(self, accumulator: list[Pair], *args: Any, **kwargs: Any) -> list[Pair]:
        self._check(accumulator, exact=True)
        slices = max(len(accumulator) - 1, 0)
        if self._whole is not None:
            slices = sum(1 for key, _ in accumulator if key != self._whole)
        if 2 * slices >= self._slicing.max_slices:
            warn_many_slices(self._slicing, slices)
        return accumulator
