"""The statistics PTransforms."""

from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.artifacts import is_text_path, write_statistics
from beam_stats.beam.batch_coder import register_coders
from beam_stats.beam.combine import AddBatches, MergeStatesFn, WriteStatesFn
from beam_stats.beam.slices import SliceDatasets
from beam_stats.beam.statsfiles import assemble_slices, write_slices
from beam_stats.stats import (
    DatasetAccumulator,
    SlicingSpec,
    StatisticsSpec,
    merge_statistics,
    wire,
)
from beam_stats.stats.slicing import WHOLE_DATASET


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
        whole = self._name or WHOLE_DATASET
        return (
            batches
            | "Slices" >> SliceDatasets(self._spec, whole, self._include_state, self._slicing)
            | "Assemble" >> beam.Map(assemble_slices, whole)
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
    With slicing, each slice is finished to its serialized bytes where it was combined, and
    the file is written from those bytes (:mod:`beam_stats.beam.slices`): no message of
    the statistics exists (in text, the message is made).

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
        if self._text or (self._text is None and is_text_path(self._path)):
            return (
                batches
                | "Generate"
                >> GenerateStatistics(self._spec, self._name, self._include_state, self._slicing)
                | "Write" >> WriteStatistics(self._path, self._text)
            )
        whole = self._name or WHOLE_DATASET
        return (
            batches
            | "Slices" >> SliceDatasets(self._spec, whole, self._include_state, self._slicing)
            | "Write" >> beam.Map(write_slices, self._path, whole)
        )


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
