"""Wide Parquet row groups are read whole (``read_row_group``, issue 16): the same batches
and statistics as streaming them, on both sides of the column threshold."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that

from beam_stats.beam import ReadRecordBatches
from beam_stats.beam.reading import SMALL_GROUP_ROWS, WIDE_COLUMNS, read_in_process


def _table(columns: int, rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    data: dict[str, pa.Array] = {}
    for i in range(columns):
        kind = i % 4
        if kind == 0:
            data[f"i{i}"] = pa.array(rng.integers(-5, 5, rows))
        elif kind == 1:
            values = rng.normal(size=rows)
            data[f"f{i}"] = pa.array(np.where(values > 1.5, np.nan, values))
        elif kind == 2:
            data[f"s{i}"] = pa.array([f"v{v}" if v else None for v in rng.integers(0, 4, rows)])
        else:
            data[f"l{i}"] = pa.array([list(range(v)) for v in rng.integers(0, 3, rows)])
    return pa.table(data)


@pytest.mark.parametrize("columns", [WIDE_COLUMNS - 1, WIDE_COLUMNS, WIDE_COLUMNS + 20])
def test_batches_are_those_of_streaming(tmp_path: Path, columns: int) -> None:
    rows, batch_size = 1000, 300
    table = _table(columns, rows)
    path = tmp_path / f"wide_{columns}.parquet"
    pq.write_table(table, path, row_group_size=rows)  # one row group: one work unit
    streamed = list(pq.ParquetFile(path).iter_batches(batch_size=batch_size))
    assert [b.num_rows for b in streamed] == [300, 300, 300, 100]
    # repr: NaN is unequal to itself, its repr is not.
    expected = sorted(repr((b.num_rows, b.to_pydict())) for b in streamed)

    def same_batches(batches: list[pa.RecordBatch]) -> None:
        assert sorted(repr((b.num_rows, b.to_pydict())) for b in batches) == expected
        assert all(b.schema.equals(streamed[0].schema) for b in batches)

    with beam.Pipeline() as p:
        read = p | ReadRecordBatches(str(path), batch_size=batch_size)
        assert_that(read.batches, same_batches)


@pytest.mark.parametrize("columns", [6, WIDE_COLUMNS + 20])
def test_small_row_groups_give_the_batch_of_streaming(tmp_path: Path, columns: int) -> None:
    """A one-row-group unit of at most SMALL_GROUP_ROWS rows is read whole (2,000 small files,
    issue 16): the same one batch as streaming, nested and dictionary columns included."""
    table = _table(columns, 500).append_column(
        "nested", pa.array([{"a": i, "b": [str(i)] * (i % 3)} for i in range(500)])
    )
    table = table.append_column("dict", pa.array(["x", "y"] * 250).dictionary_encode())
    # At the bound and past it (streamed), for a batch size above the bound.
    for rows in (SMALL_GROUP_ROWS, SMALL_GROUP_ROWS + 1):
        path = tmp_path / f"small_{columns}_{rows}.parquet"
        big = pa.concat_tables([table] * (rows // 500 + 1)).slice(0, rows)
        pq.write_table(big, path, row_group_size=rows)
        streamed = list(pq.ParquetFile(path).iter_batches(batch_size=131072))
        read = list(read_in_process([str(path)]))
        assert all(isinstance(b, pa.RecordBatch) for b in read), read
        assert [b.num_rows for b in read] == [b.num_rows for b in streamed] == [rows]
        assert read[0].schema.equals(streamed[0].schema)
        for mine, theirs in zip(read[0].columns, streamed[0].columns, strict=True):
            if pa.types.is_floating(mine.type):  # NaN is unequal to itself for Arrow
                assert mine.is_null().equals(theirs.is_null())
                numbers = [c.fill_null(0).to_numpy() for c in (mine, theirs)]
                assert np.array_equal(*numbers, equal_nan=True)
            else:
                assert mine.equals(theirs)
