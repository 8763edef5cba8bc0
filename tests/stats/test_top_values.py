"""Top values, rank histogram and unique: exact below the sketch sizes, TFDV's tie order, the
same in any merge order (issue 10). Expectations are computed with pandas on the same data."""

from __future__ import annotations

import apache_beam as beam
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam import GenerateStatistics
from beam_stats.sketches import DistinctCountSpec, FrequentItemsSpec
from beam_stats.stats import DatasetAccumulator, StatisticsSpec, generate_statistics_from_table

SPEC = StatisticsSpec(
    num_top_values=20, num_rank_histogram_buckets=600, categorical_features=["code"]
)
N = 20_000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = np.random.default_rng(16)
    # 500 values with counts drawn from a narrow range: many ties at every rank.
    words = np.array([f"w{i:03d}" for i in range(500)])
    text = words[rng.integers(0, 500, N)]
    codes = rng.integers(-30, 31, N)  # a categorical int: ties compare as numbers
    return pa.table({"text": text, "code": codes})


def tfdv_order(values: np.ndarray) -> list[tuple[str, int]]:
    """Exact counts, count descending then value descending (TFDV's sorted(reverse=True));
    int values (a categorical int) compare as numbers, as in TFDV."""
    counts = pd.Series(values).value_counts()
    frame = pd.DataFrame({"v": counts.index, "c": counts.to_numpy()})
    frame = frame.sort_values(["c", "v"], ascending=False, kind="stable")
    return [(str(v), int(c)) for v, c in zip(frame["v"], frame["c"], strict=True)]


def string_stats(
    stats: statistics_pb2.DatasetFeatureStatistics, name: str
) -> statistics_pb2.StringStatistics:
    return next(f.string_stats for f in stats.features if f.path.step == [name])


def check_exact(stats: statistics_pb2.DatasetFeatureStatistics, table: pa.Table) -> None:
    for name in ("text", "code"):
        values = table[name].to_numpy()
        want = tfdv_order(values)
        got = string_stats(stats, name)
        assert got.unique == len(np.unique(values))
        assert [(t.value, t.frequency) for t in got.top_values] == want[: SPEC.num_top_values]
        buckets = got.rank_histogram.buckets
        rank = [(b.label, b.sample_count, b.low_rank, b.high_rank) for b in buckets]
        ranked = want[: SPEC.num_rank_histogram_buckets]
        assert rank == [(v, c, i, i) for i, (v, c) in enumerate(ranked)]


def test_exact_in_tfdv_order(table: pa.Table) -> None:
    stats = generate_statistics_from_table(table, SPEC, batch_size=777).datasets[0]
    check_exact(stats, table)
    # Ties really occur at the top, and numeric order differs from byte order there: the
    # test fails with ascending ties or with "9" > "10".
    for name in ("text", "code"):
        want = tfdv_order(table[name].to_numpy())
        assert any(a[1] == b[1] for a, b in zip(want[:20], want[1:21], strict=True))
    codes = tfdv_order(table["code"].to_numpy())
    as_bytes = sorted(codes, key=lambda vc: (vc[1], vc[0].encode()), reverse=True)
    assert codes[:20] != as_bytes[:20]


@pytest.mark.parametrize("seed", range(3))
def test_any_merge_order_gives_the_same_string_statistics(table: pa.Table, seed: int) -> None:
    spec = SPEC
    parts = []
    for batch in table.to_batches(max_chunksize=1500):
        part = DatasetAccumulator(spec)
        part.add(batch)
        parts.append(part)
    order = np.random.default_rng(seed).permutation(len(parts))
    merged = DatasetAccumulator(spec)
    for i in order:
        merged.merge(parts[i])
    stats = merged.result()
    check_exact(stats, table)
    single = generate_statistics_from_table(table, spec).datasets[0]
    for name in ("text", "code"):
        assert string_stats(stats, name) == string_stats(single, name)
        state = next(f.string for f in merged.to_proto().features if f.path == [name])
        assert state.distinct.hashes and not state.distinct.registers  # exact, sparse


def test_beam_pipeline_is_exact(table: pa.Table) -> None:
    spec = SPEC

    def check(outputs: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        (output,) = outputs
        check_exact(output.datasets[0], table)

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        batches = table.to_batches(max_chunksize=2000)
        stats = pipeline | beam.Create(batches, reshuffle=True) | GenerateStatistics(spec)
        assert_that(stats, check)


def test_unique_exact_up_to_the_limit_and_bounded_above_it() -> None:
    rng = np.random.default_rng(7)
    spec = StatisticsSpec(
        frequent_items=FrequentItemsSpec(capacity=64),
        distinct=DistinctCountSpec(precision=12, exact_limit=5_000),
        num_top_values=10,
        num_rank_histogram_buckets=10,
    )
    for distinct in (4_999, 5_000, 5_001, 60_000):
        values = np.char.add("v", rng.permutation(10**7)[:distinct].astype(str))
        values = np.concatenate([values, values[: distinct // 3]])  # repeats
        stats = generate_statistics_from_table(pa.table({"s": values}), spec, batch_size=4096)
        feature = stats.datasets[0].features[0]
        rse = next(
            c.num for c in feature.custom_stats if c.name == "distinct_relative_standard_error"
        )
        exact = len(np.unique(values))
        if exact <= 5_000:
            assert (feature.string_stats.unique, rse) == (exact, 0.0)
        else:
            unique = feature.string_stats.unique
            assert 5_000 < unique <= len(values)
            assert abs(unique - exact) <= 4 * rse * exact


def test_labels_of_invalid_utf8_are_escaped_and_valid_ones_plain() -> None:
    """Labels are the values decoded with backslashreplace (computed per value here), also
    when one listed value is not UTF-8 and the rest are."""
    values = [b"caf\xc3\xa9"] * 3 + [b"\xff\xfeab"] * 2 + [b"plain"]
    table = pa.table({"b": pa.array(values, type=pa.binary())})
    stats = generate_statistics_from_table(table, SPEC).datasets[0]
    feature = next(f for f in stats.features if f.path.step == ["b"])
    got = feature.string_stats if feature.HasField("string_stats") else None
    assert got is not None
    counts = pd.Series(values).value_counts()
    want = sorted(((v, float(c)) for v, c in counts.items()), key=lambda p: (p[1], p[0]))[::-1]
    expected = [(v.decode("utf-8", errors="backslashreplace"), c) for v, c in want]
    assert [(t.value, t.frequency) for t in got.top_values] == expected
    assert [(b.label, b.sample_count) for b in got.rank_histogram.buckets] == expected
    assert got.top_values[1].value == "\\xff\\xfeab"


def test_weighted_rank_histogram_present_when_every_weight_is_zero() -> None:
    """A weighted feature whose weights are all 0 lists no weighted value, and its weighted
    rank histogram is still written (empty), as it was when made apart and copied in."""
    table = pa.table({"s": ["a", "b", "a"], "w": [0.0, 0.0, 0.0]})
    spec = StatisticsSpec(weight_feature="w")
    stats = generate_statistics_from_table(table, spec).datasets[0]
    weighted = string_stats(stats, "s").weighted_string_stats
    assert weighted.HasField("rank_histogram") and not weighted.rank_histogram.buckets
    assert [(b.label, b.sample_count) for b in string_stats(stats, "s").rank_histogram.buckets] == [
        ("a", 2.0),
        ("b", 1.0),
    ]
