"""Helpers of the history report tests: a store of generated daily spans.

Twelve days (fixed seed, 3,000 rows a day) of ``amount`` (numeric, stable), ``country``
(strings, 2% missing) and a string feature named like markup. Day 9 (``OUTAGE``) is an
outage (300 rows); on day 10 (``MISSING``) ``country`` is missing from 40% of the examples.
The tables are kept, so tests compute every metric from the data with numpy.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from beam_stats import generate_statistics_from_table
from beam_stats.beam.history import StatisticsStore

HOSTILE = "<script>alert(1)</script>"
START = datetime.date(2026, 1, 1)
DAYS = 12
SPANS = [(START + datetime.timedelta(days=d)).isoformat() for d in range(DAYS)]
OUTAGE, MISSING = SPANS[9], SPANS[10]


def day_table(rng: np.random.Generator, *, outage: bool, missing_day: bool) -> pa.Table:
    rows = 300 if outage else 3000
    country = rng.choice(np.array(["de", "fr", "it", "es"]), rows, p=[0.4, 0.3, 0.2, 0.1])
    missing = rng.random(rows) < (0.4 if missing_day else 0.02)
    return pa.table(
        {
            "amount": rng.normal(100, 20, rows),
            "country": pa.array(np.where(missing, None, country).tolist(), pa.string()),
            HOSTILE: rng.choice(np.array(["x", "y"]), rows, p=[0.7, 0.3]),
        }
    )


def make_store(
    folder: Path,
    spans: list[str] | None = None,
    *,
    outage: str = OUTAGE,
    missing: str = MISSING,
    seed: int = 23,
) -> tuple[StatisticsStore, dict[str, pa.Table]]:
    """A store in `folder` of one generated day per span (:data:`SPANS` by default), the
    span `outage` an outage and on `missing` ``country`` often missing, and each span's
    table."""
    rng = np.random.default_rng(seed)
    store = StatisticsStore(folder)
    tables = {}
    for span in spans or SPANS:
        table = day_table(rng, outage=span == outage, missing_day=span == missing)
        store.add(generate_statistics_from_table(table), span)
        tables[span] = table
    return store, tables


def metrics_of(table: pa.Table, feature: str) -> dict[str, float]:
    """The metrics of one feature of `table`, computed with numpy (as the series define
    them: missing fraction over examples, population std, top share over values)."""
    values = table.column(feature).to_pylist()
    present = [v for v in values if v is not None]
    found = {"missing_fraction": (len(values) - len(present)) / len(values)}
    if isinstance(present[0], float):
        data = np.array(present, dtype=np.float64)
        found["mean"] = float(np.mean(data))
        found["std"] = float(np.std(data))
    else:
        labels, counts = np.unique(np.array(present, dtype=object).astype(str), return_counts=True)
        found["distinct"] = float(len(labels))
        found["top_share"] = float(counts.max() / len(present))
    return found
