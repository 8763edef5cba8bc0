"""A wide Parquet row group read a few columns at a time (``ColumnPart``, issue 16): the
parts make the row group, and the statistics are those of adding it whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from beam_stats import StatisticsSpec, generate_statistics_from_table
from beam_stats.beam import column_parts
from beam_stats.beam.artifacts import load_statistics
from beam_stats.beam.column_parts import ColumnPart
from beam_stats.beam.reading import WIDE_COLUMNS, read_in_process
from beam_stats.errors import InvalidInputError
from beam_stats.jobs import compute_statistics
from beam_stats.sketches import FrequentItemsSpec
from beam_stats.stats import DatasetAccumulator


def _wide(columns: int, rows: int) -> pa.Table:
    """Every kind of column: numbers with NaN and nulls, strings (plain, dictionary,
    large), lists of strings, a struct, all null."""
    rng = np.random.default_rng(26)
    data: dict[str, pa.Array] = {}
    for i in range(columns):
        kind = i % 8
        if kind == 0:
            data[f"i{i}"] = pa.array(rng.integers(-50, 50, rows), mask=rng.random(rows) < 0.1)
        elif kind == 1:
            values = rng.normal(size=rows)
            data[f"f{i}"] = pa.array(np.where(values > 1.5, np.nan, values))
        elif kind == 2:
            words = [f"w{v}" if v else None for v in rng.integers(0, 300, rows)]
            data[f"s{i}"] = pa.array(words)
        elif kind == 3:
            data[f"d{i}"] = pa.array(
                [f"c{v}" for v in rng.integers(0, 5, rows)]
            ).dictionary_encode()
        elif kind == 4:
            data[f"L{i}"] = pa.array(
                [f"id-{v}" for v in rng.integers(0, 10**6, rows)], pa.large_string()
            )
        elif kind == 5:
            data[f"ls{i}"] = pa.array(
                [[f"t{v}" for v in range(k)] if k else None for k in rng.integers(0, 4, rows)]
            )
        elif kind == 6:
            data[f"st{i}"] = pa.array(
                [{"a": int(v), "b": [str(v)]} for v in rng.integers(0, 9, rows)]
            )
        else:
            data[f"n{i}"] = pa.nulls(rows, pa.float64())
    return pa.table(data)


@pytest.fixture()
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    # About five columns a part at 2,000 rows (8 bytes a row at least): many parts.
    monkeypatch.setattr(column_parts, "PART_BYTES", 5 * 8 * 2000)


def _write(tmp_path: Path, table: pa.Table) -> Path:
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path, row_group_size=len(table))  # one row group
    return path


def test_parts_make_the_row_group(tmp_path: Path, small_parts: None) -> None:
    table = _wide(WIDE_COLUMNS + 20, 2000)
    path = _write(tmp_path, table)
    items = list(read_in_process([str(path)], column_parts=True))
    assert all(isinstance(item, ColumnPart) for item in items), items
    assert len(items) > 10
    assert [(item.columns, item.rows) for item in items] == [(k, 0) for k in range(len(items))]
    assert all(item.batch.num_rows == 2000 for item in items)
    names = [name for item in items for name in item.batch.schema.names]
    assert names == table.column_names
    whole = pq.read_table(path)
    for item in items:
        for name, column in zip(item.batch.schema.names, item.batch.columns, strict=True):
            expected = whole.column(name).combine_chunks()
            if pa.types.is_dictionary(column.type) and not pa.types.is_dictionary(expected.type):
                # Strings and bytes come dictionary-encoded, as Parquet stores them.
                assert pa.types.is_string(expected.type), name
                column = column.dictionary_decode()
            assert column.type == expected.type, name
            # repr: NaN is unequal to itself, its repr is not.
            assert repr(column.to_pylist()) == repr(expected.to_pylist()), name
    # Not asked for: whole batches, as before.
    plain = list(read_in_process([str(path)]))
    assert all(isinstance(item, pa.RecordBatch) for item in plain)
    assert sum(b.num_rows for b in plain) == 2000


@pytest.mark.parametrize(
    "why",
    ["narrow", "duplicate names", "dotted name", "empty name", "one part"],
)
def test_read_whole_where_parts_do_not_apply(tmp_path: Path, small_parts: None, why: str) -> None:
    columns, rows, batch_size = WIDE_COLUMNS + 20, 2000, 131072
    table = _wide(columns, rows)
    if why == "narrow":
        table = table.select(range(WIDE_COLUMNS // 2))  # structs have two leaf columns
    elif why == "duplicate names":
        table = table.rename_columns([*table.column_names[:-1], table.column_names[0]])
    elif why == "dotted name":
        table = table.rename_columns(["a.b", *table.column_names[1:]])
    elif why == "empty name":
        table = table.rename_columns(["", *table.column_names[1:]])
    else:
        column_parts.PART_BYTES = 1 << 40  # the monkeypatch fixture restores it
    path = _write(tmp_path, table)
    items = list(read_in_process([str(path)], batch_size=batch_size, column_parts=True))
    batches = [item for item in items if not isinstance(item, dict)]
    assert batches and all(isinstance(item, pa.RecordBatch) for item in batches), why
    assert sum(b.num_rows for b in batches) == rows


def test_statistics_of_parts_are_those_of_the_whole(tmp_path: Path, small_parts: None) -> None:
    table = _wide(WIDE_COLUMNS + 20, 2000)
    path = _write(tmp_path, table)
    spec = StatisticsSpec()
    parts = DatasetAccumulator(spec)
    for item in read_in_process([str(path)], column_parts=True):
        assert isinstance(item, ColumnPart)
        parts.add_part(item.batch, item.columns, item.rows)
    whole = DatasetAccumulator(spec)
    whole.add(pq.read_table(path).to_batches()[0])
    assert parts.num_examples == whole.num_examples == 2000
    assert parts.to_proto() == whole.to_proto()  # positions, hence feature order, included
    assert parts.result("x") == whole.result("x")
    # The command's engine reads in parts and writes the same statistics.
    out = tmp_path / "stats.pb"
    compute_statistics(str(path), str(out), include_state=True)
    expected = generate_statistics_from_table(pq.read_table(path), spec, include_state=True)
    assert load_statistics(out) == expected


def test_a_dictionary_in_any_order_gives_the_same_statistics(
    tmp_path: Path, small_parts: None
) -> None:
    """A string column whose Parquet dictionary is not in the order of first occurrence (and
    has unused entries) comes dictionary-encoded as it is stored; the statistics, with top
    values past the frequent-items capacity (ties broken by value), are those of the
    strings."""
    table = _wide(WIDE_COLUMNS + 20, 2000)
    rng = np.random.default_rng(5)
    words = [f"v{k:03d}" for k in range(400)]
    order = rng.permutation(400)  # shuffled, and the last 40 never used
    indices = pa.array(rng.integers(0, 360, 2000) ** 2 // 360, pa.int32())
    shuffled = pa.DictionaryArray.from_arrays(indices, pa.array([words[k] for k in order]))
    table = table.append_column("shuffled", shuffled)
    path = tmp_path / "shuffled.parquet"
    # Without the Arrow schema the column reads back as strings, its dictionary as written.
    pq.write_table(table, path, row_group_size=2000, store_schema=False)
    whole_table = pq.read_table(path)
    assert whole_table.schema.field("shuffled").type == pa.string()
    items = [i for i in read_in_process([str(path)], column_parts=True)]
    last = items[-1].batch.column(items[-1].batch.schema.get_field_index("shuffled"))
    assert pa.types.is_dictionary(last.type)
    assert not last.dictionary.equals(pc.dictionary_encode(last.dictionary_decode()).dictionary)
    spec = StatisticsSpec(
        frequent_items=FrequentItemsSpec(capacity=50), num_rank_histogram_buckets=50
    )
    parts = DatasetAccumulator(spec)
    for item in items:
        parts.add_part(item.batch, item.columns, item.rows)
    whole = DatasetAccumulator(spec)
    whole.add(whole_table.to_batches()[0])
    assert parts.to_proto() == whole.to_proto()
    found = {tuple(f.path.step): f for f in whole.result().features}["shuffled",]
    notes = {custom.name: custom.num for custom in found.custom_stats}
    assert notes["top_values_max_error"] > 0  # past the capacity
    assert parts.result("x") == whole.result("x")


def test_slices_of_rows_give_the_statistics_of_the_batches(
    tmp_path: Path, small_parts: None
) -> None:
    """A row group of more rows than a batch: each group of columns is cut into batch_size
    rows, and the statistics are those of adding the row group's batches whole (the same
    values reach each feature in the same batches)."""
    table = _wide(WIDE_COLUMNS + 20, 2000)
    path = _write(tmp_path, table)
    items = list(read_in_process([str(path)], batch_size=300, column_parts=True))
    assert all(isinstance(item, ColumnPart) for item in items)
    groups = max(item.columns for item in items) + 1
    assert groups > 10
    expected_order = [(k, j) for k in range(groups) for j in range(7)]
    assert [(item.columns, item.rows) for item in items] == expected_order
    assert [item.batch.num_rows for item in items[:7]] == [300] * 6 + [200]
    spec = StatisticsSpec()
    parts = DatasetAccumulator(spec)
    for item in items:
        parts.add_part(item.batch, item.columns, item.rows)
    whole = DatasetAccumulator(spec)
    for batch in pq.read_table(path).to_batches(max_chunksize=300):
        whole.add(batch)
    assert parts.num_examples == 2000
    assert parts.to_proto() == whole.to_proto()
    assert parts.result("x") == whole.result("x")


def test_add_part_refuses_what_needs_whole_rows() -> None:
    batch = pa.record_batch({"x": [1.0, 2.0], "w": [1.0, 1.0]})
    weighted = DatasetAccumulator(StatisticsSpec(weight_feature=("w",)))
    assert not weighted.takes_parts
    with pytest.raises(InvalidInputError, match="whole rows"):
        weighted.add_part(batch, 0, 0)
    plain = DatasetAccumulator(StatisticsSpec())
    assert plain.takes_parts
    with pytest.raises(InvalidInputError, match="before part"):
        plain.add_part(batch, 1, 0)  # no first part yet
    plain.add_part(batch.select(["x"]), 0, 0)
    with pytest.raises(InvalidInputError, match="after 1 slices"):
        plain.add_part(batch.select(["x"]), 0, 2)
    with pytest.raises(InvalidInputError, match="same rows"):
        plain.add_part(batch.slice(0, 1).select(["w"]), 1, 0)
    plain.add_part(batch.select(["w"]), 1, 0)
    assert plain.num_examples == 2
    assert [f.position for f in plain.ordered_features()] == [0, 1]
