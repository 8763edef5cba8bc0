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
from beam_stats.beam.sources import WIDE_COLUMNS


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
