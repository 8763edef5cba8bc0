"""Accuracy and determinism of the statistics against exact answers on the mixed dataset.

Usage::

    .venv/bin/python benchmarks/accuracy.py [--rows 1000000] [--data-dir benchmarks/data]
                                            [--no-determinism]
    .venv/bin/python benchmarks/accuracy.py --compare-sketches [--sizes 100000,1000000,5000000]

Generates ``DIR/mixed_{N}.parquet`` with ``benchmarks/make_dataset.py`` if missing (reused
otherwise, as ``benchmarks/run.py`` does), computes its statistics with
``beam_stats.generate_statistics_from_table`` (the accumulators of the Beam pipeline) and
compares every sketched figure with the exact answer computed here with numpy/pyarrow on the
same data (list columns by their flattened values), against the bound the output states:

* numeric features (bool and ``list<int>`` values included), ``eps`` = the feature's
  ``quantiles_rank_error`` (certified, normalized by the count of finite values; 0 while the
  feature has at most ``QuantilesSpec.exact_limit`` distinct values): the median's normalized
  rank error (distance from 0.5 to the interval of normalized ranks the reported value
  occupies among the sorted finite values, ``searchsorted`` left/right), bound ``eps``; the
  quantiles histogram's largest rank error over its edges, bound ``eps``; the equi-width
  histogram's largest ``|count - exact| / N`` over its buckets (exact counts by
  ``np.histogram`` on the same edges, last bucket closed), bound the feature's
  ``histogram_count_error`` (also normalized by N); and the number of equi-width buckets that
  hold a value but are reported with count 0, bound 0;
* string features (``list<string>`` values included): ``unique`` against
  ``pc.count_distinct``, in units of ``distinct_relative_standard_error`` (bound 3 RSE, about
  99.7 %; exact when the RSE is 0); the largest ``|reported - exact|`` count over the top
  values and over the rank histogram, bound ``top_values_max_error``; the recall of the exact
  top-20 (values tied with the 20th count may stand in for each other), whose Misra-Gries
  bound is: no value left out of the list occurs more than ``top_values_max_error`` times more
  often than the rarest listed value (recall 1 when that error is 0);
* list columns: the values-per-example histogram's largest rank error over its edges. Its
  sketch is a second quantiles sketch (same ``QuantilesSpec``) over the lengths, and
  ``quantiles_rank_error`` says nothing about it (it is the values' bound, and string features
  have none). The output states no bound for it; what holds is that the sketch is exact while
  there are at most ``exact_limit`` distinct lengths, so the bound used is 0 when the exact
  number of distinct lengths is at most ``exact_limit`` (it is 6 here), and none otherwise
  (the figure is then reported as not judged, never as within bound).

The quantiles and cell-count bounds are certified (deterministic), so any excess is a bug.
Rank errors under 1e-12 are float64 rounding (``compare_sketches.rank_errors``) and read 0.

Determinism (unless ``--no-determinism``): the real CLI,
``python -m beam_stats.cli stats FILE --output OUT``, runs twice on the same Parquet file, each
in its own process; the two statistics files must be byte-identical. Both times are printed.

``--compare-sketches`` runs ``benchmarks/compare_sketches.py`` instead (DataSketches' KLL
against beam-stats' quantiles sketch on raw numpy arrays; see its docstring).

The exit status is 0 whatever the results (informational); a line starting with
``OUT OF BOUND`` is printed for every figure over its bound. The tables are printed again as
markdown at the end, to paste into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import compare_sketches
import make_dataset
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from compare_sketches import rank_errors
from run import machine_info, markdown_table, plain_table
from tensorflow_metadata.proto.v0 import statistics_pb2

import beam_stats

BENCH_DIR = Path(__file__).resolve().parent
TOP_K = 20
RSE_BOUND = 3.0  # HyperLogLog: within 3 relative standard errors with ~99.7 % probability
HEADER = ["feature", "measured error", "stated bound", "within bound", "detail"]
F64 = np.ndarray


@dataclasses.dataclass(frozen=True)
class Check:
    """One sketched figure compared with its exact answer."""

    table: str
    feature: str
    measured: str
    bound: str
    ok: bool
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", bool(self.ok))  # numpy comparisons give np.bool_

    def row(self) -> list[str]:
        return [self.feature, self.measured, self.bound, "yes" if self.ok else "NO", self.detail]


# --- exact answers -------------------------------------------------------------------------


def leaf_values(column: pa.ChunkedArray) -> pa.Array:
    """The non-null values of a column, list columns flattened (values under null lists go)."""
    array = column.combine_chunks()
    while pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        array = pc.list_flatten(array)
    return pc.drop_null(array)


def finite_sorted(values: pa.Array) -> F64:
    if pa.types.is_boolean(values.type):
        values = pc.cast(values, pa.int8())
    array = values.to_numpy(zero_copy_only=False).astype(np.float64)
    return np.sort(array[np.isfinite(array)])


def _edges(histogram: statistics_pb2.Histogram) -> F64:
    buckets = histogram.buckets
    return np.array([b.low_value for b in buckets] + [buckets[-1].high_value])


def _histogram(stats: statistics_pb2.NumericStatistics, kind: int) -> statistics_pb2.Histogram:
    return next(h for h in stats.histograms if h.type == kind)


def _custom(stats: statistics_pb2.FeatureNameStatistics, name: str) -> float:
    return next(float(c.num) for c in stats.custom_stats if c.name == name)


def _fmt_rank(x: float) -> str:
    return f"{x:.5f}"


# --- checks ---------------------------------------------------------------------------------


def numeric_checks(
    name: str, stats: statistics_pb2.FeatureNameStatistics, column: pa.ChunkedArray
) -> list[Check]:
    values = finite_sorted(leaf_values(column))
    num = stats.num_stats
    n = values.size
    if n == 0:
        return []
    eps = _custom(stats, "quantiles_rank_error")
    bound = _fmt_rank(eps)
    median = rank_errors(values, np.array([num.median]), np.array([0.5]))[0]
    low, high = (np.searchsorted(values, num.median, side=s) / n for s in ("left", "right"))
    checks = [
        Check(
            "median",
            name,
            _fmt_rank(median),
            bound,
            median <= eps,
            f"{num.median:.6g} at ranks [{low:.4f}, {high:.4f}]",
        ),
    ]

    quantiles = _histogram(num, statistics_pb2.Histogram.QUANTILES)
    edges = _edges(quantiles)
    errors = rank_errors(values, edges, np.linspace(0.0, 1.0, edges.size))
    worst = int(np.argmax(errors))
    checks.append(
        Check(
            "quantiles histogram",
            name,
            _fmt_rank(errors[worst]),
            bound,
            errors[worst] <= eps,
            f"worst edge {worst}/{edges.size - 1} = {edges[worst]:.6g}"
            if errors[worst] > 0
            else f"all {edges.size} edges exact",
        )
    )

    standard = _histogram(num, statistics_pb2.Histogram.STANDARD)
    edges = _edges(standard)
    reported = np.array([b.sample_count for b in standard.buckets])
    if edges[0] == edges[-1]:  # one bucket holding every value (min == max)
        exact = np.array([n], dtype=np.float64)
    else:  # np.histogram's buckets are [low, high) except the last, closed: as documented
        exact = np.histogram(values, bins=edges)[0].astype(np.float64)
    diff = np.abs(reported - exact)
    worst = int(np.argmax(diff))
    count_error = _custom(stats, "histogram_count_error")
    checks.append(
        Check(
            "equi-width histogram",
            name,
            _fmt_rank(diff[worst] / n),
            _fmt_rank(count_error),
            diff[worst] / n <= count_error,
            f"bucket {worst}: {reported[worst]:,.0f} vs exact {exact[worst]:,.0f} of {n:,}",
        )
    )
    emptied = np.flatnonzero((exact > 0) & (reported == 0))
    populated = int(np.count_nonzero(exact))
    checks.append(
        Check(
            "empty buckets",
            name,
            f"{emptied.size}",
            "0",
            emptied.size == 0,
            f"{populated} of {exact.size} buckets hold values, smallest "
            f"{exact[exact > 0].min():,.0f}"
            + (
                f"; reported 0: buckets {emptied.tolist()} (exact {exact[emptied].tolist()})"
                if emptied.size
                else ""
            ),
        )
    )
    return checks


def _value_counts(values: pa.Array) -> tuple[pa.Array, F64]:
    counts = pc.value_counts(values)
    return counts.field("values"), counts.field("counts").to_numpy().astype(np.float64)


def _count_errors(
    labels: list[str], reported: F64, distinct: pa.Array, counts: F64
) -> tuple[F64, F64, np.ndarray]:
    """Exact counts of `labels`, |reported - exact| and each label's index in `distinct`."""
    index = pc.index_in(pa.array(labels, distinct.type), value_set=distinct)
    if index.null_count:
        missing = [label for label, i in zip(labels, index.to_pylist(), strict=True) if i is None]
        raise SystemExit(f"reported values absent from the data: {missing[:5]}")
    idx = index.to_numpy().astype(np.int64)
    exact = counts[idx]
    return exact, np.abs(reported - exact), idx


