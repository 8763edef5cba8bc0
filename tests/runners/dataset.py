"""The input every runner gets: six Parquet files, CSV, JSON lines and TFRecord, bad rows included.

Every value is known here, so the tests compute what the statistics must say with numpy,
independently of beam-stats. Floats are float32 values (widened to float64 where the format
has float64), so the four formats carry the same numbers: a TFRecord keeps 32-bit floats.

Parts, so that statistics of two parts can be merged and compared with those of the whole:
  part A: parquet 0-2, the CSV file;
  part B: parquet 3-5, the JSON-lines file, the TFRecord file, an empty and a corrupt Parquet.

Serving-like rows (CSV, JSON lines, TFRecord) reuse identifiers of the Parquet rows, with
some values changed, for feature skew; some carry a value of `colour` that Parquet never has,
so a schema inferred from the Parquet files rejects them.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.tfrecordio import _TFRecordUtil

from beam_stats.proto import example_pb2

PARQUET_FILES = 6
ROWS_PER_PARQUET = 1500
ROW_GROUP = 400
SERVING_ROWS = 700  # in each of the CSV, JSON-lines and TFRecord files
COLOURS = ["red", "green", "blue", "grey"]
NEW_COLOUR = "violet"  # only in serving-like rows: out of the inferred domain
SKEWED_EVERY = 9  # every 9th serving-like row has `x` changed
NEW_COLOUR_EVERY = 50


@dataclasses.dataclass(frozen=True)
class Dataset:
    folder: Path
    part_a: list[str]
    part_b: list[str]
    parquet: list[str]
    serving: list[str]  # CSV, JSON lines, TFRecord
    rows: dict[str, pa.Table]  # the good rows of each file, by path
    expected_errors: list[tuple[str, str, int | None]]  # file name, kind, line

    def table(self, paths: list[str]) -> pa.Table:
        return pa.concat_tables([self.rows[p] for p in paths if p in self.rows])


def _rows(rng: np.random.Generator, ids: np.ndarray) -> pa.Table:
    n = len(ids)
    x = rng.normal(10.0, 4.0, n).astype(np.float32).astype(np.float64)
    missing = rng.random(n) < 0.05
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "x": pa.array(np.where(missing, np.nan, x), pa.float64(), mask=missing),
            "k": pa.array(rng.integers(0, 40, n), pa.int64()),
            "colour": pa.array(rng.choice(COLOURS, n, p=[0.4, 0.3, 0.2, 0.1])),
            "user": pa.array([f"user-{i:06d}" for i in ids]),  # near-unique: sketched
            "w": pa.array(rng.integers(0, 4, n).astype(np.float64)),  # 0 to 3: some weigh 0
        }
    )


def _serving(parquet: pa.Table, start: int) -> pa.Table:
    """Rows with identifiers of `parquet`; every SKEWED_EVERY-th has another `x`."""
    rows = parquet.slice(start, SERVING_ROWS)
    x = rows["x"].to_numpy(zero_copy_only=False).copy()
    changed = np.arange(SERVING_ROWS) % SKEWED_EVERY == 0
    x[changed] = x[changed] + 1.0
    colour = np.array(rows["colour"].to_pylist(), dtype=object)
    colour[np.arange(SERVING_ROWS) % NEW_COLOUR_EVERY == 3] = NEW_COLOUR
    return rows.set_column(
        1, "x", pa.array(x, pa.float64(), mask=rows["x"].is_null().to_numpy(False))
    ).set_column(3, "colour", pa.array(colour.tolist(), pa.string()))


def _csv_cell(value: object) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _write_csv(table: pa.Table, path: Path, malformed_after: int) -> int:
    """CSV with one malformed row (too few fields) after row `malformed_after`; its line."""
    lines = [",".join(table.column_names)]
    for i, row in enumerate(table.to_pylist()):
        lines.append(",".join(_csv_cell(v) for v in row.values()))
        if i == malformed_after:
            lines.append("1,2")
    path.write_text("\n".join(lines) + "\n")
    return malformed_after + 3  # header, the rows before, the row itself, then this one


def _write_jsonl(table: pa.Table, path: Path, broken_after: int) -> int:
    lines = [json.dumps(row) for row in table.to_pylist()]
    lines.insert(broken_after + 1, '{"id": 5, "x": ')
    path.write_text("\n".join(lines) + "\n")
    return broken_after + 2


def _example(row: dict[str, object]) -> bytes:
    msg = example_pb2.Example()
    for name, value in row.items():
        feature = msg.features.feature[name]
        if value is None:
            continue
        if isinstance(value, str):
            feature.bytes_list.value.append(value.encode())
        elif isinstance(value, float):
            feature.float_list.value.append(value)
        else:
            feature.int64_list.value.append(int(value))  # type: ignore[call-overload]
    return msg.SerializeToString()


def _write_tfrecord(table: pa.Table, path: Path, corrupt: int) -> None:
    """TFRecord of the rows; record `corrupt` gets a flipped byte (its checksum then fails)."""
    with path.open("wb") as f:
        for i, row in enumerate(table.to_pylist()):
            buffer = io.BytesIO()
            _TFRecordUtil.write_record(buffer, _example(row))
            record = bytearray(buffer.getvalue())
            if i == corrupt:
                record[12] ^= 0xFF  # the first byte of the data, after length and its CRC
            f.write(record)


def write_dataset(folder: Path, seed: int = 7) -> Dataset:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, pa.Table] = {}
    parquet = []
    for i in range(PARQUET_FILES):
        ids = np.arange(i * ROWS_PER_PARQUET, (i + 1) * ROWS_PER_PARQUET)
        table = _rows(rng, ids)
        path = folder / f"train-{i}.parquet"
        pq.write_table(table, path, row_group_size=ROW_GROUP)
        parquet.append(str(path))
        rows[str(path)] = table
    all_parquet = pa.concat_tables(rows[p] for p in parquet)
    csv, jsonl, tfrecord = (folder / n for n in ("serve.csv", "serve.jsonl", "serve.tfrecord"))
    csv_rows = _serving(all_parquet, 100)
    jsonl_rows = _serving(all_parquet, 3000)
    tf_rows = _serving(all_parquet, 6000)
    csv_line = _write_csv(csv_rows, csv, malformed_after=200)
    jsonl_line = _write_jsonl(jsonl_rows, jsonl, broken_after=400)
    corrupt_record = 321
    _write_tfrecord(tf_rows, tfrecord, corrupt_record)
    tf_good = pa.concat_tables(
        [tf_rows.slice(0, corrupt_record), tf_rows.slice(corrupt_record + 1)]
    )
    rows.update({str(csv): csv_rows, str(jsonl): jsonl_rows, str(tfrecord): tf_good})
    empty, corrupt = folder / "empty.parquet", folder / "corrupt.parquet"
    pq.write_table(all_parquet.slice(0, 0), empty)
    corrupt.write_bytes(b"PAR1 this is not a Parquet file")
    return Dataset(
        folder=folder,
        part_a=[*parquet[:3], str(csv)],
        part_b=[*parquet[3:], str(jsonl), str(tfrecord), str(empty), str(corrupt)],
        parquet=parquet,
        serving=[str(csv), str(jsonl), str(tfrecord)],
        rows=rows,
        expected_errors=sorted(
            [
                ("serve.csv", "malformed_row", csv_line),
                ("serve.jsonl", "malformed_row", jsonl_line),
                ("serve.tfrecord", "corrupt_record", corrupt_record),
                ("empty.parquet", "empty_file", None),
                ("corrupt.parquet", "unreadable_file", None),
            ],
            key=str,
        ),
    )
