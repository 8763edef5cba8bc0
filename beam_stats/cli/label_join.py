"""``beam-stats label-join``: the arguments of :func:`beam_stats.jobs.label_join` (served examples
joined with the labels that came back; the job's module says what it writes into ``--output
DIR``), and the figures printed from its summary: the counts, coverage, label delay, predicted
against actual overall, the calibration table and one table per group feature.

Exit status: 0 when the join is clean, 1 when it has problems
(:attr:`~beam_stats.jobs.join_labels.LabelJoinResult.problems`: missing or duplicated
identifiers, orphan feedback, unreadable labels, predictions or times, feedback before
serving, coverage below ``--min-coverage``), 2 on bad input.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from beam_stats.beam.formats import FORMATS
from beam_stats.cli._common import (
    add_errors_argument,
    add_privacy_arguments,
    plural,
    print_table,
    privacy_spec,
    report_input_problems,
)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "label-join",
        help="join served examples with the labels that came back: coverage, delay, "
        "calibration, groups, and the labeled rows",
    )
    command.add_argument("--served", nargs="+", required=True, metavar="PATTERN")
    command.add_argument("--feedback", nargs="+", required=True, metavar="PATTERN")
    command.add_argument(
        "--id", action="append", required=True, metavar="FEATURE", help="identifier (repeatable)"
    )
    command.add_argument("--prediction", required=True, metavar="FEATURE", help="served")
    command.add_argument("--label", required=True, metavar="FEATURE", help="in the feedback")
    command.add_argument("--served-time", metavar="FEATURE", help="time of serving")
    command.add_argument("--feedback-time", metavar="FEATURE", help="time of the feedback")
    command.add_argument(
        "--group", action="append", default=[], metavar="FEATURE", help="served (repeatable)"
    )
    command.add_argument("--output", required=True, metavar="DIR", help="folder of the outputs")
    command.add_argument(
        "--summary", metavar="FILE", help="summary file (default DIR/summary.pbtxt; .pb: binary)"
    )
    command.add_argument("--buckets", type=int, default=10, help="calibration buckets")
    command.add_argument(
        "--prediction-range", type=float, nargs=2, default=(0.0, 1.0), metavar=("LOW", "HIGH")
    )
    command.add_argument("--max-groups", type=int, default=1000, help="values per group feature")
    command.add_argument(
        "--min-coverage", type=float, default=0.0, help="a lower coverage exits with 1"
    )
    command.add_argument("--num-shards", type=int, help="join partitions (default 512)")
    command.add_argument("--format", choices=FORMATS, help="input format (default: by suffix)")
    add_errors_argument(command, "DIR/labeled")
    add_privacy_arguments(command)
    command.set_defaults(run=run_label_join)


def _number(value: float, digits: int = 4) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}g}"


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.1f}%"


def _rates_row(rates: Any) -> tuple[str, ...]:
    return (
        str(rates.served_rows),
        str(rates.labeled_rows),
        _percent(rates.coverage),
        _number(rates.compared_mean_prediction),
        _number(rates.compared_label_rate),
        _number(rates.compared_mean_prediction - rates.compared_label_rate, 3),
    )


_RATES_HEAD = ("served", "labeled", "coverage", "predicted", "actual", "difference")


def print_summary(s: Any) -> None:
    """The counts, the delay and the tables of a ``LabelJoinSummary``."""
    print(
        f"served: {s.served_rows} rows, {s.served_ids} ids ({s.served_duplicate_ids} served "
        f"more than once, {s.served_duplicate_rows} rows; all kept), {s.served_null_ids} rows "
        "without an id"
    )
    print(
        f"feedback: {s.feedback_rows} rows, {s.feedback_ids} ids ({s.feedback_duplicate_ids} "
        f"more than once: the earliest is the label), {s.feedback_null_ids} rows without an id, "
        f"{s.feedback_null_labels} without a label, {s.feedback_bad_labels} not a number"
    )
    print(
        f"orphans (feedback never served): {s.orphan_ids} ids, {s.orphan_rows} rows; "
        f"feedback rows not used as the label: {s.feedback_unused_rows}"
    )
    print(
        f"coverage: {_percent(s.coverage)} of served rows ({s.labeled_rows} of {s.served_rows}), "
        f"{_percent(s.id_coverage)} of ids ({s.labeled_ids} of {s.served_ids})"
    )
    if s.HasField("delay"):
        d = s.delay
        quantiles = ", ".join(
            f"{'min' if r == 0 else 'max' if r == 1 else f'p{100 * r:g}'} {_number(q, 6)}"
            for r, q in zip(d.ranks, d.quantiles, strict=True)
        )
        print(f"label delay (s) of {d.count} rows: mean {_number(d.mean, 6)}; {quantiles}")
        if d.negative:
            print(f"  feedback before serving: {d.negative} rows")
    o = s.overall
    print(
        f"predicted vs actual on {o.compared_rows} labeled rows with a prediction: mean "
        f"prediction {_number(o.compared_mean_prediction)}, label rate "
        f"{_number(o.compared_label_rate)} (mean prediction of all served: "
        f"{_number(o.mean_prediction)})"
    )
    rows: list[tuple[str, ...]] = [("prediction", *_RATES_HEAD)]
    for i, bucket in enumerate(s.calibration):
        end = "]" if i == len(s.calibration) - 1 else ")"
        span = f"[{bucket.lower:.3g}, {bucket.upper:.3g}{end}"
        rows.append((span, *_rates_row(bucket.rates)))
    print("calibration (predicted and actual over labeled rows with a prediction):")
    print_table(rows)
    if s.predictions_out_of_range:
        print(f"  {s.predictions_out_of_range} predictions outside the range, in the end buckets")
    for feature in s.group_features:
        rows = [(str(feature), *_RATES_HEAD)]
        for group in (g for g in s.groups if g.feature == feature):
            value = "(missing)" if group.missing else str(group.value)
            rows.append((value, *_rates_row(group.rates)))
        print(f"group {feature}:")
        print_table(rows)


def run_label_join(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.jobs.join_labels import label_join

    found = label_join(
        args.served,
        args.feedback,
        args.id,
        args.prediction,
        args.label,
        args.output,
        served_time=args.served_time,
        feedback_time=args.feedback_time,
        groups=args.group,
        calibration_buckets=args.buckets,
        prediction_range=tuple(args.prediction_range),
        max_groups=args.max_groups,
        min_coverage=args.min_coverage,
        summary=args.summary,
        num_shards=args.num_shards,
        input_format=args.format,
        errors=args.errors,
        privacy=privacy_spec(args),
        pipeline_options=beam_args,
    )
    print_summary(found.summary)
    files = plural(len(found.rows), "file")
    print(
        f"labeled rows: {found.output}/labeled-*.parquet ({files}); summary: {found.summary_path}"
    )
    for problem in found.problems:
        print(f"problem: {problem}", file=sys.stderr)
    report_input_problems(found.errors)
    return 0 if found.clean else 1
