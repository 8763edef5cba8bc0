"""Progress on the terminal: rows read so far, logged every few seconds by each worker."""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics.metric import Metrics

from beam_stats.beam.reading import PROGRESS_SECONDS, RowCounter


class CountRows(beam.DoFn):
    """Passes record batches through, counting their rows (a Beam counter, and
    :class:`~beam_stats.beam.reading.RowCounter`'s log lines)."""

    def __init__(self, label: str, every_seconds: float) -> None:
        self._label = label
        self._every = every_seconds
        self._rows: RowCounter | None = None

    def setup(self) -> None:
        self._rows = RowCounter(self._label, self._every)

    def process(self, batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        if self._rows is None:  # a runner that skips setup
            self._rows = RowCounter(self._label, self._every)
        self._rows.count(batch)
        Metrics.counter("beam_stats.progress", f"{self._label}_rows").inc(batch.num_rows)
        yield batch

    def teardown(self) -> None:
        if self._rows is not None:
            self._rows.done()


class LogProgress(beam.PTransform):
    """Passes record batches through, logging the rows seen (logger ``beam_stats.progress``).

    Args:
        label: what is being read, e.g. ``train``.
        every_seconds: the least time between two lines of one worker.
    """

    def __init__(self, label: str, every_seconds: float = PROGRESS_SECONDS) -> None:
        super().__init__()
        self._label = label
        self._every = every_seconds

    def expand(self, batches: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return batches | "CountRows" >> beam.ParDo(CountRows(self._label, self._every))
