"""Error records: one JSON-able dict per problem with the input, and the helpers readers share.

Every reader yields record batches and these records; a row is either in a batch or named by
a record (with its file, and its line or record number where known), never dropped silently.

A message that quotes the input (a line that does not parse, a value of the wrong type, an
exception's text, which may quote either) is made with its form without those quotes
(``error_record(..., without_values=...)``, the quotes as
:data:`~beam_stats.stats.row_privacy.REDACTED`). :func:`published` is the one place that
chooses between them: ``ReadRecordBatches`` passes every reader's record through it, so
under a privacy policy no errors file, printed problem or log carries a value.
:class:`~beam_stats.beam.sinks.WriteErrors` writes them, one JSON line each, as every job's
errors file. This module imports no apache_beam: the in-process engine reads with it too.
"""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa

MAX_EXAMPLE = 200  # characters of a bad value or line quoted in an error record
# The key of a record's message without the values it quotes (dropped by `published`).
_WITHOUT_VALUES = "message_without_values"


def error_record(
    path: str,
    kind: str,
    message: str,
    line: int | None = None,
    *,
    without_values: str | None = None,
) -> dict[str, Any]:
    """One problem with the input, as the ``errors`` output carries it.

    Args:
        without_values: when `message` quotes the input, the message with the quotes left
            out (what :func:`published` shows under a privacy policy).
    """
    _count(kind)
    record: dict[str, Any] = {"file": path, "line": line, "kind": kind, "message": message}
    if without_values is not None:
        record[_WITHOUT_VALUES] = without_values
    return record


def _count(kind: str) -> None:
    """Counts a problem of `kind` in Beam's metrics (``beam_stats.input``). A record made in
    a pipeline's DoFn is counted there; where Beam is not loaded (the in-process engine) no
    pipeline runs, so there is nothing to count in, and Beam is not imported for it."""
    metric = sys.modules.get("apache_beam.metrics.metric")
    if metric is not None:
        metric.Metrics.counter("beam_stats.input", kind).inc()


def published(record: dict[str, Any], hide_values: bool) -> dict[str, Any]:
    """`record` as the ``errors`` output carries it: with its message without the values it
    quotes when `hide_values` (a privacy policy is active), else as made."""
    if _WITHOUT_VALUES not in record:
        return record
    out = {k: v for k, v in record.items() if k != _WITHOUT_VALUES}
    if hide_values:
        out["message"] = record[_WITHOUT_VALUES]
    return out


def unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Column names made distinct, and a message per renamed column.

    A file may name two columns alike (a CSV header, a Parquet file written without checks).
    Folding them into one feature would count each example twice; keeping only one would
    lose data. So each later one becomes a feature of its own, ``name (2)``, ``name (3)``,
    ..., and the rename is reported.
    """
    if len(set(names)) == len(names):
        return names, []
    taken, out, messages = set(names), [], []
    seen: set[str] = set()
    for position, name in enumerate(names):
        if name not in seen:
            seen.add(name)
            out.append(name)
            continue
        k = 2
        while f"{name} ({k})" in taken:
            k += 1
        new = f"{name} ({k})"
        taken.add(new)
        out.append(new)
        messages.append(
            f"column {position + 1} repeats the name {name!r}; read as the feature {new!r}"
        )
    return out, messages


def with_unique_names(
    path: str, batch: pa.RecordBatch
) -> tuple[pa.RecordBatch, list[dict[str, Any]]]:
    """`batch` with distinct column names, and a ``duplicate_column`` record per rename."""
    names, messages = unique_names(batch.schema.names)
    if not messages:
        return batch, []
    fields = [field.with_name(name) for field, name in zip(batch.schema, names, strict=True)]
    renamed = pa.RecordBatch.from_arrays(batch.columns, schema=pa.schema(fields))
    return renamed, [error_record(path, "duplicate_column", m) for m in messages]
