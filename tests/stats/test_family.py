"""The registry of statistic families (`beam_stats.stats.family`): built-ins and custom
statistics are entries of one list, routed, merged, stored and reported the same way."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.arrow import FeatureColumn, Kind, flatten_batch
from beam_stats.errors import DeserializationError
from beam_stats.proto import sketches_pb2
from beam_stats.stats import FeatureAccumulator, MatchRate, StatisticsSpec
from beam_stats.stats.family import FeatureBatch, FeatureReport, StatisticFamily
from beam_stats.stats.spec import BUILTIN_STATISTICS

SPEC = StatisticsSpec(
    categorical_features={"cat"},
    statistics=(MatchRate("zeta", pattern="^a"), MatchRate("alpha", pattern="b$")),
)


def _batches(seed: int, n: int = 3) -> list[pa.RecordBatch]:
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(n):
        size = int(rng.integers(0, 40))
        batches.append(
            pa.RecordBatch.from_pydict(
                {
                    "i": pa.array(rng.integers(-3, 9, size)),
                    "f": pa.array(rng.normal(size=size)),
                    "s": pa.array(rng.choice(["ab", "b", "abb", "c"], size)),
                    "cat": pa.array(rng.integers(0, 4, size)),
                    "e": pa.nulls(size, pa.string()),
                }
            )
        )
    return batches


def _columns(batch: pa.RecordBatch) -> dict[str, FeatureColumn]:
    return {column.path[0]: column for column in flatten_batch(batch)}


def _feed(family: StatisticFamily[Any], name: str, batches: list[pa.RecordBatch]) -> Any:
    state = family.create()
    for batch in batches:
        fed = FeatureBatch(_columns(batch)[name], None, None, name == "cat")
        if family.takes(fed):
            family.add(state, fed)
    return state


def _stored(family: StatisticFamily[Any], state: Any) -> bytes:
    msg = sketches_pb2.FeatureState()
    family.write(state, msg)
    return msg.SerializeToString(deterministic=True)


def _report(family: StatisticFamily[Any], state: Any, name: str) -> bytes:
    kind = Kind.STRING if name in ("s", "e", "cat") else Kind.FLOAT
    section = "string_stats" if kind is Kind.STRING else "num_stats"
    out = FeatureReport(statistics_pb2.FeatureNameStatistics(), section, kind, 100, None)
    family.report(state, out)
    return out.stats.SerializeToString(deterministic=True)


def test_the_builtins_come_first_then_the_custom_statistics_by_name() -> None:
    families = SPEC.families
    assert [type(f) for f in families[: len(BUILTIN_STATISTICS)]] == list(BUILTIN_STATISTICS)
    assert [f.name for f in families[len(BUILTIN_STATISTICS) :]] == ["alpha", "zeta"]
    assert len({f.name for f in families}) == len(families)
    assert SPEC.families is SPEC.families  # made once per spec
    assert len(FeatureAccumulator(("x",), SPEC).states) == len(families)


@pytest.mark.parametrize("name", ["i", "f", "s", "cat", "e"])
@pytest.mark.parametrize("index", range(len(SPEC.families)))
def test_every_family_merges_and_stores_losslessly(index: int, name: str) -> None:
    """The three-way check for each entry alone: one state fed every batch == per-batch
    states merged == merged after a write/load round trip, and create() is the identity."""
    family = SPEC.families[index]
    batches = _batches(index) + _batches(index + 100)
    one = _feed(family, name, batches)
    merged = family.create()
    for batch in batches:
        merged.merge(_feed(family, name, [batch]))
    msg = sketches_pb2.FeatureState()
    family.write(merged, msg)
    loaded = family.load(msg)
    assert loaded is not None
    identity = family.create()
    identity.merge(one)
    expected = _report(family, one, name)
    assert _report(family, merged, name) == expected
    assert _report(family, loaded, name) == expected
    assert _report(family, identity, name) == expected
    # the stored states too (these are small enough for every sketch to be exact)
    assert _stored(family, merged) == _stored(family, loaded) == _stored(family, one)


def test_each_family_takes_the_values_it_summarises() -> None:
    feature = {name: FeatureAccumulator((name,), SPEC) for name in ("i", "s", "cat", "e")}
    for batch in _batches(1) + _batches(2):
        for name, column in _columns(batch).items():
            if name in feature:
                feature[name].add(column)
    taken = {
        name: {f.name for f, state in zip(SPEC.families, acc.states, strict=True) if state}
        for name, acc in feature.items()
    }
    always = {"presence", "value_kinds"}
    assert taken["i"] == always | {"numeric"}
    assert taken["cat"] == always | {"string"}  # categorical numbers are summarised as text
    assert taken["s"] == always | {"string", "pii", "alpha", "zeta"}  # text: checked for PII
    # a column of nulls only: a string state (its declared type), no custom statistic
    assert taken["e"] == always | {"string"}


def test_the_reports_follow_the_registry_order() -> None:
    values = ["ab", "b", "abb", "cb"]
    acc = FeatureAccumulator(("s",), SPEC)
    acc.add(_columns(pa.RecordBatch.from_pydict({"s": values}))["s"])
    acc.value_kinds.num_invalid_values = 2  # a value-kinds note between built-ins and customs
    names = [c.name for c in acc.result(len(values), include_state=False).custom_stats]
    ends_b = sum(v.endswith("b") for v in values)
    starts_a = sum(v.startswith("a") for v in values)
    assert names == [
        "top_values_max_error",
        "distinct_relative_standard_error",
        "num_invalid_values",
        "alpha.matches",
        "alpha.rate",
        "zeta.matches",
        "zeta.rate",
    ]
    stats = acc.result(len(values), include_state=False)
    found = {c.name: c.num for c in stats.custom_stats}
    assert found["alpha.matches"] == ends_b
    assert found["zeta.matches"] == starts_a


def test_state_of_a_statistic_the_spec_lacks_is_refused() -> None:
    msg = sketches_pb2.FeatureState(path=["s"], custom={"other": b""})
    with pytest.raises(DeserializationError, match="in a spec without them"):
        FeatureAccumulator.from_proto(msg, StatisticsSpec())
    with pytest.raises(DeserializationError, match="unknown custom statistic 'other'"):
        FeatureAccumulator.from_proto(msg, SPEC)
