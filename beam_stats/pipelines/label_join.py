"""The labeling loop on Beam: ``JoinLabels`` and the writers of its summary.

What is joined and counted, and how duplicates are treated: :mod:`beam_stats.drift.label_join`;
the figures: :mod:`beam_stats.drift.label_summary`. The steps:

1. ``SplitServed`` / ``SplitFeedback``: each batch's identifiers are encoded into one key per
   row and hashed into ``num_shards`` shards, one compact sub-batch per shard (Arrow, per
   batch). What needs no join (rows without an identifier, missing or bad labels and times)
   is summed there into a partial accumulator, which travels under the key ``NULL_SHARD``.
2. ``Join``: ``CoGroupByKey`` on the shard, so all rows of an identifier, from both sides,
   meet on one worker.
3. ``JoinShards``: each shard joined with Arrow, giving its joined rows (record batches) and
   its partial accumulator.
4. ``Summary``: a ``CombineGlobally`` that merges the partial accumulators (sums, and the
   delay's quantiles sketch) into one ``beam_stats.LabelJoinSummary``, whatever the order.

Nothing is collected on one worker but the summary (its size is fixed by the number of
buckets and groups). Beam counters in ``beam_stats.label_join`` count served, feedback and
labeled rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics.metric import Metrics
from apache_beam.typehints.decorators import no_annotations

from beam_stats.beam.artifacts import load_message, write_message
from beam_stats.drift.label_join import NULL_SHARD, join_shard, split_feedback, split_served
from beam_stats.drift.label_summary import LabelJoinAccumulator, LabelJoinSpec
from beam_stats.errors import InvalidInputError
from beam_stats.proto import label_join_pb2

NAMESPACE = "beam_stats.label_join"
_ROWS, _FOUND = "rows", "found"


def _split_served(batch: pa.RecordBatch, spec: LabelJoinSpec) -> Iterator[tuple[int, Any]]:
    Metrics.counter(NAMESPACE, "served_rows").inc(batch.num_rows)
    found, parts = split_served(batch, spec)
    if found is not None:
        yield NULL_SHARD, found
    yield from parts


def _split_feedback(batch: pa.RecordBatch, spec: LabelJoinSpec) -> Iterator[tuple[int, Any]]:
    Metrics.counter(NAMESPACE, "feedback_rows").inc(batch.num_rows)
    found, parts = split_feedback(batch, spec)
    yield NULL_SHARD, found
    yield from parts


def _join(
    element: tuple[int, dict[str, Iterable[Any]]], spec: LabelJoinSpec
) -> Iterator[tuple[str, Any]]:
    shard, groups = element
    served, feedback = list(groups["served"]), list(groups["feedback"])
    if shard == NULL_SHARD:
        for found in served + feedback:
            yield _FOUND, found
        return
    found, rows = join_shard(served, feedback, spec)
    Metrics.counter(NAMESPACE, "labeled_rows").inc(found.counts["labeled_rows"])
    yield _FOUND, found
    for batch in rows:
        yield _ROWS, batch


def _select(pair: tuple[str, Any], output: str) -> Iterator[Any]:
    if pair[0] == output:
        yield pair[1]


class _MergeFound(beam.CombineFn):
    """Partial ``LabelJoinAccumulator`` s to one ``LabelJoinSummary``."""

    def __init__(self, spec: LabelJoinSpec) -> None:
        super().__init__()
        self._spec = spec

    def create_accumulator(self) -> LabelJoinAccumulator:
        return LabelJoinAccumulator(self._spec)

    def add_input(
        self, accumulator: LabelJoinAccumulator, found: LabelJoinAccumulator
    ) -> LabelJoinAccumulator:
        accumulator.merge(found)
        return accumulator

    def merge_accumulators(
        self, accumulators: Iterable[LabelJoinAccumulator]
    ) -> LabelJoinAccumulator:
        merged = self.create_accumulator()
        for accumulator in accumulators:
            merged.merge(accumulator)
        return merged

    def extract_output(self, accumulator: LabelJoinAccumulator) -> Any:
        return accumulator.to_proto()


class LabelJoinOutput(NamedTuple):
    """What :class:`JoinLabels` returns."""

    rows: beam.pvalue.PCollection  # pyarrow.RecordBatch: served rows, label (and delay)
    summary: beam.pvalue.PCollection  # one beam_stats.LabelJoinSummary


class JoinLabels(beam.PTransform):
    """``(served, feedback)`` PCollections of ``pyarrow.RecordBatch`` to the joined rows and
    one ``LabelJoinSummary`` (see the module docstring).

    Args:
        identifier_features: the column(s) that identify an example on both sides.
        prediction_feature: the served column of the prediction.
        label_feature: the feedback column of the label.
        served_time_feature, feedback_time_feature: times of serving and of the feedback
            (both or neither), for the label delay.
        group_features: served columns whose values are groups.
        calibration_buckets, prediction_range: equal-width buckets of the predictions.
        max_groups: the most distinct values of a group feature.
        num_shards: hash partitions of the join.

    Returns (from ``expand``): a :class:`LabelJoinOutput`.

    Raises:
        InvalidInputError: a bad name, range or count (see
            :class:`~beam_stats.drift.label_summary.LabelJoinSpec`).
    """

    def __init__(
        self,
        identifier_features: str | Sequence[str],
        prediction_feature: str,
        label_feature: str,
        *,
        served_time_feature: str | None = None,
        feedback_time_feature: str | None = None,
        group_features: Sequence[str] = (),
        calibration_buckets: int = 10,
        prediction_range: tuple[float, float] = (0.0, 1.0),
        max_groups: int = 1000,
        num_shards: int = 512,
    ) -> None:
        super().__init__()
        ids = [identifier_features] if isinstance(identifier_features, str) else identifier_features
        self.spec = LabelJoinSpec(
            identifier_features=tuple(ids),
            prediction_feature=prediction_feature,
            label_feature=label_feature,
            served_time_feature=served_time_feature,
            feedback_time_feature=feedback_time_feature,
            group_features=tuple(group_features),
            calibration_buckets=calibration_buckets,
            prediction_range=prediction_range,
            max_groups=max_groups,
            num_shards=num_shards,
        )

    def expand(self, pcolls: Any) -> LabelJoinOutput:
        if isinstance(pcolls, dict):
            pcolls = (pcolls["served"], pcolls["feedback"])
        if not isinstance(pcolls, tuple | list) or len(pcolls) != 2:
            raise InvalidInputError("JoinLabels takes a (served, feedback) pair of PCollections")
        served, feedback = pcolls
        spec = self.spec
        pairs = (
            {
                "served": served | "SplitServed" >> beam.FlatMap(_split_served, spec),
                "feedback": feedback | "SplitFeedback" >> beam.FlatMap(_split_feedback, spec),
            }
            | "Join" >> beam.CoGroupByKey()
            | "JoinShards" >> beam.FlatMap(_join, spec)
        )
        rows = pairs | "SelectRows" >> beam.FlatMap(_select, _ROWS)
        summary = (
            pairs
            | "SelectFound" >> beam.FlatMap(_select, _FOUND)
            | "Summary"
            >> beam.CombineGlobally(_MergeFound(spec)).with_output_types(
                label_join_pb2.LabelJoinSummary
            )
        )
        return LabelJoinOutput(rows, summary)


# Several PCollections out: without this, Beam logs that it ignores the annotation.
no_annotations(JoinLabels.expand)


def write_label_join(
    summary: label_join_pb2.LabelJoinSummary, path: str, text: bool | None = None
) -> str:
    """Writes `summary` to `path` (any Beam file system, atomically) and returns the path.

    Args:
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).
    """
    return write_message(summary, path, text, as_utf8=True)


def load_label_join(path: str) -> label_join_pb2.LabelJoinSummary:
    """Loads a summary written by :func:`write_label_join` (binary or text).

    Raises:
        InvalidInputError: no such file. DeserializationError: not a summary.
    """
    return load_message(path, label_join_pb2.LabelJoinSummary(), "label join summary")


@beam.typehints.with_input_types(label_join_pb2.LabelJoinSummary)
@beam.typehints.with_output_types(str)
class WriteLabelJoinSummary(beam.PTransform):
    """Writes the one ``LabelJoinSummary`` of a PCollection; outputs the path written.

    Args:
        path: the file to write (any Beam file system).
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).
    """

    def __init__(self, path: str, text: bool | None = None) -> None:
        super().__init__()
        self._path, self._text = path, text

    def expand(self, summaries: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return summaries | "WriteSummary" >> beam.Map(write_label_join, self._path, self._text)
