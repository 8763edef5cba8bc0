"""How big the combine accumulator gets: per feature kind, per feature, per slice, per setting.

Usage::

    .venv/bin/python benchmarks/scaling.py [--quick]

What Beam shuffles between workers is the accumulator of the one fused ``CombineFn``
(:class:`beam_stats.beam.combine.StatisticsCombineFn`), encoded by its
``DatasetAccumulatorCoder`` as the ``DatasetState`` proto. With combiner lifting every bundle
sends one accumulator per key (one key without slicing; the whole dataset plus each slice seen
in the bundle with slicing), so the encoded size is the shuffle volume of one bundle. This
script measures, on data generated with numpy/pyarrow:

1. the encoded state of one feature per kind (int, float, low-cardinality and near-unique
   strings, list<int>, list<string>, struct), after 1k and 1M rows, unweighted and with a
   ``weight_feature``, with the default sketch settings and with smaller and larger ones;
2. accumulators of N mixed features x S slices built from one bundle of 131,072 rows (the
   reader's default batch): their encoded size (= the bundle's shuffle bytes), the size of
   the finished statistics they write (with the sketch state, the default, and without it),
   the time to build them, and the memory holding them takes. Each configuration runs in a
   fresh subprocess that imports no Beam: ``held MB`` is the growth of the process's
   resident set (VmRSS) from before the accumulators were made to after (Arrow, numpy and
   the C++ parts included, which ``tracemalloc`` would miss); ``peak MB`` is
   ``ru_maxrss`` minus the same starting point (the transient work of adding the batch
   included). The subprocess uses Arrow's ``system`` memory pool
   (``ARROW_DEFAULT_MEMORY_POOL=system``) and calls glibc's ``malloc_trim`` before each RSS
   reading, so memory freed by the transient work is returned and not counted as held.

The mixed features cycle through five kinds (float, int, string of 20 values, near-unique
string, list<int>), so 10 features are two of each; copies of a kind share their data (the
sizes do not depend on the values, only on their number and distinctness). The slicing column
has S values spread uniformly over the rows. Last, the cost of the ``max_slices`` check
(:class:`beam_stats.stats.slicing.SliceCounter`). ``--quick`` skips the 10,000-slice run (about
20 s). The markdown printed at the end is what ``benchmarks/RESULTS.md`` records.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run import markdown_table, plain_table  # noqa: E402  (benchmarks/run.py: the tables)

from beam_stats.errors import InvalidInputError  # noqa: E402
from beam_stats.sketches import (  # noqa: E402  (after the path set-up)
    DistinctCountSpec,
    FrequentItemsSpec,
    QuantilesSpec,
    WeightedQuantilesSpec,
)
from beam_stats.stats import DatasetAccumulator, SlicingSpec, StatisticsSpec  # noqa: E402
from beam_stats.stats.slicing import SliceCounter, slice_batch  # noqa: E402

BUNDLE_ROWS = 131_072  # ReadRecordBatches' default batch_size
KB, MB = 1e3, 1e6
KINDS = ("int", "float", "string_low", "string_unique", "list_int", "list_string", "struct")
MIXED = ("float", "int", "string_low", "string_unique", "list_int")
SETTINGS: dict[str, dict[str, object]] = {
    # Quantiles capacity, exact limit (of quantiles and distinct counts), frequent-items
    # capacity, HyperLogLog precision, weighted-quantiles capacity.
    "lean": dict(q=512, exact=1_000, capacity=256, precision=10, weighted=512),
    "default": dict(q=2048, exact=100_000, capacity=2048, precision=14, weighted=2048),
    "large": dict(q=8192, exact=1_000_000, capacity=8192, precision=16, weighted=8192),
}


def make_spec(setting: str, weighted: bool = False) -> StatisticsSpec:
    s = SETTINGS[setting]
    capacity = int(s["capacity"])  # type: ignore[call-overload]
    exact = int(s["exact"])  # type: ignore[call-overload]
    return StatisticsSpec(
        quantiles=QuantilesSpec(capacity=int(s["q"]), exact_limit=exact),  # type: ignore[call-overload]
        frequent_items=FrequentItemsSpec(capacity=capacity),
        distinct=DistinctCountSpec(precision=int(s["precision"]), exact_limit=exact),  # type: ignore[call-overload]
        weighted_quantiles=WeightedQuantilesSpec(capacity=int(s["weighted"])),  # type: ignore[call-overload]
        num_rank_histogram_buckets=min(1000, capacity),
        weight_feature="w" if weighted else None,
    )


def _lists(rng: np.random.Generator, n: int, values: Callable[[int], pa.Array]) -> pa.Array:
    lengths = rng.integers(0, 6, n)  # 0..5 values per example
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values(int(offsets[-1])))


def column(kind: str, n: int, rng: np.random.Generator) -> pa.Array:
    """`n` values of one feature kind."""
    low = pa.array([f"value-{i}" for i in range(20)])
    tags = pa.array([f"tag-{i}" for i in range(50)])
    if kind == "int":
        return pa.array(rng.integers(0, 10**9, n))
    if kind == "float":
        return pa.array(rng.normal(size=n))
    if kind == "string_low":
        return pc.take(low, pa.array(rng.integers(0, len(low), n)))
    if kind == "string_unique":
        ids = pc.cast(pa.array(rng.permutation(n) + 10**9), pa.string())
        return pc.binary_join_element_wise("user-", ids, "")
    if kind == "list_int":
        return _lists(rng, n, lambda m: pa.array(rng.integers(0, 1000, m)))
    if kind == "list_string":
        return _lists(rng, n, lambda m: pc.take(tags, pa.array(rng.integers(0, 50, m))))
    if kind == "struct":
        return pa.StructArray.from_arrays(
            [pa.array(rng.normal(size=n)), pc.take(low, pa.array(rng.integers(0, 20, n)))],
            ["a", "b"],
        )
    raise ValueError(f"unknown kind {kind!r}")


def accumulate(table: pa.Table, spec: StatisticsSpec) -> DatasetAccumulator:
    acc = DatasetAccumulator(spec)
    for batch in table.to_batches(max_chunksize=BUNDLE_ROWS):
        acc.add(batch)
    return acc


# -- 1. one feature per kind --------------------------------------------------------------


def per_kind(rows: list[int]) -> tuple[list[str], list[list[str]], dict[str, float]]:
    """Encoded bytes of one feature's state per kind, rows, weighting and setting."""
    from beam_stats.beam.combine import DatasetAccumulatorCoder

    rng = np.random.default_rng(20240601)
    data = {n: {kind: column(kind, n, rng) for kind in KINDS} for n in rows}
    weights = {n: pa.array(rng.exponential(1.0, n)) for n in rows}
    big = max(rows)
    runs = [("default", n, False) for n in rows] + [("default", n, True) for n in rows]
    runs += [(s, big, w) for s in ("lean", "large") for w in (False, True)]
    header = ["feature kind"] + [
        f"{s} {n // 1000:,}k{' weighted' if w else ''}" for s, n, w in runs
    ]
    table_rows: list[list[str]] = []
    figures: dict[str, float] = {}
    for kind in [*KINDS, "weight feature"]:
        row = [kind]
        for setting, n, weighted in runs:
            if kind == "weight feature" and not weighted:
                row.append("-")
                continue
            spec = make_spec(setting, weighted)
            name = "w" if kind == "weight feature" else kind
            columns = {name: weights[n] if name == "w" else data[n][kind]}
            if weighted:
                columns["w"] = weights[n]
            acc = accumulate(pa.table(columns), spec)
            encoded = DatasetAccumulatorCoder(spec).encode(acc)
            if kind == "weight feature":
                size = len(encoded)
            else:  # this feature's own state (a struct's fields included), not the weight's
                size = sum(
                    len(f.to_proto().SerializeToString())
                    for path, f in acc.features.items()
                    if path[0] == kind
                )
            figures[f"{kind}/{setting}/{n}/{weighted}"] = size
            row.append(f"{size / KB:,.1f}")
        table_rows.append(row)
    return header, table_rows, figures


