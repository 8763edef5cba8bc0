"""The concept-shift proof's data: a pair where P(x) and the label rate are the same but the
effect of one feature on the label may be reversed, and drift/concept.py's formula computed
with pandas group-bys on the raw rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from beam_stats.drift.concept import Z


def concept_data(seed: int, reversed_effect: bool, n: int = 20_000) -> pd.DataFrame:
    """x1 drives the label (reversed on request); x2 and x3 do not. P(x) and the label
    rate (1/2) are the same either way."""
    rng = np.random.default_rng(seed)
    x1 = rng.choice(["a", "b"], size=n)
    high = (x1 == "a") != reversed_effect
    y = np.where(rng.random(n) < np.where(high, 0.8, 0.2), "pos", "neg")
    return pd.DataFrame(
        {"x1": x1, "x2": rng.normal(size=n), "x3": rng.choice(list("pqrs"), n), "y": y}
    )


def shift_by_hand(base: pd.DataFrame, test: pd.DataFrame, feature: str) -> float:
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
