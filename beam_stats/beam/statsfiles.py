"""Statistics files written from accumulators and finished slices, by the pipelines' last
steps and by the in-process engine alike (this module imports no apache_beam).

A binary file is written a feature (or a dataset) at a time from the accumulators' bytes
(:mod:`beam_stats.stats.wire`), so the finished statistics are never held whole as one
message; a text file is made from the message. Every file is written atomically
(:func:`~beam_stats.beam.writing.write_file`).
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.artifacts import is_text_path, write_statistics
from beam_stats.beam.writing import write_file
from beam_stats.stats import DatasetAccumulator, wire
from beam_stats.stats.coalesce import flushed

SliceBytes = tuple[str, wire.DatasetBytes]


def finished_statistics(
    accumulator: DatasetAccumulator, name: str, include_state: bool
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """The statistics of `accumulator` (its pending batches added) as one list of one
    dataset, written in place (a finished dataset put in a list would be copied) and
    releasing each feature's accumulator as its statistics are written."""
    flushed(accumulator)
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    accumulator.result(name, include_state, release=True, into=statistics.datasets.add())
    return statistics


def write_accumulator(
    accumulator: DatasetAccumulator,
    path: str,
    name: str = "",
    include_state: bool = True,
    text: bool | None = None,
) -> str:
    """Writes the statistics of `accumulator` at `path` and returns the path: in binary a
    feature at a time (:func:`~beam_stats.stats.wire.result_chunks`), in text (`text`, or
    by default by the suffix, as :func:`~beam_stats.beam.artifacts.write_statistics`) from
    the message."""
    if is_text_path(path) if text is None else text:
        statistics = finished_statistics(accumulator, name, include_state)
        return write_statistics(statistics, path, text=True)
    return write_file(path, wire.result_chunks(flushed(accumulator), name, include_state))


def assemble_slices(
    datasets: list[SliceBytes], whole: str
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """One list: the whole dataset first (empty if there was no data), then slices by key."""
    out = statistics_pb2.DatasetFeatureStatisticsList()
    for name, dataset in wire.datasets_in_order(whole, datasets):
        entry = out.datasets.add()
        entry.ParseFromString(dataset.data)
        entry.name = name
    return out


def write_slices(datasets: list[SliceBytes], path: str, whole: str) -> str:
    """Writes the binary statistics file of the datasets (as :func:`assemble_slices`
    orders them) at `path`, a dataset at a time, and returns the path.

    Raises:
        OutputError: the file would exceed protobuf's 2 GiB (before any byte is written),
            or cannot be written.
    """
    return write_file(path, wire.datasets_chunks(whole, datasets))
