"""``beam-stats history add``, ``list``, ``remove`` and ``clean``: a statistics store, one
file per span (:mod:`beam_stats.beam.history`); ``beam-stats monitor``: its spans checked over time
(:mod:`beam_stats.jobs.monitoring`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from beam_stats.cli._common import no_pipeline, plural, print_table
from beam_stats.drift.series_limits import (
    DEFAULT_BASELINE_SPANS,
    DEFAULT_SERIES_LIMITS,
    STRATEGIES,
    SeriesLimits,
)

if TYPE_CHECKING:
    from beam_stats.beam.history import StatisticsStore


def add_parsers(commands: argparse._SubParsersAction) -> None:
    history = commands.add_parser(
        "history",
        help="a statistics store: one statistics file per span (a day, a run), for baselines",
        description="A statistics store is a folder (any Beam file system) holding one "
        "statistics file per span and a manifest.json listing them with their checksums.",
    )
    actions = history.add_subparsers(dest="history_command", required=True)
    add = actions.add_parser(
        "add",
        help="add a span's statistics to a store (replacing the span's earlier statistics)",
        description="Copies STATS (with its sketch state) into STORE as the statistics of "
        "the span KEY; a span already in the store is replaced atomically.",
    )
    add.add_argument("store", metavar="STORE", help="the store's folder (created if missing)")
    add.add_argument("statistics", metavar="STATS", help="statistics file")
    add.add_argument(
        "--span",
        required=True,
        metavar="KEY",
        help="the span: a key that sorts as text, e.g. a date 2026-11-23 (no '/')",
    )
    add.add_argument(
        "--no-replace",
        dest="replace",
        action="store_false",
        help="refuse a span the store has already",
    )
    add.set_defaults(run=run_add)
    listing = actions.add_parser(
        "list",
        help="the spans of a store, oldest first; exit 1 if a file is damaged or missing",
    )
    listing.add_argument("store", metavar="STORE", help="the store's folder")
    listing.set_defaults(run=run_list)
    remove = actions.add_parser(
        "remove",
        help="remove spans from a store (the manifest first, then their files)",
    )
    remove.add_argument("store", metavar="STORE", help="the store's folder")
    remove.add_argument(
        "--span", required=True, action="append", metavar="KEY", help="a span to remove (repeat)"
    )
    remove.set_defaults(run=run_remove)
    clean = actions.add_parser(
        "clean",
        help="delete span files no span names (left by an interrupted add); not while adding",
    )
    clean.add_argument("store", metavar="STORE", help="the store's folder")
    clean.set_defaults(run=run_clean)
    check = commands.add_parser(
        "monitor",
        help="check the newest span of a store (or every span) against its history; "
        "exit 1 on anomalies",
        description="Checks a span of STORE against the previous span (drift thresholds of "
        "the schema, else the defaults), against the rolling baseline (the exact merge of "
        "the last N spans) and along its metric series (examples, missing fraction, mean, "
        "std, distinct values, top value share, drift distance from the previous span). "
        "The limits of the series in the schema (beam_stats.HistoryLimits, per metric and "
        "per feature) take precedence over --strategy, --z and --min-history.",
    )
    check.add_argument("store", metavar="STORE", help="the store's folder")
    check.add_argument(
        "--schema",
        help="schema: drift thresholds, limits of the metric series (default: the defaults)",
    )
    check.add_argument(
        "--output",
        metavar="ANOMALIES",
        help="write the Anomalies (one file per span with --all-spans: NAME-SPAN.pbtxt)",
    )
    check.add_argument("--all-spans", action="store_true", help="check every span")
    check.add_argument(
        "--baseline-spans",
        type=int,
        default=DEFAULT_BASELINE_SPANS,
        metavar="N",
        help=f"the rolling baseline's length in spans (default {DEFAULT_BASELINE_SPANS})",
    )
    check.add_argument(
        "--strategy",
        metavar="NAME",
        help=f"the metric series' strategy for every metric: {', '.join(STRATEGIES)} "
        f"(default {DEFAULT_SERIES_LIMITS.strategy}; absolute needs thresholds in the schema)",
    )
    check.add_argument(
        "--z",
        type=float,
        metavar="Z",
        help="the expected range's half-width in (robust) standard deviations "
        f"(default {DEFAULT_SERIES_LIMITS.z})",
    )
    check.add_argument(
        "--min-history",
        type=int,
        metavar="N",
        help="the fewest earlier spans the rolling baseline and the metric series need "
        f"(default {DEFAULT_SERIES_LIMITS.min_history})",
    )
    check.set_defaults(run=run_monitor)


def run_add(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    no_pipeline(beam_args)
    store = _store(args.store)
    verb = "replaced" if args.replace and args.span in store else "added"
    entry = store.add(args.statistics, args.span, replace=args.replace)
    examples = plural(entry.num_examples, "example")
    features = plural(entry.num_features, "feature")
    print(f"{verb} span {entry.span} ({examples}, {features}) in {store.path}")
    return 0


def _store(path: str) -> StatisticsStore:
    from beam_stats.beam.history import StatisticsStore

    return StatisticsStore(path)


def _size(n: int) -> str:
    units = ("B", "kB", "MB", "GB")
    value, unit = float(n), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return f"{n} B" if unit == 0 else f"{value:.1f} {units[unit]}"


def run_list(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    no_pipeline(beam_args)
    store = _store(args.store)
    entries = store.spans()
    if not entries:
        print(f"no spans in {store.path}")
        return 0
    damaged = store.damaged()
    rows: list[tuple[str, ...]] = [("span", "examples", "features", "size", "added", "status")]
    for e in entries:
        state = damaged.get(e.span, "ok")
        rows.append(
            (e.span, str(e.num_examples), str(e.num_features), _size(e.size), e.added, state)
        )
    print_table(rows)
    print(f"{plural(len(entries), 'span')}, {plural(len(damaged), 'file')} damaged or missing")
    orphans = store.orphans()
    if orphans:
        print(
            f"{plural(len(orphans), 'file')} no span names (left by an interrupted add): "
            f"`beam-stats history clean {store.path}` deletes them"
        )
    return 1 if damaged else 0


def run_remove(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    no_pipeline(beam_args)
    store = _store(args.store)
    removed = store.remove(args.span)
    print(
        f"removed {plural(len(removed), 'span')} ({', '.join(e.span for e in removed)}) "
        f"from {store.path}"
    )
    return 0


def run_clean(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    no_pipeline(beam_args)
    store = _store(args.store)
    deleted = store.clean()
    print(f"deleted {plural(len(deleted), 'file')} no span names from {store.path}")
    return 0


def run_monitor(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.jobs.monitoring import monitor
    from beam_stats.validation import anomaly_rows
    from beam_stats.validation.catalogue import CUSTOM_NAMES
    from beam_stats.validation.history import MonitorSpec

    no_pipeline(beam_args)
    given = {"strategy": args.strategy, "z": args.z, "min_history": args.min_history}
    series = SeriesLimits(**{name: value for name, value in given.items() if value is not None})
    result = monitor(
        args.store,
        schema=args.schema,
        all_spans=args.all_spans,
        baseline_spans=args.baseline_spans,
        spec=MonitorSpec(series=series),
        output=args.output,
    )
    table: list[tuple[str, ...]] = []
    for span, anomalies in result.anomalies.items():
        if anomalies.data_missing:
            table.append((span, "(dataset)", "DATA_MISSING", "ERROR", "The span has no examples."))
        for row in anomaly_rows(anomalies):
            kind = row.type
            if kind == "CUSTOM_VALIDATION" and row.short_description in CUSTOM_NAMES:
                kind = row.short_description
            table.append((span, row.feature or "(dataset)", kind, row.severity, row.description))
    checked = plural(len(result.anomalies), "span")
    if not table:
        print(f"no anomalies ({checked} checked)")
        return result.exit_status
    print_table([("span", "feature", "anomaly", "severity", "description"), *table])
    print(
        f"\n{plural(len(table), 'anomaly', 'anomalies')} in "
        f"{plural(len(result.flagged), 'span')} ({checked} checked)"
    )
    return result.exit_status
