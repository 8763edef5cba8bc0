"""Label-conditional state (`beam_stats.stats.labels`): lift and mutual information checked
against pandas on the raw rows, and merging in any split and order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from beam_stats.arrow import Kind, flatten_batch
from beam_stats.errors import InvalidInputError
from beam_stats.stats.label_tables import cross_statistics, joint_table, mutual_information
from beam_stats.stats.labels import LabelAccumulator, LabelSpec, label_batch

SPEC = LabelSpec(feature="y")


def _frame(seed: int = 0, n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.choice(["a", "b", "c", "d"], size=n)
    # y depends on x (a: mostly yes, d: mostly no); noise is independent of y.
    p_yes = pd.Series(x).map({"a": 0.9, "b": 0.6, "c": 0.4, "d": 0.1}).to_numpy()
    y = np.where(rng.random(n) < p_yes, "yes", "no").astype(object)
    frame = pd.DataFrame(
        {
            "x": pd.Series(x, dtype=object),
            "noise": rng.choice(["p", "q", "r"], size=n),
            "num": np.where(y == "yes", rng.normal(1.0, 1.0, n), rng.normal(-1.0, 1.0, n)),
            "y": y,
        }
    )
    frame.loc[rng.random(n) < 0.05, "x"] = None
    frame.loc[rng.random(n) < 0.03, "y"] = None
    return frame


def _accumulate(
    frame: pd.DataFrame, spec: LabelSpec = SPEC
) -> dict[tuple[str, ...], LabelAccumulator]:
    accs: dict[tuple[str, ...], LabelAccumulator] = {}
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    columns = {c.path: c for c in flatten_batch(batch)}
    label = label_batch(columns.get(spec.path), spec, batch.num_rows)
    for path, column in columns.items():
        acc = accs.setdefault(path, LabelAccumulator(spec))
        acc.add(column, label, categorical=False)
    return accs


def _merged(parts: list[pd.DataFrame]) -> dict[tuple[str, ...], LabelAccumulator]:
    total: dict[tuple[str, ...], LabelAccumulator] = {}
    for part in parts:
        for path, acc in _accumulate(part).items():
            if path in total:
                total[path].merge(acc)
            else:
                total[path] = acc
    return total


def test_lift_is_tfdvs_definition_on_the_raw_rows() -> None:
    frame = _frame()
    accs = _accumulate(frame)
    label_counts = accs[("y",)].class_counts
    labeled = frame.dropna(subset=["y"])
    assert label_counts == labeled["y"].value_counts().to_dict()
    table = joint_table(accs[("x",)], sorted(label_counts), numeric=False)
    assert table is not None and not table.other
    (cross,) = cross_statistics(
        accs[("x",)], table, label_counts, label_kind=Kind.STRING, x_int=False
    )
    both = labeled.dropna(subset=["x"])
    assert cross.count == len(both)
    joint = pd.crosstab(both["x"], both["y"])
    p_y = labeled["y"].value_counts() / len(labeled)
    for series in cross.categorical_cross_stats.lift.lift_series:
        y = series.y_string
        assert series.y_count == (labeled["y"] == y).sum()
        got = {v.x_string: (v.lift, v.x_count, v.x_and_y_count) for v in series.lift_values}
        expected = {
            x: (joint.loc[x, y] / joint.loc[x].sum() / p_y[y], joint.loc[x].sum(), joint.loc[x, y])
            for x in joint.index
        }
        assert got.keys() == expected.keys()
        for x, (lift, x_count, xy) in expected.items():
            assert got[x][0] == pytest.approx(lift, rel=1e-12)
            assert got[x][1:] == (x_count, xy)
        lifts = [v.lift for v in series.lift_values]
        assert lifts == sorted(lifts, reverse=True)


def _plug_in_bits(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    px, py = p.sum(axis=1), p.sum(axis=0)
    total = 0.0
    for i in range(p.shape[0]):
        for j in range(p.shape[1]):
            if p[i, j] > 0:
                total += p[i, j] * math.log2(p[i, j] / (px[i] * py[j]))
    return total


def test_mutual_information_ranks_signal_above_noise() -> None:
    frame = _frame(1)
    accs = _accumulate(frame)
    classes = sorted(accs[("y",)].class_counts)
    both = frame.dropna(subset=["x", "y"])
    table = joint_table(accs[("x",)], classes, numeric=False)
    assert table is not None
    counts = pd.crosstab(both["x"], both["y"]).to_numpy().astype(float)
    bias = (counts.shape[0] - 1) * (counts.shape[1] - 1) / (2 * counts.sum() * math.log(2))
    assert mutual_information(table) == pytest.approx(_plug_in_bits(counts) - bias, rel=1e-9)
    noise = joint_table(accs[("noise",)], classes, numeric=False)
    numeric = joint_table(accs[("num",)], classes, numeric=True)
    assert noise is not None and numeric is not None
    assert mutual_information(noise) < 0.005 < 0.2 < mutual_information(table)
    assert mutual_information(numeric) > 0.2


def test_numeric_buckets_count_what_pandas_counts() -> None:
    frame = _frame(2)
    accs = _accumulate(frame)
    classes = sorted(accs[("y",)].class_counts)
    table = joint_table(accs[("num",)], classes, numeric=True)
    assert table is not None and len(table.bounds) == SPEC.feature_bins
    labeled = frame.dropna(subset=["y"])
    edges = [table.bounds[0][0], *(high for _, high in table.bounds)]
    buckets = pd.cut(labeled["num"], edges, right=False, include_lowest=True)
    # pandas' last bucket is open; the table's is closed: move the maximum in by hand.
    last = labeled["num"] == edges[-1]
    expected = pd.crosstab(buckets, labeled["y"]).to_numpy().astype(float)
    expected[-1] += pd.Series(labeled.loc[last, "y"]).value_counts().reindex(classes).fillna(0)
    np.testing.assert_array_equal(table.counts, expected)


def test_nan_and_infinities_are_left_out_of_the_numeric_buckets() -> None:
    # The benchmark's f_uniform holds NaN and +-inf: the label state keeps the finite values
    # only (the feature's own statistics count the others), so it equals the state of the
    # finite rows.
    frame = _frame(3)
    odd = frame.copy()
    odd.loc[:9, "num"] = [np.nan, np.inf, -np.inf] * 3 + [np.inf]
    classes = sorted(_accumulate(frame)[("y",)].class_counts)
    got = joint_table(_accumulate(odd)[("num",)], classes, numeric=True)
    expected = joint_table(_accumulate(odd.iloc[10:])[("num",)], classes, numeric=True)
    assert got is not None and expected is not None
    np.testing.assert_array_equal(got.counts, expected.counts)
    assert got.bounds == expected.bounds


@pytest.mark.parametrize("cuts", [(1000,), (1, 700, 1500), (999, 1000, 1001)])
def test_any_split_merges_to_the_whole(cuts: tuple[int, ...]) -> None:
    frame = _frame(3)
    whole = _accumulate(frame)
    parts = np.split(np.arange(len(frame)), cuts)
    forward = _merged([frame.iloc[p] for p in parts])
    backward = _merged([frame.iloc[p] for p in reversed(parts)])
    for path, acc in whole.items():
        assert forward[path].to_proto() == acc.to_proto() == backward[path].to_proto()
        again = LabelAccumulator.from_proto(SPEC, acc.to_proto())
        assert again.to_proto() == acc.to_proto()


def test_too_many_classes_turn_the_statistics_off_everywhere() -> None:
    spec = LabelSpec(feature="y", max_classes=3)
    first = pd.DataFrame({"x": ["a", "b"], "y": ["1", "2"]})
    second = pd.DataFrame({"x": ["a", "b"], "y": ["3", "4"]})
    one, two = _accumulate(first, spec)[("x",)], _accumulate(second, spec)[("x",)]
    assert not one.off and not two.off  # each partition alone is within the limit
    one.merge(two)
    assert "more than 3 classes" in one.off and one.pairs is None and not one.class_counts
    assert joint_table(one, ["1", "2"], numeric=False) is None


def test_a_numeric_label_with_bins_has_bucket_classes() -> None:
    spec = LabelSpec(feature="y", bins=(0.0, 10.0))
    frame = pd.DataFrame({"x": ["a", "a", "b", "b"], "y": [-1.0, 5.0, 5.0, 20.0]})
    accs = _accumulate(frame, spec)
    counts = accs[("y",)].class_counts
    assert counts == {"[-inf, 0)": 1, "[0, 10)": 2, "[10, inf)": 1}
    table = joint_table(accs[("x",)], list(counts), numeric=False)
    assert table is not None
    (cross,) = cross_statistics(accs[("x",)], table, counts, label_kind=Kind.FLOAT, x_int=False)
    buckets = [
        (s.y_bucket.low_value, s.y_bucket.high_value)
        for s in cross.categorical_cross_stats.lift.lift_series
    ]
    assert buckets == [(-math.inf, 0.0), (0.0, 10.0), (10.0, math.inf)]


def test_bad_specs_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="max_classes"):
        LabelSpec(feature="y", max_classes=1)
    with pytest.raises(InvalidInputError, match="increasing"):
        LabelSpec(feature="y", bins=(1.0, 1.0))
    with pytest.raises(InvalidInputError, match="feature"):
        LabelSpec(feature="")


def test_covariance_and_correlation_of_a_numeric_label_are_numpys() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    y = rng.normal(size=n)
    frame = pd.DataFrame({"x": 2.0 * y + rng.normal(size=n), "y": y})
    frame.loc[rng.random(n) < 0.1, "x"] = np.nan  # NaN: not a pair
    spec = LabelSpec(feature="y")
    parts = np.array_split(np.arange(n), 4)
    accs = [_accumulate(frame.iloc[p], spec)[("x",)] for p in parts]
    merged = accs[0]
    for acc in accs[1:]:
        merged.merge(acc)
    assert not merged.class_counts  # a float label without bins has no classes
    (cross,) = cross_statistics(merged, None, {}, label_kind=Kind.FLOAT, x_int=False)
    pairs = frame.dropna()
    assert cross.count == len(pairs)
    covariance = np.cov(pairs.x, pairs.y, bias=True)[0, 1]
    # NumericCrossStatistics holds float32.
    assert cross.num_cross_stats.covariance == pytest.approx(covariance, rel=1e-6)
    correlation = np.corrcoef(pairs.x, pairs.y)[0, 1]
    assert cross.num_cross_stats.correlation == pytest.approx(correlation, rel=1e-6)
    again = LabelAccumulator.from_proto(spec, merged.to_proto())
    assert again.moments is not None and again.moments.to_list() == merged.moments.to_list()
