"""Label-aware statistics end to end (`StatisticsSpec(label=...)`): written where TFMD keeps
them (``cross_features``, the feature's ``mutual_information``), the same on Beam as in
memory, and merged after the fact like every other statistic."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import GenerateStatistics, ReadRecordBatches, WriteStatistics
from beam_stats.beam.artifacts import load_statistics
from beam_stats.errors import IncompatibleMergeError
from beam_stats.stats import StatisticsSpec, generate_statistics_from_table, merge_statistics
from beam_stats.stats.labels import LabelSpec

SPEC = StatisticsSpec(label="clicked")


def _table(seed: int, n: int = 3000) -> pa.Table:
    rng = np.random.default_rng(seed)
    device = rng.choice(["phone", "tablet", "desktop"], size=n)
    rate = pd.Series(device).map({"phone": 0.3, "tablet": 0.5, "desktop": 0.1}).to_numpy()
    clicked = (rng.random(n) < rate).astype(np.int64)
    price = rng.gamma(2.0, 10.0, size=n) + 5 * clicked
    frame = pd.DataFrame({"device": device, "price": price, "clicked": clicked})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    missing = pa.array(rng.random(n) < 0.05)  # some examples lack the label
    clicked_column = pa.array(clicked, mask=missing.to_numpy(zero_copy_only=False))
    return table.set_column(2, "clicked", clicked_column)


def _cross(
    stats: statistics_pb2.DatasetFeatureStatisticsList, feature: str, which: str = "categorical"
) -> statistics_pb2.CrossFeatureStatistics:
    return next(
        c
        for c in stats.datasets[0].cross_features
        if c.path_x.step == [feature] and c.WhichOneof("cross_stats") == f"{which}_cross_stats"
    )


def _custom(stats: statistics_pb2.DatasetFeatureStatisticsList, feature: str, name: str) -> float:
    found = next(f for f in stats.datasets[0].features if f.path.step == [feature])
    return next(c.num for c in found.custom_stats if c.name == name)


def test_lift_of_an_int_label_is_counted_as_pandas_counts() -> None:
    table = _table(0)
    stats = generate_statistics_from_table(table, SPEC)
    frame = table.to_pandas().dropna(subset=["clicked"])
    cross = _cross(stats, "device")
    assert list(cross.path_y.step) == ["clicked"] and cross.count == len(frame)
    p_y = frame.clicked.value_counts(normalize=True)
    for series in cross.categorical_cross_stats.lift.lift_series:
        assert series.WhichOneof("y_value") == "y_int"  # an INT label, as TFDV writes it
        y = series.y_int
        assert series.y_count == (frame.clicked == y).sum()
        for value in series.lift_values:
            rows = frame[frame.device == value.x_string]
            assert value.x_count == len(rows)
            assert value.x_and_y_count == (rows.clicked == y).sum()
            assert value.lift == pytest.approx((rows.clicked == y).mean() / p_y[y], rel=1e-12)
    # The label's own counts: every labeled example has one class.
    assert _custom(stats, "clicked", "label_unclassified") == 0
    assert _custom(stats, "device", "mutual_information") > 0.01
    assert not any(c.path_x.step == ["clicked"] for c in stats.datasets[0].cross_features)


def test_covariance_with_a_numeric_label() -> None:
    table = _table(1)
    stats = generate_statistics_from_table(table, SPEC)
    frame = table.to_pandas().dropna()
    cross = _cross(stats, "price", "num")
    assert cross.num_cross_stats.correlation == pytest.approx(
        np.corrcoef(frame.price, frame.clicked)[0, 1], rel=1e-6
    )
    assert cross.num_cross_stats.covariance == pytest.approx(
        np.cov(frame.price, frame.clicked, bias=True)[0, 1], rel=1e-6
    )


def test_merged_after_the_fact_as_if_computed_at_once() -> None:
    table = _table(2)
    whole = generate_statistics_from_table(table, SPEC)
    parts = [
        generate_statistics_from_table(table.slice(a, b), SPEC)
        for a, b in ((0, 1234), (1234, 3000))
    ]
    merged = merge_statistics(*parts)
    assert _cross(merged, "device") == _cross(whole, "device")
    # A numeric feature's buckets come from quantiles sketches per class (rank error 0.2%
    # here, past 1,000 distinct values): equal counts, bucket edges within the bound.
    merged_price, whole_price = _cross(merged, "price"), _cross(whole, "price")
    assert merged_price.count == whole_price.count
    for a, b in zip(
        merged_price.categorical_cross_stats.lift.lift_series,
        whole_price.categorical_cross_stats.lift.lift_series,
        strict=True,
    ):
        assert a.y_int == b.y_int and a.y_count == b.y_count
        got = sorted(v.x_count for v in a.lift_values)
        want = sorted(v.x_count for v in b.lift_values)
        assert np.abs(np.subtract(got, want)).max() <= 0.01 * whole_price.count
    information = _custom(merged, "price", "mutual_information")
    assert information == pytest.approx(_custom(whole, "price", "mutual_information"), abs=0.01)
    assert _custom(merged, "device", "mutual_information") == _custom(
        whole, "device", "mutual_information"
    )
    # Numeric pairs merge by Chan's formulas: equal up to rounding.
    assert _cross(merged, "price", "num").num_cross_stats.correlation == pytest.approx(
        _cross(whole, "price", "num").num_cross_stats.correlation, rel=1e-6
    )


def test_on_beam_the_fused_combine_computes_them(tmp_path: Path) -> None:
    table = _table(3)
    for i in range(3):  # three files: the runner merges partial accumulators
        pq.write_table(table.slice(i * 1000, 1000), tmp_path / f"part-{i}.parquet")
    out = str(tmp_path / "stats.pb")
    with beam.Pipeline() as pipeline:
        read = pipeline | ReadRecordBatches([str(tmp_path / "part-*.parquet")])
        _ = read.batches | GenerateStatistics(SPEC) | WriteStatistics(out)
    written = load_statistics(out)
    expected = generate_statistics_from_table(table, SPEC)
    assert _cross(written, "device") == _cross(expected, "device")
    information = _custom(written, "price", "mutual_information")  # sketched buckets
    assert information == pytest.approx(_custom(expected, "price", "mutual_information"), abs=0.01)


def test_files_with_another_label_spec_refuse_to_merge() -> None:
    table = _table(4, n=200)
    a = generate_statistics_from_table(table, SPEC)
    b = generate_statistics_from_table(
        table, StatisticsSpec(label=LabelSpec(feature="clicked", max_classes=5))
    )
    c = generate_statistics_from_table(table)
    for other, message in (
        (b, r"\(label max classes=5\), expected \(label max classes=20\)"),
        (c, r"\(label=none\), expected \(label=clicked; label bins=\[\];"),
    ):
        with pytest.raises(IncompatibleMergeError, match=message):
            merge_statistics(a, other)


def test_a_label_with_too_many_classes_says_so() -> None:
    table = pa.table({"x": ["a", "b", "c", "d"], "y": ["1", "2", "3", "4"]})
    stats = generate_statistics_from_table(
        table, StatisticsSpec(label=LabelSpec(feature="y", max_classes=3))
    )
    label = next(f for f in stats.datasets[0].features if f.path.step == ["y"])
    notes = {c.name: c.str for c in label.custom_stats}
    assert "more than 3 classes" in notes["label_statistics_off"]
    assert not stats.datasets[0].cross_features


def test_a_multivalent_label_is_unclassified() -> None:
    table = pa.table({"x": ["a", "b", "c"], "y": [["1"], ["1", "2"], []]})
    stats = generate_statistics_from_table(table, StatisticsSpec(label="y"))
    assert _custom(stats, "y", "label_unclassified") == 1  # ["1", "2"]; [] has no label
    assert _cross(stats, "x").count == 1
