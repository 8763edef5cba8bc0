"""Every row of files checked against a schema, as one job: :func:`validate_examples`
(``beam-stats validate-examples``).

One Beam pipeline reads the files and writes, into the bad-rows folder: ``bad-rows-*.jsonl``
(or ``.parquet``), the rows that break the schema with their reasons; ``new-columns.jsonl``,
columns the schema does not know (a schema problem: it makes no row bad); ``summary.json``,
the counts; and the input that could not be read into rows (malformed lines, unreadable
files) in ``bad-rows.errors.jsonl`` unless given (the one naming rule of every command,
the output being the bad rows). With `good_rows`, the good rows go to ``good-rows-*`` files
there. Row files are written aside and moved into place when the run has succeeded; files
of those names left by an earlier run are replaced, nothing else in the folders is touched.

With a privacy policy (`privacy`), the rows, their reasons and the errors file keep only
the values it lets through (:mod:`beam_stats.validation.example_privacy`,
:mod:`beam_stats.stats.row_privacy`); every row is still written and counted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.artifacts import errors_path, load_json, load_schema, read_json_lines
from beam_stats.beam.running import make_pipeline, run_pipeline
from beam_stats.beam.sinks import WriteErrors, WriteTextFile
from beam_stats.beam.writing import (
    check_outputs,
    discard,
    input_pattern,
    match_inputs,
    publish_files,
    staging_folder,
)
from beam_stats.errors import LostOutputError
from beam_stats.jobs.statistics import count_problems
from beam_stats.pipelines.examples import ValidateExamples, WriteExamples, to_json_line
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.validation import ExampleChecks
from beam_stats.validation.examples import ColumnAnomaly

#: The files of the bad-rows folder this job owns (replaced by each run).
BAD_ROWS_FILES = ("bad-rows-*", "new-columns.jsonl", "summary.json")


@dataclasses.dataclass(frozen=True)
class ExamplesResult:
    """What :func:`validate_examples` found and wrote.

    Attributes:
        rows, good_rows, bad_rows: rows read, and how many passed and failed.
        anomalies: anomaly -> bad rows that have it.
        new_columns: the ``new-columns.jsonl`` records (feature, anomaly, description,
            num_rows): columns the schema does not know.
        schema_problems: what in the schema itself could not be checked as written (rows
            are checked against the schema as fixed).
        bad_rows_dir, good_rows_dir: the folders written (good: None when not asked).
        errors: the errors file; input_problems: the records in it.
    """

    rows: int
    good_rows: int
    bad_rows: int
    anomalies: Mapping[str, int]
    new_columns: tuple[Mapping[str, Any], ...]
    schema_problems: tuple[ColumnAnomaly, ...]
    bad_rows_dir: str
    good_rows_dir: str | None
    errors: str
    input_problems: int

    @property
    def clean(self) -> bool:
        """No bad row (new columns and input problems are reported apart)."""
        return self.bad_rows == 0


def validate_examples(
    inputs: str | Sequence[str],
    schema: schema_pb2.Schema | str,
    bad_rows: str,
    *,
    good_rows: str | None = None,
    environment: str | None = None,
    input_format: str | None = None,
    output_format: str = "jsonl",
    errors: str | None = None,
    pipeline_options: PipelineOptions | Sequence[str] | None = None,
    privacy: PrivacySpec | None = None,
) -> ExamplesResult:
    """Checks every row of the files `inputs` match against `schema`.

    Args:
        inputs: file paths or globs, on any Beam file system.
        schema: the schema, or its path.
        bad_rows: the folder of bad rows, new columns and the summary.
        good_rows: a folder for the good rows, if wanted.
        environment: the data's environment (e.g. ``SERVING``); None: every feature.
        input_format: one of ``beam_stats.beam.sources.FORMATS``; None: by file suffix.
        output_format: rows written as ``jsonl`` or ``parquet``.
        errors: the errors file; default ``<bad_rows>/bad-rows.errors.jsonl``.
        pipeline_options: Beam pipeline options, or flags such as ``["--runner=..."]``.
        privacy: what the rows, reasons and error messages keep of the values (None: all).

    Raises:
        InvalidInputError: no file matches a pattern, an output is an input, a bad option.
        LostOutputError: the runner counted rows but wrote no file of them.
    """
    patterns = [inputs] if isinstance(inputs, str) else list(inputs)
    bad_dir = bad_rows.rstrip("/")
    good_dir = good_rows.rstrip("/") if good_rows else None
    errors = errors or errors_path(f"{bad_dir}/bad-rows")
    outputs = [*(f"{bad_dir}/{name}" for name in BAD_ROWS_FILES), errors]
    if good_dir is not None:
        outputs.append(f"{good_dir}/good-rows-*")
    check_outputs([*patterns, schema if isinstance(schema, str) else None], outputs)
    match_inputs(patterns)
    schema = load_schema(schema) if isinstance(schema, str) else schema
    validate = ValidateExamples(schema, environment, privacy=privacy)
    pipeline = make_pipeline(pipeline_options)
    staged = {bad_dir: staging_folder(bad_dir)}
    if good_dir is not None:
        staged[good_dir] = staging_folder(good_dir)

    def write_json(records: Any, name: str, label: str) -> Any:
        return (
            records
            | f"{label}ToJson" >> beam.Map(to_json_line)
            | f"Write{label}" >> WriteTextFile(f"{bad_dir}/{name}")
        )

    read = pipeline | "Read" >> ReadRecordBatches(
        [input_pattern(p) for p in patterns], input_format, privacy=privacy
    )
    result = read.batches | "Validate" >> validate
    written = [
        result.bad
        | "WriteBadRows"
        >> WriteExamples(staged[bad_dir], output_format, "bad-rows", with_reasons=True)
    ]
    if good_dir is not None:
        written.append(
            result.good
            | "WriteGoodRows" >> WriteExamples(staged[good_dir], output_format, "good-rows")
        )
    written.append(write_json(result.new_columns, "new-columns.jsonl", "NewColumns"))
    written.append(read.errors | "WriteInputErrors" >> WriteErrors(errors, to_json_line))
    written.append(write_json(result.summary, "summary.json", "Summary"))
    # One final step that needs every write: Beam's DaskRunner runs only the graph of the
    # last transform (docs/RUNNERS.md).
    _ = tuple(written) | "Done" >> beam.Flatten()
    try:
        run_pipeline(pipeline)
        for folder, staging in staged.items():
            prefix = "bad-rows" if folder == bad_dir else "good-rows"
            publish_files(staging, folder, f"{prefix}-*")
    finally:
        for staging in staged.values():
            discard(staging)
    summary = load_json(f"{bad_dir}/summary.json", "summary")
    _check_written(summary["bad_rows"], f"{bad_dir}/bad-rows-*")
    if good_dir is not None:
        _check_written(summary["good_rows"], f"{good_dir}/good-rows-*")
    return ExamplesResult(
        rows=summary["rows"],
        good_rows=summary["good_rows"],
        bad_rows=summary["bad_rows"],
        anomalies=dict(summary["anomalies"]),
        new_columns=tuple(read_json_lines(f"{bad_dir}/new-columns.jsonl")),
        schema_problems=tuple(ExampleChecks(schema, environment).schema_problems),
        bad_rows_dir=bad_dir,
        good_rows_dir=good_dir,
        errors=errors,
        input_problems=count_problems(errors),
    )


def _check_written(rows: int, pattern: str) -> None:
    """Rows were counted but no file holds them: say so rather than lose them silently
    (Beam's DaskRunner does not finalise sharded writes, docs/RUNNERS.md)."""
    found = FileSystems.match([pattern])[0].metadata_list
    if rows and sum(m.size_in_bytes for m in found) == 0:  # no file, or only empty ones
        raise LostOutputError(
            f"the runner finished but wrote no {pattern} file, though {rows} rows belong "
            "there; it does not finalise sharded file writes (Beam's DaskRunner does not: "
            "docs/RUNNERS.md). Use another runner."
        )