# -- 2. N features x S slices, each in its own process -------------------------------------


def _rss() -> int:
    """The resident set after returning freed heap memory to the system."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def _build(
    batch: pa.RecordBatch, spec: StatisticsSpec, slicing: SlicingSpec | None
) -> tuple[DatasetAccumulator, dict[str, DatasetAccumulator]]:
    """The whole dataset's and each slice's accumulator of one batch (in a function, so no
    slice of the batch outlives it and is counted as held memory)."""
    whole = DatasetAccumulator(spec)
    whole.add(batch.drop_columns(["slice"]))  # the slicing column is not one of the N
    parts: dict[str, DatasetAccumulator] = {}
    for name, part in slice_batch(batch, slicing) if slicing is not None else ():
        parts.setdefault(name, DatasetAccumulator(spec)).add(part.drop_columns(["slice"]))
    return whole, parts


def worker(features: int, slices: int, setting: str) -> dict[str, float]:
    """Builds the accumulators of one bundle and measures them (run in a fresh process)."""
    rng = np.random.default_rng(7)
    base = {kind: column(kind, BUNDLE_ROWS, rng) for kind in MIXED}
    columns = {f"{MIXED[i % len(MIXED)]}_{i}": base[MIXED[i % len(MIXED)]] for i in range(features)}
    key = pa.array(rng.integers(0, slices, BUNDLE_ROWS) if slices > 1 else np.zeros(BUNDLE_ROWS))
    batch = pa.RecordBatch.from_pydict(columns | {"slice": key})
    spec = make_spec(setting)
    slicing = SlicingSpec(features=("slice",), max_slices=max(slices, 1))
    warm = DatasetAccumulator(spec)  # loads and touches every code path before measuring
    warm.add(batch.slice(0, 100))
    del warm
    start_rss, start_arrow = _rss(), pa.total_allocated_bytes()
    start = time.perf_counter()
    whole, parts = _build(batch, spec, slicing if slices > 1 else None)
    seconds = time.perf_counter() - start
    held, peak = _rss() - start_rss, _max_rss() - start_rss
    arrow = pa.total_allocated_bytes() - start_arrow
    start = time.perf_counter()
    accumulators = [whole, *parts.values()]
    # DatasetAccumulatorCoder.encode is exactly this (not imported: Beam would grow the RSS).
    encoded = [len(a.to_proto().SerializeToString()) for a in accumulators]
    encode_seconds = time.perf_counter() - start
    output = sum(len(a.result("x").SerializeToString()) for a in accumulators)
    bare = sum(len(a.result("x", include_state=False).SerializeToString()) for a in accumulators)
    return {
        "features": features,
        "slices": len(parts) or 1,
        "setting": setting,  # type: ignore[dict-item]
        "seconds": seconds,
        "encode_seconds": encode_seconds,
        "whole_bytes": encoded[0],
        "slice_bytes": sum(encoded[1:]),
        "shuffle_bytes": sum(encoded),
        "output_bytes": output,
        "bare_output_bytes": bare,
        "held": held,
        "peak": peak,
        "arrow": arrow,
    }


def run_worker(features: int, slices: int, setting: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", f"{features},{slices},{setting}"]
    env = os.environ | {"ARROW_DEFAULT_MEMORY_POOL": "system"}
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def grid_table(results: list[dict[str, float]]) -> tuple[list[str], list[list[str]]]:
    header = ["features", "slices", "settings", "build s", "shuffle MB (bundle)",
              "per slice KB", "per feature x slice KB", "output MB", "no-state output MB",
              "held MB", "peak MB"]  # fmt: skip
    rows = []
    for r in results:
        f, s = int(r["features"]), int(r["slices"])
        per_slice = r["slice_bytes"] / s if s > 1 else r["whole_bytes"]
        rows.append([
            f"{f:,}", f"{s:,}", str(r["setting"]), f"{r['seconds']:.2f}",
            f"{r['shuffle_bytes'] / MB:,.2f}", f"{per_slice / KB:,.1f}",
            f"{per_slice / f / KB:,.2f}", f"{r['output_bytes'] / MB:,.2f}",
            f"{r['bare_output_bytes'] / MB:,.2f}",
            f"{r['held'] / MB:,.0f}", f"{r['peak'] / MB:,.0f}",
        ])  # fmt: skip
    return header, rows


def extrapolate(results: list[dict[str, float]]) -> tuple[list[str], list[list[str]]]:
    """10k features and 100k slices from the measured per-unit figures (linear)."""
    by = {(int(r["features"]), int(r["slices"]), str(r["setting"])): r for r in results}
    wide = by[1000, 1, "default"]
    most = max(s for f, s, x in by if f == 10 and x == "default")
    sliced = by[10, most, "default"]
    cells = 10 * (most + 1)  # feature x dataset pairs, the whole dataset included

    def scaled(figure: float, factor: float) -> str:
        value = figure * factor
        return f"{value / 1e9:,.1f} GB" if value >= 1e9 else f"{value / MB:,.0f} MB"

    header = ["case", "basis", "shuffle per bundle", "memory held", "finished output",
              "no-state output"]  # fmt: skip
    keys = ("shuffle_bytes", "held", "output_bytes", "bare_output_bytes")
    rows = [["10,000 features, no slice", "1,000-feature run x 10",
             *(scaled(wide[k], 10) for k in keys)]]  # fmt: skip
    for features in (10, 100):
        factor = features * (100_000 + 1) / cells
        rows.append([f"{features} features x 100,000 slices",
                     f"10 x {most:,} run x {factor:,.0f}",
                     *(scaled(sliced[k], factor) for k in keys)])  # fmt: skip
    return header, rows


# -- 3. the cost of the max_slices check ---------------------------------------------------


def _best_ms(run: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def check_cost() -> list[str]:
    """Partitioning one bundle into 10,000 slices with and without counting the keys, and
    how long rejecting a bundle sliced by an id takes."""
    rng = np.random.default_rng(3)
    x = pa.array(rng.normal(size=BUNDLE_ROWS))
    keys = pa.record_batch({"k": pa.array(rng.integers(0, 10_000, BUNDLE_ROWS)), "x": x})
    slicing = SlicingSpec(features=("k",), max_slices=25_000)  # over twice 10,000: no warning
    plain_ms = _best_ms(lambda: sum(1 for _ in slice_batch(keys, slicing)))
    counted_ms = _best_ms(lambda: sum(1 for _ in SliceCounter(slicing).slice(keys)))
    ids = pa.record_batch({"id": pa.array(rng.permutation(BUNDLE_ROWS)), "x": x})

    def reject() -> None:
        try:
            next(SliceCounter(SlicingSpec(features=("id",))).slice(ids))
        except InvalidInputError:
            return
        raise AssertionError("an id column was not rejected")

    return [
        f"partition {BUNDLE_ROWS:,} rows into 10,000 slices: {plain_ms:.1f} ms "
        f"(slice_batch), {counted_ms:.1f} ms counting keys against max_slices (SliceCounter)",
        f"reject a bundle of {BUNDLE_ROWS:,} rows sliced by an id (max_slices 10,000): "
        f"{_best_ms(reject):.1f} ms, before any slice is made",
    ]


# -- output --------------------------------------------------------------------------------


def machine() -> list[str]:
    import importlib.metadata

    def first(path: str, key: str) -> str:
        try:
            with open(path) as f:
                return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith(key)), "?")
        except OSError:
            return "?"

    mem_kb = first("/proc/meminfo", "MemTotal").split()[0]
    return [
        f"nproc: {len(os.sched_getaffinity(0))}, CPU: {first('/proc/cpuinfo', 'model name')}",
        f"memory: {int(mem_kb) / 2**20:.1f} GiB" if mem_kb.isdigit() else "memory: ?",
        f"python {platform.python_version()}, pyarrow {pa.__version__}, numpy {np.__version__}, "
        f"apache-beam {importlib.metadata.version('apache-beam')}, "
        f"datasketches {importlib.metadata.version('datasketches')}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-slice run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # FEATURES,SLICES,SETTING
    args = parser.parse_args(argv)
    if args.worker:
        features, slices, setting = args.worker.split(",")
        print(json.dumps(worker(int(features), int(slices), setting)))
        return 0

    began = time.perf_counter()
    info = machine()
    print("\n".join(info), flush=True)
    print("\n1. Encoded state of one feature (KB = 1,000 bytes), by kind, rows and settings:")
    for name, s in SETTINGS.items():
        print(f"   {name}: quantiles capacity={s['q']}, exact limit={s['exact']:,}, "
              f"frequent-items capacity={s['capacity']}, "
              f"HLL precision={s['precision']}, "
              f"weighted-quantiles capacity={s['weighted']}")  # fmt: skip
    kind_header, kind_rows, _ = per_kind([1_000, 1_000_000])
    print(plain_table(kind_header, kind_rows), flush=True)
    print(f"({time.perf_counter() - began:.0f} s so far)")

    configs = [(10, 1, "default"), (100, 1, "default"), (1000, 1, "default")]
    configs += [(10, s, "default") for s in (10, 100, 1000)]
    configs += [] if args.quick else [(10, 10_000, "default")]
    configs += [(10, 1000, "lean"), (10, 1000, "large"), (100, 100, "default")]
    results = []
    print(f"\n2. N mixed features x S slices, one bundle of {BUNDLE_ROWS:,} rows:")
    for features, slices, setting in configs:
        results.append(run_worker(features, slices, setting))
        header, rows = grid_table(results[-1:])
        if len(results) == 1:
            print("  ".join(header), flush=True)
        print("  ".join(rows[0]), flush=True)
    grid_header, grid_rows = grid_table(results)
    print("\n" + plain_table(grid_header, grid_rows))
    extra_header, extra_rows = extrapolate(results)
    print("\n3. Extrapolated (linear in the measured per-feature and per-slice figures):")
    print(plain_table(extra_header, extra_rows))
    cost = check_cost()
    print("\n4. The max_slices check:")
    print("\n".join(f"   {line}" for line in cost))
    print(f"\ntotal {time.perf_counter() - began:.0f} s")

    print("\n---- markdown ----\n")
    print(f"Measured {time.strftime('%Y-%m-%d')} by `.venv/bin/python benchmarks/scaling.py"
          f"{' --quick' if args.quick else ''}`.\n")  # fmt: skip
    print("\n".join(f"- {line}" for line in info) + "\n")
    print(markdown_table(kind_header, kind_rows) + "\n")
    print(markdown_table(grid_header, grid_rows) + "\n")
    print(markdown_table(extra_header, extra_rows) + "\n")
    print("\n".join(f"- {line}" for line in cost))
    return 0


if __name__ == "__main__":
    sys.exit(main())
