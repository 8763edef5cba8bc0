"""Served and feedback data with known duplicates, missing ids, orphans and nulls, and the
label join's figures computed independently with pandas on the same rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from beam_stats.proto import label_join_pb2

EPOCH = 1_714_557_600  # 2024-05-01T10:00:00Z
COUNTRIES = ["us", "fr", "de", None]


def make_data(
    seed: int = 0, served_ids: int = 400
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of served (rid, score, st, country, x) and feedback (rid, clicked, ft) data.

    Served: ids 0..served_ids-1, 25 of them served twice, 6 rows without an id, 8 without a
    score, 3 scores outside [0, 1], 1 exactly 1.0, 5 without a served time. Feedback: about
    70% of the served ids, 20 of those twice (other times and labels), 12 orphan ids (one of
    them twice), 4 rows without an id, 7 without a label, 5 without a time, 3 before serving.
    """
    rng = np.random.default_rng(seed)
    served: list[dict[str, Any]] = []
    for i in range(served_ids):
        repeats = 2 if i % 16 == 3 and len(served) < served_ids + 25 else 1
        for _ in range(repeats):
            served.append(
                {
                    "rid": i,
                    "score": float(np.round(rng.random(), 6)),
                    "st": EPOCH + int(rng.integers(0, 86_400)),
                    "country": COUNTRIES[int(rng.integers(0, 4))],
                    "x": int(rng.integers(0, 100)),
                }
            )
    for j in range(6):
        served.append({"rid": None, "score": 0.5, "st": EPOCH, "country": "us", "x": j})
    for row in served[10:18]:
        row["score"] = None
    served[20]["score"], served[21]["score"], served[22]["score"] = -0.2, 1.3, 7.0
    served[23]["score"] = 1.0
    for row in served[30:35]:
        row["st"] = None
    served_time = {r["rid"]: r["st"] for r in served if r["rid"] is not None}
    feedback: list[dict[str, Any]] = []
    labeled = [i for i in range(served_ids) if rng.random() < 0.7]
    for i in labeled:
        base = served_time[i] if served_time[i] is not None else EPOCH
        p = next(r["score"] for r in served if r["rid"] == i) or 0.5
        clicked = bool(rng.random() < min(max(p, 0.0), 1.0))
        feedback.append({"rid": i, "clicked": clicked, "ft": base + int(rng.exponential(600))})
    for i in labeled[:20]:  # duplicates: a later one and a simultaneous one
        first = next(r for r in feedback if r["rid"] == i)
        later = first["ft"] + (0 if i % 2 else 30)
        feedback.append({"rid": i, "clicked": not first["clicked"], "ft": later})
    for k in range(12):
        feedback.append({"rid": 10_000 + k, "clicked": True, "ft": EPOCH + k})
    feedback.append({"rid": 10_000, "clicked": False, "ft": EPOCH + 99})
    for _ in range(4):
        feedback.append({"rid": None, "clicked": True, "ft": EPOCH})
    for row in feedback[40:47]:
        row["clicked"] = None
    for row in feedback[50:55]:
        row["ft"] = None
    for row in feedback[60:63]:
        row["ft"] = EPOCH - 3600
    order = rng.permutation(len(feedback))
    return served, [feedback[i] for i in order]


def _rates(frame: pd.DataFrame) -> dict[str, float]:
    predicted = frame["score"].notna()
    compared = frame["labeled"] & predicted
    sums = {
        "served_rows": len(frame),
        "labeled_rows": int(frame["labeled"].sum()),
        "label_sum": float(frame.loc[frame["labeled"], "y"].sum()),
        "predicted_rows": int(predicted.sum()),
        "prediction_sum": float(frame.loc[predicted, "score"].sum()),
        "compared_rows": int(compared.sum()),
        "compared_prediction_sum": float(frame.loc[compared, "score"].sum()),
        "compared_label_sum": float(frame.loc[compared, "y"].sum()),
    }
    share = lambda a, b: sums[a] / sums[b] if sums[b] else math.nan  # noqa: E731
    sums["coverage"] = share("labeled_rows", "served_rows")
    sums["label_rate"] = share("label_sum", "labeled_rows")
    sums["mean_prediction"] = share("prediction_sum", "predicted_rows")
    sums["compared_mean_prediction"] = share("compared_prediction_sum", "compared_rows")
    sums["compared_label_rate"] = share("compared_label_sum", "compared_rows")
    return sums


RANKS = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)


