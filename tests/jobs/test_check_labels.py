"""The main job with a label (issue 13's proof): concept shift between training and a
labeled serving set, and nothing else, checked against pandas on the raw data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_stats.drift.concept import Z
from beam_stats.jobs import CheckSpec, check

SHIFT = "COMPARATOR_CONCEPT_SHIFT_HIGH"


def _data(seed: int, reversed_effect: bool, n: int = 20_000) -> pd.DataFrame:
    """`x1` drives the label (reversed on request); `x2`, `x3` do not. P(x) and the label
    rate (1/2) are the same either way."""
    rng = np.random.default_rng(seed)
    x1 = rng.choice(["a", "b"], size=n)
    high = (x1 == "a") != reversed_effect
    y = np.where(rng.random(n) < np.where(high, 0.8, 0.2), "pos", "neg")
    return pd.DataFrame(
        {"x1": x1, "x2": rng.normal(size=n), "x3": rng.choice(list("pqrs"), n), "y": y}
    )


def _shift_by_hand(base: pd.DataFrame, test: pd.DataFrame, feature: str) -> float:
    """drift/concept.py's formula, from pandas group-bys of the raw rows."""
    a = pd.crosstab(base[feature], base.y)
    b = pd.crosstab(test[feature], test.y).reindex(index=a.index, columns=a.columns, fill_value=0)
    n_a, n_b = a.sum(axis=1), b.sum(axis=1)
    tv = 0.5 * (a.div(n_a, axis=0) - b.div(n_b, axis=0)).abs().sum(axis=1)
    pooled = (a + b).div(n_a + n_b, axis=0)
    noise = (
        Z / 2 * np.sqrt(pooled * (1 - pooled)).mul(np.sqrt(1 / n_a + 1 / n_b), axis=0).sum(axis=1)
    )
    weight = 0.5 * (n_a / n_a.sum() + n_b / n_b.sum())
    return float((weight * np.maximum(tv - noise, 0)).sum())


def _run(tmp_path: Path, train: pd.DataFrame, serving: pd.DataFrame, name: str) -> object:
    for role, frame in (("train", train), ("serving", serving)):
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), tmp_path / f"{role}.parquet"
        )
    return check(
        str(tmp_path / "train.parquet"),
        str(tmp_path / "serving.parquet"),
        str(tmp_path / name),
        spec=CheckSpec(labels=("y",)),
    )


def test_a_reversed_effect_is_one_concept_shift_and_nothing_else(tmp_path: Path) -> None:
    train, serving = _data(0, False), _data(1, True)
    result = _run(tmp_path, train, serving, "shifted")
    rows = list(result.rows)
    shifted = [r for r in rows if r.short_description == SHIFT]
    assert [r.feature for r in shifted] == ["x1"]
    found = re.search(r" is ([0-9.e-]+), above the threshold", shifted[0].description)
    assert found is not None, shifted[0].description
    shown = float(found.group(1))
    assert shown == pytest.approx(_shift_by_hand(train, serving, "x1"), abs=1e-3)
    assert _shift_by_hand(train, serving, "x3") == 0.0  # pandas agrees x3 did not move
    # P(x) and the label rate are the same: no drift or skew measure breaches; the only
    # other reason is the labeled serving set's label, which SERVING does not expect.
    others = [(r.feature, r.type) for r in rows if r.short_description != SHIFT]
    assert others == [("y", "SCHEMA_NEW_COLUMN")]


def test_an_unshifted_pair_raises_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, _data(0, False), _data(2, False), "same")
    # Only the label, which a labeled serving set has and SERVING does not expect.
    assert [(r.feature, r.type) for r in result.rows] == [("y", "SCHEMA_NEW_COLUMN")]


def test_without_labels_in_serving_it_is_not_measured(tmp_path: Path) -> None:
    serving = _data(1, True).drop(columns="y")
    result = _run(tmp_path, _data(0, False), serving, "unlabeled")
    assert [r for r in result.rows if r.short_description == SHIFT] == []
