"""``beam-stats report``: statistics, one file or two compared, and anomalies as one HTML page.

A statistics file with several datasets (slices) shows one of them: the first (the whole
dataset) unless ``--dataset`` / ``--other-dataset`` names another; the page lists the others.
Giving the same file twice compares two of its slices.

``--history STORE`` draws a statistics store over time instead (no STATS then: giving both
is refused): each feature's metrics along the spans, with the anomalies ``beam-stats monitor
--all-spans`` finds marked at their span (:func:`beam_stats.jobs.monitoring.history_report`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from beam_stats.beam.artifacts import load_anomalies, load_statistics, write_report
from beam_stats.cli._common import add_privacy_arguments, no_pipeline, privacy_spec
from beam_stats.drift.series_limits import DEFAULT_BASELINE_SPANS
from beam_stats.errors import InvalidInputError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="an HTML report of statistics (two compared side by side) and anomalies",
        description="Writes one self-contained HTML file (no network needed to view it): "
        "a sortable, filterable feature table, a chart per feature with both datasets "
        "overlaid, the anomalies and the drift/skew measures, breaches highlighted. With "
        "--history STORE instead of STATS: every feature's metrics over the spans of a "
        "statistics store, anomalies marked.",
    )
    report.add_argument(
        "statistics",
        metavar="STATS",
        nargs="?",
        help="statistics file (e.g. training); required unless --history is given",
    )
    report.add_argument(
        "other",
        metavar="STATS2",
        nargs="?",
        help="statistics to compare with (e.g. serving), shown beside STATS",
    )
    report.add_argument(
        "--anomalies", help="anomalies file, text or binary (as `beam-stats validate` writes)"
    )
    report.add_argument(
        "--label-join",
        metavar="SUMMARY",
        help="a label-join summary (as `beam-stats label-join` writes): the labeling loop",
    )
    report.add_argument("--output", required=True, help="HTML file to write")
    report.add_argument(
        "--title", help="page title (default: the statistics file names, or the store's)"
    )
    report.add_argument(
        "--dataset", metavar="NAME", help="dataset (slice) of STATS to show (default: the first)"
    )
    report.add_argument(
        "--other-dataset",
        metavar="NAME",
        help="dataset (slice) of STATS2 to show (default: the first)",
    )
    history = report.add_argument_group("history (a statistics store over time, instead of STATS)")
    history.add_argument(
        "--history",
        metavar="STORE",
        help="draw every span of a statistics store: each feature's metrics over the spans, "
        "anomalies (as `beam-stats monitor --all-spans` finds them) marked and listed",
    )
    history.add_argument(
        "--schema", help="with --history: schema with drift thresholds (default: the defaults)"
    )
    history.add_argument(
        "--baseline-spans",
        type=int,
        metavar="N",
        help=f"with --history: the rolling baseline's length in spans "
        f"(default {DEFAULT_BASELINE_SPANS})",
    )
    add_privacy_arguments(report)
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.writing import check_outputs
    from beam_stats.report import render_report
    from beam_stats.validation.pii import withhold_values

    no_pipeline(beam_args)
    if args.history is not None:
        return _run_history(args)
    if args.statistics is None:
        raise InvalidInputError("give a statistics file (STATS), or --history STORE")
    for flag in ("schema", "baseline_spans"):
        if getattr(args, flag) is not None:
            raise InvalidInputError(f"--{flag.replace('_', '-')} applies only with --history STORE")
    check_outputs([args.statistics, args.other, args.anomalies, args.label_join], [args.output])
    if args.other_dataset is not None and args.other is None:
        raise InvalidInputError("--other-dataset needs a second statistics file (STATS2)")
    privacy = privacy_spec(args)
    statistics = _named(load_statistics(args.statistics, privacy), args.statistics)
    other = (
        _named(load_statistics(args.other, privacy), args.other) if args.other is not None else None
    )
    anomalies = load_anomalies(args.anomalies) if args.anomalies else None
    if anomalies is not None and privacy.active:  # it may have been made without the policy
        shown = [*statistics.datasets, *(other.datasets if other is not None else [])]
        anomalies = withhold_values(anomalies, *shown)
    label_join = None
    if args.label_join:
        from beam_stats.pipelines.label_join import load_label_join  # imports Beam

        label_join = load_label_join(args.label_join)
    title = args.title
    if title is None:
        names = [PurePosixPath(p).name for p in (args.statistics, args.other) if p is not None]
        title = "beam-stats report: " + " vs ".join(names)
    page = render_report(
        statistics,
        other,
        anomalies,
        title=title,
        dataset=args.dataset,
        other_dataset=args.other_dataset,
        label_join=label_join,
    )
    write_report(page, args.output)
    print(f"wrote the report ({len(page.encode('utf-8')):,} bytes) to {args.output}")
    _list_other_datasets(statistics, args.dataset, args.statistics)
    if other is not None:
        _list_other_datasets(other, args.other_dataset, args.other)
    return 0


def _run_history(args: argparse.Namespace) -> int:
    from beam_stats.jobs.monitoring import history_report

    if args.statistics is not None:
        given = " ".join(p for p in (args.statistics, args.other) if p is not None)
        raise InvalidInputError(
            f"give either statistics files or --history STORE, not both (got {given} and "
            f"--history {args.history})"
        )
    for flag in ("anomalies", "label_join", "dataset", "other_dataset"):
        if getattr(args, flag) is not None:
            raise InvalidInputError(f"--{flag.replace('_', '-')} does not apply to --history")
    if args.redact or args.redact_pii or args.hash or args.hash_key_file or args.min_count != 1:
        raise InvalidInputError(
            "the privacy options do not apply to --history: a store's statistics keep the "
            "policy they were computed with"
        )
    baseline = DEFAULT_BASELINE_SPANS if args.baseline_spans is None else args.baseline_spans
    page = history_report(
        args.history, args.output, schema=args.schema, baseline_spans=baseline, title=args.title
    )
    print(f"wrote the history report ({len(page.encode('utf-8')):,} bytes) to {args.output}")
    return 0


def _named(statistics: Any, path: str) -> Any:
    """`statistics` with an unnamed dataset labelled by its file name (in the page only)."""
    for dataset in statistics.datasets:
        if not dataset.name:
            dataset.name = PurePosixPath(path).name
    return statistics


def _list_other_datasets(statistics: object, chosen: str | None, path: str) -> None:
    names = [d.name for d in getattr(statistics, "datasets", [])]
    if len(names) > 1:
        shown = chosen if chosen is not None else names[0]
        print(
            f"{path} holds {len(names)} datasets; the report shows {shown!r} "
            "(choose another with --dataset / --other-dataset)",
            file=sys.stderr,
        )
