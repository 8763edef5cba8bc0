"""Time of a rolling baseline from a statistics store (issue 15: 30 daily spans of 20
features merged in under 2 s).

Standalone: ``.venv/bin/python benchmarks/history_merge.py [--spans 30] [--rows 20000]
[--repeat 5]``. Makes one span's statistics per day from the 20-column mixed dataset of
``benchmarks/make_dataset.py`` (a different seed each day; ``generate_statistics_from_table``,
sketch state included), adds them to a store in a temporary folder, then times
``StatisticsStore.rolling_baseline(SPANS)``: reading the manifest, reading and checking
(size, SHA-256) every span's file, parsing it and merging the sketch state. Prints each
run's wall time, the best and the median, and checks the baseline counts every example.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_dataset  # noqa: E402  (the benchmark folder is not a package)

from beam_stats import StatisticsStore, generate_statistics_from_table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=30, help="days in the store")
    parser.add_argument("--rows", type=int, default=20_000, help="rows per day")
    parser.add_argument("--repeat", type=int, default=5, help="timed merges")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = StatisticsStore(folder)
        start = time.perf_counter()
        for day in range(args.spans):
            table = pa.concat_tables(make_dataset.iter_blocks(args.rows, seed=day))
            store.add(generate_statistics_from_table(table), f"2026-01-{day + 1:02d}")
        made = time.perf_counter() - start
        entries = store.spans()
        size = sum(e.size for e in entries)
        print(
            f"{len(entries)} spans of {entries[0].num_features} features, {args.rows} rows "
            f"each, {size / 1e6:.1f} MB of statistics (made and added in {made:.1f} s)"
        )
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            baseline = store.rolling_baseline(args.spans)
            times.append(time.perf_counter() - start)
        examples = baseline.datasets[0].num_examples
        if examples != args.spans * args.rows:
            raise SystemExit(
                f"the baseline counts {examples} examples, not {args.spans * args.rows}"
            )
        print("runs (s): " + ", ".join(f"{t:.3f}" for t in times))
        print(
            f"rolling_baseline({args.spans}): best {min(times):.3f} s, median "
            f"{statistics.median(times):.3f} s (target: under 2 s)"
        )


if __name__ == "__main__":
    main()
