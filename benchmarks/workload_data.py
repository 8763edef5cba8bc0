"""Data of the issue-16 workloads (``benchmarks/workloads.py``) that ``make_dataset.py`` does
not write itself: the same rows cut into many small files, and a wide table.

Usage (the harness runs it in a subprocess, so that its own memory stays small)::

    python benchmarks/workload_data.py files --source mixed_1000000.parquet --file-rows 500 \
        --out DIR
    python benchmarks/workload_data.py wide --columns 1000 --rows 50000 --out DIR

Each prints the path it wrote (a directory of ``part-NNNNN.parquet`` files, or one Parquet
file) on stdout, and reuses what a previous run wrote with the same parameters:

* ``files``: the rows of ``--source`` (a file of ``make_dataset.py``), in order, as
  ``ceil(rows / file_rows)`` files of ``--file-rows`` rows (the last may be shorter), in
  ``DIR/files_{rows}x{file_rows}/``. A ``STAMP`` file, written last, records the source's
  generator metadata and the file size; a directory without a matching stamp is rewritten.
* ``wide``: ``--columns`` columns of ``--rows`` rows, ``DIR/wide_{columns}x{rows}.parquet``:
  the 20 columns of ``make_dataset.py``'s first ``--rows`` rows, repeated as
  ``{name}_{copy}`` until there are ``--columns`` of them (so every kind of column appears
  ``columns / 20`` times; copies hold the same values, the statistics work per column is the
  same as for distinct values). The generator parameters are in the file's metadata.

Both are deterministic: they depend only on the parameters and ``make_dataset.py``'s seed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_dataset import DEFAULT_SEED, GENERATOR_VERSION, iter_blocks  # noqa: E402

WIDE_VERSION = "1"  # bump when the wide table's content changes


def _source_key(source: Path) -> str:
    md = pq.ParquetFile(source).schema_arrow.metadata or {}
    keys = sorted(k for k in md if k.startswith(b"beam_stats.bench."))
    return ";".join(f"{k.decode()}={md[k].decode()}" for k in keys)


def many_files(source: Path, file_rows: int, out_dir: Path) -> Path:
    """``source``'s rows as files of ``file_rows`` rows in a directory (returned)."""
    if file_rows < 1:
        raise ValueError(f"file_rows must be >= 1, got {file_rows}")
    rows = pq.ParquetFile(source).metadata.num_rows
    where = out_dir / f"files_{rows}x{file_rows}"
    stamp = f"{_source_key(source)};file_rows={file_rows}\n"
    if (where / "STAMP").exists() and (where / "STAMP").read_text() == stamp:
        print(f"reusing {where}", file=sys.stderr)
        return where
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    table = pq.read_table(source)
    for k, start in enumerate(range(0, rows, file_rows)):
        pq.write_table(table.slice(start, file_rows), where / f"part-{k:05d}.parquet")
    (where / "STAMP").write_text(stamp)
    return where


def wide_table(columns: int, rows: int, seed: int = DEFAULT_SEED) -> pa.Table:
    """``columns`` columns of ``rows`` rows: copies of the mixed dataset's 20 columns."""
    if columns < 1 or rows < 1:
        raise ValueError(f"columns and rows must be >= 1, got {columns} and {rows}")
    base = pa.concat_tables(iter_blocks(rows, seed))
    names = base.column_names
    arrays, fields = [], []
    for i in range(columns):
        name = names[i % len(names)]
        arrays.append(base.column(name))
        fields.append(pa.field(f"{name}_{i // len(names)}", base.schema.field(name).type))
    return pa.table(arrays, schema=pa.schema(fields))


def _wide_metadata(columns: int, rows: int, seed: int) -> dict[bytes, bytes]:
    return {
        b"beam_stats.bench.wide": f"v{WIDE_VERSION} g{GENERATOR_VERSION} {columns}x{rows}"
        f" seed={seed}".encode()
    }


def wide_file(columns: int, rows: int, out_dir: Path) -> Path:
    """``out_dir/wide_{columns}x{rows}.parquet``, written unless current."""
    path = out_dir / f"wide_{columns}x{rows}.parquet"
    want = _wide_metadata(columns, rows, DEFAULT_SEED)
    if path.exists():
        md = pq.ParquetFile(path).schema_arrow.metadata or {}
        if all(md.get(k) == v for k, v in want.items()):
            print(f"reusing {path}", file=sys.stderr)
            return path
    out_dir.mkdir(parents=True, exist_ok=True)
    table = wide_table(columns, rows)
    table = table.replace_schema_metadata(want)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="snappy")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    files = kinds.add_parser("files", help="a file's rows as many small files")
    files.add_argument("--source", type=Path, required=True)
    files.add_argument("--file-rows", type=int, default=500)
    files.add_argument("--out", type=Path, required=True)
    wide = kinds.add_parser("wide", help="a wide table")
    wide.add_argument("--columns", type=int, default=1000)
    wide.add_argument("--rows", type=int, default=50_000)
    wide.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.kind == "files":
            print(many_files(args.source, args.file_rows, args.out))
        else:
            print(wide_file(args.columns, args.rows, args.out))
    except ValueError as e:
        parser.error(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