def reference(
    served: list[dict[str, Any]],
    feedback: list[dict[str, Any]],
    buckets: int = 10,
    ranks: tuple[float, ...] = RANKS,
) -> dict[str, Any]:
    """The figures of the join, by pandas: counts, rates, buckets, groups, delays and the
    joined rows (sorted by rid, st)."""
    s = pd.DataFrame(served).astype({"rid": "Int64", "score": "Float64", "st": "Int64"})
    f = pd.DataFrame(feedback).astype({"rid": "Int64", "clicked": "boolean", "ft": "Int64"})
    s_ids, f_ids = s.dropna(subset=["rid"]), f.dropna(subset=["rid"])
    s_counts, f_counts = s_ids["rid"].value_counts(), f_ids["rid"].value_counts()
    usable = f_ids[f_ids["clicked"].notna()].copy()
    usable["y"] = usable["clicked"].astype(float)
    usable = usable.sort_values(
        ["rid", "ft", "y"], ascending=[True, True, False], na_position="last"
    )
    chosen = usable.drop_duplicates("rid", keep="first")[["rid", "y", "ft"]]
    joined = s.merge(chosen, on="rid", how="left")
    joined.loc[joined["rid"].isna(), ["y", "ft"]] = np.nan
    joined["labeled"] = joined["y"].notna()
    labeled_ids = int(chosen["rid"].isin(s_counts.index).sum())
    orphan = f_counts[~f_counts.index.isin(s_counts.index)]
    out: dict[str, Any] = {
        "served_rows": len(s),
        "served_null_ids": int(s["rid"].isna().sum()),
        "served_ids": len(s_counts),
        "served_duplicate_ids": int((s_counts > 1).sum()),
        "served_duplicate_rows": int(s_counts[s_counts > 1].sum()),
        "labeled_ids": labeled_ids,
        "unlabeled_ids": len(s_counts) - labeled_ids,
        "labeled_rows": int(joined["labeled"].sum()),
        "unlabeled_rows": int((~joined["labeled"] & joined["rid"].notna()).sum()),
        "feedback_rows": len(f),
        "feedback_null_ids": int(f["rid"].isna().sum()),
        "feedback_ids": len(f_counts),
        "feedback_duplicate_ids": int((f_counts > 1).sum()),
        "feedback_duplicate_rows": int(f_counts[f_counts > 1].sum()),
        "feedback_null_labels": int(f["clicked"].isna().sum()),
        "orphan_ids": len(orphan),
        "orphan_rows": int(orphan.sum()),
        "served_null_predictions": int(s["score"].isna().sum()),
        "served_null_times": int(s["st"].isna().sum()),
        "feedback_null_times": int(f["ft"].isna().sum()),
    }
    out["feedback_unused_rows"] = len(f_ids) - out["orphan_rows"] - labeled_ids
    scores = joined["score"].astype(float)
    out["predictions_out_of_range"] = int(((scores < 0) | (scores > 1)).sum())
    out["coverage"] = out["labeled_rows"] / len(s)
    out["overall"] = _rates(joined)
    edges = np.round(np.linspace(0.0, 1.0, buckets + 1), 12)
    has = joined[scores.notna()].copy()
    cut = pd.cut(has["score"].astype(float).clip(0.0, 1.0), edges, right=False, labels=False)
    has["bucket"] = cut.fillna(buckets - 1).astype(int)  # 1.0 is in the last, closed bucket
    out["calibration"] = [_rates(has[has["bucket"] == b]) for b in range(buckets)]
    out["groups"] = {
        (None if pd.isna(key) else key): _rates(frame)
        for key, frame in joined.groupby("country", dropna=False)
    }
    delay = (joined["ft"] - joined["st"]).astype(float).dropna().to_numpy()
    out["delay_count"] = len(delay)
    out["delay_negative"] = int((delay < 0).sum())
    out["delay_mean"] = float(delay.mean())
    out["delay_quantiles"] = [float(np.quantile(delay, r, method="inverted_cdf")) for r in ranks]
    rows = joined[joined["labeled"]].copy()
    rows["clicked"] = rows["y"].astype(bool)
    rows["label_delay_seconds"] = (rows["ft"] - rows["st"]).astype(float)
    keep = ["rid", "score", "st", "country", "x", "clicked", "label_delay_seconds"]
    rows = rows.astype({"rid": "int64", "score": "float64", "st": "float64"})
    out["rows"] = rows[keep].sort_values(["rid", "st", "x"]).reset_index(drop=True)
    return out


def check_rates(found: label_join_pb2.LabelRates, expected: dict[str, float]) -> None:
    for name, value in expected.items():
        got = getattr(found, name)
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got), name
        else:
            assert got == pytest.approx(value, rel=1e-12, abs=1e-12), name


def check_summary(summary: label_join_pb2.LabelJoinSummary, ref: dict[str, Any]) -> None:
    for name, value in ref.items():
        if isinstance(value, int) and not name.startswith("delay_"):
            assert getattr(summary, name) == value, name
    assert summary.coverage == pytest.approx(ref["coverage"])
    check_rates(summary.overall, ref["overall"])
    assert len(summary.calibration) == len(ref["calibration"])
    for bucket, expected in zip(summary.calibration, ref["calibration"], strict=True):
        check_rates(bucket.rates, expected)
    groups = {None if g.missing else g.value: g.rates for g in summary.groups}
    assert set(groups) == set(ref["groups"])
    for key, expected in ref["groups"].items():
        check_rates(groups[key], expected)
    d = summary.delay
    assert (d.count, d.negative) == (ref["delay_count"], ref["delay_negative"])
    assert d.mean == pytest.approx(ref["delay_mean"])
    assert list(d.quantiles) == ref["delay_quantiles"]
    assert d.rank_error == 0.0
