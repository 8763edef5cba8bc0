"""``beam-stats history add`` and ``history list``: a statistics store, one file per span
(:mod:`beam_stats.beam.history`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from beam_stats.beam.history import StatisticsStore
from beam_stats.cli._common import no_pipeline, plural, print_table


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


def run_add(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    no_pipeline(beam_args)
    store = StatisticsStore(args.store)
    verb = "replaced" if args.replace and args.span in store else "added"
    entry = store.add(args.statistics, args.span, replace=args.replace)
    examples = plural(entry.num_examples, "example")
    features = plural(entry.num_features, "feature")
    print(f"{verb} span {entry.span} ({examples}, {features}) in {store.path}")
    return 0


def _size(n: int) -> str:
    units = ("B", "kB", "MB", "GB")
    value, unit = float(n), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    return f"{n} B" if unit == 0 else f"{value:.1f} {units[unit]}"


def run_list(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    no_pipeline(beam_args)
    store = StatisticsStore(args.store)
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
    return 1 if damaged else 0
