"""A statistics job that records how a runner split it: run as a script, like a user's job.

    python probe.py OUT_FOLDER FILE... -- BEAM_FLAGS...

Each bundle that reads record batches touches ``OUT/bundles/<pid>-<uuid>``; each merge of
two or more accumulators that hold examples (added or still pending) touches
``OUT/merges/<uuid>-<examples,...>``. So the test sees, rather than assumes, that more than
one bundle read the input and that accumulators of separate parts were merged. Files, not
Beam metrics: the DaskRunner reports no metrics, and every runner here shares this machine's
disk.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
from apache_beam.options.pipeline_options import PipelineOptions

from beam_stats.beam import ReadRecordBatches, WriteStatistics
from beam_stats.beam.combine import StatisticsCombineFn
from beam_stats.stats import DatasetAccumulator, StatisticsSpec
from beam_stats.stats.coalesce import BufferedAccumulator


class NoteBundles(beam.DoFn):
    def __init__(self, folder: str) -> None:
        self._folder = folder

    def start_bundle(self) -> None:
        self._bundle = f"{os.getpid()}-{uuid.uuid4().hex}"
        self._noted = False

    def process(self, batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        if not self._noted:
            Path(self._folder, "bundles", self._bundle).touch()
            self._noted = True
        yield batch


def _examples(accumulator: DatasetAccumulator) -> int:
    pending = accumulator.pending.rows if isinstance(accumulator, BufferedAccumulator) else 0
    return accumulator.num_examples + pending


class NotedMerges(StatisticsCombineFn):
    def __init__(self, folder: str) -> None:
        super().__init__(StatisticsSpec(), name="probe")
        self._folder = folder

    def merge_accumulators(
        self, accumulators: Iterable[DatasetAccumulator], *args: object, **kwargs: object
    ) -> DatasetAccumulator:
        accumulators = list(accumulators)
        # An accumulator of a few rows travels as those rows, added where it is merged
        # (stats/coalesce.py, ROWS_TRAVEL_BYTES): its examples are its pending rows.
        sizes = [n for n in map(_examples, accumulators) if n]
        if len(sizes) > 1:
            name = f"{uuid.uuid4().hex}-{','.join(map(str, sizes))}"
            Path(self._folder, "merges", name).touch()
        return super().merge_accumulators(accumulators, *args, **kwargs)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    folder, files, flags = argv[0], argv[1:split], argv[split + 1 :]
    for sub in ("bundles", "merges"):
        Path(folder, sub).mkdir(parents=True, exist_ok=True)
    pipeline = beam.Pipeline(options=PipelineOptions(flags))
    read = pipeline | "Read" >> ReadRecordBatches(files)
    written = (
        read.batches
        | "NoteBundles" >> beam.ParDo(NoteBundles(folder))
        | "Statistics" >> beam.CombineGlobally(NotedMerges(folder))
        | "Write" >> WriteStatistics(str(Path(folder, "stats.pb")))
    )
    # One last transform (the DaskRunner runs only the last one's graph).
    _ = (written, read.errors | beam.Map(str)) | "Done" >> beam.Flatten()
    result = pipeline.run()
    result.wait_until_finish()
    client = getattr(result, "client", None)
    if client is not None:
        client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
