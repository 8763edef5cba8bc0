"""The one fused ``CombineFn`` behind every statistics transform.

All features of a dataset are combined by one :class:`StatisticsCombineFn`, so a run costs
one shuffle whatever the number of features (as in TFDV). The accumulator is a
:class:`~beam_stats.stats.DatasetAccumulator`; it travels between workers as its lossless
``DatasetState`` proto (sketch objects do not pickle), and its size is bounded by the sketch
sizes times the number of features, never by the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.stats import DatasetAccumulator, StatisticsSpec, wire


class DatasetAccumulatorCoder(beam.coders.Coder):
    """Encodes a DatasetAccumulator as its DatasetState proto, one feature at a time
    (:mod:`beam_stats.stats.wire`: the whole message never exists)."""

    def __init__(self, spec: StatisticsSpec) -> None:
        self._spec = spec

    def encode(self, value: DatasetAccumulator) -> bytes:
        return wire.to_bytes(value)

    def decode(self, encoded: bytes) -> DatasetAccumulator:
        return wire.from_bytes(encoded, self._spec)

    def is_deterministic(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatasetAccumulatorCoder) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash((type(self), self._spec))


class StatisticsCombineFn(beam.CombineFn):
    """Record batches in, one ``DatasetFeatureStatisticsList`` out."""

    def __init__(self, spec: StatisticsSpec, name: str = "", include_state: bool = True) -> None:
        super().__init__()
        self._spec = spec
        self._name = name
        self._include_state = include_state

    def create_accumulator(self) -> DatasetAccumulator:
        return DatasetAccumulator(self._spec)

    def add_input(
        self, accumulator: DatasetAccumulator, batch: pa.RecordBatch
    ) -> DatasetAccumulator:
        accumulator.add(batch)
        return accumulator

    def merge_accumulators(
        self, accumulators: Iterable[DatasetAccumulator], *args: Any, **kwargs: Any
    ) -> DatasetAccumulator:
        accumulators = iter(accumulators)
        merged = next(accumulators, None) or self.create_accumulator()
        for accumulator in accumulators:
            merged.merge(accumulator)
        return merged

    def extract_output(
        self, accumulator: DatasetAccumulator, *args: Any, **kwargs: Any
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        return statistics_pb2.DatasetFeatureStatisticsList(
            # Released: each feature's accumulator is freed as its statistics are written.
            datasets=[accumulator.result(self._name, self._include_state, release=True)]
        )

    def get_accumulator_coder(self) -> DatasetAccumulatorCoder:
        return DatasetAccumulatorCoder(self._spec)
