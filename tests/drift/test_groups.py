"""Groups (`beam_stats.drift.groups`): every figure against pandas groupby on the same raw
data, merges, and the anomalies raised exactly where they were planted."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats import infer_schema, set_drift_thresholds, validate_statistics
from beam_stats.drift.file_groups import group_tables, groups_of
from beam_stats.drift.groups import MISSING, GroupTable, Z
from beam_stats.drift.threshold_schema import (
    GroupThresholds,
    group_thresholds,
    set_group_thresholds,
)
from beam_stats.errors import InvalidInputError
from beam_stats.schema.features import get_feature
from beam_stats.sketches import FrequentItemsSpec
from beam_stats.stats import StatisticsSpec, generate_statistics_from_table, merge_statistics
from beam_stats.validation import anomaly_rows

SPEC = StatisticsSpec(label="y", groups=("g", "band"))


def _data(seed: int, *, planted: bool, n: int = 20_000) -> pd.DataFrame:
    """Group g: with `planted`, "C" is under-represented (3%) and "D" labeled 1 at 0.8
    where the others are at 0.3; else four groups of a quarter each, all at 0.3. band: an
    int group, balanced, with no effect; some examples lack g."""
    rng = np.random.default_rng(seed)
    shares = [0.5, 0.35, 0.03, 0.12] if planted else [0.25] * 4
    g = rng.choice(list("ABCD"), size=n, p=shares).astype(object)
    rate = np.where((g == "D") & planted, 0.8, 0.3)
    y = (rng.random(n) < rate).astype(np.int64)
    g[rng.random(n) < 0.01] = None
    band = rng.choice([1, 2, 3], size=n)
    return pd.DataFrame({"g": g, "band": band, "y": y, "x": rng.normal(size=n)})


def _stats(frame: pd.DataFrame, spec: StatisticsSpec = SPEC) -> object:
    return generate_statistics_from_table(pa.Table.from_pandas(frame, preserve_index=False), spec)


def _tables(frame: pd.DataFrame, spec: StatisticsSpec = SPEC) -> dict[str, GroupTable]:
    return {t.feature[0]: t for t in group_tables(_stats(frame, spec))}


def _expected(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per group (missing as MISSING): examples, share, labeled, share of each class,
    disparity (max over classes of |p(y|g) - p(y)|, ties to the rarer class) and its
    standard error, all from the raw rows."""
    keys = frame[column].astype(object).where(frame[column].notna(), MISSING).astype(str)
    whole = frame.y.astype(str).value_counts(normalize=True)
    shares = pd.crosstab(keys, frame.y.astype(str), normalize="index")
    rows = {}
    for group, size in keys.value_counts().items():
        gaps = (shares.loc[group] - whole).abs()
        top = gaps.round(12).max()
        worst = whole[gaps.round(12) == top].sort_values().index[0]
        p = whole[worst]
        rows[group] = {
            "examples": int(size),
            "share": size / len(frame),
            "labeled": int(size),
            "disparity": float(gaps[worst]),
            "class": worst,
            "error": math.sqrt(p * (1 - p) / size),
            **{f"p{c}": float(shares.loc[group, c]) for c in shares.columns},
        }
    return pd.DataFrame(rows).T


@pytest.mark.parametrize("column", ["g", "band"])
def test_every_figure_equals_pandas(column: str) -> None:
    frame = _data(0, planted=True)
    table = _tables(frame)[column]
    expected = _expected(frame, column)
    assert table.exact and table.note == "" and table.label == "y"
    whole = frame.y.astype(str).value_counts(normalize=True)
    assert table.label_shares == pytest.approx(whole.to_dict(), abs=1e-12)
    assert {r.group for r in table.rows} == set(expected.index)
    # Most examples first, the examples without the feature last.
    order = [r.group for r in table.groups]
    assert order == list(
        expected.drop(MISSING, errors="ignore")
        .examples.sort_values(ascending=False, kind="stable")
        .index
    )
    assert (MISSING in expected.index) == (table.rows[-1].group == MISSING)
    for row in table.rows:
        want = expected.loc[row.group]
        assert row.examples == want.examples and row.labeled == want.labeled
        assert row.share == pytest.approx(want.share, abs=1e-12)
        for name, share in row.label_shares.items():
            assert share == pytest.approx(want[f"p{name}"], abs=1e-12)
        assert row.disparity == pytest.approx(want.disparity, abs=1e-12)
        assert row.disparity_class == want["class"]
        assert row.standard_error == pytest.approx(want.error, abs=1e-12)


