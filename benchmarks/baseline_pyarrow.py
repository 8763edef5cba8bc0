"""The "fair baseline": per-column statistics of a Parquet file in plain pyarrow.

Usage::

    python benchmarks/baseline_pyarrow.py FILE.parquet [--batch-size 65536] [--top 3]

What a user could write by hand in an afternoon: stream the file batch by batch
(``pq.ParquetFile.iter_batches``, multi-threaded decoding), and for every column keep

* the non-null count and the null count;
* numeric columns (integers and floats): NaN count, min, max, mean (NaN excluded; an infinity
  makes the mean infinite, as it should);
* string and boolean columns: exact value counts (``pc.value_counts`` per batch, combined with a
  ``group_by(...).aggregate(sum)`` whenever the partial counts grow large and at the end), from
  which the number of distinct values and the top values come;
* list columns: the same for the list itself (null count, length min/max/mean) and for the
  flattened items.

Everything is combined over the whole file exactly (integer sums in Python ints, so they cannot
overflow). The script prints one line per column and, last, ``wall_seconds=...`` for the
statistics alone (file open to result, interpreter start-up and imports excluded: the harness
``benchmarks/run.py`` measures the whole process from outside).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# Partial value counts are merged once the parts added since the last merge hold this many
# entries and at least as many as the merged part: bounded memory for high-cardinality columns
# (at most about twice the distinct values) at an amortised O(n log n) cost.
_COMPACT_AT = 1_000_000


class ValueCounts:
    """Exact value counts over many arrays."""

    def __init__(self) -> None:
        self._parts: list[pa.StructArray] = []
        self._merged = 0  # entries in the merged part (self._parts[0]), 0 if none
        self._new = 0  # entries in the parts added since

    def add(self, values: pa.Array) -> None:
        counts = pc.value_counts(values.drop_null())
        self._parts.append(counts)
        self._new += len(counts)
        if self._new >= max(_COMPACT_AT, self._merged):
            self._parts = [self._combined()]
            self._merged, self._new = len(self._parts[0]), 0

    def _combined(self) -> pa.StructArray:
        table = pa.Table.from_struct_array(pa.concat_arrays(self._parts))
        summed = table.group_by("values").aggregate([("counts", "sum")])
        return pa.StructArray.from_arrays(
            [
                summed.column("values").combine_chunks(),
                summed.column("counts_sum").combine_chunks(),
            ],
            names=["values", "counts"],
        )

    def result(self, top: int) -> tuple[int, list[tuple[Any, int]]]:
        """The number of distinct values and the ``top`` most frequent (value, count)."""
        if not self._parts:
            return 0, []
        combined = self._combined() if len(self._parts) > 1 else self._parts[0]
        order = pc.select_k_unstable(
            pa.Table.from_struct_array(combined), k=top, sort_keys=[("counts", "descending")]
        )
        best = combined.take(order).to_pylist()
        return len(combined), [(row["values"], row["counts"]) for row in best]


class NumericStats:
    """Count, NaN count, min, max and mean of integers or floats."""

    def __init__(self, is_float: bool) -> None:
        self.is_float = is_float
        self.count = 0
        self.nan = 0
        self.total: float | int = 0
        self.min: Any = None
        self.max: Any = None

    def add(self, values: pa.Array) -> None:
        values = values.drop_null()
        if self.is_float:
            is_nan = pc.is_nan(values)
            n_nan = pc.sum(is_nan).as_py() or 0
            if n_nan:
                self.nan += n_nan
                values = values.filter(pc.invert(is_nan))
        if len(values) == 0:
            return
        self.count += len(values)
        self.total += pc.sum(values).as_py()
        mm = pc.min_max(values)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def summary(self) -> str:
        mean = self.total / self.count if self.count else None
        nan = f" nan={self.nan}" if self.is_float else ""
        return f"min={self.min} max={self.max} mean={mean}{nan}"


class ColumnStats:
    """Statistics of one column (or of the items of a list column)."""

    def __init__(self, dtype: pa.DataType) -> None:
        self.dtype = dtype
        self.non_null = 0
        self.nulls = 0
        self.numeric: NumericStats | None = None
        self.counts: ValueCounts | None = None
        self.lengths: NumericStats | None = None
        self.items: ColumnStats | None = None
        if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
            self.numeric = NumericStats(pa.types.is_floating(dtype))
        elif (
            pa.types.is_string(dtype)
            or pa.types.is_large_string(dtype)
            or (pa.types.is_boolean(dtype))
        ):
            self.counts = ValueCounts()
        elif pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
            self.lengths = NumericStats(is_float=False)
            self.items = ColumnStats(dtype.value_type)

    def add(self, values: pa.Array) -> None:
        nulls = values.null_count
        self.nulls += nulls
        self.non_null += len(values) - nulls
        if self.numeric is not None:
            self.numeric.add(values)
        elif self.counts is not None:
            self.counts.add(values)
        elif self.lengths is not None and self.items is not None:
            self.lengths.add(pc.list_value_length(values))
            self.items.add(pc.list_flatten(values))

    def summary(self, top: int) -> str:
        parts = [f"count={self.non_null} nulls={self.nulls}"]
        if self.numeric is not None:
            parts.append(self.numeric.summary())
        elif self.counts is not None:
            distinct, best = self.counts.result(top)
            parts.append(f"distinct={distinct} top={best}")
        elif self.lengths is not None and self.items is not None:
            parts.append(f"length: {self.lengths.summary()}")
            parts.append(f"items: {self.items.summary(top)}")
        return " ".join(parts)


def column_stats(path: Path, batch_size: int) -> tuple[int, dict[str, ColumnStats]]:
    """Streams ``path`` once and returns (rows, statistics per column)."""
    pf = pq.ParquetFile(path)
    stats = {field.name: ColumnStats(field.type) for field in pf.schema_arrow}
    rows = 0
    for batch in pf.iter_batches(batch_size=batch_size, use_threads=True):
        rows += batch.num_rows
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            stats[name].add(column)
    return rows, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a Parquet file")
    parser.add_argument("--batch-size", type=int, default=65_536)
    parser.add_argument("--top", type=int, default=3, help="most frequent values to print")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    start = time.perf_counter()
    rows, stats = column_stats(args.file, args.batch_size)
    lines = [f"{name} ({s.dtype}): {s.summary(args.top)}" for name, s in stats.items()]
    elapsed = time.perf_counter() - start
    print("\n".join(lines))
    print(f"rows={rows} columns={len(stats)}")
    print(f"wall_seconds={elapsed:.3f} rows_per_second={rows / elapsed:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
