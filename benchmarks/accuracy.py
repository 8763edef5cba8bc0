"""Accuracy of the sketched statistics against exact answers on the mixed benchmark dataset.

Usage::

    .venv/bin/python benchmarks/accuracy.py [--rows 1000000] [--data-dir benchmarks/data]

Generates ``DIR/mixed_{N}.parquet`` with ``benchmarks/make_dataset.py`` if missing (reused
otherwise, as ``benchmarks/run.py`` does), computes its statistics with
``beam_stats.generate_statistics_from_table`` (the accumulators of the Beam pipeline) and
compares every sketched figure with the exact answer computed here with numpy/pyarrow on the
same data (list columns by their flattened values), against the bound the output states:

* numeric features (bool and ``list<int>`` values included), ``eps`` = ``quantiles_rank_error``:
  the median's normalized rank error (distance from 0.5 to the interval of normalized ranks
  the reported value occupies among the sorted finite values, ``searchsorted`` left/right),
  bound ``eps``; the quantiles histogram's largest rank error over its edges, bound ``eps``;
  the equi-width histogram's largest ``|count - exact| / N`` over its buckets (exact counts by
  ``np.histogram`` on the same edges, last bucket closed), bound ``2 * eps``;
* string features (``list<string>`` values included): ``unique`` against
  ``pc.count_distinct``, in units of ``distinct_relative_standard_error`` (bound 3 RSE, about
  99.7 %; exact when the RSE is 0); the largest ``|reported - exact|`` count over the top
  values and over the rank histogram, bound ``top_values_max_error``; the recall of the exact
  top-20 (values tied with the 20th count may stand in for each other), whose Misra-Gries
  bound is: no value left out of the list occurs more than ``top_values_max_error`` times more
  often than the rarest listed value (recall 1 when that error is 0);
* list columns: the values-per-example histogram's largest rank error over its edges, bound
  the spec's ``rank_error``.

The KLL bounds hold with 99 % confidence per query and the sketch is randomized, so an
occasional excess is possible. The exit status is 0 whatever the results (informational); a
line starting with ``OUT OF BOUND`` is printed for every figure over its bound. The tables are
printed again as markdown at the end, to paste into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import make_dataset
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
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


def rank_errors(sorted_values: F64, points: F64, targets: F64) -> F64:
    """Distance from each target rank to the interval of ranks its point occupies."""
    n = sorted_values.size
    low = np.searchsorted(sorted_values, points, side="left") / n
    high = np.searchsorted(sorted_values, points, side="right") / n
    errors: F64 = np.maximum(0.0, np.maximum(low - targets, targets - high))
    return errors


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
            f"worst edge {worst}/{edges.size - 1} = {edges[worst]:.6g}",
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
    checks.append(
        Check(
            "equi-width histogram",
            name,
            _fmt_rank(diff[worst] / n),
            _fmt_rank(2 * eps),
            diff[worst] / n <= 2 * eps,
            f"bucket {worst}: {reported[worst]:,.0f} vs exact {exact[worst]:,.0f} of {n:,}",
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
    name: str, stats: statistics_pb2.FeatureNameStatistics, column: pa.ChunkedArray, eps: float
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
    return Check(
        "values per example histogram",
        name,
        _fmt_rank(errors[worst]),
        _fmt_rank(eps),
        errors[worst] <= eps,
        f"worst edge {worst}/{edges.size - 1} = {edges[worst]:g}",
    )


# --- driver ---------------------------------------------------------------------------------

TABLES: list[tuple[str, str]] = [
    ("median", "normalized rank error of the reported median"),
    ("quantiles histogram", "max normalized rank error over the bucket edges"),
    ("equi-width histogram", "max |count - exact count| / N over the buckets; bound 2 x eps"),
    ("values per example histogram", "max normalized rank error over the bucket edges"),
    ("unique", "(reported - exact) / exact distinct values, in units of the stated RSE"),
    ("top values: count error", f"max |reported - exact| count over the top-{TOP_K}"),
    ("rank histogram: count error", "max |reported - exact| count over the rank histogram"),
    (f"top-{TOP_K} recall", f"share of the exact top-{TOP_K} listed (ties at the cut count)"),
]


def compare(
    table: pa.Table, dataset: statistics_pb2.DatasetFeatureStatistics
) -> tuple[list[Check], list[str]]:
    eps = beam_stats.StatisticsSpec().quantiles.rank_error
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
            checks.append(valency_check(name, stats, column, eps))
    return checks, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows must be >= 1, got {args.rows}")
    start = time.perf_counter()
    info = machine_info()
    command = shlex.join(["benchmarks/accuracy.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"command: python {command}")
    print("\n".join(info), flush=True)

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
