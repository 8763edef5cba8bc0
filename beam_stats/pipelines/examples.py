"""Per-example validation on Beam: rows that break a schema leave on their own output.

:class:`ValidateExamples` applies :class:`beam_stats.validation.examples.ExampleChecks` to a
``PCollection`` of ``pyarrow.RecordBatch`` and returns a :class:`ValidationResult`:

* ``good``: the rows that satisfy the schema, as record batches with the columns as read;
* ``bad``: the other rows, with a last column of reasons (feature, anomaly type, value);
  with a privacy policy, rows and reasons keep only the values it lets through
  (:mod:`beam_stats.validation.example_privacy`);
* ``new_columns``: columns the schema does not know (or excludes from the environment), one
  dict per column over the whole input: ``feature``, ``anomaly``, ``description``,
  ``num_rows`` (rows in which it is present). A schema problem: it makes no row bad;
* ``summary``: one dict, ``rows`` = ``good_rows`` + ``bad_rows`` and ``anomalies`` (anomaly
  type -> rows with it).

Nothing is dropped: every row read is in ``good`` or in ``bad``. Beam counters in the
namespace ``beam_stats.validate_examples`` count ``good_rows``, ``bad_rows`` and, per anomaly
type, the rows that have it.

:class:`WriteExamples` writes either output as JSON lines or Parquet. A JSON line of a bad row is
``{"reasons": [...], "row": {...}}`` (the row under its own key, so no column name can clash
with ``reasons``); a good row is the row object. Values are made JSON-safe by
:func:`json_safe`, and ``<``, ``>``, ``&``, U+2028 and U+2029 are written as ``\\uXXXX``
escapes so that a line can be pasted into HTML or JavaScript as it is. Parquet keeps the
Arrow types; each file holds rows of one Arrow schema.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, NamedTuple

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.metrics.metric import Metrics
from apache_beam.typehints.decorators import no_annotations
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.errors import InvalidInputError
from beam_stats.pandas_free import python_values
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import row_policy
from beam_stats.validation.example_privacy import protect_check
from beam_stats.validation.examples import ExampleChecks, escape_bytes

NAMESPACE = "beam_stats.validate_examples"
OUTPUT_FORMATS = ("jsonl", "parquet")
_GOOD, _BAD, _NEW_COLUMNS, _SUMMARY = "good", "bad", "new_columns", "summary"
_HTML_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}
_HTML_UNSAFE["\u2029"] = "\\u2029"


class _CheckBatches(beam.DoFn):
    """Batches to (output name, element) pairs.

    One output of pairs, split by FlatMaps, rather than tagged outputs: Beam's DaskRunner
    (2.77) hands each tagged output the elements of all of them. Fusing runners run the
    split in the same step. The checks are prepared on first use, not in
    ``setup``, which not every runner calls.
    """

    def __init__(self, schema: bytes, environment: str | None, privacy: PrivacySpec) -> None:
        self._schema = schema
        self._environment = environment
        self._privacy = privacy
        self._checks: ExampleChecks | None = None

    def process(self, batch: pa.RecordBatch) -> Iterator[tuple[str, Any]]:
        if self._checks is None:
            schema = schema_pb2.Schema.FromString(self._schema)
            self._checks = ExampleChecks(schema, self._environment)
        result = protect_check(self._checks.check(batch), self._privacy)
        good, bad = result.good.num_rows, result.bad.num_rows
        Metrics.counter(NAMESPACE, "good_rows").inc(good)
        Metrics.counter(NAMESPACE, "bad_rows").inc(bad)
        for anomaly, rows in result.anomaly_rows.items():
            Metrics.counter(NAMESPACE, anomaly).inc(rows)
        if good or not batch.num_rows:  # an empty batch still carries its columns on
            yield _GOOD, result.good
        if bad:
            yield _BAD, result.bad
        for column in result.new_columns:
            key = (column.feature, column.anomaly, column.description)
            yield _NEW_COLUMNS, (key, column.num_rows)
        summary = {"rows": batch.num_rows, "good_rows": good, "bad_rows": bad}
        yield _SUMMARY, {**summary, "anomalies": result.anomaly_rows}


def _select(pair: tuple[str, Any], output: str) -> Iterator[Any]:
    if pair[0] == output:
        yield pair[1]


class _SumSummaries(beam.CombineFn):
    def create_accumulator(self) -> dict[str, Any]:
        return {"rows": 0, "good_rows": 0, "bad_rows": 0, "anomalies": {}}

    def add_input(self, total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
        for key in ("rows", "good_rows", "bad_rows"):
            total[key] += part[key]
        for anomaly, rows in part["anomalies"].items():
            total["anomalies"][anomaly] = total["anomalies"].get(anomaly, 0) + rows
        return total

    def merge_accumulators(self, totals: Iterable[dict[str, Any]]) -> dict[str, Any]:
        merged = self.create_accumulator()
        for total in totals:
            self.add_input(merged, total)
        return merged

    def extract_output(self, total: dict[str, Any]) -> dict[str, Any]:
        return {**total, "anomalies": dict(sorted(total["anomalies"].items()))}


class ValidationResult(NamedTuple):
    """What :class:`ValidateExamples` returns (see the module docstring)."""

    good: beam.pvalue.PCollection  # pyarrow.RecordBatch
    bad: beam.pvalue.PCollection  # pyarrow.RecordBatch, plus the reasons column
    new_columns: beam.pvalue.PCollection  # dicts
    summary: beam.pvalue.PCollection  # one dict


def _new_column(key: tuple[str, str, str], num_rows: int) -> dict[str, Any]:
    feature, anomaly, description = key
    return {
        "feature": feature,
        "anomaly": anomaly,
        "description": description,
        "num_rows": num_rows,
    }


@beam.typehints.with_input_types(pa.RecordBatch)
class ValidateExamples(beam.PTransform):
    """``PCollection[RecordBatch]`` to good rows, bad rows with reasons, and column problems.

    Args:
        schema: a ``tensorflow_metadata`` ``Schema``.
        environment: the data's environment (``TRAINING``, ``SERVING``, ...): features not in
            it are not checked; None checks every feature.
        privacy: what the rows and reasons keep of the values, applied after the checks
            (:mod:`beam_stats.validation.example_privacy`); None keeps them all.

    Returns (from ``expand``): a :class:`ValidationResult`.

    Raises:
        InvalidInputError: an environment the schema does not name; features to hash and no
            key. The schema's own problems (such as a string domain it names but does not
            define) are fixed as validation fixes them (:attr:`ExampleChecks.schema_problems`).
    """

    def __init__(
        self,
        schema: schema_pb2.Schema,
        environment: str | None = None,
        *,
        privacy: PrivacySpec | None = None,
    ) -> None:
        super().__init__()
        ExampleChecks(schema, environment)  # schema problems raise here, not on a worker
        self._schema = schema.SerializeToString()
        self._environment = environment
        self._privacy = row_policy(privacy)

    def expand(self, batches: beam.pvalue.PCollection) -> ValidationResult:
        check = _CheckBatches(self._schema, self._environment, self._privacy)
        pairs = batches | "Check" >> beam.ParDo(check)
        good, bad, new_columns, summary = (
            pairs | f"Select{name.title()}" >> beam.FlatMap(_select, name)
            for name in (_GOOD, _BAD, _NEW_COLUMNS, _SUMMARY)
        )
        new_columns = (
            new_columns
            | "SumNewColumns" >> beam.CombinePerKey(sum)
            | "NewColumnRecords" >> beam.MapTuple(_new_column)
        )
        summary = summary | "Summary" >> beam.CombineGlobally(_SumSummaries())
        return ValidationResult(good, bad, new_columns, summary)


# Several PCollections out: without this, Beam logs that it ignores the annotation.
no_annotations(ValidateExamples.expand)


def json_safe(value: Any) -> Any:
    """A value of ``RecordBatch.to_pylist()`` as plain JSON: bytes as :func:`escape_bytes`
    text, NaN and infinities as the strings ``NaN``, ``Infinity``, ``-Infinity``, dates and
    times in ISO 8601, decimals and durations as text, maps as ``[key, value]`` pairs."""
    if isinstance(value, bytes):
        return escape_bytes(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | datetime.timedelta):
        return str(value)
    return value


def to_json_line(record: Any) -> str:
    """One JSON line, with the characters that are unsafe in HTML or JavaScript escaped."""
    line = json.dumps(json_safe(record), ensure_ascii=False, allow_nan=False)
    for character, escape in _HTML_UNSAFE.items():
        line = line.replace(character, escape)  # only string contents hold these
    return line


def _json_lines(batch: pa.RecordBatch, with_reasons: bool) -> Iterator[str]:
    if not with_reasons:
        yield from map(to_json_line, python_values(batch))
        return
    names, reasons = batch.schema.names[:-1], batch.column(batch.num_columns - 1).to_pylist()
    rows = python_values(pa.RecordBatch.from_arrays(batch.columns[:-1], names=names))
    for row, why in zip(rows, reasons, strict=True):
        yield to_json_line({"reasons": why, "row": row})


def _without_metadata(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Drops schema and field metadata (reader bookkeeping), so equal columns group."""
    fields = [field.remove_metadata() for field in batch.schema]
    return pa.RecordBatch.from_arrays(batch.columns, schema=pa.schema(fields))


