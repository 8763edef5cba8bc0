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
from typing import Any, TypeVar

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from beam_stats.beam.combine import FinishDatasetFn
from beam_stats.stats import SlicingSpec, StatisticsSpec
from beam_stats.stats.coalesce import BatchCoalescer
from beam_stats.stats.slicing import SliceCounter, check_gathered, too_many_slices

T = TypeVar("T")


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
        return (
            batches
            | "Slice" >> beam.ParDo(_SliceBatches(self._slicing, self._whole))
            | "CombinePerSlice"
            >> beam.CombinePerKey(FinishDatasetFn(self._spec, "", self._include_state))
            | "Collect" >> beam.CombineGlobally(_CollectSlices(self._slicing))
        )


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

    def _slices(self, batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
        if self._counter is None:  # a runner that skips setup
            self._counter = SliceCounter(self._slicing)
        yield self._whole, batch
        yield from self._counter.slice(batch)

    def process(self, batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
        for ready in self._coalescer.add(batch):
            yield from self._slices(ready)

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for ready in self._coalescer.flush():
            for pair in self._slices(ready):
                yield GlobalWindows.windowed_value(pair)


class _CollectSlices(beam.CombineFn):
    """Every slice's (key, result) in one list (as ``ToList``), failing past ``max_slices``:
    the one worker that gathers them holds them all."""

    def __init__(self, slicing: SlicingSpec) -> None:
        super().__init__()
        self._slicing = slicing

    def _check(self, collected: list[T]) -> list[T]:
        if len(collected) - 1 > self._slicing.max_slices:  # the whole dataset is no slice
            raise too_many_slices(self._slicing, len(collected) - 1)
        return collected

    def create_accumulator(self) -> list[Any]:
        return []

    def add_input(self, collected: list[T], element: T) -> list[T]:
        collected.append(element)
        return self._check(collected)

    def merge_accumulators(
        self, accumulators: Iterable[list[T]], *args: Any, **kwargs: Any
    ) -> list[T]:
        merged = [element for collected in accumulators for element in collected]
        return self._check(merged)

    def extract_output(self, accumulator: list[T], *args: Any, **kwargs: Any) -> list[T]:
        check_gathered(self._slicing, max(len(accumulator) - 1, 0))
        return accumulator