def string_checks(
    name: str, stats: statistics_pb2.FeatureNameStatistics, column: pa.ChunkedArray
) -> list[Check]:
    values = leaf_values(column)
    if len(values) == 0:
        return []
    string = stats.string_stats
    checks: list[Check] = []

    exact_unique = pc.count_distinct(values).as_py()
    rse = _custom(stats, "distinct_relative_standard_error")
    rel = (string.unique - exact_unique) / exact_unique
    detail = f"{string.unique:,} vs exact {exact_unique:,} ({rel:+.3%})"
    if rse == 0:
        checks.append(Check("unique", name, f"{rel:+.3%}", "0 (exact)", rel == 0, detail))
    else:
        checks.append(
            Check(
                "unique",
                name,
                f"{rel / rse:+.2f} RSE",
                f"{RSE_BOUND:g} RSE (RSE {rse:.2%})",
                abs(rel) <= RSE_BOUND * rse,
                detail,
            )
        )

    err = _custom(stats, "top_values_max_error")
    distinct, counts = _value_counts(values)
    labels = [v.value for v in string.top_values]
    reported = np.array([v.frequency for v in string.top_values])
    exact, diff, idx = _count_errors(labels, reported, distinct, counts)
    worst = int(np.argmax(diff))
    checks.append(
        Check(
            "top values: count error",
            name,
            f"{diff[worst]:,.0f}",
            f"{err:,.0f}",
            diff[worst] <= err,
            f"{labels[worst]!r}: {reported[worst]:,.0f} vs exact {exact[worst]:,.0f}",
        )
    )

    ranks = string.rank_histogram.buckets
    rank_labels = [b.label for b in ranks]
    rank_counts = np.array([b.sample_count for b in ranks])
    _, rank_diff, _ = _count_errors(rank_labels, rank_counts, distinct, counts)
    worst = int(np.argmax(rank_diff))
    checks.append(
        Check(
            "rank histogram: count error",
            name,
            f"{rank_diff[worst]:,.0f}",
            f"{err:,.0f}",
            rank_diff[worst] <= err,
            f"{len(ranks)} buckets" + (f", worst at rank {worst}" if rank_diff[worst] else ""),
        )
    )

    k = min(TOP_K, counts.size)
    kth = -np.partition(-counts, k - 1)[k - 1]  # the exact k-th largest count
    num_above = int(np.count_nonzero(counts > kth))
    listed = exact[:k]
    matches = int(np.count_nonzero(listed > kth))
    matches += min(int(np.count_nonzero(listed == kth)), k - num_above)
    recall = matches / k
    unlisted = counts.copy()
    unlisted[idx[:k]] = -1.0
    best_missed = max(float(unlisted.max()), 0.0)  # 0: every distinct value is listed
    rarest_listed = float(listed.min())
    bound = "1 (exact)" if err == 0 else f"missed <= rarest listed + {err:,.0f}"
    checks.append(
        Check(
            f"top-{TOP_K} recall",
            name,
            f"{recall:.3f}",
            bound,
            best_missed <= rarest_listed + err,
            f"most frequent missed {best_missed:,.0f}, rarest listed {rarest_listed:,.0f}"
            if unlisted.max() >= 0
            else "every distinct value listed",
        )
    )
    return checks


