"""``beam-stats compare``: every distance between two statistics files, feature by feature.

Prints one row per feature and measure: value, error bound (``exact``, ``+-e``, or ``-``
when the inputs give none), threshold, status (``BREACH``, ``ok``, empty without threshold,
``n/a`` when not computed), what was read (``sketch`` state or a finished histogram or value
list) and a note. Features with breaches come first, the one furthest over a threshold
first; then the others, the closest to a threshold first; within a feature its measures are
ordered the same way. Thresholds come from ``--schema`` (its drift comparators, or its skew
comparators with ``--skew``), overridden by ``--threshold`` for every feature; with neither,
the library's defaults (:mod:`beam_stats.drift.defaults`, which also says why id-like
features get only ``missing_fraction``). Exit status 0 when nothing is over its threshold,
1 otherwise, 2 on bad input. Only the statistics files are read, no pipeline: unknown flags
are errors.

Feature names and values are only ever substituted into the table, never interpreted;
non-printable characters are shown escaped so that each row stays on one line (as
``validate`` does).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from beam_stats.cli._common import (
    add_privacy_arguments,
    no_pipeline,
    plural,
    print_table,
    privacy_spec,
)
from beam_stats.errors import InvalidInputError

if TYPE_CHECKING:
    from beam_stats.drift import FeatureComparison, Measured


def add_parsers(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare", help="every drift/skew distance between two statistics files, per feature"
    )
    compare.add_argument("base", metavar="BASE_STATS", help="the reference statistics")
    compare.add_argument("test", metavar="TEST_STATS", help="the statistics compared with it")
    compare.add_argument("--schema", help="schema whose comparators give the thresholds")
    compare.add_argument(
        "--skew", action="store_true", help="use the schema's skew comparators, not drift"
    )
    compare.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="MEASURE=VALUE",
        help="a threshold for every feature, over the schema's, e.g. psi=0.2 (repeatable)",
    )
    compare.add_argument(
        "--dataset",
        help="the dataset to compare, when a file holds several (default: 'All Examples')",
    )
    compare.add_argument(
        "--bins", type=int, default=10, metavar="N", help="quantile bins per dataset (default 10)"
    )
    compare.add_argument(
        "--all", action="store_true", help="also list the measures that do not apply"
    )
    add_privacy_arguments(compare)
    compare.set_defaults(run=run_compare)


def run_compare(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.beam.artifacts import load_schema, load_statistics
    from beam_stats.drift import DistanceSpec, Thresholds, compare_statistics
    from beam_stats.drift.defaults import DEFAULT_THRESHOLDS
    from beam_stats.schema.privacy import effective_privacy
    from beam_stats.schema.view import one_dataset

    no_pipeline(beam_args)
    spec = DistanceSpec(num_bins=args.bins)
    limits = _thresholds(args.threshold)
    schema = load_schema(args.schema) if args.schema else None
    privacy = effective_privacy(privacy_spec(args), schema)
    base = one_dataset(load_statistics(args.base, privacy), args.dataset, args.base)
    test = one_dataset(load_statistics(args.test, privacy), args.dataset, args.test)
    comparison = compare_statistics(
        base,
        test,
        schema,
        kind="skew" if args.skew else "drift",
        limits=Thresholds.from_mapping(limits),
        defaults=DEFAULT_THRESHOLDS if schema is None and not limits else None,
        spec=spec,
    )
    print(
        f"base: {comparison.base_examples} examples ({args.base}); "
        f"test: {comparison.test_examples} examples ({args.test})"
    )
    features = sorted(comparison.features, key=_feature_key)
    rows = [row for f in features for row in _rows(f, args.all)]
    if not rows:
        print("no feature to compare")
        return 0
    header = ("feature", "measure", "value", "error", "threshold", "status", "source", "note")
    print_table([header, *rows])
    breaches = sum(len(f.breaches) for f in features)
    broken = sum(1 for f in features if f.breaches)
    print(f"\n{plural(breaches, 'breach', 'breaches')} in {plural(broken, 'feature')}")
    return 1 if breaches else 0


def _thresholds(pairs: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for pair in pairs:
        measure, sep, text = pair.partition("=")
        try:
            values[measure] = float(text) if sep else float("nan")
        except ValueError:
            values[measure] = float("nan")
        if math.isnan(values[measure]):
            raise InvalidInputError(f"--threshold takes MEASURE=NUMBER, got {pair!r}")
    return values


def _ratio(measured: Measured) -> float:
    ratio = measured.ratio
    return -math.inf if math.isnan(ratio) else ratio


def _measure_key(measured: Measured) -> tuple[int, float]:
    if measured.distance is None:
        group = 3
    elif measured.threshold is None:
        group = 2
    else:
        group = 0 if measured.breached else 1
    return group, -_ratio(measured)


def _feature_key(feature: FeatureComparison) -> tuple[int, float, tuple[str, ...]]:
    worst = max((_ratio(m) for m in feature.measured), default=-math.inf)
    return (0 if feature.breaches else 1), -worst, feature.path


def _rows(feature: FeatureComparison, show_all: bool) -> list[tuple[str, ...]]:
    name = ".".join(feature.path)
    rows: list[tuple[str, ...]] = []
    for measured in sorted(feature.measured, key=_measure_key):
        d = measured.distance
        quiet = measured.note.startswith(("not applicable", "only in"))
        if d is None and quiet and not show_all:
            continue  # the measure does not apply; a one-sided feature shows as missing
        threshold = "" if measured.threshold is None else f"{measured.threshold:.4g}"
        if d is None:
            rows.append((name, measured.measure, "", "", threshold, "n/a", "", measured.note))
            continue
        error = "-" if d.error is None else "exact" if d.error == 0 else f"+-{d.error:.3g}"
        status = "" if measured.threshold is None else "BREACH" if measured.breached else "ok"
        note = d.detail
        if d.p_value is not None:
            note = f"p-value {d.p_value:.4g}" + (f"; {note}" if note else "")
        rows.append(
            (name, measured.measure, f"{d.value:.4g}", error, threshold, status, d.source, note)
        )
    return rows
