"""Distinct counts: state size, error and time of the exact-then-HyperLogLog sketch.

Usage::

    .venv/bin/python benchmarks/distinct_accuracy.py [--seeds 5]

For each number of distinct strings (5, 1k, 5k, 100k, 100,001, 1M) and each seed, a column
holding every value twice (shuffled, in batches of 65,536) is added to a fresh
``DistinctCountAccumulator``, with the default settings (exact up to 100,000, then
HyperLogLog precision 14), with those settings and then made dense as a privacy policy does
for a protected feature (``densify``: registers, no hash; sparse registers while fewer than a
quarter are set), and as HyperLogLog only (``exact_limit=0``, the behaviour before issue 10).
Printed per setting: the serialized state size, the worst relative error over the seeds
(exact count: ``np.unique``), and the time of the adds (median over seeds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

from beam_stats.sketches import DistinctCountSpec

SIZES = (5, 1_000, 5_000, 100_000, 100_001, 1_000_000)
BATCH = 65_536


def column(n: int, seed: int) -> pa.Array:
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.repeat(rng.choice(10**9, n, replace=False), 2))
    return pa.array(np.char.add("user-", ids.astype(str)))


def measure(spec: DistinctCountSpec, values: pa.Array, protect: bool) -> tuple[int, int, float]:
    acc = spec.create()
    start = time.perf_counter()
    for offset in range(0, len(values), BATCH):
        acc.add(values.slice(offset, BATCH))
    seconds = time.perf_counter() - start
    if protect:
        acc.densify()
    return acc.result(), len(acc.to_proto().SerializeToString()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    specs = {
        "exact, then HLL p=14": (DistinctCountSpec(), False),
        "same, protected (densified)": (DistinctCountSpec(), True),
        "HLL only p=14": (DistinctCountSpec(exact_limit=0), False),
    }
    print("| distinct values | sketch | state bytes | worst relative error | add time ms |")
    print("|---|---|---|---|---|")
    for n in SIZES:
        data = [column(n, seed) for seed in range(args.seeds)]
        truth = [len(np.unique(d.to_numpy(zero_copy_only=False))) for d in data]
        assert truth == [n] * args.seeds
        for label, (spec, protect) in specs.items():
            runs = [measure(spec, d, protect) for d in data]
            errors = [abs(r[0] - n) / n for r in runs]
            size = max(r[1] for r in runs)
            ms = 1000 * float(np.median([r[2] for r in runs]))
            print(f"| {n:,} | {label} | {size:,} | {max(errors):.4%} | {ms:.1f} |")


if __name__ == "__main__":
    main()