def test_the_planted_groups_stand_out() -> None:
    table = _tables(_data(0, planted=True))["g"]
    by_group = {r.group: r for r in table.rows}
    assert by_group["C"].share < 0.04 < min(by_group[g].share for g in "ABD")
    assert by_group["D"].disparity is not None and by_group["D"].disparity > 0.3
    assert by_group["D"].significant and by_group["D"].disparity_class == "1"
    assert all((by_group[g].disparity or 0) < 0.1 for g in "ABC")


def test_without_a_label_only_shares() -> None:
    frame = _data(1, planted=True)
    (table,) = group_tables(_stats(frame, StatisticsSpec(groups=("g",))))
    counts = frame.g.value_counts()
    assert {r.group: r.examples for r in table.groups} == counts.to_dict()
    assert table.label == "" and all(r.disparity is None and not r.labeled for r in table.rows)
    assert table.rows[-1].examples == int(frame.g.isna().sum())


def test_the_groups_are_recorded_with_the_statistics() -> None:
    statistics = _stats(_data(0, planted=False, n=500))
    assert groups_of(statistics) == (("band",), ("g",))
    assert [t.feature for t in group_tables(statistics, ["g"])] == [("g",)]
    (absent,) = group_tables(statistics, ["nope"])
    assert absent.rows == () and "not in the statistics" in absent.note
    # The int group is counted by value, as categorical.
    assert ("band",) in SPEC.categorical_features
    with pytest.raises(InvalidInputError, match="groups must be a sequence"):
        StatisticsSpec(groups="g")  # type: ignore[arg-type]


def test_merged_halves_equal_the_whole() -> None:
    frame = _data(2, planted=True, n=6_000)
    merged = merge_statistics(_stats(frame.iloc[:2_500]), _stats(frame.iloc[2_500:]))
    assert group_tables(merged) == group_tables(_stats(frame))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 600), st.integers(0, 2**16))
def test_any_split_merges_to_the_whole(cut: int, seed: int) -> None:
    frame = _data(seed, planted=True, n=600)
    parts = [frame.iloc[:cut], frame.iloc[cut:]]
    merged = merge_statistics(*[_stats(p) for p in parts if len(p)])
    assert group_tables(merged) == group_tables(_stats(frame))


def test_too_many_values_are_reported_not_counted() -> None:
    spec = StatisticsSpec(
        groups=("g",),
        frequent_items=FrequentItemsSpec(capacity=50),
        num_top_values=10,
        num_rank_histogram_buckets=50,
    )
    frame = pd.DataFrame({"g": [f"v{i % 60}" for i in range(600)]})
    (table,) = group_tables(_stats(frame, spec))
    assert table.rows == () and not table.exact
    assert "more than 50 distinct values" in table.note
    fine = pd.DataFrame({"g": [f"v{i % 50}" for i in range(600)]})
    (table,) = group_tables(_stats(fine, spec))
    assert len(table.rows) == 50 and table.exact


def test_statistics_without_state_give_shares() -> None:
    frame = _data(3, planted=True, n=2_000)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    statistics = generate_statistics_from_table(table, SPEC, include_state=False)
    (found,) = group_tables(statistics, ["g"])
    assert found.source == "rank_histogram" and found.label == ""
    assert {r.group: r.examples for r in found.groups} == frame.g.value_counts().to_dict()


