"""Writes the committed fixtures of tests/testdata (run once per format version).

``stats_format_v1.pb``: statistics with sketch state in format 1, written by the beam-stats of
the day format 1 was introduced. Later versions must keep loading and merging it; never
regenerate it with a newer beam-stats.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from beam_stats import generate_statistics_from_table, write_statistics


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


if __name__ == "__main__":
    out = Path(__file__).parent / "testdata" / "stats_format_v1.pb"
    write_statistics(generate_statistics_from_table(fixture_table(), name="v1"), str(out))
    print(f"wrote {out}")
