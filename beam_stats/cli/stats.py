"""``beam-stats stats``: files in, statistics out, on Beam; with ``--history``, into a
statistics store, one file per span (:func:`beam_stats.jobs.backfill_history`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from beam_stats.beam.formats import FORMATS
from beam_stats.cli._common import (
    add_engine_argument,
    add_errors_argument,
    add_privacy_arguments,
    add_workers_argument,
    plural,
    privacy_spec,
    report_input_problems,
)
from beam_stats.errors import InvalidInputError
from beam_stats.stats.slicing import DEFAULT_MAX_SLICES

if TYPE_CHECKING:
    from beam_stats.stats import StatisticsSpec


def add_parsers(commands: argparse._SubParsersAction) -> None:
    stats = commands.add_parser("stats", help="compute statistics of files")
    stats.add_argument("inputs", nargs="+", metavar="INPUT", help="file paths or globs")
    stats.add_argument(
        "--output", help="statistics file to write (required unless --history is given)"
    )
    stats.add_argument(
        "--history",
        metavar="STORE",
        help="add the statistics to a statistics store instead, one file per span (spans "
        "it has are replaced): with --span-from-path, every span of the inputs in one "
        "pipeline; with --span, the whole input as one span",
    )
    stats.add_argument(
        "--span-from-path",
        metavar="REGEX",
        help="with --history: a regular expression that reads each file's span from its "
        "path, its group named 'span' or its only group, e.g. 'day=(?P<span>[^/]+)'; a file "
        "it does not match is an error",
    )
    stats.add_argument(
        "--span", metavar="KEY", help="with --history: the one span of every input file"
    )
    stats.add_argument("--format", choices=FORMATS, help="input format")
    stats.add_argument(
        "--text",
        action="store_true",
        help="write the text proto format (default: by suffix, .pbtxt/.textproto/.txt)",
    )
    stats.add_argument("--name", default="", help="dataset name in the output")
    add_errors_argument(stats)
    add_engine_argument(stats)
    add_workers_argument(stats)
    stats.add_argument(
        "--categorical",
        action="append",
        default=[],
        metavar="FEATURE",
        help="an int feature to summarise like a string (repeatable)",
    )
    stats.add_argument(
        "--slice",
        action="append",
        default=[],
        metavar="FEATURE[,FEATURE...]",
        help="also compute statistics per value of a feature; a comma crosses features "
        "(repeatable)",
    )
    stats.add_argument(
        "--max-slices",
        type=int,
        metavar="N",
        help=f"with --slice: fail when the slicings make more than N slices (default "
        f"{DEFAULT_MAX_SLICES:,}); each slice holds an accumulator of every feature in memory",
    )
    stats.add_argument(
        "--weight", metavar="FEATURE", help="a numeric feature that weighs each example"
    )
    stats.add_argument(
        "--label",
        metavar="FEATURE",
        help="the label: adds what each feature says about it (lift, mutual information, "
        "covariance with a numeric label) as cross_features",
    )
    stats.add_argument(
        "--label-bins",
        metavar="EDGE,EDGE,...",
        help="with --label: increasing edges that make classes of a numeric label",
    )
    stats.add_argument(
        "--label-quantile-bins",
        type=int,
        metavar="N",
        help="with --label: N classes of a numeric label of about equal size, from its "
        "quantiles (one more read of the inputs); instead of --label-bins",
    )
    stats.add_argument(
        "--no-pii-detection",
        dest="detect_pii",
        action="store_false",
        help="do not look for personal data in string features (the pii_<kind> statistics)",
    )
    stats.add_argument(
        "--label-max-classes",
        type=int,
        metavar="N",
        help="with --label: the most label classes kept (default 20)",
    )
    stats.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="FEATURE",
        help="a group feature: counted per value (as categorical) and recorded, for each "
        "group's share, label distribution and disparity in reports and validation; "
        "repeatable",
    )
    stats.add_argument(
        "--schema",
        metavar="SCHEMA",
        help="a schema whose sparse and weighted features get TFDV's statistics "
        "(missing_value, missing_index/missing_weight, length differences)",
    )
    stats.add_argument(
        "--no-sketch-state",
        dest="sketch_state",
        action="store_false",
        help="write the finished statistics only (smaller; cannot be merged later)",
    )
    add_privacy_arguments(stats)
    stats.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.inprocess import check_workers
    from beam_stats.jobs.statistics import compute_statistics
    from beam_stats.stats import SlicingSpec, StatisticsSpec
    from beam_stats.stats.label_spec import LabelSpec

    if args.max_slices is not None and not args.slice:
        raise InvalidInputError("--max-slices needs --slice")
    if args.history is None:
        if args.span_from_path is not None or args.span is not None:
            raise InvalidInputError("--span-from-path and --span need --history STORE")
        if args.output is None:
            raise InvalidInputError("give --output FILE (or --history STORE)")
    else:
        # backfill_history runs one pipeline for every span (workers: the runner's options).
        check_workers(args.workers, in_process=False)
        refused = [
            flag
            for flag, given in (
                ("--output", args.output is not None),
                ("--slice", bool(args.slice)),
                ("--text", args.text),
                ("--no-sketch-state", not args.sketch_state),
                ("--engine in-process", args.engine == "in-process"),
            )
            if given
        ]
        if refused:
            raise InvalidInputError(
                f"{', '.join(refused)} cannot go with --history: each span's statistics "
                "(one dataset, with its sketch state) go to the store"
            )
    label = None
    if args.label is not None:
        label = LabelSpec.from_text(
            args.label, args.label_bins, args.label_max_classes, args.label_quantile_bins
        )
    elif any(
        flag is not None
        for flag in (args.label_bins, args.label_max_classes, args.label_quantile_bins)
    ):
        raise InvalidInputError(
            "--label-bins, --label-quantile-bins and --label-max-classes need --label"
        )
    slicing = (
        SlicingSpec(
            features=tuple(tuple(s.split(",")) for s in args.slice),
            max_slices=DEFAULT_MAX_SLICES if args.max_slices is None else args.max_slices,
        )
        if args.slice
        else None
    )
    spec = StatisticsSpec(
        categorical_features=frozenset(args.categorical),
        weight_feature=args.weight,
        label=label,
        groups=tuple(args.group),
        detect_pii=args.detect_pii,
        privacy=privacy_spec(args),
    )
    if args.history is not None:
        return _run_backfill(args, beam_args, spec)
    result = compute_statistics(
        args.inputs,
        args.output,
        spec=spec,
        slicing=slicing,
        schema=args.schema,
        input_format=args.format,
        name=args.name,
        errors=args.errors,
        text=True if args.text else None,
        include_state=args.sketch_state,
        pipeline_options=beam_args,
        engine=args.engine,
        workers=args.workers,
    )
    summary = result.summary  # not the whole message: a sparse file's can be large
    slices = f" and {summary.num_datasets - 1} slices" if slicing else ""
    checked = f" ({summary.num_composites} sparse/weighted)" if summary.num_composites else ""
    print(
        f"wrote statistics of {summary.num_examples} examples and "
        f"{summary.num_features} features{checked}{slices} to {args.output}"
    )
    report_input_problems(result.errors)
    return 0


def _run_backfill(args: argparse.Namespace, beam_args: Sequence[str], spec: StatisticsSpec) -> int:
    from beam_stats.jobs.backfill import backfill_history

    result = backfill_history(
        args.inputs,
        args.history,
        span_from_path=args.span_from_path,
        span=args.span,
        spec=spec,
        schema=args.schema,
        input_format=args.format,
        name=args.name,
        errors=args.errors,
        pipeline_options=beam_args,
    )
    spans = [e.span for e in result.entries]
    details = [spans[0] if len(spans) == 1 else f"{spans[0]} to {spans[-1]}"]
    details.append(plural(result.num_examples, "example"))
    if result.replaced:
        details.append(f"{len(result.replaced)} replaced")
    print(f"added {plural(len(spans), 'span')} ({', '.join(details)}) to {result.store.path}")
    report_input_problems(result.errors)
    return 0
