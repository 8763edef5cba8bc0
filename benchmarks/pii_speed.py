"""Personal-data detection: seconds per 1M values of ``PiiAccumulator.add``, per column type.

Usage::

    .venv/bin/python benchmarks/pii_speed.py [--rows 1000000] [--repeat 3]
    .venv/bin/python benchmarks/pii_speed.py --flow benchmarks/data/mixed_1000000.parquet

The columns: the string columns of the benchmark dataset (``benchmarks/make_dataset.py``,
generated in memory: ``s_low`` to ``text``, and the tags of ``l_str``) and near-unique
columns of the kinds a real table holds (e-mail addresses, phone numbers, UUIDs, ISO
timestamps, 16-digit numeric ids, order numbers), built with numpy from one seed. Each column
is cut into batches of 131,072 values (the readers' batch size) and dictionary-encoded
beforehand, as ``FeatureAccumulator`` hands them over (the encoding is shared with the string
statistics, so it is not timed); the time is the CPU time of the process (``time.process_time``:
less disturbed than wall time by other jobs on a shared machine; the work is single-threaded)
in ``PiiAccumulator.add`` over every batch, the best of ``--repeat`` runs, scaled to 1M
values. The code measured is this checkout's.

``--flow FILE`` measures the statistic where it runs instead: ``DatasetAccumulator.add`` (all
statistics, detection on) over the Parquet file's batches of 131,072 rows, and the CPU time
spent inside ``PiiAccumulator.add`` in it (a timer around that method, in this process only),
each the best of ``--repeat`` runs, scaled to 1M rows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's beam_stats, not an installed one
sys.path.insert(0, str(ROOT / "benchmarks"))

import make_dataset  # noqa: E402

from beam_stats import StatisticsSpec  # noqa: E402
from beam_stats.stats import pii  # noqa: E402
from beam_stats.stats.dataset import DatasetAccumulator  # noqa: E402
from beam_stats.stats.pii import PiiAccumulator  # noqa: E402

BATCH = 131_072
DATASET_COLUMNS = ("s_low", "s_medium", "s_high", "s_id", "s_code", "text", "l_str")


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(rng: np.random.Generator, n: int, width: int, low: int = 0) -> pa.Array:
    numbers = rng.integers(low, 10**width, n, dtype=np.int64)
    return pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")


def synthetic(n: int, seed: int = 7) -> dict[str, pa.Array]:
    """Near-unique columns of common kinds, `n` values each."""
    rng = np.random.default_rng(seed)
    names = pa.array(["anna", "bob", "chen", "dmitri", "eve", "fatima", "gus", "hana"])
    domains = pa.array(["example.com", "mail.co.uk", "x.org", "company.de"])
    name = pc.take(names, pa.array(rng.integers(0, len(names), n)))
    domain = pc.take(domains, pa.array(rng.integers(0, len(domains), n)))
    hexes = np.frombuffer(b"0123456789abcdef", np.uint8)
    uuid = hexes[rng.integers(0, 16, (n, 36))]
    uuid[:, [8, 13, 18, 23]] = ord("-")
    seconds = pa.array(rng.integers(1_600_000_000, 1_800_000_000, n), pa.timestamp("s"))
    return {
        "email": _join(name, ".", _digits(rng, n, 6), "@", domain),
        "phone": _join("+1 ", _digits(rng, n, 3), " ", _digits(rng, n, 3), " ", _digits(rng, n, 4)),
        "uuid": pa.StringArray.from_buffers(
            n, pa.py_buffer(np.arange(n + 1, dtype=np.int32) * 36), pa.py_buffer(uuid.ravel())
        ),
        "timestamp": pc.strftime(seconds, "%Y-%m-%dT%H:%M:%SZ"),
        "numeric_id": _digits(rng, n, 16, low=10**15),
        "order": _join("ORD-2024-", _digits(rng, n, 6)),
    }


def dataset(n: int) -> dict[str, pa.Array]:
    """The string columns of the benchmark dataset's first `n` rows (list values flattened)."""
    blocks = list(make_dataset.iter_blocks(n))
    table = pa.concat_tables(blocks).slice(0, n)
    out = {}
    for name in DATASET_COLUMNS:
        column = table.column(name).combine_chunks()
        out[name] = column.flatten() if pa.types.is_list(column.type) else column
    return out


def seconds_per_million(values: pa.Array, repeat: int) -> float:
    batches = [pc.dictionary_encode(values.slice(i, BATCH)) for i in range(0, len(values), BATCH)]
    best = float("inf")
    for _ in range(repeat):
        acc = PiiAccumulator()
        start = time.process_time()
        for batch in batches:
            acc.add(batch)
        best = min(best, time.process_time() - start)
    return best * 1_000_000 / len(values)


def in_flow(path: str, repeat: int) -> tuple[float, float, int]:
    """CPU seconds in PiiAccumulator.add and in DatasetAccumulator.add over the file; rows."""
    import pyarrow.parquet as pq

    batches = list(pq.ParquetFile(path).iter_batches(batch_size=BATCH))
    inside = [0.0]
    add = PiiAccumulator.add

    def timed(self: PiiAccumulator, values: pa.Array) -> None:
        start = time.process_time()
        add(self, values)
        inside[0] += time.process_time() - start

    pii.PiiAccumulator.add = timed  # type: ignore[method-assign]
    best_pii = best_all = float("inf")
    try:
        for _ in range(repeat):
            inside[0] = 0.0
            acc = DatasetAccumulator(StatisticsSpec())
            start = time.process_time()
            for batch in batches:
                acc.add(batch)
            best_all = min(best_all, time.process_time() - start)
            best_pii = min(best_pii, inside[0])
    finally:
        pii.PiiAccumulator.add = add  # type: ignore[method-assign]
    return best_pii, best_all, sum(len(b) for b in batches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flow", metavar="FILE", help="time the statistic inside a run")
    args = parser.parse_args(argv)
    if args.flow:
        inside, total, rows = in_flow(args.flow, args.repeat)
        scale = 1_000_000 / rows
        print(f"{rows:,} rows: PiiAccumulator.add {inside * scale:.3f} s of")
        print(f"DatasetAccumulator.add {total * scale:.3f} s per 1M rows ({inside / total:.1%})")
        return 0
    columns = {**dataset(args.rows), **synthetic(args.rows)}
    print("| column | values | distinct | s per 1M values |")
    print("|---|---|---|---|")
    total = 0.0
    for name, values in columns.items():
        seconds = seconds_per_million(values, args.repeat)
        total += seconds
        distinct = len(pc.unique(values))
        print(f"| {name} | {len(values):,} | {distinct:,} | {seconds:.3f} |")
    print(f"| all | | | {total:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
