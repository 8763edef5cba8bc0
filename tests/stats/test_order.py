"""Features come out in the data's column order, whatever the merge order (issue 10)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats import generate_statistics_from_table, merge_statistics
from beam_stats.proto import sketches_pb2
from beam_stats.stats import DatasetAccumulator, StatisticsSpec

SPEC = StatisticsSpec()
NAMES = ["zeta", "alpha", "mid", "beta", "omega"]


def names(stats: object) -> list[str]:
    return [".".join(f.path.step) for f in stats.features]  # type: ignore[attr-defined]


def batch(columns: list[str], rows: int = 3) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({c: [f"{c}{i % 2}" for i in range(rows)] for c in columns})


def expected_order(batches: list[list[str]]) -> list[str]:
    """Independently: smallest column index over the batches, ties by name (pandas)."""
    frame = pd.DataFrame(
        [(name, i) for columns in batches for i, name in enumerate(columns)],
        columns=["name", "index"],
    )
    first = frame.groupby("name")["index"].min().reset_index()
    return first.sort_values(["index", "name"], kind="stable")["name"].tolist()


def test_one_table_keeps_its_column_order_not_names() -> None:
    table = pa.table(
        {
            "zeta": [1, 2],
            "alpha": ["a", "b"],
            "nested": pa.array([{"y": 1, "b": 2.0}, None]),
            "beta": [[1], [2, 3]],
        }
    )
    stats = generate_statistics_from_table(table).datasets[0]
    assert names(stats) == ["zeta", "alpha", "nested", "nested.y", "nested.b", "beta"]


def test_batches_with_different_columns() -> None:
    layouts = [["mid", "alpha"], ["zeta", "mid", "beta"], ["omega", "alpha", "zeta"]]
    acc = DatasetAccumulator(SPEC)
    for columns in layouts:
        acc.add(batch(columns))
    assert names(acc.result()) == expected_order(layouts)
    assert names(acc.result()) == ["mid", "omega", "zeta", "alpha", "beta"]


@settings(max_examples=40, deadline=None)
@given(
    layouts=st.lists(
        st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True),
        min_size=1,
        max_size=4,
    )
)
def test_order_does_not_depend_on_merge_order(layouts: list[list[str]]) -> None:
    parts = []
    for columns in layouts:
        part = DatasetAccumulator(SPEC)
        part.add(batch(columns))
        parts.append(part)
    want = expected_order(layouts)
    for order in itertools.islice(itertools.permutations(parts), 6):
        merged = DatasetAccumulator(SPEC)
        for part in order:
            merged.merge(part)
        assert names(merged.result()) == want
        # The wire state lists features in the same canonical order, with their positions.
        state = merged.to_proto()
        assert [f.path[0] for f in state.features] == want
        restored = DatasetAccumulator.from_proto(
            sketches_pb2.DatasetState.FromString(state.SerializeToString()), SPEC
        )
        assert names(restored.result()) == want


def test_merged_statistics_files_keep_a_deterministic_column_order() -> None:
    monday = generate_statistics_from_table(pa.Table.from_batches([batch(["zeta", "alpha"])]))
    tuesday = generate_statistics_from_table(
        pa.Table.from_batches([batch(["beta", "zeta", "alpha"])])
    )
    want = expected_order([["zeta", "alpha"], ["beta", "zeta", "alpha"]])
    assert want == ["beta", "zeta", "alpha"]
    for files in ([monday, tuesday], [tuesday, monday]):
        merged = merge_statistics(*files)
        assert names(merged.datasets[0]) == want
        again = merge_statistics(merged)  # positions travel with the stored state
        assert names(again.datasets[0]) == want


def test_weight_feature_missing_from_a_batch_still_gets_its_position() -> None:
    spec = StatisticsSpec(weight_feature="w")
    acc = DatasetAccumulator(spec)
    acc.add(pa.RecordBatch.from_pydict({"b": ["x"]}))  # no weight column: invalid weights
    acc.add(pa.RecordBatch.from_pydict({"b": ["y"], "w": np.array([1.0])}))
    assert names(acc.result()) == ["b", "w"]
