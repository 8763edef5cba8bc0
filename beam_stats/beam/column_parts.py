"""A wide Parquet row group read a few columns at a time: :class:`ColumnPart` items, added by
:meth:`~beam_stats.stats.DatasetAccumulator.add_part` (:func:`add_read`), so that the memory
of reading is about :data:`PART_BYTES`, not the row group's.
:class:`~beam_stats.beam.reading.UnitReader` reads so when asked (``column_parts``: the
in-process engine, unsliced, when no statistic needs whole rows) and the group qualifies
(:func:`part_columns`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq

from beam_stats.beam._inputs import open_input
from beam_stats.stats.coalesce import BufferedAccumulator

#: Bytes of the columns of one :class:`ColumnPart` (a column's size estimated from the
#: Parquet metadata: uncompressed, and at least 8 bytes a row). On 1,000 columns x 50k rows
#: (one 324 MB row group) parts of about 100 columns read in 0.6x the time of the whole group
#: and 0.3x its peak memory (issue 16).
PART_BYTES = 32 << 20


@dataclasses.dataclass(frozen=True)
class ColumnPart:
    """Some columns of some rows of a wide Parquet row group read a few columns at a time
    (see :meth:`~beam_stats.stats.DatasetAccumulator.add_part`): group `columns` of its
    columns (from 0, in column order), slice `rows` of its rows (from 0, ``batch_size``
    rows each); they come group after group, slice after slice."""

    batch: pa.RecordBatch
    columns: int
    rows: int


def part_columns(parquet: pq.ParquetFile, group: int) -> list[list[str]] | None:
    """The top-level columns of row group `group` cut into parts of about
    :data:`PART_BYTES`, or None: not to be read in parts (no rows, one part, or names
    that are not unique, empty or have a dot, which ``columns=`` could confuse)."""
    meta = parquet.metadata.row_group(group)
    names = parquet.schema_arrow.names
    if meta.num_rows == 0 or len(set(names)) != len(names):
        return None
    if any("." in name or not name for name in names):
        return None
    size = dict.fromkeys(names, 0)
    for j in range(meta.num_columns):
        column = meta.column(j)
        top = column.path_in_schema.split(".")[0]
        if top not in size:
            return None
        size[top] += column.total_uncompressed_size
    parts: list[list[str]] = [[]]
    held = 0
    for name in names:
        estimate = max(size[name], 8 * meta.num_rows)
        if parts[-1] and held + estimate > PART_BYTES:
            parts.append([])
            held = 0
        parts[-1].append(name)
        held += estimate
    return parts if len(parts) > 1 else None


def read_parts(
    path: str, parquet: pq.ParquetFile, group: int, parts: list[list[str]], batch_size: int
) -> Iterator[ColumnPart]:
    """The :class:`ColumnPart` items of row group `group` of `parquet` (at `path`), its
    columns in the groups `parts` (:func:`part_columns`), cut into `batch_size` rows."""
    # Strings as Parquet stores them, dictionary-encoded: the statistics encode them anyway
    # (a string column's dictionary_encode was 12% of the wide table's time).
    texts = [field.name for field in parquet.schema_arrow if _is_text(field.type)]
    if texts:
        parquet = pq.ParquetFile(open_input(path), metadata=parquet.metadata, read_dictionary=texts)
    yield from _read_groups(parquet, group, parts, batch_size)


def _is_text(arrow_type: pa.DataType) -> bool:
    # Not the large types: their dictionary would come with 32-bit offsets.
    return pa.types.is_string(arrow_type) or pa.types.is_binary(arrow_type)


def _read_groups(
    parquet: pq.ParquetFile, group: int, parts: list[list[str]], batch_size: int
) -> Iterator[ColumnPart]:
    """The parts of row group `group`, each group of columns read in another thread while
    the one before is used (the reading, 20% of a wide table's time, overlaps the
    statistics; one more group is held), cut into `batch_size` rows."""

    def read(names: list[str]) -> pa.RecordBatch:
        table = parquet.read_row_group(group, columns=names)
        if table.column_names != names:  # not the columns asked for
            raise ValueError(f"columns {names} read as {table.column_names}")
        batch: pa.RecordBatch = table.combine_chunks().to_batches()[0]
        return batch

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(read, parts[0])
        for k in range(len(parts)):
            batch = pending.result()
            if k + 1 < len(parts):
                pending = pool.submit(read, parts[k + 1])
            for j, start in enumerate(range(0, batch.num_rows, batch_size)):
                yield ColumnPart(batch.slice(start, batch_size), k, j)
            del batch


def add_read(accumulator: BufferedAccumulator, item: pa.RecordBatch | ColumnPart) -> None:
    """Adds what a reader gave (:class:`UnitReader`) to `accumulator`: a record batch is
    held to be joined; a column part is added at once, after what is held."""
    if isinstance(item, ColumnPart):
        accumulator.flush()  # what is held comes first
        accumulator.add_part(item.batch, item.columns, item.rows)
    else:
        accumulator.buffer(item)
