"""Custom statistics (`beam_stats.stats.custom`): registered in the spec, computed in the
fused accumulator (in memory and on Beam), merged three ways, stored and written."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats import GenerateStatistics, ReadRecordBatches, WriteStatistics
from beam_stats.beam.artifacts import load_statistics
from beam_stats.drift import compare_statistics
from beam_stats.errors import IncompatibleMergeError, InvalidInputError
from beam_stats.stats import (
    CustomAccumulator,
    CustomStatisticSpec,
    DatasetAccumulator,
    MatchRate,
    StatisticsSpec,
    generate_statistics_from_table,
    merge_statistics,
)
from beam_stats.tfdv import StatsOptions

EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]+$"


@dataclasses.dataclass(frozen=True)
class WeightedSum(CustomStatisticSpec):
    """A statistic of numbers, defined in this test as a user would: the (weighted) sum."""

    kinds: frozenset[str] = frozenset({"INT", "FLOAT"})

    def create(self) -> SumAccumulator:
        return SumAccumulator()

    def from_proto(self, data: bytes) -> SumAccumulator:
        acc = SumAccumulator()
        (acc.total,) = np.frombuffer(data, dtype="<f8")
        return acc


class SumAccumulator(CustomAccumulator):
    def __init__(self) -> None:
        self.total = 0.0

    def add(self, values: pa.Array, weights: np.ndarray | None) -> None:
        numbers = values.to_numpy(zero_copy_only=False).astype(float)
        self.total += float(numbers @ weights if weights is not None else numbers.sum())

    def merge(self, other: CustomAccumulator) -> None:
        assert isinstance(other, SumAccumulator)
        self.total += other.total

    def to_proto(self) -> bytes:
        return np.array([self.total], dtype="<f8").tobytes()

    def result(self) -> Mapping[str, float | str]:
        return {"sum": self.total}


SPEC = StatisticsSpec(statistics=(MatchRate("email", pattern=EMAIL), WeightedSum("total")))


def _table(seed: int, n: int = 500) -> pa.Table:
    rng = np.random.default_rng(seed)
    names = rng.choice(["ann", "bo", "cy"], size=n)
    domains = rng.choice(["x.org", "y", "mail.com", ""], size=n)
    contact = [f"{a}@{d}" if d else str(a) for a, d in zip(names, domains, strict=True)]
    return pa.table({"contact": contact, "amount": rng.integers(0, 100, size=n)})


def _custom(statistics: object, feature: str) -> dict[str, float]:
    dataset = statistics.datasets[0]  # type: ignore[attr-defined]
    entry = next(f for f in dataset.features if f.path.step == [feature])
    return {c.name: c.num for c in entry.custom_stats if "." in c.name and c.name[0] != "b"}


def _expected(table: pa.Table) -> tuple[int, float, float]:
    contacts = table.column("contact").to_pylist()
    matches = sum(1 for c in contacts if re.match(EMAIL, c))
    return matches, matches / len(contacts), float(np.sum(table.column("amount").to_numpy()))


def test_custom_statistics_are_written_and_exact() -> None:
    table = _table(0)
    stats = generate_statistics_from_table(table, SPEC)
    matches, rate, total = _expected(table)
    assert _custom(stats, "contact") == {"email.matches": matches, "email.rate": rate}
    assert _custom(stats, "amount") == {"total.sum": total}  # only the kinds it asks for


def test_three_way_merge_and_state_round_trip() -> None:
    parts = [_table(seed, n=200) for seed in (1, 2, 3)]
    whole = pa.concat_tables(parts)
    one = DatasetAccumulator(SPEC)
    one.add_all(whole.to_batches(max_chunksize=128))
    merged = DatasetAccumulator(SPEC)
    for part in parts:
        acc = DatasetAccumulator(SPEC)
        acc.add_all(part.to_batches())
        merged.merge(DatasetAccumulator.from_proto(acc.to_proto(), SPEC))
    assert one.result() == merged.result()
    matches, rate, total = _expected(whole)
    assert _custom(_as_list(one.result()), "contact")["email.matches"] == matches
    # after the fact: files merged with the spec given equal the statistics of the union
    files = [generate_statistics_from_table(p, SPEC) for p in parts]
    assert merge_statistics(*files, spec=SPEC) == generate_statistics_from_table(whole, SPEC)


def _as_list(dataset: object) -> object:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    return statistics_pb2.DatasetFeatureStatisticsList(datasets=[dataset])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a@b.co", "x", "q@r.io", "", "@"]), max_size=8),
        min_size=3,
        max_size=3,
    )
)
def test_merge_is_associative_and_commutative(groups: list[list[str]]) -> None:
    spec = MatchRate("m", pattern=EMAIL)
    accs = []
    for values in groups:
        acc = spec.create()
        acc.add(pa.array(values, pa.string()), None)
        accs.append(acc)

    def merged(order: list[int]) -> bytes:
        out = spec.create()
        for i in order:
            out.merge(spec.from_proto(accs[i].to_proto()))
        return out.to_proto()

    assert merged([0, 1, 2]) == merged([2, 0, 1]) == merged([1, 2, 0])
    left = spec.create()
    left.merge(accs[0])
    left.merge(accs[1])
    left.merge(accs[2])
    right = spec.create()
    tail = spec.create()
    tail.merge(accs[1])
    tail.merge(accs[2])
    right.merge(accs[0])
    right.merge(tail)
    assert left.to_proto() == right.to_proto()
    total = [v for g in groups for v in g]
    assert left.result()["matches"] == sum(bool(re.match(EMAIL, v)) for v in total)


def test_weighted_custom_statistic() -> None:
    table = pa.table({"x": [1, 2, 3], "w": [2.0, 0.5, 1.0]})
    spec = StatisticsSpec(weight_feature="w", statistics=(WeightedSum("total"),))
    stats = generate_statistics_from_table(table, spec)
    assert _custom(stats, "x") == {"total.sum": 1 * 2.0 + 2 * 0.5 + 3 * 1.0}


def test_on_beam_the_fused_combine_runs_them(tmp_path: Path) -> None:
    table = _table(4, n=3000)
    for i in range(3):  # three files: the runner merges partial accumulators
        pq.write_table(table.slice(i * 1000, 1000), tmp_path / f"part-{i}.parquet")
    out = str(tmp_path / "stats.pb")
    with beam.Pipeline() as pipeline:
        read = pipeline | ReadRecordBatches([str(tmp_path / "part-*.parquet")])
        _ = read.batches | GenerateStatistics(SPEC) | WriteStatistics(out)
    written = load_statistics(out)
    assert _custom(written, "contact") == _custom(
        generate_statistics_from_table(table, SPEC), "contact"
    )


def test_states_of_other_statistics_refuse_to_merge() -> None:
    a = generate_statistics_from_table(_table(5), SPEC)
    other = StatisticsSpec(statistics=(MatchRate("email", pattern="@"), WeightedSum("total")))
    b = generate_statistics_from_table(_table(6), other)
    with pytest.raises(IncompatibleMergeError, match="custom statistics"):
        merge_statistics(a, b, spec=SPEC)
    with pytest.raises(IncompatibleMergeError, match="give their specs"):
        merge_statistics(a, a)
    # reading the built-in sketches needs no custom code: drift compares them
    comparison = compare_statistics(a, b)
    assert {f.path for f in comparison.features} == {("contact",), ("amount",)}


def test_specs_check_their_arguments() -> None:
    with pytest.raises(InvalidInputError, match="identifier"):
        MatchRate("no spaces", pattern="x")
    with pytest.raises(InvalidInputError, match="bad pattern"):
        MatchRate("m", pattern="(")
    with pytest.raises(InvalidInputError, match="share a name"):
        StatisticsSpec(statistics=(MatchRate("m", pattern="a"), MatchRate("m", pattern="b")))
    with pytest.raises(InvalidInputError, match="CustomStatisticSpecs"):
        StatisticsSpec(statistics=("m",))  # type: ignore[arg-type]
    assert StatsOptions(generators=[MatchRate("m", pattern="a")]).statistics[0].name == "m"
    with pytest.raises(InvalidInputError, match="generators"):
        StatsOptions(generators=[object()])  # type: ignore[list-item]


def test_a_dataset_of_custom_statistics_keeps_one_thread() -> None:
    """Custom statistics are the user's code, never called for two features at once."""
    assert DatasetAccumulator(SPEC, threads=4).threads == 1
    assert DatasetAccumulator(StatisticsSpec(), threads=4).threads == 4