def valency_check(
    name: str,
    stats: statistics_pb2.FeatureNameStatistics,
    column: pa.ChunkedArray,
    exact_limit: int,
) -> Check:
    lengths = pc.drop_null(pc.list_value_length(column.combine_chunks()))
    values = np.sort(lengths.to_numpy().astype(np.float64))
    common = (
        stats.string_stats.common_stats
        if stats.HasField("string_stats")
        else stats.num_stats.common_stats
    )
    edges = _edges(common.num_values_histogram)
    errors = rank_errors(values, edges, np.linspace(0.0, 1.0, edges.size))
    worst = int(np.argmax(errors))
    distinct = np.unique(values).size
    exact = distinct <= exact_limit
    return Check(
        "values per example histogram",
        name,
        _fmt_rank(errors[worst]),
        "0 (exact)" if exact else "none stated (not judged)",
        exact and errors[worst] == 0,
        (f"worst edge {worst}/{edges.size - 1} = {edges[worst]:g}" if errors[worst] else "exact")
        + f"; {distinct:,} distinct lengths, exact up to {exact_limit:,}",
    )


# --- determinism ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CliRun:
    seconds: float
    output: bytes


def cli_run(path: Path, out: Path) -> CliRun:
    """One ``beam-stats stats`` run in its own process (start-up included in the time)."""
    command = [sys.executable, "-m", "beam_stats.cli", "stats", str(path), "--output", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, cwd=BENCH_DIR.parent
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return CliRun(seconds, out.read_bytes())


def differing_features(first: bytes, second: bytes) -> list[str]:
    """Names of the features whose statistics differ between two statistics files."""
    a, b = (statistics_pb2.DatasetFeatureStatisticsList.FromString(x) for x in (first, second))
    names: dict[tuple[str, str], list[bytes | None]] = {}
    for i, lists in enumerate((a, b)):
        for dataset in lists.datasets:
            for feature in dataset.features:
                key = (dataset.name, ".".join(feature.path.step))
                names.setdefault(key, [None, None])[i] = feature.SerializeToString()
    diff = [f"{d}/{f}" if d else f for (d, f), (x, y) in names.items() if x != y]
    return diff or ["(not in any feature: dataset fields or order)"]


def determinism(path: Path) -> tuple[Check, list[CliRun]]:
    """Runs the CLI twice on ``path``; the statistics files must be byte-identical."""
    with tempfile.TemporaryDirectory(prefix="beam-stats-determinism-") as tmp:
        runs = [cli_run(path, Path(tmp) / f"run{i}.pb") for i in (1, 2)]
    same = runs[0].output == runs[1].output
    detail = ", ".join(f"run {i}: {r.seconds:.1f} s" for i, r in enumerate(runs, 1))
    detail += f"; {len(runs[0].output):,} and {len(runs[1].output):,} bytes"
    if not same:
        detail += "; differ in " + ", ".join(differing_features(runs[0].output, runs[1].output))
    return (
        Check(
            "determinism",
            path.name,
            "identical" if same else "DIFFERENT",
            "identical",
            same,
            detail,
        ),
        runs,
    )


# --- driver ---------------------------------------------------------------------------------

TABLES: list[tuple[str, str]] = [
    ("median", "normalized rank error of the reported median"),
    ("quantiles histogram", "max normalized rank error over the bucket edges"),
    (
        "equi-width histogram",
        "max |count - exact count| / N over the buckets; bound histogram_count_error",
    ),
    ("empty buckets", "equi-width buckets holding values but reported as 0"),
    (
        "values per example histogram",
        "max normalized rank error over the bucket edges; exact below exact_limit lengths",
    ),
    ("determinism", "two CLI runs on the same Parquet file: statistics file bytes"),
    ("unique", "(reported - exact) / exact distinct values, in units of the stated RSE"),
    ("top values: count error", f"max |reported - exact| count over the top-{TOP_K}"),
    ("rank histogram: count error", "max |reported - exact| count over the rank histogram"),
    (f"top-{TOP_K} recall", f"share of the exact top-{TOP_K} listed (ties at the cut count)"),
]


def compare(
    table: pa.Table, dataset: statistics_pb2.DatasetFeatureStatistics
) -> tuple[list[Check], list[str]]:
    exact_limit = beam_stats.StatisticsSpec().quantiles.exact_limit
    checks: list[Check] = []
    skipped: list[str] = []
    by_name = {".".join(f.path.step): f for f in dataset.features}
    kinds: dict[str, Callable[..., list[Check]]] = {
        "num_stats": numeric_checks,
        "string_stats": string_checks,
    }
    for name in table.column_names:
        stats = by_name[name]
        column = table.column(name)
        check = kinds.get(stats.WhichOneof("stats"))
        found = check(name, stats, column) if check is not None else []
        if not found:
            skipped.append(name)
        checks += found
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            checks.append(valency_check(name, stats, column, exact_limit))
    return checks, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    parser.add_argument(
        "--no-determinism", action="store_true", help="skip the two CLI runs (determinism)"
    )
    parser.add_argument(
        "--compare-sketches",
        action="store_true",
        help="compare DataSketches' KLL with beam-stats' quantiles sketch on numpy arrays",
    )
    parser.add_argument(
        "--sizes",
        default="100000,1000000,5000000",
        help="with --compare-sketches: comma-separated numbers of values",
    )
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be >= 1, got {args.rows}")
    start = time.perf_counter()
    info = machine_info()
    info.append(
        f"datasketches {importlib.metadata.version('datasketches')}; load average at start "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
        + " (1, 5, 15 min)"
    )
    command = shlex.join(["benchmarks/accuracy.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"command: python {command}")
    print("\n".join(info), flush=True)
    if args.compare_sketches:
        try:
            sizes = [int(x) for x in args.sizes.split(",")]
        except ValueError:
            parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
        if min(sizes) < 1000:  # fewer values could make min == max (no bucket edges)
            parser.error(f"--sizes must be >= 1000, got {args.sizes!r}")
        return compare_sketches.run(sizes, command, info)

    path = make_dataset.generate(args.rows, args.data_dir, ("parquet",))["parquet"]
    data = pq.read_table(path)
    print(f"data: {path} ({data.num_rows:,} rows, {time.perf_counter() - start:.1f} s)")
    t0 = time.perf_counter()
    result = beam_stats.generate_statistics_from_table(data)
    stats_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    checks, skipped = compare(data, result.datasets[0])
    exact_seconds = time.perf_counter() - t0
    print(f"statistics {stats_seconds:.1f} s, exact answers and comparison {exact_seconds:.1f} s")
    if not args.no_determinism:
        check, runs = determinism(path)
        checks.append(check)
        print("CLI runs: " + ", ".join(f"{r.seconds:.1f} s" for r in runs))
    if skipped:
        print(f"no values to compare: {', '.join(skipped)}")

    sections = []
    for key, title in TABLES:
        rows = [c.row() for c in checks if c.table == key]
        if rows:
            sections.append((f"{key}: {title}", rows))
            print(f"\n== {key}: {title}\n{plain_table(HEADER, rows)}")

    out = [c for c in checks if not c.ok]
    print()
    for c in out:
        print(f"OUT OF BOUND: {c.table} of {c.feature}: {c.measured} > {c.bound} ({c.detail})")
    verdict = (
        f"{len(out)} of {len(checks)} figures OUT OF BOUND"
        if out
        else f"all {len(checks)} figures within their stated bounds"
    )
    total = time.perf_counter() - start
    print(f"{verdict}; total {total:.1f} s")

    print("\n---- markdown ----\n")
    print(
        f"Measured {time.strftime('%Y-%m-%d')} by `{command}` ({args.rows:,} rows; "
        f"statistics {stats_seconds:.1f} s, total {total:.1f} s): {verdict}.\n"
    )
    print("Machine: " + "; ".join(info) + "\n")
    for title, rows in sections:
        print(f"**{title}**\n\n{markdown_table(HEADER, rows)}\n")
    if skipped:
        print(f"No values to compare: {', '.join(skipped)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
