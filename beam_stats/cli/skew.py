"""``beam-stats feature-skew``: the arguments of :func:`beam_stats.jobs.feature_skew` (the same
examples in two datasets, joined on an identifier; the module says what it writes), and one
line per feature printed from its result, most mismatches first.

Exit status: 0 when every compared feature matches on every joined identifier, 1 when some
value differs or is present on one side only, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from beam_stats.beam.formats import FORMATS
from beam_stats.cli._common import (
    add_errors_argument,
    add_privacy_arguments,
    privacy_spec,
    report_input_problems,
)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    skew = commands.add_parser(
        "feature-skew",
        help="join two datasets on identifier features and compare every feature's values",
    )
    skew.add_argument("--base", nargs="+", required=True, metavar="PATTERN", help="e.g. training")
    skew.add_argument("--test", nargs="+", required=True, metavar="PATTERN", help="e.g. serving")
    skew.add_argument(
        "--id", action="append", required=True, metavar="FEATURE", help="identifier (repeatable)"
    )
    skew.add_argument(
        "--feature", action="append", metavar="FEATURE", help="compare only these (repeatable)"
    )
    skew.add_argument("--output", required=True, help="result file (.pbtxt: text proto)")
    skew.add_argument("--samples", help="JSON-lines file of the mismatched pairs kept")
    skew.add_argument("--sample-size", type=int, default=10, help="pairs kept per feature")
    skew.add_argument(
        "--float-tolerance", type=float, default=1e-6, help="relative tolerance of floats"
    )
    skew.add_argument(
        "--absolute-tolerance", type=float, help="absolute tolerance (default: --float-tolerance)"
    )
    skew.add_argument(
        "--num-shards", type=int, help="join partitions (default 512; raise for huge inputs)"
    )
    skew.add_argument("--format", choices=FORMATS, help="input format (default: by suffix)")
    add_errors_argument(skew)
    add_privacy_arguments(skew)
    skew.set_defaults(run=run_feature_skew)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def print_result(result: Any) -> None:
    """The per-feature table and the identifier counts of a ``FeatureSkewResult``."""
    from beam_stats.cli._common import print_table

    rows: list[tuple[str, ...]] = [
        ("feature", "compared", "matches", "mismatches", "mismatch %", "base only", "test only")
    ]
    features = sorted(
        result.features,
        key=lambda f: (-f.mismatch_count, -(f.base_only + f.test_only), f.feature),
    )
    for f in features:
        compared = f.match_count + f.mismatch_count
        counts = (compared, f.match_count, f.mismatch_count)
        share = _percent(f.mismatch_count, compared)
        rows.append((f.feature, *map(str, counts), share, str(f.base_only), str(f.test_only)))
    if features:
        print_table(rows)
    r = result
    print(f"{r.joined} identifiers joined and compared")
    print(f"only in base: {r.base_only_ids}, only in test: {r.test_only_ids}")
    print(
        f"duplicated, not compared: {r.base_duplicate_ids} in base ({r.base_duplicate_rows} "
        f"rows), {r.test_duplicate_ids} in test ({r.test_duplicate_rows} rows), "
        f"{r.duplicate_ids_skipped} on both sides"
    )
    print(
        f"rows without an identifier: {r.base_null_ids} of {r.base_rows} in base, "
        f"{r.test_null_ids} of {r.test_rows} in test"
    )
    for side, rows_read, nulls in (
        ("base", r.base_rows, r.base_null_ids),
        ("test", r.test_rows, r.test_null_ids),
    ):
        if rows_read and nulls == rows_read:
            ids = ", ".join(r.identifier_features)
            print(f"warning: no {side} row has the identifier ({ids})", file=sys.stderr)


def run_feature_skew(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from beam_stats.jobs.skew import feature_skew

    found = feature_skew(
        args.base,
        args.test,
        args.id,
        args.output,
        features=args.feature,
        samples=args.samples,
        sample_size=args.sample_size,
        float_tolerance=args.float_tolerance,
        absolute_tolerance=args.absolute_tolerance,
        num_shards=args.num_shards,
        input_format=args.format,
        errors=args.errors,
        pipeline_options=beam_args,
        privacy=privacy_spec(args),
    )
    print_result(found.result)
    where = found.output + (f", samples in {found.samples}" if found.samples else "")
    print(f"result in {where}")
    report_input_problems(found.errors)
    return 0 if found.clean else 1
