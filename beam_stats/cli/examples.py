"""``beam-stats validate-examples``: each row of files checked against a schema, on Beam.

Writes into the ``--bad-rows`` directory: ``bad-rows-*.jsonl`` (or ``.parquet``), the rows
that break the schema with their reasons; ``new-columns.jsonl``, columns the schema does not
know (a schema problem: it makes no row bad); ``summary.json``, the counts; and
``bad-rows.errors.jsonl`` (or ``--errors FILE``), input that could not be read into rows
(malformed lines, unreadable files), named as every command names its errors file
(``OUTPUT.errors.jsonl``, the output being the bad rows). With ``--good-rows DIR``, the good
rows go to ``good-rows-*`` files there. Files of those names left by an earlier run are
replaced, nothing else in the directories is touched.

Exit status: 0 when every row is good, 1 when some are bad, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from beam_stats.beam.sources import FORMATS
from beam_stats.cli._common import add_errors_argument, report_input_problems, run_pipeline
from beam_stats.errors import InvalidInputError, LostOutputError

_OURS_BAD = ("bad-rows-*", "new-columns.jsonl", "summary.json")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "validate-examples",
        help="check every row of files against a schema; bad rows go out with their reasons",
    )
    command.add_argument("inputs", nargs="+", metavar="INPUT", help="file paths or globs")
    command.add_argument("--schema", required=True, help="schema file (text or binary proto)")
    command.add_argument("--bad-rows", required=True, metavar="DIR", help="folder for bad rows")
    command.add_argument("--good-rows", metavar="DIR", help="folder for good rows (optional)")
    add_errors_argument(command, "DIR/bad-rows")
    command.add_argument("--format", choices=FORMATS, help="input format")
    command.add_argument(
        "--output-format", choices=("jsonl", "parquet"), default="jsonl", help="rows written as"
    )
    command.add_argument(
        "--environment", help="the data's environment (e.g. SERVING); default: all features"
    )
    command.set_defaults(run=run_validate_examples)


def _check_written(rows: int, pattern: str) -> None:
    """Rows were counted but no file holds them: say so rather than lose them silently
    (Beam's DaskRunner does not finalise sharded writes, docs/RUNNERS.md)."""
    from apache_beam.io.filesystems import FileSystems

    found = FileSystems.match([pattern])[0].metadata_list
    if rows and sum(m.size_in_bytes for m in found) == 0:  # no file, or only empty ones
        raise LostOutputError(
            f"the runner finished but wrote no {pattern} file, though {rows} rows belong "
            "there; it does not finalise sharded file writes (Beam's DaskRunner does not: "
            "docs/RUNNERS.md). Use another runner."
        )


def _print_problems(bad_dir: str, errors_path: str) -> None:
    from beam_stats.beam.artifacts import read_json_lines

    for column in read_json_lines(f"{bad_dir}/new-columns.jsonl"):
        print(
            f"column {column['feature']}: {column['anomaly']} ({column['description']}), "
            f"in {column['num_rows']} rows; not a row problem",
            file=sys.stderr,
        )
    report_input_problems(errors_path)


def run_validate_examples(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_stats.beam import ReadRecordBatches
    from beam_stats.beam.artifacts import errors_path, load_json, load_schema
    from beam_stats.beam.writing import (
        WriteTextFile,
        check_outputs,
        discard,
        input_pattern,
        match_inputs,
        publish_files,
        staging_folder,
    )
    from beam_stats.pipelines.examples import ValidateExamples, WriteExamples, to_json_line
    from beam_stats.validation import ExampleChecks

    bad_dir = args.bad_rows.rstrip("/")
    good_dir = args.good_rows.rstrip("/") if args.good_rows else None
    errors = args.errors or errors_path(f"{bad_dir}/bad-rows")
    outputs = [*(f"{bad_dir}/{name}" for name in _OURS_BAD), errors]
    if good_dir is not None:
        outputs.append(f"{good_dir}/good-rows-*")
    check_outputs([*args.inputs, args.schema], outputs)
    match_inputs(args.inputs)
    schema = load_schema(args.schema)
    validate = ValidateExamples(schema, args.environment)
    for problem in ExampleChecks(schema, args.environment).schema_problems:
        where = f"feature {problem.feature}" if problem.feature else "dataset"
        print(
            f"schema, {where}: {problem.anomaly} ({problem.description}); rows are checked "
            "against the schema as fixed",
            file=sys.stderr,
        )
    try:
        pipeline = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    except ValueError as e:  # e.g. an unknown --runner
        raise InvalidInputError(f"bad pipeline option: {e}") from e
    # Row files are written aside and moved into place when the run has succeeded; the
    # single files are replaced atomically (beam_stats.beam.writing).
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
        [input_pattern(p) for p in args.inputs], args.format
    )
    result = read.batches | "Validate" >> validate
    written = [
        result.bad
        | "WriteBadRows"
        >> WriteExamples(staged[bad_dir], args.output_format, "bad-rows", with_reasons=True)
    ]
    if good_dir is not None:
        written.append(
            result.good
            | "WriteGoodRows" >> WriteExamples(staged[good_dir], args.output_format, "good-rows")
        )
    written.append(write_json(result.new_columns, "new-columns.jsonl", "NewColumns"))
    written.append(
        read.errors
        | "InputErrorsToJson" >> beam.Map(to_json_line)
        | "WriteInputErrors" >> WriteTextFile(errors)
    )
    written.append(write_json(result.summary, "summary.json", "Summary"))
    # One final step that needs every write: Beam's DaskRunner runs only the graph of the
    # last transform (docs/RUNNERS.md).
    _ = tuple(written) | "Done" >> beam.Flatten()
    try:
        run_pipeline(pipeline)
        publish_files(staged[bad_dir], bad_dir, "bad-rows-*")
        if good_dir is not None:
            publish_files(staged[good_dir], good_dir, "good-rows-*")
    finally:
        for staging in staged.values():
            discard(staging)
    summary = load_json(f"{bad_dir}/summary.json", "summary")
    _check_written(summary["bad_rows"], f"{bad_dir}/bad-rows-*")
    if args.good_rows:
        _check_written(summary["good_rows"], f"{args.good_rows.rstrip('/')}/good-rows-*")
    print(
        f"validated {summary['rows']} rows: {summary['good_rows']} good, "
        f"{summary['bad_rows']} bad (in {bad_dir})"
    )
    for anomaly, rows in summary["anomalies"].items():
        print(f"  {anomaly}: {rows} rows")
    _print_problems(bad_dir, errors)
    return 1 if summary["bad_rows"] else 0