def _schema_key(batch: pa.RecordBatch) -> str:
    return hashlib.sha256(batch.schema.serialize().to_pybytes()).hexdigest()[:12]


class _ParquetSink(fileio.FileSink):
    """Record batches of one Arrow schema to one Parquet file."""

    def open(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._writer: pq.ParquetWriter | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._fh, batch.schema)
        self._writer.write_batch(batch)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@beam.typehints.with_input_types(pa.RecordBatch)
class WriteExamples(beam.PTransform):
    """Writes record batches as JSON lines or Parquet files into a directory.

    Args:
        directory: any directory Beam's FileSystems can write (local, gs://, ...).
        file_format: ``jsonl`` or ``parquet``.
        prefix: the start of each file name, e.g. ``bad-rows``.
        with_reasons: the batches' last column holds the reasons of bad rows (for JSON lines,
            written beside the row rather than in it).
    """

    def __init__(
        self,
        directory: str,
        file_format: str = "jsonl",
        prefix: str = "rows",
        with_reasons: bool = False,
    ) -> None:
        super().__init__()
        if file_format not in OUTPUT_FORMATS:
            raise InvalidInputError(
                f"file_format must be one of {OUTPUT_FORMATS}, got {file_format!r}"
            )
        self._directory = directory.rstrip("/")
        self._format = file_format
        self._prefix = prefix
        self._with_reasons = with_reasons

    def expand(self, batches: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        if self._format == "jsonl":
            return (
                batches
                | "ToJson" >> beam.FlatMap(_json_lines, self._with_reasons)
                | "WriteJson"
                >> beam.io.WriteToText(
                    f"{self._directory}/{self._prefix}", file_name_suffix=".jsonl"
                )
            )
        prefix = self._prefix

        def name(*args: Any) -> str:  # window, pane, shard, shards, compression, destination
            _, _, shard, shards, _, destination = args
            return f"{prefix}-{destination}-{shard:05d}-of-{shards:05d}.parquet"

        return (
            batches
            | "DropMetadata" >> beam.Map(_without_metadata)
            | "WriteParquet"
            >> fileio.WriteToFiles(
                self._directory,
                file_naming=name,
                destination=_schema_key,
                sink=lambda _: _ParquetSink(),
            )
        )
