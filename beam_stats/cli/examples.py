"""``beam-stats validate-examples``: the arguments of :func:`beam_stats.jobs.validate_examples`
(each row of files checked against a schema, on Beam; the module says what it writes into
``--bad-rows DIR`` and ``--good-rows DIR``), and a summary printed from its result.

Exit status: 0 when every row is good, 1 when some are bad, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from beam_stats.beam.formats import FORMATS
from beam_stats.cli._common import (
    add_errors_argument,
    add_privacy_arguments,
    privacy_spec,
    report_input_problems,
)


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
    add_privacy_arguments(command)
    command.set_defaults(run=run_validate_examples)


def run_validate_examples(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.jobs.examples import validate_examples

    result = validate_examples(
        args.inputs,
        args.schema,
        args.bad_rows,
        good_rows=args.good_rows,
        environment=args.environment,
        input_format=args.format,
        output_format=args.output_format,
        errors=args.errors,
        pipeline_options=beam_args,
        privacy=privacy_spec(args),
    )
    for problem in result.schema_problems:
        where = f"feature {problem.feature}" if problem.feature else "dataset"
        print(
            f"schema, {where}: {problem.anomaly} ({problem.description}); rows were checked "
            "against the schema as fixed",
            file=sys.stderr,
        )
    print(
        f"validated {result.rows} rows: {result.good_rows} good, "
        f"{result.bad_rows} bad (in {result.bad_rows_dir})"
    )
    for anomaly, rows in result.anomalies.items():
        print(f"  {anomaly}: {rows} rows")
    for column in result.new_columns:
        print(
            f"column {column['feature']}: {column['anomaly']} ({column['description']}), "
            f"in {column['num_rows']} rows; not a row problem",
            file=sys.stderr,
        )
    report_input_problems(result.errors)
    return 0 if result.clean else 1
