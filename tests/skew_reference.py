"""Feature skew by key computed independently, with a pandas merge and plain Python equality.

Shared by tests/drift/test_feature_skew_pure.py and tests/pipelines/test_feature_skew.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

Rows = list[dict[str, Any]]
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("price", pa.float64()),
        ("qty", pa.int64()),
        ("color", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("emb", pa.list_(pa.float64())),
    ]
)
FEATURE_COUNTS = ("match_count", "mismatch_count", "base_only", "test_only")


def make_pair(n: int = 600, seed: int = 0) -> tuple[Rows, Rows]:
    """Base and test rows with planted skew, duplicates, one-sided ids and missing ids."""
    rng = np.random.default_rng(seed)
    base: Rows = []
    for i in range(n):
        base.append(
            {
                "id": i,
                "price": math.nan
                if i % 37 == 0
                else (None if i % 19 == 0 else (math.inf if i % 41 == 0 else rng.normal(10, 3))),
                "qty": int(rng.integers(0, 50)),
                "color": None if i % 17 == 0 else str(rng.choice(["red", "green", "blue"])),
                "tags": None if i % 21 == 0 else [f"t{j}" for j in range(i % 4)],
                "emb": [float(x) for x in rng.normal(size=3)],
            }
        )
    test: Rows = []
    for row in base:
        i = row["id"]
        if i % 10 == 3:
            continue  # only in base
        new = {
            **row,
            "emb": list(row["emb"]),
            "tags": None if row["tags"] is None else [*row["tags"]],
        }
        if new["price"] is not None and i % 7 == 0:
            new["price"] += 1.0
        if new["price"] is not None and i % 11 == 0:
            new["price"] *= 1 + 1e-9  # within the tolerance
        if i % 13 == 0:
            new["price"] = None  # base only (when base has it)
        if i % 23 == 0 and i % 37 != 0:
            new["price"] = math.nan
        if i % 82 == 0:
            new["price"] = -math.inf
        if i % 9 == 0:
            new["qty"] += 1
        if i % 15 == 0:
            new["color"] = "purple"
        if i % 8 == 0 and new["tags"] is not None:
            new["tags"].append("extra")
        if i % 21 == 0:
            new["tags"] = []  # present and empty against missing: test only
        if i % 12 == 0:
            new["emb"][1] += 1e-9
        if i % 14 == 0:
            new["emb"][2] += 1e-2
        test.append(new)
    test += [
        {"id": n + j, "price": 1.0, "qty": 1, "color": "red", "tags": [], "emb": []}
        for j in range(5)
    ]
    base += [{**base[5], "price": 99.0}, {**base[17]}]  # duplicated ids in base
    test += [{**test[25]}, {**test[26], "qty": -1}]  # ... and in test
    base += [{**base[1], "id": None}] * 3  # rows without an identifier
    test += [{**test[2], "id": None}] * 2
    return base, test


def reference_equal(x: Any, y: Any, rtol: float = 1e-6, atol: float = 1e-6) -> bool:
    """Equality of two present values, as the module docstring of drift.feature_skew says."""
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(
            (a is None and b is None)
            or (a is not None and b is not None and reference_equal(a, b, rtol, atol))
            for a, b in zip(x, y, strict=True)
        )
    numbers = (int, float)
    if isinstance(x, float) or isinstance(y, float):
        if not (isinstance(x, numbers) and isinstance(y, numbers)):
            return False
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        if math.isinf(x) or math.isinf(y):
            return x == y
        return abs(x - y) <= max(atol, rtol * max(abs(x), abs(y)))
    if isinstance(x, str | bytes) and isinstance(y, str | bytes):
        as_bytes = [v.encode() if isinstance(v, str) else v for v in (x, y)]
        return as_bytes[0] == as_bytes[1]
    return type(x) is type(y) and bool(x == y)


def reference(
    base: Rows,
    test: Rows,
    ids: Sequence[str],
    features: Sequence[str],
    rtol: float = 1e-6,
    atol: float = 1e-6,
) -> dict[str, Any]:
    """Identifier counts and per-feature counts from a pandas merge of the single-row ids."""
    out: dict[str, Any] = {}
    singles, distinct = [], {}
    for side, rows in (("base", base), ("test", test)):
        frame = pd.DataFrame(rows, dtype=object)
        frame["_row"] = range(len(frame))
        has_id = frame[list(ids)].map(lambda v: v is not None).all(axis=1)
        keyed = frame[has_id]
        sizes = keyed.groupby(list(ids)).size()
        out[f"{side}_rows"] = len(frame)
        out[f"{side}_null_ids"] = int((~has_id).sum())
        out[f"{side}_duplicate_ids"] = int((sizes > 1).sum())
        out[f"{side}_duplicate_rows"] = int(sizes[sizes > 1].sum())
        out[f"_{side}_ids"] = set(sizes.index)
        distinct[side] = len(sizes)
        single = sizes[sizes == 1].index
        singles.append(keyed.set_index(list(ids)).loc[single].reset_index())
    common = out.pop("_base_ids") & out.pop("_test_ids")
    merged = singles[0].merge(singles[1], on=list(ids), suffixes=("_b", "_t"))
    out["joined"] = len(merged)
    out["duplicate_ids_skipped"] = len(common) - len(merged)
    out["base_only_ids"] = distinct["base"] - len(common)
    out["test_only_ids"] = distinct["test"] - len(common)
    per_feature = {}
    for name in features:
        counts = dict.fromkeys(FEATURE_COUNTS, 0)
        for b, t in zip(merged[f"{name}_b"], merged[f"{name}_t"], strict=True):
            if b is not None and t is not None:
                same = reference_equal(b, t, rtol, atol)
                counts["match_count" if same else "mismatch_count"] += 1
            elif b is not None:
                counts["base_only"] += 1
            elif t is not None:
                counts["test_only"] += 1
        per_feature[name] = counts
    out["features"] = per_feature
    return out


def counts_of(result: Any) -> dict[str, Any]:
    """The same shape as :func:`reference`, read from a ``FeatureSkewResult``."""
    names = (
        "base_rows", "test_rows", "base_null_ids", "test_null_ids", "base_duplicate_ids",
        "test_duplicate_ids", "base_duplicate_rows", "test_duplicate_rows", "joined",
        "duplicate_ids_skipped", "base_only_ids", "test_only_ids",
    )  # fmt: skip
    out: dict[str, Any] = {name: getattr(result, name) for name in names}
    out["features"] = {
        f.feature: {name: getattr(f, name) for name in FEATURE_COUNTS} for f in result.features
    }
    return out


def table(rows: Rows) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)
