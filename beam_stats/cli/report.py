"""``beam-stats report``: statistics, one file or two compared, and anomalies as one HTML page.

A statistics file with several datasets (slices) shows one of them: the first (the whole
dataset) unless ``--dataset`` / ``--other-dataset`` names another; the page lists the others.
Giving the same file twice compares two of its slices.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from beam_stats.beam.artifacts import load_anomalies, load_statistics, write_report
from beam_stats.cli._common import add_privacy_arguments, no_pipeline, privacy_spec
from beam_stats.errors import InvalidInputError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="an HTML report of statistics (two compared side by side) and anomalies",
        description="Writes one self-contained HTML file (no network needed to view it): "
        "a sortable, filterable feature table, a chart per feature with both datasets "
        "overlaid, the anomalies and the drift/skew measures, breaches highlighted.",
    )
    report.add_argument("statistics", metavar="STATS", help="statistics file (e.g. training)")
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
    report.add_argument("--title", help="page title (default: the statistics file names)")
    report.add_argument(
        "--dataset", metavar="NAME", help="dataset (slice) of STATS to show (default: the first)"
    )
    report.add_argument(
        "--other-dataset",
        metavar="NAME",
        help="dataset (slice) of STATS2 to show (default: the first)",
    )
    add_privacy_arguments(report)
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.writing import check_outputs
    from beam_stats.pipelines.label_join import load_label_join
    from beam_stats.report import render_report
    from beam_stats.validation.pii import withhold_values

    no_pipeline(beam_args)
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
    label_join = load_label_join(args.label_join) if args.label_join else None
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
