"""``LabelSpec.quantile_bins``: a numeric label's classes from a first pass over its quantiles
(beam_stats/stats/label_bins.py), checked against numpy's quantiles and pandas' ``pd.cut``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.errors import IncompatibleMergeError, InvalidInputError
from beam_stats.sketches import QuantilesSpec
from beam_stats.stats import (
    DatasetAccumulator,
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
)
from beam_stats.stats.label_bins import LabelBinsAccumulator, label_bins
from beam_stats.stats.labels import LabelSpec

Q4 = StatisticsSpec(label=LabelSpec(feature="y", quantile_bins=4))


def _table(seed: int, n: int = 4000) -> pa.Table:
    """A float label with NaN, +-inf, nulls and some lists of two values; `x` drives it."""
    rng = np.random.default_rng(seed)
    x = rng.choice(["a", "b", "c"], size=n)
    y = rng.normal(size=n) + (x == "a") * 1.5
    y[rng.random(n) < 0.02] = np.nan
    y[rng.random(n) < 0.01] = np.inf
    y[rng.random(n) < 0.01] = -np.inf
    null = rng.random(n) < 0.03
    return pa.table({"x": x, "y": pa.array(y, mask=null)})


def _finite(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    return frame[np.isfinite(frame.y.astype(float))]


def test_edges_are_numpys_inverted_cdf_quantiles_of_the_finite_labels() -> None:
    table = _table(0)
    finite = _finite(table).y.to_numpy()
    for q in (2, 4, 10):
        edges = label_bins(table.to_batches(max_chunksize=500), ("y",), q)
        expected = np.quantile(finite, np.arange(1, q) / q, method="inverted_cdf")
        assert edges == tuple(expected)


def test_nan_inf_null_and_multivalued_labels_are_left_out_and_counted() -> None:
    y = pa.array([[1.0], [np.nan], [np.inf], None, [2.0, 3.0], [], [4.0], [-np.inf]])
    accumulator = LabelBinsAccumulator(("y",))
    accumulator.add(pa.record_batch({"y": y}))
    assert accumulator.quantiles.n == 2  # 1.0 and 4.0
    assert accumulator.left_out == 5  # NaN, inf, -inf, two values, none (null: absent)
    assert accumulator.result(2) == (1.0,)


def test_a_string_label_has_no_edges_and_keeps_its_classes() -> None:
    table = pa.table({"x": ["a", "b", "a"], "y": ["p", "q", "p"]})
    spec = StatisticsSpec(label=LabelSpec(feature="y", quantile_bins=3))
    assert label_bins(table.to_batches(), ("y",), 3) == ()
    plain = generate_statistics_from_table(table, StatisticsSpec(label="y"))
    assert generate_statistics_from_table(table, spec) == plain


def test_lift_counts_are_pandas_counts_of_pd_cut_with_the_edges() -> None:
    table = _table(1)
    stats = generate_statistics_from_table(table, Q4).datasets[0]
    frame = _finite(table)
    edges = np.quantile(frame.y.to_numpy(), [0.25, 0.5, 0.75], method="inverted_cdf")
    classes = pd.cut(frame.y, [-np.inf, *edges, np.inf], right=False, labels=False)
    counts = pd.crosstab(frame.x, classes)
    cross = next(c for c in stats.cross_features if c.path_x.step == ["x"])
    seen = 0
    for series in cross.categorical_cross_stats.lift.lift_series:
        bucket = series.y_bucket
        interval = int(np.searchsorted(edges, bucket.low_value, side="right"))
        assert bucket.high_value == ([*edges, np.inf])[interval]
        assert series.y_count == int(counts[interval].sum())
        for value in series.lift_values:
            assert value.x_and_y_count == counts.loc[value.x_string, interval]
            p = counts[interval].sum() / len(frame)
            by_hand = counts.loc[value.x_string, interval] / counts.loc[value.x_string].sum() / p
            assert value.lift == pytest.approx(by_hand, rel=1e-12)
            seen += 1
    assert seen == 12
    y = next(f for f in stats.features if f.path.step == ["y"])
    left_out = next(c.num for c in y.custom_stats if c.name == "label_unclassified")
    assert left_out == table.num_rows - len(frame) - table.column("y").null_count


def test_the_stored_settings_record_the_edges_used() -> None:
    table = _table(2)
    stats = generate_statistics_from_table(table, Q4)
    edges = label_bins(table.to_batches(), ("y",), 4)
    explicit = StatisticsSpec(label=LabelSpec(feature="y", bins=edges))
    assert stats == generate_statistics_from_table(table, explicit)
    assert Q4.with_label_bins(edges) == explicit and not explicit.needs_label_pass


def test_a_constant_label_gives_one_class() -> None:
    table = pa.table({"x": ["a", "b"] * 50, "y": [3.5] * 100})
    stats = generate_statistics_from_table(table, Q4).datasets[0]
    assert label_bins(table.to_batches(), ("y",), 4) == (3.5,)
    (cross,) = stats.cross_features
    (series,) = cross.categorical_cross_stats.lift.lift_series  # [-inf, 3.5) is empty
    assert (series.y_bucket.low_value, series.y_count) == (3.5, 100)


def test_no_label_values_gives_no_edges_and_no_crash() -> None:
    table = pa.table({"x": ["a", "b"], "y": pa.array([None, np.nan], pa.float64())})
    assert label_bins(table.to_batches(), ("y",), 4) == ()
    assert not generate_statistics_from_table(table, Q4).datasets[0].cross_features
    empty = pa.table({"x": pa.array([], pa.string()), "y": pa.array([], pa.float64())})
    assert generate_statistics_from_table(empty, Q4).datasets[0].num_examples == 0


def test_above_the_exact_limit_each_edge_is_within_the_certified_rank_error() -> None:
    rng = np.random.default_rng(3)
    values = rng.exponential(size=50_000)
    accumulator = LabelBinsAccumulator(("y",), QuantilesSpec(exact_limit=1_000, capacity=64))
    for part in np.array_split(values, 10):
        accumulator.add(pa.record_batch({"y": part}))
    assert not accumulator.quantiles.is_exact
    bound = accumulator.quantiles.rank_error
    assert 0 < bound < 0.05
    edges = np.asarray(accumulator.result(5))
    ranks = np.searchsorted(np.sort(values), edges, side="right") / values.size
    assert np.all(np.abs(ranks - np.arange(1, 5) / 5) <= bound + 1 / values.size)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=0, max_size=60),
    st.integers(0, 60),
    st.integers(2, 7),
)
def test_merged_accumulators_give_the_edges_of_one(values: list[int], cut: int, q: int) -> None:
    """One accumulator fed everything == two parts merged (either order); ties merge edges."""
    data = np.asarray(values, dtype=np.float64)
    whole = LabelBinsAccumulator(("y",))
    whole.add(pa.record_batch({"y": data}))
    parts = [LabelBinsAccumulator(("y",)) for _ in range(2)]
    parts[0].add(pa.record_batch({"y": data[:cut]}))
    parts[1].add(pa.record_batch({"y": data[cut:]}))
    for first, second in ((0, 1), (1, 0)):
        merged = LabelBinsAccumulator(("y",))
        merged.merge(parts[first])
        merged.merge(parts[second])
        assert merged.result(q) == whole.result(q)
    edges = whole.result(q)
    assert list(edges) == sorted(set(edges))
    if data.size:
        expected = np.unique(np.quantile(data, np.arange(1, q) / q, method="inverted_cdf"))
        assert edges == tuple(expected)


def test_accumulators_of_other_labels_refuse_to_merge() -> None:
    with pytest.raises(IncompatibleMergeError, match="'y' and 'z'"):
        LabelBinsAccumulator(("y",)).merge(LabelBinsAccumulator(("z",)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"quantile_bins": 1}, "got 1"),
        ({"quantile_bins": -3}, "got -3"),
        ({"quantile_bins": True}, "got True"),
        ({"quantile_bins": 4, "bins": (0.0, 1.0)}, "not both"),
    ],
)
def test_bad_quantile_bins_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        LabelSpec(feature="y", **kwargs)  # type: ignore[arg-type]


def test_from_text_takes_quantile_bins() -> None:
    assert LabelSpec.from_text("y", quantile_bins=5) == LabelSpec(feature="y", quantile_bins=5)
    with pytest.raises(InvalidInputError, match="not both"):
        LabelSpec.from_text("y", "1,2", quantile_bins=5)


def test_accumulators_refuse_a_spec_whose_bins_are_still_to_be_found() -> None:
    with pytest.raises(InvalidInputError, match="quantile_bins=4 need a first pass"):
        DatasetAccumulator(Q4)


def test_files_made_with_other_edges_refuse_to_merge_naming_the_bins() -> None:
    a = generate_statistics_from_table(_table(4), Q4)
    b = generate_statistics_from_table(_table(5), Q4)
    with pytest.raises(IncompatibleMergeError) as error:
        merge_statistics(a, b, sources=["monday.pb", "tuesday.pb"])
    message = str(error.value)
    assert "tuesday.pb" in message
    edges_b = label_bins(_table(5).to_batches(), ("y",), 4)
    edges_a = label_bins(_table(4).to_batches(), ("y",), 4)
    assert f"bins=[{', '.join(repr(e) for e in edges_b)}]" in message
    assert f"bins=[{', '.join(repr(e) for e in edges_a)}]" in message
    same = generate_statistics_from_table(
        _table(5), StatisticsSpec(label=LabelSpec(feature="y", bins=edges_a))
    )
    merged = merge_statistics(a, same)  # the same edges merge
    assert isinstance(merged, statistics_pb2.DatasetFeatureStatisticsList)
    assert merged.datasets[0].num_examples == 8000
