"""Feature skew by key on Beam: ``DetectFeatureSkew`` and the writers of its result.

What is compared and counted, and how duplicates and rows without an identifier are treated:
:mod:`beam_stats.drift.feature_skew`. The steps:

1. ``SplitBase`` / ``SplitTest``: each batch's identifier columns are encoded into one key per
   row and hashed into ``num_shards`` shards, and the batch is split into one compact
   sub-batch per shard (Arrow, per batch, no Python work per row). Rows without an identifier
   are counted there and travel as a count under the key ``NULL_SHARD``.
2. ``Join``: ``CoGroupByKey`` on the shard, so all rows of an identifier, from both sides,
   meet on one worker; the shuffle spreads the shards over the workers.
3. ``Compare``: a ``CombineGlobally`` whose ``add_input`` joins one shard with Arrow and
   compares every feature column at once, and whose merge sums the counts and keeps the
   mismatches of the smallest identifiers (a bounded top): one ``FeatureSkewResult``,
   whatever the runner's order.

:class:`WriteFeatureSkew` writes the result (binary, or text by suffix);
:class:`WriteSkewSamples` writes its mismatch samples as JSON lines, one object a line:
``{"feature": ..., "identifier": {id feature: value}, "base": value, "test": value}``, with
the escapes of :func:`beam_stats.pipelines.examples.to_json_line` (``<``, ``>``, ``&``,
U+2028/9 as ``\\uXXXX``; bytes that are not UTF-8 as ``\\xNN`` text), so each line is one
line and safe to paste into HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics.metric import Metrics

from beam_stats.beam.artifacts import load_message, write_message
from beam_stats.beam.sinks import WriteTextFile
from beam_stats.drift.feature_skew import (
    FeatureSkewAccumulator,
    FeatureSkewSpec,
    split_batch,
)
from beam_stats.errors import InvalidInputError
from beam_stats.pipelines.examples import to_json_line
from beam_stats.proto import skew_pb2
from beam_stats.stats.privacy import PrivacySpec

NAMESPACE = "beam_stats.feature_skew"
NULL_SHARD = -1


def _split(batch: pa.RecordBatch, spec: FeatureSkewSpec, side: str) -> Iterator[tuple[int, Any]]:
    nulls, parts = split_batch(batch, spec)
    Metrics.counter(NAMESPACE, f"{side}_rows").inc(batch.num_rows)
    if nulls:
        Metrics.counter(NAMESPACE, f"{side}_null_ids").inc(nulls)
        yield NULL_SHARD, nulls
    yield from parts


class _CompareShards(beam.CombineFn):
    """``(shard, {"base": parts, "test": parts})`` to one ``FeatureSkewResult``."""

    def __init__(self, spec: FeatureSkewSpec) -> None:
        super().__init__()
        self._spec = spec

    def create_accumulator(self) -> FeatureSkewAccumulator:
        return FeatureSkewAccumulator(self._spec)

    def add_input(
        self, accumulator: FeatureSkewAccumulator, element: tuple[int, dict[str, Iterable[Any]]]
    ) -> FeatureSkewAccumulator:
        shard, groups = element
        base, test = list(groups["base"]), list(groups["test"])
        if shard == NULL_SHARD:
            accumulator.add_null_ids(sum(base), sum(test))
        else:
            accumulator.add(base, test)
        return accumulator

    def merge_accumulators(
        self, accumulators: Iterable[FeatureSkewAccumulator]
    ) -> FeatureSkewAccumulator:
        merged = self.create_accumulator()
        for accumulator in accumulators:
            merged.merge(accumulator)
        return merged

    def extract_output(self, accumulator: FeatureSkewAccumulator) -> skew_pb2.FeatureSkewResult:
        return accumulator.to_proto()


@beam.typehints.with_output_types(skew_pb2.FeatureSkewResult)
class DetectFeatureSkew(beam.PTransform):
    """``(base, test)`` PCollections of ``pyarrow.RecordBatch`` to one ``FeatureSkewResult``.

    Args:
        identifier_features: the column, or columns, that identify an example on both sides.
        features: the columns to compare (default: every column but the identifiers).
        float_tolerance: relative tolerance of float comparisons.
        sample_size: mismatched pairs kept per feature, those of the smallest identifiers.
        absolute_tolerance: absolute tolerance of float comparisons (default: float_tolerance);
            floats match when ``|a - b| <= max(absolute, relative * max(|a|, |b|))``.
        num_shards: hash partitions of the join; one shard (``rows / num_shards`` of each
            side) is held in a worker's memory at once.
        privacy: what the samples keep of the values (:mod:`beam_stats.drift.skew_samples`);
            None keeps them all.

    Returns (from ``expand``): a PCollection of one ``beam_stats.FeatureSkewResult``.

    Raises:
        InvalidInputError: no identifier feature, a negative tolerance or sample size, ...
    """

    def __init__(
        self,
        identifier_features: str | Sequence[str],
        features: Sequence[str] | None = None,
        float_tolerance: float = 1e-6,
        sample_size: int = 10,
        *,
        absolute_tolerance: float | None = None,
        num_shards: int = 512,
        privacy: PrivacySpec | None = None,
    ) -> None:
        super().__init__()
        ids = [identifier_features] if isinstance(identifier_features, str) else identifier_features
        absolute = float_tolerance if absolute_tolerance is None else absolute_tolerance
        self.spec = FeatureSkewSpec(
            identifier_features=tuple(ids),
            features=None if features is None else tuple(features),
            relative_tolerance=float_tolerance,
            absolute_tolerance=absolute,
            sample_size=sample_size,
            num_shards=num_shards,
            privacy=privacy or PrivacySpec(),
        )

    def expand(self, pcolls: Any) -> beam.pvalue.PCollection:
        if isinstance(pcolls, dict):
            pcolls = (pcolls["base"], pcolls["test"])
        if not isinstance(pcolls, tuple | list) or len(pcolls) != 2:
            raise InvalidInputError("DetectFeatureSkew takes a (base, test) pair of PCollections")
        base, test = pcolls
        spec = self.spec
        return (
            {
                "base": base | "SplitBase" >> beam.FlatMap(_split, spec, "base"),
                "test": test | "SplitTest" >> beam.FlatMap(_split, spec, "test"),
            }
            | "Join" >> beam.CoGroupByKey()
            | "Compare"
            >> beam.CombineGlobally(_CompareShards(spec)).with_output_types(
                skew_pb2.FeatureSkewResult
            )
        )


def write_feature_skew(
    result: skew_pb2.FeatureSkewResult, path: str, text: bool | None = None
) -> str:
    """Writes `result` to `path` (any Beam file system, atomically) and returns the path.

    Args:
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).
    """
    # Text keeps strings readable (as_utf8); bytes and control characters stay escaped.
    return write_message(result, path, text, as_utf8=True)


def load_feature_skew(path: str) -> skew_pb2.FeatureSkewResult:
    """Loads a result written by :func:`write_feature_skew` (binary or text).

    Raises:
        InvalidInputError: no such file. DeserializationError: not a result.
    """
    return load_message(path, skew_pb2.FeatureSkewResult(), "feature skew")


def sample_records(result: skew_pb2.FeatureSkewResult) -> Iterator[dict[str, Any]]:
    """The mismatch samples of `result`, one dict each (the JSON lines' objects)."""
    for feature in result.features:
        for sample in feature.samples:
            yield {
                "feature": feature.feature,
                "identifier": json.loads(sample.identifier),
                "base": json.loads(sample.base_value),
                "test": json.loads(sample.test_value),
            }


@beam.typehints.with_input_types(skew_pb2.FeatureSkewResult)
@beam.typehints.with_output_types(str)
class WriteFeatureSkew(beam.PTransform):
    """Writes the one ``FeatureSkewResult`` of a PCollection; outputs the path written.

    Args:
        path: the file to write (any Beam file system).
        text: text format; by default chosen by the suffix (.pbtxt, .textproto, .txt).
    """

    def __init__(self, path: str, text: bool | None = None) -> None:
        super().__init__()
        self._path, self._text = path, text

    def expand(self, results: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return results | "WriteResult" >> beam.Map(write_feature_skew, self._path, self._text)


@beam.typehints.with_input_types(skew_pb2.FeatureSkewResult)
@beam.typehints.with_output_types(str)
class WriteSkewSamples(beam.PTransform):
    """Writes the mismatch samples of a ``FeatureSkewResult`` as one JSON-lines file.

    Args:
        path: the file to write (any Beam file system, atomically); written, empty, when
            nothing differs.

    Returns (from ``expand``): a PCollection of the file name.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def expand(self, results: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return (
            results
            | "Samples" >> beam.FlatMap(sample_records)
            | "ToJson" >> beam.Map(to_json_line)
            | "WriteSamples" >> WriteTextFile(self._path)
        )