def _group_schema(statistics: object) -> object:
    schema = infer_schema(statistics)
    for name in ("g", "band"):
        schema = set_group_thresholds(schema, name, min_share=0.05, max_label_disparity=0.2)
        schema = set_drift_thresholds(schema, name, group_share=0.1)
    return schema


def _found(anomalies: object) -> set[tuple[str, str]]:
    return {
        (r.feature, r.short_description)
        for r in anomaly_rows(anomalies)
        if r.short_description.startswith("GROUP_")
    }


def test_anomalies_exactly_where_planted() -> None:
    planted, balanced = _stats(_data(4, planted=True)), _stats(_data(5, planted=False))
    schema = _group_schema(balanced)
    found = validate_statistics(planted, schema)
    assert _found(found) == {("g", "GROUP_SHARE_LOW"), ("g", "GROUP_LABEL_DISPARITY_HIGH")}
    text = {r.short_description: r.description for r in anomaly_rows(found)}
    assert '"C" (share 3.' in text["GROUP_SHARE_LOW"] and '"A"' not in text["GROUP_SHARE_LOW"]
    disparity = text["GROUP_LABEL_DISPARITY_HIGH"]
    assert '"D" (disparity 0.4' in disparity and '"A"' not in disparity and '"C"' not in disparity
    # Balanced data raises nothing, alone or against other balanced data.
    other = _stats(_data(6, planted=False))
    assert _found(validate_statistics(balanced, schema, previous_statistics=other)) == set()
    # The shares moved between the balanced and the planted data: on g only.
    moved = validate_statistics(planted, schema, previous_statistics=balanced)
    assert ("g", "GROUP_SHARE_MOVED") in _found(moved)
    assert ("band", "GROUP_SHARE_MOVED") not in _found(moved)
    text = {r.short_description: r.description for r in anomaly_rows(moved)}
    assert 'group "A"' in text["GROUP_SHARE_MOVED"]


def test_a_small_group_cannot_raise_a_disparity_by_chance() -> None:
    """Five examples labeled 1 at 0.6 in a dataset at 0.3: a disparity of 0.3, above the
    threshold 0.1, but within 3 standard errors (0.61): not an anomaly."""
    base = pd.DataFrame({"g": ["A"] * 1000, "y": ([1] * 3 + [0] * 7) * 100})
    small = pd.DataFrame({"g": ["S"] * 5, "y": [1, 1, 1, 0, 0]})
    frame = pd.concat([base, small], ignore_index=True)
    spec = StatisticsSpec(label="y", groups=("g",))
    (table,) = group_tables(_stats(frame, spec))
    row = next(r for r in table.rows if r.group == "S")
    assert row.disparity == pytest.approx(0.6 - 303 / 1005)
    assert row.standard_error is not None and row.disparity < Z * row.standard_error
    schema = set_group_thresholds(infer_schema(_stats(frame, spec)), "g", max_label_disparity=0.1)
    assert _found(validate_statistics(_stats(frame, spec), schema)) == set()


def test_group_thresholds_in_the_schema() -> None:
    schema = infer_schema(_stats(_data(0, planted=False, n=100)))
    assert group_thresholds(get_feature(schema, ("g",))).empty
    schema = set_group_thresholds(schema, "g", min_share=0.02)
    schema = set_group_thresholds(schema, "g", max_label_disparity=0.3)
    schema = set_drift_thresholds(schema, "g", psi=0.2)
    feature = get_feature(schema, ("g",))
    assert group_thresholds(feature) == GroupThresholds(min_share=0.02, max_label_disparity=0.3)
    assert len(feature.annotation.extra_metadata) == 1
    with pytest.raises(InvalidInputError, match=r"in \[0, 1\]"):
        set_group_thresholds(schema, "g", min_share=1.5)
