"""The statistics PTransforms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.artifacts import write_statistics
from beam_stats.beam.batch_coder import register_coders
from beam_stats.beam.combine import (
    AddBatches,
    MergeStatesFn,
    StatisticsCombineFn,
    WriteStatesFn,
)
from beam_stats.stats import (
    DatasetAccumulator,
    SlicingSpec,
    StatisticsSpec,
    merge_statistics,
    wire,
)
from beam_stats.stats.coalesce import BatchCoalescer
from beam_stats.stats.slicing import (
    WHOLE_DATASET,
    SliceCounter,
    too_many_slices,
    warn_many_slices,
)

SliceResult = tuple[str, statistics_pb2.DatasetFeatureStatisticsList]


@beam.typehints.with_input_types(pa.RecordBatch)
@beam.typehints.with_output_types(statistics_pb2.DatasetFeatureStatisticsList)
class GenerateStatistics(beam.PTransform):
    """``PCollection[RecordBatch]`` to one ``DatasetFeatureStatisticsList``.

    Args:
        spec: what to compute (:class:`~beam_stats.stats.StatisticsSpec`); TFDV's defaults.
        name: the dataset name written in the output.
        include_state: write each feature's sketch state beside its statistics (in the
            custom statistic ``beam_stats.state``), so the output merges later
            (:class:`MergeStatistics`); off gives the finished statistics only.
        slicing: also compute each slice's statistics (:class:`~beam_stats.SlicingSpec`):
            one more dataset per slice key, after the whole dataset (named `name` or
            "All Examples"). Slices are combined per key, so they spread over workers.
            More than ``slicing.max_slices`` slices fail the run with
            :class:`~beam_stats.errors.InvalidInputError`: as soon as one worker has seen
            that many, else when the slices' statistics are gathered.
    """

    def __init__(
        self,
        spec: StatisticsSpec | None = None,
        name: str = "",
        include_state: bool = True,
        slicing: SlicingSpec | None = None,
    ) -> None:
        super().__init__()
        self._spec = spec or StatisticsSpec()
        self._name = name
        self._include_state = include_state
        self._slicing = slicing
        if slicing is not None:
            slicing.check_privacy(self._spec.privacy)

    def expand(self, batches: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        register_coders()  # the slices' (key, batch) pairs are typed: their coder
        if self._slicing is None:
            return _combine_states(
                batches, self._spec, MergeStatesFn(self._spec, self._name, self._include_state)
            )
        whole, slicing = self._name or WHOLE_DATASET, self._slicing
        return (
            batches
            | "Slice" >> beam.ParDo(_SliceBatches(slicing, whole))
            | "CombinePerSlice"
            >> beam.CombinePerKey(StatisticsCombineFn(self._spec, "", self._include_state))
            | "Collect" >> beam.CombineGlobally(_CollectSlices(slicing))
            | "Assemble" >> beam.Map(_assemble_slices, whole)
        )


def _combine_states(
    batches: beam.pvalue.PCollection, spec: StatisticsSpec, combine_fn: MergeStatesFn
) -> beam.pvalue.PCollection:
    """The one output of `combine_fn` on the partial states of `batches` and one state of
    no data, so that the combine always has an input: its output then needs no default
    (see :mod:`beam_stats.beam.combine`)."""
    return (
        (
            batches | "AddBatches" >> beam.ParDo(AddBatches(spec)),
            batches.pipeline | "NoData" >> beam.Create([wire.to_bytes(DatasetAccumulator(spec))]),
        )
        | "States" >> beam.Flatten()
        | "CombineStatistics" >> beam.CombineGlobally(combine_fn).without_defaults()
    )


@beam.typehints.with_input_types(pa.RecordBatch)
@beam.typehints.with_output_types(str)
class GenerateAndWriteStatistics(beam.PTransform):
    """``GenerateStatistics(...) | WriteStatistics(path, text)`` in one step, which returns
    the path written. Without slicing, a binary file is written from the combined
    accumulator a feature at a time (:class:`~beam_stats.beam.combine.WriteStatesFn`): the
    finished statistics, hundreds of MB for 100,000 sparse features, never exist whole.

    Args:
        path, text: as :class:`WriteStatistics`.
        spec, name, include_state, slicing: as :class:`GenerateStatistics`.
    """

    def __init__(
        self,
        path: str,
        spec: StatisticsSpec | None = None,
        name: str = "",
        include_state: bool = True,
        slicing: SlicingSpec | None = None,
        text: bool | None = None,
    ) -> None:
        super().__init__()
        self._path, self._text = path, text
        self._spec = spec or StatisticsSpec()
        self._name, self._include_state, self._slicing = name, include_state, slicing
        if slicing is not None:
            slicing.check_privacy(self._spec.privacy)

    def expand(self, batches: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        register_coders()  # the slices' (key, batch) pairs are typed: their coder
        if self._slicing is None:
            return _combine_states(
                batches,
                self._spec,
                WriteStatesFn(self._spec, self._path, self._name, self._include_state, self._text),
            )
        return (
            batches
            | "Generate"
            >> GenerateStatistics(self._spec, self._name, self._include_state, self._slicing)
            | "Write" >> WriteStatistics(self._path, self._text)
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
    """Every slice's statistics in one list (as ``ToList``), failing past ``max_slices``:
    the one worker that gathers them holds them all."""

    def __init__(self, slicing: SlicingSpec) -> None:
        super().__init__()
        self._slicing = slicing

    def _check(self, collected: list[SliceResult]) -> list[SliceResult]:
        if len(collected) - 1 > self._slicing.max_slices:  # the whole dataset is no slice
            raise too_many_slices(self._slicing, len(collected) - 1)
        return collected

    def create_accumulator(self) -> list[SliceResult]:
        return []

    def add_input(self, collected: list[SliceResult], element: SliceResult) -> list[SliceResult]:
        collected.append(element)
        return self._check(collected)

    def merge_accumulators(
        self, accumulators: Iterable[list[SliceResult]], *args: Any, **kwargs: Any
    ) -> list[SliceResult]:
        merged = [element for collected in accumulators for element in collected]
        return self._check(merged)

    def extract_output(
        self, accumulator: list[SliceResult], *args: Any, **kwargs: Any
    ) -> list[SliceResult]:
        slices = max(len(accumulator) - 1, 0)
        if 2 * slices >= self._slicing.max_slices:
            warn_many_slices(self._slicing, slices)
        return accumulator


def _assemble_slices(
    per_slice: list[SliceResult], whole: str
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """One list: the whole dataset first (empty if there was no data), then slices by key."""
    by_key = {key: stats.datasets[0] for key, stats in per_slice}
    out = statistics_pb2.DatasetFeatureStatisticsList()
    for key in [whole, *sorted(k for k in by_key if k != whole)]:
        dataset = out.datasets.add()
        if key in by_key:
            dataset.CopyFrom(by_key[key])
        dataset.name = key
    return out


class _MergeStatisticsFn(beam.CombineFn):
    def __init__(self, spec: StatisticsSpec | None, include_state: bool) -> None:
        super().__init__()
        self._spec = spec
        self._include_state = include_state

    def _merge(
        self, *parts: statistics_pb2.DatasetFeatureStatisticsList
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        return merge_statistics(*parts, spec=self._spec, include_state=True)

    def create_accumulator(self) -> statistics_pb2.DatasetFeatureStatisticsList:
        return statistics_pb2.DatasetFeatureStatisticsList()

    def add_input(
        self,
        accumulator: statistics_pb2.DatasetFeatureStatisticsList,
        statistics: statistics_pb2.DatasetFeatureStatisticsList,
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        return self._merge(accumulator, statistics)

    def merge_accumulators(
        self, accumulators: Iterable[statistics_pb2.DatasetFeatureStatisticsList]
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        return self._merge(*accumulators)

    def extract_output(
        self, accumulator: statistics_pb2.DatasetFeatureStatisticsList
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        if self._include_state:
            return accumulator
        return merge_statistics(accumulator, spec=self._spec, include_state=False)


@beam.typehints.with_input_types(statistics_pb2.DatasetFeatureStatisticsList)
@beam.typehints.with_output_types(statistics_pb2.DatasetFeatureStatisticsList)
class MergeStatistics(beam.PTransform):
    """Statistics of disjoint parts (with sketch state) to the statistics of their union.

    Datasets merge by name (slices slice by slice); see
    :func:`beam_stats.stats.merge_statistics` for the errors raised.

    Args:
        spec: options of the result; by default those stored in the first input.
        include_state: keep the merged state in the output, so it merges again.
    """

    def __init__(self, spec: StatisticsSpec | None = None, include_state: bool = True) -> None:
        super().__init__()
        self._spec = spec
        self._include_state = include_state

    def expand(self, statistics: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return statistics | "Merge" >> beam.CombineGlobally(
            _MergeStatisticsFn(self._spec, self._include_state)
        )


@beam.typehints.with_input_types(statistics_pb2.DatasetFeatureStatisticsList)
class WriteStatistics(beam.PTransform):
    """Writes the (single) statistics message of a PCollection to `path`.

    Args:
        path: any path Beam's FileSystems can write (local, gs://, ...); written atomically.
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).
    """

    def __init__(self, path: str, text: bool | None = None) -> None:
        super().__init__()
        self._path = path
        self._text = text

    def expand(self, statistics: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        path, text = self._path, self._text
        return statistics | "Write" >> beam.Map(lambda s: write_statistics(s, path, text=text))
