"""Statistics that merge after the fact: merge(stats(A), stats(B)) == stats(A + B)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from make_testdata import fixture_table
from proto_compare import assert_close, plain
from tensorflow_metadata.proto.v0 import statistics_pb2
from test_feature import check_rank, make_table

from beam_stats import (
    MergeStatistics,
    QuantilesSpec,
    StatisticsSpec,
    generate_statistics_from_table,
    load_statistics,
    merge_statistics,
)
from beam_stats.cli import main
from beam_stats.drift import compare_statistics
from beam_stats.errors import DeserializationError, IncompatibleMergeError
from beam_stats.stats.feature import STATE_NAME

TESTDATA = Path(__file__).parent.parent / "testdata"
SPEC = StatisticsSpec()


def without_sketched(stats: statistics_pb2.DatasetFeatureStatisticsList) -> dict:
    """The statistics that must be identical however the data was split."""
    out = {}
    for dataset in stats.datasets:
        for feature in dataset.features:
            kind = feature.WhichOneof("stats")
            s = plain(getattr(feature, kind))
            s["common_stats"].pop("num_values_histogram", None)
            for name in ("median", "histograms", "top_values", "rank_histogram"):
                s.pop(name, None)
            sketched = (
                STATE_NAME,
                "top_values_max_error",
            )  # the Misra-Gries offset: split-dependent
            customs = {c.name: c.num for c in feature.custom_stats if c.name not in sketched}
            out[(dataset.name, *feature.path.step)] = [feature.type, kind, s, customs]
        out[(dataset.name,)] = dataset.num_examples
    return out


def stats(table: pa.Table, name: str = "") -> statistics_pb2.DatasetFeatureStatisticsList:
    return generate_statistics_from_table(table, SPEC, name=name, batch_size=2000)


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table(seed=5, n=9000)


@pytest.mark.parametrize("cuts", [[4500], [1, 8999], [1000, 5000, 5001], [3000, 6000]])
def test_merge_of_parts_equals_statistics_of_the_union(table: pa.Table, cuts: list[int]) -> None:
    bounds = [0, *cuts, table.num_rows]
    parts = [stats(table.slice(a, b - a)) for a, b in zip(bounds, bounds[1:], strict=False)]
    merged = merge_statistics(*parts)
    whole = stats(table)
    assert_close(without_sketched(merged), without_sketched(whole))
    # Sketched statistics: within their own bounds of the truth.
    features = {tuple(f.path.step): f for f in merged.datasets[0].features}
    float_state = features[("float",)].custom_stats
    eps = next(c.num for c in float_state if c.name == "quantiles_rank_error")
    values = table["float"].to_numpy(zero_copy_only=False)
    check_rank(
        np.sort(values[np.isfinite(values)]), features[("float",)].num_stats.median, 0.5, eps
    )
    low = features[("low",)].string_stats
    whole_low = next(f for f in whole.datasets[0].features if f.path.step == ["low"])
    expected_low = {t.value: t.frequency for t in whole_low.string_stats.top_values}
    assert {t.value: t.frequency for t in low.top_values} == expected_low  # exact: few values
    rse = SPEC.distinct.relative_standard_error
    ids = features[("id",)]
    assert abs(ids.string_stats.unique - table.num_rows) <= 4 * rse * table.num_rows
    # Every id occurs once: listed counts are lower bounds within the stated error.
    error = next(c.num for c in ids.custom_stats if c.name == "top_values_max_error")
    assert all(1 - error <= t.frequency <= 1 for t in ids.string_stats.top_values)
    # The merged file merges again: ((A + B) + C) is A + B + C.
    again = merge_statistics(merged, stats(table.slice(0, 10)))
    assert again.datasets[0].num_examples == table.num_rows + 10


def test_datasets_merge_by_name() -> None:
    a = stats(pa.table({"x": [1, 2]}), name="train")
    b = stats(pa.table({"x": [3]}), name="eval")
    c = stats(pa.table({"x": [4, 5, 6]}), name="train")
    merged = merge_statistics(a, b, c)
    assert [(d.name, d.num_examples) for d in merged.datasets] == [("train", 5), ("eval", 1)]
    train = merged.datasets[0].features[0].num_stats
    assert train.mean == pytest.approx(np.mean([1, 2, 4, 5, 6]))


def test_merging_without_state_or_with_other_settings_fails() -> None:
    data = pa.table({"x": [1.0, 2.0]})
    bare = generate_statistics_from_table(data, include_state=False)
    assert not any(c.name == STATE_NAME for c in bare.datasets[0].features[0].custom_stats)
    with pytest.raises(IncompatibleMergeError, match=r"monday\.pb.*'x' has no sketch state"):
        merge_statistics(stats(data), bare, sources=["sunday.pb", "monday.pb"])
    other = generate_statistics_from_table(
        data, StatisticsSpec(quantiles=QuantilesSpec(capacity=64))
    )
    with pytest.raises(IncompatibleMergeError, match=r"tuesday\.pb.*capacity=64.*capacity=2048"):
        merge_statistics(stats(data), other, sources=["sunday.pb", "tuesday.pb"])


def test_state_of_an_unknown_format_fails_clearly() -> None:
    from beam_stats.proto import sketches_pb2

    statistics = stats(pa.table({"x": [1]}))
    custom = next(
        c for c in statistics.datasets[0].features[0].custom_stats if c.name == STATE_NAME
    )
    stored = sketches_pb2.StoredFeatureState()
    custom.any.Unpack(stored)
    stored.format_version = 99
    custom.any.Pack(stored)
    with pytest.raises(DeserializationError, match="format 99"):
        merge_statistics(statistics, sources=["future.pb"])


def test_format_1_fixture_loads_and_compares_but_refuses_to_merge() -> None:
    old = load_statistics(str(TESTDATA / "stats_format_v1.pb"))
    table = fixture_table()
    fresh = stats(table, name="v1")

    # Its finished exact statistics are those of the same data today (format 1 stated the
    # KLL's rank error and estimated `unique` past 2,048 values; today both are exact).
    def exact(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> dict:
        found = without_sketched(statistics)
        for entry in found.values():
            if isinstance(entry, list):
                entry[2].pop("unique", None)
                entry[3] = {k: v for k, v in entry[3].items() if not k.endswith("_error")}
        return found

    assert_close(exact(old), exact(fresh))
    with pytest.raises(IncompatibleMergeError, match=r"old\.pb.*format 1.*compute the stat"):
        merge_statistics(old, fresh, sources=["old.pb", "new.pb"])
    # Drift falls back to the finished histograms instead of failing.
    comparison = compare_statistics(old, fresh)
    amount = next(f for f in comparison.features if f.path == ("amount",))
    sources = {m.distance.source for m in amount.measured if m.distance is not None}
    assert sources and "sketch" not in sources


def test_merge_statistics_transform() -> None:
    table = make_table(seed=8, n=3000)
    parts = [stats(table.slice(i, 1000)) for i in (0, 1000, 2000)]
    expected = without_sketched(stats(table))

    def check(outputs: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        assert len(outputs) == 1
        assert_close(without_sketched(outputs[0]), expected)

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        merged = pipeline | beam.Create(parts) | MergeStatistics()
        assert_that(merged, check)


def test_merge_command_on_real_files(tmp_path: Path) -> None:
    table = make_table(seed=9, n=4000)
    outputs = []
    for i, (start, stop) in enumerate([(0, 1500), (1500, 4000)]):
        pq.write_table(table.slice(start, stop - start), tmp_path / f"day{i}.parquet")
        outputs.append(str(tmp_path / f"day{i}.pb"))
        assert main(["stats", str(tmp_path / f"day{i}.parquet"), "--output", outputs[-1]]) == 0
    pq.write_table(table, tmp_path / "all.parquet")
    assert main(["stats", str(tmp_path / "all.parquet"), "--output", str(tmp_path / "all.pb")]) == 0
    week = tmp_path / "week.pbtxt"
    assert main(["merge", *outputs, "--output", str(week), "--text"]) == 0
    assert_close(
        without_sketched(load_statistics(str(week))),
        without_sketched(load_statistics(str(tmp_path / "all.pb"))),
    )
    # Text files with sketch state parse with plain tensorflow-metadata (no beam-stats).
    script = (
        "import sys; from google.protobuf import text_format;"
        "from tensorflow_metadata.proto.v0 import statistics_pb2 as s;"
        "m = text_format.Parse(open(sys.argv[1]).read(), s.DatasetFeatureStatisticsList());"
        "assert 'beam_stats' not in sys.modules; print(m.datasets[0].num_examples)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(week)], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "4000"


def test_no_sketch_state_option(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(make_table(seed=2, n=500), path)
    with_state, without = tmp_path / "a.pb", tmp_path / "b.pb"
    assert main(["stats", str(path), "--output", str(with_state)]) == 0
    assert main(["stats", str(path), "--output", str(without), "--no-sketch-state"]) == 0
    assert without.stat().st_size < with_state.stat().st_size / 2
    with pytest.raises(IncompatibleMergeError, match="b.pb"):
        merge_statistics(load_statistics(str(without)), sources=[str(without)])
