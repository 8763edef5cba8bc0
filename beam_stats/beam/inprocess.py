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
(:class:`~beam_stats.beam.column_parts.ColumnPart`): 1,000 columns x 50k rows peaked at 2.5 GB
read whole, 0.65 GB so (issue 16). A thread reads ahead of the accumulators
(:mod:`beam_stats.beam.readahead`), and with slicing a second one cuts the batches into
their slices ahead of them (:meth:`~beam_stats.stats.sliced.SlicedAccumulators.cut`), and
with many slices a second process finishes half of them (:mod:`beam_stats.beam.sharing`);
with ``workers`` > 1, processes compute and this one merges (:mod:`beam_stats.beam.parallel`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

import pyarrow as pa

from beam_stats.beam.artifacts import is_text_path, write_statistics
from beam_stats.beam.column_parts import ColumnPart, add_read
from beam_stats.beam.readahead import batch_bytes, read_ahead
from beam_stats.beam.reading import (
    BATCH_SIZE,
    BLOCK_SIZE,
    RowCounter,
    hides_values,
    opened_units,
    read_in_process,
    record_line,
)
from beam_stats.beam.sharing import ShareProcess
from beam_stats.beam.statsfiles import (
    assemble_slices,
    write_accumulator,
    write_slices,
)
from beam_stats.beam.writing import write_file
from beam_stats.errors import InvalidInputError
from beam_stats.stats import SlicingSpec, StatisticsSpec
from beam_stats.stats.coalesce import BufferedAccumulator
from beam_stats.stats.dataset import DatasetAccumulator, feature_threads
from beam_stats.stats.finishing import finished
from beam_stats.stats.shares import worth_sharing
from beam_stats.stats.sliced import CutBatch, SlicedAccumulators
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
    workers: int = 1,
) -> None:
    """Writes the statistics of the files `patterns` match to `output`, and the problems
    with them to `errors` (JSON lines), as the ``stats`` pipeline would; arguments as
    :func:`~beam_stats.jobs.compute_statistics` (its checks of the outputs done), and
    `progress`: log the rows read under this label
    (:class:`~beam_stats.beam.reading.RowCounter`); `workers`: worker processes
    (:mod:`beam_stats.beam.parallel`; 1: this process alone, reading ahead in a thread,
    :mod:`beam_stats.beam.readahead`).

    Raises:
        InvalidInputError: `workers` below 1.
    """
    check_workers(workers)
    whole = name or WHOLE_DATASET
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        if slicing is None:
            if workers > 1:
                found = _with_workers(patterns, input_format, spec, None, whole, workers, spool)
                accumulator = found[whole]
                if progress is not None:
                    RowCounter(progress).done(accumulator.num_examples)
            else:
                accumulator = BufferedAccumulator(spec, feature_threads())
                # A wide row group is read a few columns at a time when nothing needs rows.
                parts = accumulator.takes_parts
                for item in _read(patterns, input_format, spec, spool, progress, parts):
                    add_read(accumulator, item)
            write_accumulator(accumulator, output, name, include_state, text)
        else:
            if workers > 1:
                states = _with_workers(patterns, input_format, spec, slicing, whole, workers, spool)
                if progress is not None and whole in states:
                    RowCounter(progress).done(states[whole].num_examples)
                datasets = _finished(states, include_state)
                check_gathered(slicing, max(len(datasets) - 1, 0))
            else:
                batches = _read(patterns, input_format, spec, spool, progress)
                datasets = _sliced(batches, spec, slicing, whole, include_state)
            if text or (text is None and is_text_path(output)):
                write_statistics(assemble_slices(datasets, whole), output, text=True)
            else:  # from each dataset's bytes: no message of the statistics is made
                write_slices(datasets, output, whole)
        spool.seek(0)
        write_file(errors, iter(lambda: spool.read(1 << 20), b""))


