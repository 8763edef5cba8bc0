"""Writes the committed fixtures of tests/testdata (run once per format version).

``stats_format_v1.pb``: statistics with sketch state in format 1, written by the beam-stats of
the day format 1 was introduced. Later versions must keep loading and merging it; never
regenerate it with a newer beam-stats.

``stats_dense_registers_v2.pb``: statistics in format 2 whose protected (redacted) features
keep their distinct counts as all ``2**14`` HyperLogLog registers, as every beam-stats wrote
them before the sparse register encoding (issue 16). Written once by that beam-stats
(``python tests/make_testdata.py dense_registers``); never regenerate it with a newer one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

from beam_stats import StatisticsSpec, generate_statistics_from_table, write_statistics
from beam_stats.stats.privacy import PrivacySpec


def fixture_table() -> pa.Table:
    """The data of stats_format_v1.pb (tests recompute it to check the merge)."""
    rng = np.random.default_rng(1)
    n = 3000
    return pa.table(
        {
            "amount": rng.lognormal(3.0, 1.0, n),
            "count": rng.integers(0, 20, n),
            "country": rng.choice(["de", "fr", "jp", "us"], n, p=[0.2, 0.1, 0.3, 0.4]),
            "ids": pa.array([f"id-{i}" for i in range(n)]),
        }
    )


#: The policy of stats_dense_registers_v2.pb: its distinct counts of these are registers.
DENSE_POLICY = PrivacySpec(redact=frozenset({("country",), ("city",)}))


def dense_registers_table(offset: int = 0) -> pa.Table:
    """The data of stats_dense_registers_v2.pb (``offset`` 0); other offsets give data
    that overlaps it, to merge with it."""
    rng = np.random.default_rng(16 + offset)
    n = 400
    return pa.table(
        {
            "country": rng.choice(["de", "fr", "jp", "us", "uk"], n),
            "city": pa.array([f"city-{(i + offset) % 60}" for i in range(n)]),
            "plan": rng.choice(["free", "pro", "team"], n),
            "ids": pa.array([f"id-{i + offset}" for i in range(n)]),
        }
    )


if __name__ == "__main__":
    testdata = Path(__file__).parent / "testdata"
    which = sys.argv[1] if len(sys.argv) > 1 else "v1"
    if which == "v1":
        out = testdata / "stats_format_v1.pb"
        stats = generate_statistics_from_table(fixture_table(), name="v1")
    elif which == "dense_registers":
        out = testdata / "stats_dense_registers_v2.pb"
        spec = StatisticsSpec(privacy=DENSE_POLICY)
        stats = generate_statistics_from_table(dense_registers_table(), spec, name="old")
    else:
        raise SystemExit(f"unknown fixture {which!r}: v1 or dense_registers")
    write_statistics(stats, str(out))
    print(f"wrote {out}")
