"""``beam-stats run``: the main job (:func:`beam_stats.jobs.check`), from training and
serving data to a report people read; this module only parses its arguments and prints.

Exit status: 0 no anomaly, 1 anomalies found (so the job can gate a pipeline), 2 bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from beam_stats.beam.formats import FORMATS
from beam_stats.cli._common import (
    add_privacy_arguments,
    add_workers_argument,
    privacy_spec,
    report_input_problems,
)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="statistics of training and serving data, schema, anomalies, skew and a report",
    )
    run.add_argument("--train", nargs="+", required=True, metavar="PATTERN", help="training data")
    run.add_argument("--serving", nargs="+", required=True, metavar="PATTERN", help="serving data")
    run.add_argument("--out", required=True, help="folder for every result")
    run.add_argument("--format", choices=FORMATS, help="input format (default: by suffix)")
    run.add_argument("--schema", help="a schema to use instead of inferring one from training")
    run.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="FEATURE",
        help="a feature present in training only (not expected in SERVING); repeatable",
    )
    run.add_argument(
        "--label-quantile-bins",
        type=int,
        metavar="N",
        help="with --label: N classes of a numeric (first) label of about equal size, from "
        "the quantiles of the training label, used for both datasets (one more read of "
        "training)",
    )
    run.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="FEATURE",
        help="a group feature: each group's share, label distribution and disparity in the "
        "report; the inferred schema checks them (beam_stats.drift.defaults); repeatable",
    )
    run.add_argument(
        "--infer-ranges", action="store_true", help="infer numeric ranges (10%% margin)"
    )
    run.add_argument(
        "--disallow-nan", action="store_true", help="infer that NaN is allowed only where seen"
    )
    add_workers_argument(run)
    add_privacy_arguments(run)
    run.set_defaults(run=run_main_job)


def run_main_job(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    # The job's progress lines go to this command's standard error, for this command only:
    # a handler left behind would write to a stream that may be gone by the next call of
    # main() in the same process (a script or a test calling it again).
    progress = logging.getLogger("beam_stats.progress")
    if progress.handlers:
        return _run_main_job(args, beam_args)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("      %(message)s"))
    saved = progress.level, progress.propagate
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False
    try:
        return _run_main_job(args, beam_args)
    finally:
        progress.removeHandler(handler)
        progress.setLevel(saved[0])
        progress.propagate = saved[1]


def _run_main_job(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.cli._common import plural, print_table
    from beam_stats.errors import InvalidInputError
    from beam_stats.jobs import CheckSpec, check
    from beam_stats.schema import RangeInferenceSpec, SchemaInferenceSpec
    from beam_stats.stats import StatisticsSpec
    from beam_stats.stats.label_spec import LabelSpec
    from beam_stats.validation.catalogue import CUSTOM_NAMES

    statistics = StatisticsSpec(privacy=privacy_spec(args))
    if args.label_quantile_bins is not None:
        if not args.label:
            raise InvalidInputError("--label-quantile-bins needs --label")
        label = LabelSpec.from_text(args.label[0], quantile_bins=args.label_quantile_bins)
        statistics = StatisticsSpec(label=label, privacy=statistics.privacy)
    spec = CheckSpec(
        labels=tuple(args.label),
        statistics=statistics,
        groups=tuple(args.group),
        inference=SchemaInferenceSpec(
            ranges=RangeInferenceSpec() if args.infer_ranges else None,
            disallow_nan=args.disallow_nan,
        ),
        input_format=args.format,
        workers=args.workers,
    )
    result = check(
        args.train,
        args.serving,
        args.out,
        schema=args.schema,
        spec=spec,
        pipeline_options=beam_args,
        progress=lambda line: print(line, file=sys.stderr),
    )
    for name in ("train", "serving"):
        report_input_problems(result.paths[f"{name}_errors"])
    rows = [
        (
            row.feature or "(dataset)",
            row.short_description
            if row.type == "CUSTOM_VALIDATION" and row.short_description in CUSTOM_NAMES
            else row.type,
            row.severity,
            row.description,
        )
        for row in result.rows
    ]
    if rows:
        print_table([("feature", "anomaly", "severity", "description"), *rows])
    paths = result.paths
    print(
        f"{plural(len(rows), 'anomaly', 'anomalies')}; report: {paths['report']}, "
        f"schema: {paths['schema']}, anomalies: {paths['anomalies']}"
    )
    return 1 if rows else 0