def check_workers(workers: int, in_process: bool = True) -> None:
    """Raises InvalidInputError unless the in-process engine can run `workers` workers (a
    job that runs a pipeline instead, not `in_process`, only one)."""
    if workers < 1:
        raise InvalidInputError(f"workers must be >= 1, got {workers}")
    if workers > 1 and not in_process:
        raise InvalidInputError(
            f"workers={workers} is for the in-process engine, and this job runs a pipeline: "
            "its workers are the runner's options (e.g. --direct_num_workers)"
        )


def _read(
    patterns: Sequence[str],
    input_format: str | None,
    spec: StatisticsSpec,
    spool: IO[bytes],
    progress: str | None,
    column_parts: bool = False,
) -> Iterator[Any]:
    """The record batches (and `column_parts`) of the files, read ahead in a thread; their
    error records written to `spool`; their rows logged under `progress`."""
    privacy = spec.privacy
    items = read_in_process(patterns, input_format, privacy=privacy, column_parts=column_parts)
    batches = _batches(read_ahead(items, size=_held_bytes), spool)
    return batches if progress is None else _counted(batches, progress)


def _with_workers(
    patterns: Sequence[str],
    input_format: str | None,
    spec: StatisticsSpec,
    slicing: SlicingSpec | None,
    whole: str,
    workers: int,
    spool: IO[bytes],
) -> dict[str, DatasetAccumulator]:
    from beam_stats.beam.parallel import statistics_with_workers

    return statistics_with_workers(
        opened_units(patterns, input_format, BATCH_SIZE),
        spec,
        slicing,
        workers,
        spool,
        whole=whole,
        batch_size=BATCH_SIZE,
        block_size=BLOCK_SIZE,
        hide_values=hides_values(spec.privacy),
    )


def _held_bytes(item: Any) -> int:
    """The bytes a record batch or a column part holds (read_ahead's measure)."""
    return batch_bytes(item.batch if isinstance(item, ColumnPart) else item)


def _finished(
    states: dict[str, DatasetAccumulator], include_state: bool
) -> list[tuple[str, DatasetBytes]]:
    """(key, finished dataset bytes) of `states`, each accumulator given up once finished."""
    return list(finished(((key, states.pop(key)) for key in list(states)), include_state))


def _batches(
    items: Iterable[pa.RecordBatch | ColumnPart | dict[str, Any]], spool: IO[bytes]
) -> Iterator[pa.RecordBatch | ColumnPart]:
    """The record batches (and column parts) of `items`; their error records written to
    `spool` as JSON lines (the errors file's form: one ``json.dumps`` per line)."""
    for item in items:
        if isinstance(item, dict):
            spool.write(record_line(item))
        else:
            yield item


def _record_batches(
    batches: Iterable[pa.RecordBatch | ColumnPart],
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        assert not isinstance(batch, ColumnPart)  # not asked for when sliced
        yield batch


def _cut_bytes(cut: CutBatch) -> int:
    """The bytes a cut batch holds (read_ahead's measure)."""
    return cut.held_bytes


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
    accumulators = SlicedAccumulators(spec, slicing, feature_threads())
    # A second thread cuts the batches into slices (a sort and a take each, which release
    # the GIL) while this one adds those cut before: 3-4% of 10 or 1,000 slices of 1M rows.
    cuts = accumulators.cut_all(_record_batches(batches))
    # With many slices, half of them are finished by a second process (beam/sharing.py),
    # started when a batch is cut into enough to share.
    with ShareProcess(spec, include_state) as helper:
        for cut in read_ahead(cuts, size=_cut_bytes):
            if cut.parts and worth_sharing(len(cut.parts), cut.parts[0][1].num_columns):
                helper.start()
            accumulators.add_cut(cut)
        shared = helper.finishing(accumulators.share())
        collected = list(accumulators.results(whole, include_state, shared))
    check_gathered(slicing, max(len(collected) - 1, 0))
    return collected
