"""Deterministic generator of the training/serving sample pair with planted changes.

Usage (from the repository root)::

    .venv/bin/python data/sample/make_pair.py          # data/sample/{train,serving}.parquet
    .venv/bin/python data/sample/make_pair.py --out DIR

Same command, same bytes (seeded numpy generators, one per file; the Parquet writer of the
same pyarrow version). The planted changes are listed in ``data/sample/README.md`` and
checked by ``tests/validation/test_validation_sample_pair.py``; keep the three in step.

Training (5,000 rows) columns: ``user_id``, ``age``, ``income``, ``tenure_days``,
``num_purchases``, ``session_minutes``, ``country``, ``device``, ``plan``, ``referrer``,
``zip_code``, ``email_verified``, ``is_premium``, ``tags`` (list<string>), ``scores``
(list<double>, 3 values) and the label ``churned`` (training only). Serving (2,000 rows) has
the same columns but the label, plus ``promo_code``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 4  # the issue number
TRAIN_ROWS = 5_000
SERVING_ROWS = 2_000
COUNTRIES = ["US", "GB", "DE", "FR", "IN", "CA", "AU", "JP"]
COUNTRY_P = [0.35, 0.12, 0.12, 0.1, 0.12, 0.08, 0.06, 0.05]
DEVICES = ["mobile", "desktop", "tablet"]
PLANS = ["basic", "plus", "pro"]
REFERRERS = ["search", "direct", "social", "email", "partner"]
TAGS = ["sports", "music", "news", "tech", "travel", "food"]


def _zip_codes() -> list[str]:
    rng = np.random.default_rng([SEED, 99])
    return [f"{z:05d}" for z in sorted(rng.choice(100_000, size=300, replace=False))]


def _common(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    """The columns whose distribution is the same in both files (before planted changes)."""
    ids = rng.choice(10_000_000, size=n, replace=False)
    num_tags = rng.integers(0, 4, size=n)
    return {
        "user_id": pa.array([f"u{i:07d}" for i in ids]),
        "age": pa.array(rng.integers(18, 91, size=n), pa.int64()),
        "income": pa.array(np.round(np.clip(rng.lognormal(10.8, 0.5, n), 10_000, 250_000), 2)),
        "tenure_days": pa.array(rng.integers(0, 3651, size=n), pa.int64()),
        "num_purchases": pa.array(np.minimum(rng.poisson(3.0, n), 15), pa.int64()),
        "country": pa.array(rng.choice(COUNTRIES, size=n, p=COUNTRY_P)),
        "plan": pa.array(rng.choice(PLANS, size=n, p=[0.6, 0.3, 0.1])),
        "referrer": pa.array(rng.choice(REFERRERS, size=n, p=[0.4, 0.25, 0.15, 0.12, 0.08])),
        "zip_code": pa.array(rng.choice(_zip_codes(), size=n)),
        "email_verified": pa.array(rng.choice(["true", "false"], size=n, p=[0.8, 0.2])),
        "is_premium": pa.array(rng.random(n) < 0.15),
        "tags": pa.array(
            [sorted(rng.choice(TAGS, size=k, replace=False).tolist()) for k in num_tags],
            pa.list_(pa.string()),
        ),
        "scores": pa.array(np.round(rng.random((n, 3)), 4).tolist(), pa.list_(pa.float64())),
    }


def _session_minutes(rng: np.random.Generator, n: int, a: float, b: float) -> np.ndarray:
    return np.round(5 + 85 * rng.beta(a, b, n), 1)


def training() -> pa.Table:
    rng = np.random.default_rng([SEED, 0])
    columns = _common(rng, TRAIN_ROWS)
    columns["session_minutes"] = pa.array(_session_minutes(rng, TRAIN_ROWS, 2.0, 5.0))
    columns["device"] = pa.array(rng.choice(DEVICES, size=TRAIN_ROWS, p=[0.5, 0.4, 0.1]))
    tenure = columns["tenure_days"].to_numpy()
    basic = np.asarray(columns["plan"].to_pylist()) == "basic"
    churn_p = 1 / (1 + np.exp(-(-1.0 + 1.2 * basic - tenure / 1500)))
    columns["churned"] = pa.array((rng.random(TRAIN_ROWS) < churn_p).astype(np.int64))
    return pa.table(dict(sorted(columns.items())))


def serving(train: pa.Table) -> pa.Table:
    rng = np.random.default_rng([SEED, 1])
    n = SERVING_ROWS
    columns = _common(rng, n)
    # Drift only (no schema anomaly): session_minutes shifts up, kept inside the training
    # range; device frequencies change, same three values.
    minutes = train.column("session_minutes").to_numpy()
    shifted = _session_minutes(rng, n, 3.5, 4.0)
    columns["session_minutes"] = pa.array(np.clip(shifted, minutes.min(), minutes.max()))
    columns["device"] = pa.array(rng.choice(DEVICES, size=n, p=[0.75, 0.2, 0.05]))
    # 1. A new column.
    promo = rng.choice(["SPRING10", "WELCOME5", "FRIEND20"], size=n)
    columns["promo_code"] = pa.array(promo.tolist(), mask=rng.random(n) >= 0.3)
    # 2. A categorical value outside the training domain: "BR" in 1.5% of the rows.
    country = np.asarray(columns["country"].to_pylist(), dtype=object)
    country[rng.random(n) < 0.015] = "BR"
    columns["country"] = pa.array(country.tolist())
    # 3. An int column written as double, some values with a fraction.
    tenure = columns["tenure_days"].to_numpy().astype(np.float64)
    tenure[rng.random(n) < 0.1] += 0.5
    columns["tenure_days"] = pa.array(tenure)
    # 4. A feature always present in training now missing in about 12% of the rows.
    referrer = columns["referrer"]
    columns["referrer"] = pa.array(referrer.to_pylist(), mask=rng.random(n) < 0.12)
    # 5. NaN in a float feature that had none.
    income = columns["income"].to_numpy().copy()
    income[rng.random(n) < 0.02] = np.nan
    columns["income"] = pa.array(income)
    # 6. Values far above the training range of an int feature (a unit bug: 40..60).
    purchases = columns["num_purchases"].to_numpy().copy()
    purchases[rng.choice(n, size=5, replace=False)] = rng.integers(40, 61, size=5)
    columns["num_purchases"] = pa.array(purchases)
    # 7. Placeholder text in a column of int-like strings.
    zips = np.asarray(columns["zip_code"].to_pylist(), dtype=object)
    zips[rng.choice(n, size=3, replace=False)] = "N/A"
    columns["zip_code"] = pa.array(zips.tolist())
    # 8. The label is not served.
    return pa.table(dict(sorted(columns.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).parent), help="output folder")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    train = training()
    for name, table in (("train", train), ("serving", serving(train))):
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        print(f"wrote {out / name}.parquet: {table.num_rows} rows, {table.num_columns} columns")


if __name__ == "__main__":
    main()
