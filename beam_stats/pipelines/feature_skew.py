"""``DetectFeatureSkew``: training and serving rows joined on an identifier, on Beam.

See :mod:`beam_stats.drift.key_skew` for what is compared and counted. The rows are keyed
per batch, joined with ``CoGroupByKey`` (a shuffle, so the join spreads over workers), and
the per-identifier comparisons are combined into one bounded result (counts and the
smallest mismatch samples).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa

from beam_stats.drift.key_skew import KeySkewAccumulator, Row, key_rows
from beam_stats.errors import InvalidInputError
from beam_stats.proto import skew_pb2


def _keyed(batch: pa.RecordBatch, identifiers: Sequence[str]) -> Iterator[tuple[str, Row]]:
    missing = [name for name in identifiers if name not in batch.schema.names]
    if missing and batch.num_rows:
        raise InvalidInputError(f"identifier features {missing} are not in the data")
    yield from key_rows(batch, identifiers, salt=uuid.uuid4().hex)


class _CombineSkew(beam.CombineFn):
    def __init__(
        self,
        identifiers: Sequence[str],
        features: Sequence[str] | None,
        tolerance: float,
        sample_size: int,
    ) -> None:
        super().__init__()
        self._identifiers = list(identifiers)
        self._features = list(features) if features else None
        self._tolerance = tolerance
        self._sample_size = sample_size

    def create_accumulator(self) -> KeySkewAccumulator:
        return KeySkewAccumulator(self._tolerance, self._sample_size)

    def add_input(
        self, accumulator: KeySkewAccumulator, keyed: tuple[str, dict[str, Any]]
    ) -> KeySkewAccumulator:
        key, groups = keyed
        accumulator.add_key(
            key, list(groups["base"]), list(groups["test"]), self._identifiers, self._features
        )
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[KeySkewAccumulator]) -> KeySkewAccumulator:
        merged = self.create_accumulator()
        for accumulator in accumulators:
            merged.merge(accumulator)
        return merged

    def extract_output(self, accumulator: KeySkewAccumulator) -> skew_pb2.FeatureSkewResult:
        return accumulator.to_proto()


class DetectFeatureSkew(beam.PTransform):
    """``(base, test)`` PCollections of record batches to one ``FeatureSkewResult``.

    Args:
        identifier_features: the column(s) that identify an example on both sides.
        features: the features to compare (default: every column but the identifiers).
        float_tolerance: relative tolerance of float comparisons (absolute below 1).
        sample_size: mismatched pairs kept per feature (those of the smallest identifiers).
    """

    def __init__(
        self,
        identifier_features: str | Sequence[str],
        features: Sequence[str] | None = None,
        float_tolerance: float = 1e-6,
        sample_size: int = 10,
    ) -> None:
        super().__init__()
        ids = [identifier_features] if isinstance(identifier_features, str) else identifier_features
        if not ids or not all(isinstance(i, str) and i for i in ids):
            raise InvalidInputError(f"identifier features must be names, got {ids!r}")
        if float_tolerance < 0 or sample_size < 0:
            raise InvalidInputError(
                f"float_tolerance and sample_size must be >= 0, got {float_tolerance}, "
                f"{sample_size}"
            )
        self._ids = list(ids)
        self._features = features
        self._tolerance = float_tolerance
        self._sample_size = sample_size

    def expand(self, pcolls: tuple[beam.pvalue.PCollection, beam.pvalue.PCollection]) -> Any:
        base, test = pcolls
        ids = self._ids
        joined = {
            "base": base | "KeyBase" >> beam.FlatMap(_keyed, ids),
            "test": test | "KeyTest" >> beam.FlatMap(_keyed, ids),
        } | "Join" >> beam.CoGroupByKey()
        return joined | "Compare" >> beam.CombineGlobally(
            _CombineSkew(ids, self._features, self._tolerance, self._sample_size)
        )
