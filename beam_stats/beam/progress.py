"""Progress on the terminal: rows read so far, logged every few seconds by each worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics.metric import Metrics

_LOG = logging.getLogger("beam_stats.progress")


#: The least time between two progress lines of one worker.
PROGRESS_SECONDS = 5.0


class CountRows(beam.DoFn):
    """Passes record batches through, counting their rows; logs the count every
    `every_seconds` and when done (teardown)."""

    def __init__(self, label: str, every_seconds: float) -> None:
        self._label = label
        self._every = every_seconds

    def setup(self) -> None:
        self._rows = 0
        self._last = time.monotonic()
        self._counter = Metrics.counter("beam_stats.progress", f"{self._label}_rows")

    def process(self, batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        self._rows += batch.num_rows
        self._counter.inc(batch.num_rows)
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            _LOG.info("%s: %s rows read", self._label, f"{self._rows:,}")
        yield batch

    def teardown(self) -> None:
        if getattr(self, "_rows", 0):
            _LOG.info("%s: %s rows read, done", self._label, f"{self._rows:,}")


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
