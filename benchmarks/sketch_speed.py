"""Speed (and accuracy) of beam_stats.sketches against per-item datasketches updates.

Standalone: ``.venv/bin/python benchmarks/sketch_speed.py``. Prints one line per figure:

* Misra-Gries ``add_counts`` (the stats layer's hot path: one call per Arrow batch with the
  output of ``dictionary_encode`` + ``np.bincount``), also timed with the encoding included
  (``add``), vs ``datasketches.frequent_strings_sketch.update`` per item, on 1M near-unique
  and 1M low-cardinality strings in batches of 65536.
* HyperLogLog: ``hash_array`` + ``add_hashes`` vs ``datasketches.hll_sketch.update`` per item
  on 1M distinct strings, with the relative error of both at precision 12 and 14.
* KLL: ``QuantilesAccumulator.add`` cost per value.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import datasketches
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.sketches import (
    DistinctCountSpec,
    FrequentItemsSpec,
    QuantilesSpec,
    hash_array,
)

N = 1_000_000
BATCH = 65_536
CAPACITY = 2048
# frequent_strings_sketch keeps 0.75 * 2**lg_max_map_size items: 3072 >= CAPACITY.
LG_MAP_SIZE = 12


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def batches(values: pa.Array) -> list[pa.Array]:
    return [values.slice(i, BATCH) for i in range(0, len(values), BATCH)]


def frequent_items(label: str, values: pa.Array) -> None:
    parts = batches(values)
    encoded = []
    for part in parts:
        enc = pc.dictionary_encode(part)
        counts = np.bincount(enc.indices.to_numpy(), minlength=len(enc.dictionary))
        encoded.append((enc.dictionary, counts.astype(np.float64)))

    def ours_add_counts() -> None:
        acc = FrequentItemsSpec(capacity=CAPACITY).create()
        for dictionary, counts in encoded:
            acc.add_counts(dictionary, counts)

    def ours_add() -> None:
        acc = FrequentItemsSpec(capacity=CAPACITY).create()
        for part in parts:
            acc.add(part)

    py_parts = [part.to_pylist() for part in parts]

    def datasketches_per_item() -> None:
        sk = datasketches.frequent_strings_sketch(LG_MAP_SIZE)
        for part in py_parts:
            for item in part:
                sk.update(item)

    py_encoded = [(d.to_pylist(), c.astype(np.int64).tolist()) for d, c in encoded]

    def datasketches_weighted() -> None:
        sk = datasketches.frequent_strings_sketch(LG_MAP_SIZE)
        for items, weights in py_encoded:
            for item, weight in zip(items, weights, strict=True):
                sk.update(item, weight)

    t_pylist = timed(lambda: [part.to_pylist() for part in parts])
    t_counts = timed(ours_add_counts)
    t_add = timed(ours_add)
    t_ds = timed(datasketches_per_item, repeat=1)
    t_ds_w = timed(datasketches_weighted, repeat=1)
    print(
        f"MG {label}: beam_stats add_counts {t_counts * 1e3:8.1f} ms "
        f"({t_counts / N * 1e9:6.1f} ns/value)"
    )
    print(
        f"MG {label}: beam_stats add (encode+bincount+add_counts) {t_add * 1e3:8.1f} ms "
        f"({t_add / N * 1e9:6.1f} ns/value)"
    )
    print(
        f"MG {label}: datasketches frequent_strings per-item update {t_ds * 1e3:8.1f} ms "
        f"({t_ds / N * 1e9:6.1f} ns/value)  -> add_counts {t_ds / t_counts:5.1f}x, "
        f"add {t_ds / t_add:5.1f}x faster"
    )
    print(
        f"MG {label}: (the per-item path also pays Arrow -> Python str conversion, "
        f"{t_pylist * 1e3:.1f} ms, not included)"
    )
    print(
        f"MG {label}: datasketches weighted update of batch-encoded values {t_ds_w * 1e3:8.1f} ms"
    )


def _ours_hll(values: pa.Array, spec: DistinctCountSpec) -> int:
    acc = spec.create()
    for part in batches(values):
        acc.add(part)
    return acc.result()


def _datasketches_hll(items: list[str], precision: int) -> float:
    sk = datasketches.hll_sketch(precision, datasketches.tgt_hll_type.HLL_8)
    for item in items:
        sk.update(item)
    return float(sk.get_estimate())


def distinct_count(values: pa.Array) -> None:
    py_values = values.to_pylist()
    t_hash = timed(lambda: hash_array(values))
    print(f"hash_array: {t_hash * 1e3:.1f} ms per 1M strings ({t_hash / N * 1e9:.1f} ns/value)")
    for precision in (12, 14):
        spec = DistinctCountSpec(precision=precision)
        t_ours = timed(functools.partial(_ours_hll, values, spec))
        t_theirs = timed(functools.partial(_datasketches_hll, py_values, precision), repeat=1)
        err_ours = _ours_hll(values, spec) / N - 1
        err_theirs = _datasketches_hll(py_values, precision) / N - 1
        print(
            f"HLL p={precision}: beam_stats hash_array+add_hashes {t_ours * 1e3:7.1f} ms "
            f"({t_ours / N * 1e9:5.1f} ns/value), rel. error {err_ours:+.4f}"
        )
        print(
            f"HLL p={precision}: datasketches hll_sketch per-item {t_theirs * 1e3:7.1f} ms "
            f"({t_theirs / N * 1e9:5.1f} ns/value), rel. error {err_theirs:+.4f}; "
            f"RSE {spec.relative_standard_error:.4f}; speed-up {t_theirs / t_ours:5.1f}x"
        )


def quantiles() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=N)
    parts = np.array_split(data, N // BATCH + 1)

    def add() -> None:
        acc = QuantilesSpec().create()
        for part in parts:
            acc.add(part)

    def add_constant() -> None:
        QuantilesSpec().create().add_constant(1.5, N)

    t = timed(add)
    t_const = timed(add_constant)
    print(
        f"KLL k=200: add {t * 1e3:.1f} ms per 1M values ({t / N * 1e9:.1f} ns/value); "
        f"add_constant {t_const / N * 1e9:.1f} ns/value"
    )


def main() -> None:
    near_unique = pa.array([f"id-{i:09d}" for i in range(N)])
    rng = np.random.default_rng(1)
    categories = np.array([f"category-{i}" for i in range(200)])
    low_cardinality = pa.array(categories[rng.zipf(1.5, size=N) % 200])
    frequent_items("1M near-unique strings", near_unique)
    frequent_items("1M low-cardinality strings (200 values)", low_cardinality)
    distinct_count(near_unique)
    quantiles()


if __name__ == "__main__":
    main()
