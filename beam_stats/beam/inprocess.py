"""The statistics of local files, computed in this process without building a Beam pipeline.

Beam's DirectRunner, with no pipeline option, runs a pipeline in this one process too, but
building and running it costs about 1.7 s whatever the data (47 transforms for one ``stats``
job, each inspected several times: measured on a 10-row file, issue 16). So
:func:`~beam_stats.jobs.compute_statistics` runs here when the choice is left to it
(``engine="auto"``) and nothing asks for Beam: no pipeline option and only local inputs
(:func:`~beam_stats.beam.engines.runs_in_process`).

The same code runs, only the scheduling differs: the steps of
:class:`~beam_stats.beam.sources.ReadRecordBatches` are called in order
(:func:`~beam_stats.beam.reading.read_in_process`), the batches go to the same accumulators
(joined first, as :class:`~beam_stats.beam.combine.AddBatches` joins them; per slice key
through :class:`~beam_stats.stats.sliced.SlicedAccumulators`, which also merges the whole
dataset from its slices where they partition the rows and that pays), and the statistics and
the errors file are written by the same writers (:mod:`beam_stats.beam.statsfiles`), each
atomically. Nothing here imports apache_beam: a small file's statistics take well under a
second, which Beam's import alone would take. The outputs equal the
pipeline's up to the order in which batches are added (the last bits of sums, sketches
within their bounds), as those of two runners do; memory stays bounded by the batch and the
accumulators (error records are spooled to a temporary file past 16 MB). Unsliced, and when
no statistic needs whole rows (no weight, label or composite feature), a wide Parquet row
group is read and added a few columns at a time
(:class:`~beam_stats.beam.reading.ColumnPart`): 1,000 columns x 50k rows peaked at 2.5 GB
read whole, 0.65 GB so (issue 16).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import pyarrow as pa

from beam_stats.beam.artifacts import is_text_path, write_statistics
from beam_stats.beam.reading import ColumnPart, RowCounter, read_in_process
from beam_stats.beam.statsfiles import (
    assemble_slices,
    write_accumulator,
    write_slices,
)
from beam_stats.beam.writing import write_file
from beam_stats.stats import SlicingSpec, StatisticsSpec
from beam_stats.stats.coalesce import BufferedAccumulator
from beam_stats.stats.sliced import SlicedAccumulators
from beam_stats.stats.slicing import WHOLE_DATASET, check_gathered
from beam_stats.stats.wire import DatasetBytes

_SPOOL_IN_MEMORY = 16 << 20


def statistics_in_process(
    patterns: Sequence[str],
    output: str,
    errors: str,
    *,
    spec: StatisticsSpec,
    slicing: SlicingSpec | None = None,
    input_format: str | None = None,
    name: str = "",
    text: bool | None = None,
    include_state: bool = True,
    progress: str | None = None,
) -> None:
    """Writes the statistics of the files `patterns` match to `output`, and the problems
    with them to `errors` (JSON lines), as the ``stats`` pipeline would; arguments as
    :func:`~beam_stats.jobs.compute_statistics` (its checks of the outputs done), and
    `progress`: log the rows read under this label
    (:class:`~beam_stats.beam.reading.RowCounter`)."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        accumulator = BufferedAccumulator(spec)
        # A wide row group is read a few columns at a time when nothing needs whole rows.
        parts = slicing is None and accumulator.takes_parts
        items = read_in_process(patterns, input_format, privacy=spec.privacy, column_parts=parts)
        batches = _batches(items, spool)
        if progress is not None:
            batches = _counted(batches, progress)
        if slicing is None:
            for batch in batches:
                if isinstance(batch, ColumnPart):
                    accumulator.flush()  # what is held comes first
                    accumulator.add_part(batch.batch, batch.columns, batch.rows)
                else:
                    accumulator.buffer(batch)
            write_accumulator(accumulator, output, name, include_state, text)
        else:
            whole = name or WHOLE_DATASET
            datasets = _sliced(batches, spec, slicing, whole, include_state)
            if text or (text is None and is_text_path(output)):
                write_statistics(assemble_slices(datasets, whole), output, text=True)
            else:  # from each dataset's bytes: no message of the statistics is made
                write_slices(datasets, output, whole)
        spool.seek(0)
        write_file(errors, iter(lambda: spool.read(1 << 20), b""))


def _batches(
    items: Iterable[pa.RecordBatch | ColumnPart | dict[str, Any]], spool: IO[bytes]
) -> Iterator[pa.RecordBatch | ColumnPart]:
    """The record batches (and column parts) of `items`; their error records written to
    `spool` as JSON lines (the errors file's form: one ``json.dumps`` per line)."""
    for item in items:
        if isinstance(item, dict):
            spool.write(json.dumps(item).encode("utf-8") + b"\n")
        else:
            yield item


def _counted(
    batches: Iterable[pa.RecordBatch | ColumnPart], label: str
) -> Iterator[pa.RecordBatch | ColumnPart]:
    counter = RowCounter(label)
    for batch in batches:
        counter.count(batch)
        yield batch
    counter.done()


def _sliced(
    batches: Iterable[pa.RecordBatch | ColumnPart],
    spec: StatisticsSpec,
    slicing: SlicingSpec,
    whole: str,
    include_state: bool,
) -> list[tuple[str, DatasetBytes]]:
    """(key, finished dataset bytes) of the whole dataset and each slice
    (:class:`~beam_stats.stats.sliced.SlicedAccumulators`: the slicing and the joining of
    the pipeline's steps, the whole dataset merged from its slices where that pays)."""
    accumulators = SlicedAccumulators(spec, slicing)
    for batch in batches:
        assert not isinstance(batch, ColumnPart)  # not asked for when sliced
        accumulators.add(batch)
    collected = list(accumulators.results(whole, include_state))
    check_gathered(slicing, max(len(collected) - 1, 0))
    return collected
