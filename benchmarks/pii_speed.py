"""Personal-data detection: seconds per 1M values of ``PiiAccumulator.add``, per column type.

Usage::

    .venv/bin/python benchmarks/pii_speed.py [--rows 1000000] [--repeat 3]

The columns: the string columns of the benchmark dataset (``benchmarks/make_dataset.py``,
generated in memory: ``s_low`` to ``text``, and the tags of ``l_str``) and near-unique
columns of the kinds a real table holds (e-mail addresses, phone numbers, UUIDs, ISO
timestamps, 16-digit numeric ids, order numbers), built with numpy from one seed. Each column
is cut into batches of 131,072 values (the readers' batch size) and dictionary-encoded
beforehand, as ``FeatureAccumulator`` hands them over (the encoding is shared with the string
statistics, so it is not timed); the time is that of ``PiiAccumulator.add`` over every batch,
the best of ``--repeat`` runs, scaled to 1M values. The code measured is this checkout's.
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
        start = time.perf_counter()
        for batch in batches:
            acc.add(batch)
        best = min(best, time.perf_counter() - start)
    return best * 1_000_000 / len(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
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
