"""Deterministic generator of the 20-column mixed benchmark dataset.

Usage::

    python benchmarks/make_dataset.py --rows 1000000 --out benchmarks/data
    python benchmarks/make_dataset.py --rows 20000 --out data/sample --format parquet,csv

writes ``DIR/mixed_{N}.parquet`` (row groups of ``--row-group-size`` rows) and/or
``DIR/mixed_{N}.csv`` (``--name NAME`` writes ``DIR/NAME.parquet`` / ``DIR/NAME.csv`` instead).

Determinism: rows are generated in blocks of ``BLOCK_ROWS`` rows, block ``i`` from
``numpy.random.default_rng([seed, i])``. So the output depends only on ``--seed`` and ``--rows``
(not on the row-group size or the format), and the first N rows of a larger file equal the file
of N rows whenever N is a multiple of ``BLOCK_ROWS``. Memory stays bounded by one block (plus
less than one row group of buffered rows), whatever ``--rows`` is.

Columns (exactly 20):

===================  ==============  ======================================================
name                 type            content
===================  ==============  ======================================================
f_normal             double          N(0, 1) rounded to 6 decimals, 1% null
f_lognormal          double          lognormal(3, 1), 5% null
f_uniform            double          U(0, 100), 0.5% NaN, 0.05% +inf, 0.05% -inf, 1% null
f_exponential        float           exponential(2) as float32, 2% null
f_price              double          gamma(2, 20) rounded to 2 decimals, no null
i_small              int64           0..9, no null
i_large              int64           uniform in [-10**12, 10**12], 1% null
i_zeros              int64           poisson(0.7): ~50% zeros, 3% null
i_count              int32           negative binomial(3, 0.2), 10% null
s_low                string          10 values, geometric skew ("alpha" ~ 40%), 1% null
s_medium             string          1,000 values, zipf(1.1), 2% null
s_high               string          100,000 values ("sku-0000042"), zipf(0.6), no null
s_id                 string          near-unique ids "user-000123456" from 10**9, no null
s_code               string          4-char codes from 200 values, 5% "" (empty), 2% null
text                 string          1..10 words from a 5,000-word zipf vocabulary, 2% null
b_flag               bool            30% true, 5% null
b_rare               bool            0.1% true, no null
l_int                list<int64>     0..5 values in 0..999, 5% null list
l_str                list<string>    0..5 tags out of 50, 5% null list
all_null             double          every value null
===================  ==============  ======================================================

CSV cannot hold list columns: in the CSV file ``l_int`` and ``l_str`` are written as one
string with the items joined by ``;`` (an empty list is ``""``, a null list is an empty field).
Floats are written as Arrow prints them (``nan``, ``inf``, ``-inf``), booleans as
``true``/``false``, null as an empty field, strings quoted. Arrow's CSV reader treats ``nan`` and
an empty string as null by default; to read the file back exactly use
``ConvertOptions(null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=False)``.

Files are written to a temporary name and renamed, so an existing file is complete. An existing
Parquet file is reused when its metadata records the same rows, seed, generator version and
row-group size; an existing CSV file when the stamp file next to it (``NAME.csv.stamp``, one
line) records the same rows, seed and generator version. ``--force`` regenerates both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# Bump when the content of the generated data changes, so stale files are regenerated.
GENERATOR_VERSION = "1"
BLOCK_ROWS = 500_000
DEFAULT_ROW_GROUP_SIZE = 262_144
DEFAULT_SEED = 20240601
FORMATS = ("parquet", "csv")
LIST_COLUMNS = ("l_int", "l_str")

_LOW_VALUES = [
    "alpha", "bravo", "charlie", "delta", "echo",
    "foxtrot", "golf", "hotel", "india", "juliett",
]  # fmt: skip
_LOWER = b"abcdefghijklmnopqrstuvwxyz"
_UPPER_DIGITS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _zipf_cdf(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from the distribution with cumulative weights ``cdf`` (vectorised)."""
    idx: np.ndarray = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(idx, len(cdf) - 1, out=idx)


