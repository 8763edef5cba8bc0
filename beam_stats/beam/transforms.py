"""The statistics PTransforms."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.combine import StatisticsCombineFn
from beam_stats.beam.files import write_statistics
from beam_stats.stats import StatisticsSpec


@beam.typehints.with_input_types(pa.RecordBatch)
@beam.typehints.with_output_types(statistics_pb2.DatasetFeatureStatisticsList)
class GenerateStatistics(beam.PTransform):
    """``PCollection[RecordBatch]`` to one ``DatasetFeatureStatisticsList``.

    Args:
        spec: what to compute (:class:`~beam_stats.stats.StatisticsSpec`); TFDV's defaults.
        name: the dataset name written in the output.
    """

    def __init__(self, spec: StatisticsSpec | None = None, name: str = "") -> None:
        super().__init__()
        self._spec = spec or StatisticsSpec()
        self._name = name

    def expand(self, batches: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return batches | "CombineStatistics" >> beam.CombineGlobally(
            StatisticsCombineFn(self._spec, self._name)
        )


@beam.typehints.with_input_types(statistics_pb2.DatasetFeatureStatisticsList)
class WriteStatistics(beam.PTransform):
    """Writes the (single) statistics message of a PCollection to `path`.

    Args:
        path: any path Beam's FileSystems can write (local, gs://, ...).
        text: text format instead of binary.
    """

    def __init__(self, path: str, text: bool = False) -> None:
        super().__init__()
        self._path = path
        self._text = text

    def expand(self, statistics: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        path, text = self._path, self._text
        return statistics | "Write" >> beam.Map(lambda s: write_statistics(s, path, text=text))