def _mask(rng: np.random.Generator, size: int, p: float) -> np.ndarray | None:
    return rng.random(size) < p if p > 0 else None


def _prefixed_ids(prefix: str, ids: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(ids, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _random_strings(
    rng: np.random.Generator, n: int, min_len: int, max_len: int, alphabet: bytes
) -> pa.StringArray:
    """``n`` strings of ``min_len..max_len`` characters of ``alphabet``, built from buffers."""
    lengths = rng.integers(min_len, max_len + 1, n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    chars = np.frombuffer(alphabet, dtype=np.uint8)[rng.integers(0, len(alphabet), offsets[-1])]
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


def _list_array(
    rng: np.random.Generator, values: pa.Array, lengths: np.ndarray, null_p: float
) -> pa.ListArray:
    lengths = lengths.copy()
    mask = _mask(rng, len(lengths), null_p)
    if mask is not None:
        lengths[mask] = 0  # a null list owns no values
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(
        pa.array(offsets), values.slice(0, int(offsets[-1])), mask=pa.array(mask)
    )


class _Vocabularies:
    """Value sets shared by every block (drawn from the seed alone)."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng([seed, 2**31])
        self.low = pa.array(_LOW_VALUES)
        self.low_cdf = np.cumsum(0.6 ** np.arange(10))
        self.low_cdf /= self.low_cdf[-1]
        # The index suffix keeps the 1,000 values distinct.
        self.medium = pc.binary_join_element_wise(
            _random_strings(rng, 1000, 2, 10, _LOWER),
            pc.cast(pa.array(np.arange(1000)), pa.string()),
            "-",
        )
        self.medium_cdf = _zipf_cdf(1000, 1.1)
        self.high = _prefixed_ids("sku-", rng.permutation(100_000), 7)
        self.high_cdf = _zipf_cdf(100_000, 0.6)
        self.codes = _random_strings(rng, 200, 4, 4, _UPPER_DIGITS)
        self.words = _random_strings(rng, 5000, 2, 10, _LOWER)
        self.words_cdf = _zipf_cdf(5000, 1.0)
        self.tags = _prefixed_ids("tag_", np.arange(50), 2)


def make_block(seed: int, block: int, rows: int, vocab: _Vocabularies) -> pa.Table:
    """Rows ``[block * BLOCK_ROWS, block * BLOCK_ROWS + rows)`` of the dataset."""
    rng = np.random.default_rng([seed, block])
    n = rows
    cols: dict[str, pa.Array] = {}

    cols["f_normal"] = pa.array(np.round(rng.standard_normal(n), 6), mask=_mask(rng, n, 0.01))
    cols["f_lognormal"] = pa.array(
        np.round(rng.lognormal(3.0, 1.0, n), 4), mask=_mask(rng, n, 0.05)
    )
    uniform = rng.uniform(0.0, 100.0, n)
    special = rng.random(n)
    uniform[special < 0.005] = np.nan
    uniform[(special >= 0.005) & (special < 0.0055)] = np.inf
    uniform[(special >= 0.0055) & (special < 0.006)] = -np.inf
    cols["f_uniform"] = pa.array(uniform, mask=_mask(rng, n, 0.01))
    cols["f_exponential"] = pa.array(
        rng.exponential(2.0, n).astype(np.float32), mask=_mask(rng, n, 0.02)
    )
    cols["f_price"] = pa.array(np.round(rng.gamma(2.0, 20.0, n), 2))

    cols["i_small"] = pa.array(rng.integers(0, 10, n))
    cols["i_large"] = pa.array(
        rng.integers(-(10**12), 10**12, n, endpoint=True), mask=_mask(rng, n, 0.01)
    )
    cols["i_zeros"] = pa.array(rng.poisson(0.7, n).astype(np.int64), mask=_mask(rng, n, 0.03))
    cols["i_count"] = pa.array(
        rng.negative_binomial(3, 0.2, n).astype(np.int32), mask=_mask(rng, n, 0.10)
    )

    def take(values: pa.Array, idx: np.ndarray, null_p: float) -> pa.Array:
        mask = _mask(rng, n, null_p)
        return pc.take(values, pa.array(idx, mask=mask))

    cols["s_low"] = take(vocab.low, _draw(rng, vocab.low_cdf, n), 0.01)
    cols["s_medium"] = take(vocab.medium, _draw(rng, vocab.medium_cdf, n), 0.02)
    cols["s_high"] = take(vocab.high, _draw(rng, vocab.high_cdf, n), 0.0)
    cols["s_id"] = _prefixed_ids("user-", rng.integers(0, 10**9, n), 9)
    codes = take(vocab.codes, rng.integers(0, len(vocab.codes), n), 0.02)
    cols["s_code"] = pc.if_else(pa.array(rng.random(n) < 0.05), pa.scalar("", pa.string()), codes)

    n_words = rng.integers(1, 11, n)
    text_lists = _list_array(
        rng,
        pc.take(vocab.words, pa.array(_draw(rng, vocab.words_cdf, int(n_words.sum())))),
        n_words,
        0.02,
    )
    cols["text"] = pc.binary_join(text_lists, " ")

    cols["b_flag"] = pa.array(rng.random(n) < 0.3, mask=_mask(rng, n, 0.05))
    cols["b_rare"] = pa.array(rng.random(n) < 0.001)

    int_lengths = rng.integers(0, 6, n)
    cols["l_int"] = _list_array(
        rng, pa.array(rng.integers(0, 1000, int(int_lengths.sum()))), int_lengths, 0.05
    )
    str_lengths = rng.integers(0, 6, n)
    cols["l_str"] = _list_array(
        rng,
        pc.take(vocab.tags, pa.array(rng.integers(0, 50, int(str_lengths.sum())))),
        str_lengths,
        0.05,
    )
    cols["all_null"] = pa.nulls(n, pa.float64())

    assert len(cols) == 20, len(cols)
    return pa.table(cols)


def iter_blocks(rows: int, seed: int = DEFAULT_SEED) -> Iterator[pa.Table]:
    """The dataset of ``rows`` rows as tables of at most ``BLOCK_ROWS`` rows."""
    vocab = _Vocabularies(seed)
    for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
        yield make_block(seed, block, min(BLOCK_ROWS, rows - start), vocab)


def csv_view(table: pa.Table) -> pa.Table:
    """The table with its list columns joined into ';'-separated strings (CSV has no lists)."""
    for name in LIST_COLUMNS:
        i = table.schema.get_field_index(name)
        joined = pc.binary_join(table.column(i).cast(pa.list_(pa.string())), ";")
        table = table.set_column(i, name, joined)
    return table


def _metadata(rows: int, seed: int, row_group_size: int) -> dict[bytes, bytes]:
    return {
        b"beam_stats.bench.generator_version": GENERATOR_VERSION.encode(),
        b"beam_stats.bench.rows": str(rows).encode(),
        b"beam_stats.bench.seed": str(seed).encode(),
        b"beam_stats.bench.row_group_size": str(row_group_size).encode(),
    }


def parquet_is_current(path: Path, rows: int, seed: int, row_group_size: int) -> bool:
    if not path.exists():
        return False
    try:
        md = pq.ParquetFile(path).schema_arrow.metadata or {}
    except (OSError, pa.ArrowInvalid):
        return False
    want = _metadata(rows, seed, row_group_size)
    return all(md.get(k) == v for k, v in want.items())


def _csv_stamp(path: Path) -> Path:
    return path.with_name(path.name + ".stamp")


def csv_is_current(path: Path, rows: int, seed: int) -> bool:
    stamp = _csv_stamp(path)
    if not (path.exists() and stamp.exists()):
        return False
    return stamp.read_text().strip() == f"v{GENERATOR_VERSION} rows={rows} seed={seed}"


def generate(
    rows: int,
    out_dir: Path,
    formats: tuple[str, ...] = FORMATS,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    name: str | None = None,
) -> dict[str, Path]:
    """Writes the requested formats of the ``rows``-row dataset into ``out_dir``.

    Args:
        rows: number of rows, >= 1.
        out_dir: directory for ``{name}.parquet`` / ``{name}.csv``.
        formats: a subset of ``("parquet", "csv")``.
        row_group_size: rows per Parquet row group (the last one may be shorter).
        seed: the generator seed.
        force: regenerate even when current files exist.
        name: the file name without extension; ``mixed_{rows}`` by default.

    Returns:
        The path of each requested format.

    Raises:
        ValueError: on a bad argument.
    """
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    if row_group_size < 1:
        raise ValueError(f"row_group_size must be >= 1, got {row_group_size}")
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"formats must be among {FORMATS}, got {sorted(unknown)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"mixed_{rows}"
    paths = {fmt: out_dir / f"{name}.{fmt}" for fmt in formats}
    todo = [
        fmt
        for fmt, path in paths.items()
        if force
        or not (
            parquet_is_current(path, rows, seed, row_group_size)
            if fmt == "parquet"
            else csv_is_current(path, rows, seed)
        )
    ]
    for fmt in formats:
        if fmt not in todo:
            print(f"reusing {paths[fmt]}", file=sys.stderr)
    if not todo:
        return paths

    tmp = {fmt: paths[fmt].with_name(paths[fmt].name + ".tmp") for fmt in todo}
    pq_writer: pq.ParquetWriter | None = None
    csv_writer: pacsv.CSVWriter | None = None
    pending: list[pa.Table] = []  # rows not yet written as a full row group
    pending_rows = 0
    try:
        for block in iter_blocks(rows, seed):
            if "parquet" in tmp:
                if pq_writer is None:
                    schema = block.schema.with_metadata(_metadata(rows, seed, row_group_size))
                    pq_writer = pq.ParquetWriter(tmp["parquet"], schema, compression="snappy")
                pending.append(block)
                pending_rows += block.num_rows
                if pending_rows >= row_group_size:
                    buf = pa.concat_tables(pending)
                    full = (pending_rows // row_group_size) * row_group_size
                    pq_writer.write_table(buf.slice(0, full), row_group_size=row_group_size)
                    pending = [buf.slice(full)]
                    pending_rows -= full
            if "csv" in tmp:
                view = csv_view(block)
                if csv_writer is None:
                    csv_writer = pacsv.CSVWriter(tmp["csv"], view.schema)
                csv_writer.write_table(view)
        if pq_writer is not None and pending_rows:
            pq_writer.write_table(pa.concat_tables(pending), row_group_size=row_group_size)
    finally:
        if pq_writer is not None:
            pq_writer.close()
        if csv_writer is not None:
            csv_writer.close()
    for fmt, path in tmp.items():
        os.replace(path, paths[fmt])
        if fmt == "csv":
            _csv_stamp(paths[fmt]).write_text(f"v{GENERATOR_VERSION} rows={rows} seed={seed}\n")
    return paths


def _parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in value.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise argparse.ArgumentTypeError(f"formats must be among {FORMATS}, got {value!r}")
    return formats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="number of rows")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--format", type=_parse_formats, default=FORMATS, help="comma list: parquet,csv"
    )
    parser.add_argument("--row-group-size", type=int, default=DEFAULT_ROW_GROUP_SIZE)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="regenerate existing files")
    parser.add_argument("--name", help="file name without extension (default mixed_{rows})")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        paths = generate(
            args.rows, args.out, args.format, args.row_group_size, args.seed, args.force, args.name
        )
    except ValueError as e:
        parser.error(str(e))
    elapsed = time.perf_counter() - start
    for path in paths.values():
        print(f"{path}\t{path.stat().st_size / 2**20:.1f} MiB")
    print(f"elapsed {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
