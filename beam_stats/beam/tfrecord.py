"""TFRecord files of ``tf.Example`` to Arrow record batches, without TensorFlow.

A TFRecord file is a sequence of records, each ``length`` (uint64 little-endian), the masked
CRC-32C of those 8 bytes, ``length`` bytes of data and the masked CRC-32C of the data.
:func:`read_records` checks both checksums. A bad data checksum loses one record and reading
goes on; a bad length checksum or a truncated record loses the rest of the file, since the
next record's start is unknown. Each is a :class:`Problem`, never an exception. Records are
counted from 0.

Beam's ``ReadFromTFRecord`` / ``ReadAllFromTFRecord`` read the same framing, but raise on the
first bad checksum (``ValueError``, which fails the pipeline), do not tell which record it was,
and emit one element per record. So this reader reads the framing itself, in blocks, with the
CRC-32C function Beam picks (google-crc32c, python-snappy or crcmod), and hands batches of
records to :class:`~beam_stats.beam.tfexample.ExamplesDecoder`.
"""

from __future__ import annotations

import functools
import logging
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import IO

import pyarrow as pa

from beam_stats.beam._inputs import open_stream
from beam_stats.beam.tfexample import ExamplesDecoder, Problem

__all__ = ["Problem", "crc32c_function", "masked_crc32c", "read_examples", "read_records"]

_LOG = logging.getLogger(__name__)
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_MAX_RECORD = (1 << 31) - 1  # a serialized protobuf message is smaller
_MAX_READ = 64 << 20


def _crc32c_python(data: bytes) -> int:
    """CRC-32C (Castagnoli), bytewise: the fallback when no compiled implementation exists."""
    table = _crc32c_table()
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@functools.cache
def _crc32c_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return tuple(table)


@functools.cache
def crc32c_function() -> Callable[[bytes], int]:
    """google-crc32c's compiled CRC-32C (a dependency); else the one Beam finds (python-snappy
    or crcmod), else a slow pure-Python one."""
    try:
        import google_crc32c

        if google_crc32c.implementation == "c":
            return google_crc32c.value
    except ImportError:
        pass
    from apache_beam.io import tfrecordio  # importing apache_beam takes ~1.4 s

    try:
        tfrecordio._default_crc32c_fn(b"")
    except RuntimeError:
        _LOG.warning(
            "no compiled CRC-32C found (pip install google-crc32c): checking TFRecord "
            "checksums in pure Python, which is slow"
        )
        return _crc32c_python
    # The function Beam chose, cached on itself; calling it directly saves a call per record.
    return tfrecordio._default_crc32c_fn.fn  # type: ignore[attr-defined]


def masked_crc32c(data: bytes, crc32c: Callable[[bytes], int] | None = None) -> int:
    """The checksum TFRecord stores: CRC-32C rotated right by 15 bits plus a constant."""
    crc = (crc32c or crc32c_function())(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(f: IO[bytes], block_size: int = 4 << 20) -> Iterator[bytes | Problem]:
    """The records of an open TFRecord file, and a :class:`Problem` for each bad one."""
    crc = crc32c_function()
    header, unpack_crc = _HEADER.unpack_from, _CRC.unpack_from
    buf, pos, index = b"", 0, 0
    while True:
        end = len(buf)
        while pos + 12 <= end:  # the complete records in the buffer
            length, expected = header(buf, pos)
            value = crc(buf[pos : pos + 8])
            if (((value >> 15) | (value << 17)) + 0xA282EAD8) & 0xFFFFFFFF != expected:
                yield Problem(
                    "corrupt_file",
                    f"record {index}: bad length checksum; the rest of the file is skipped",
                    index,
                )
                return
            if length > _MAX_RECORD:
                yield Problem(
                    "corrupt_file",
                    f"record {index}: length {length:,} is beyond protobuf's 2 GiB limit; "
                    "the rest of the file is skipped",
                    index,
                )
                return
            stop = pos + 16 + length
            if stop > end:
                break
            data = buf[pos + 12 : stop - 4]
            value = crc(data)
            if (((value >> 15) | (value << 17)) + 0xA282EAD8) & 0xFFFFFFFF == unpack_crc(
                buf, stop - 4
            )[0]:
                yield data
            else:
                yield Problem(
                    "corrupt_record", f"record {index}: bad data checksum; skipped", index
                )
            pos = stop
            index += 1
        need = 12 if end - pos < 12 else 16 + header(buf, pos)[0]
        try:
            # Read as the data comes, never all of a length the file may not hold.
            chunk = f.read(max(block_size, min(need - (end - pos), _MAX_READ)))
        except (OSError, EOFError, zlib.error) as e:  # a corrupt compressed stream
            yield Problem("unreadable_file", f"at record {index}: {e}", index)
            return
        if not chunk:
            if end > pos:
                yield Problem(
                    "corrupt_file",
                    f"record {index}: the file ends inside the record ({end - pos} of "
                    f"{need} bytes)",
                    index,
                )
            return
        buf, pos = buf[pos:] + chunk, 0


def read_examples(
    path: str, batch_size: int, block_size: int = 4 << 20
) -> Iterator[pa.RecordBatch | Problem]:
    """The ``tf.Example`` records of a TFRecord file, and its problems.

    Args:
        path: the file, on any Beam file system; ``.gz`` and other suffixes Beam knows are
            decompressed.
        batch_size: at most this many records per batch.
        block_size: bytes read at a time, and at most this many bytes of records per batch
            (but at least one record): this bounds the decoder's working memory, which
            grows with the number of values.

    Returns:
        An iterator of ``pyarrow.RecordBatch`` and :class:`Problem`.
    """
    decoder = ExamplesDecoder()
    records: list[bytes] = []
    first = size = 0
    seen = False
    with open_stream(path) as f:
        for item in read_records(f, block_size):
            seen = True
            if isinstance(item, Problem):  # a gap in the numbering: decode what comes before
                yield from _decode(decoder, records, first)
                records, size, first = [], 0, (item.record or 0) + 1
                yield item
                continue
            records.append(item)
            size += len(item)
            if len(records) == batch_size or size >= block_size:
                yield from _decode(decoder, records, first)
                records, size, first = [], 0, first + len(records)
    yield from _decode(decoder, records, first)
    if not seen:
        yield Problem("empty_file", "the file has no records", None)


def _decode(
    decoder: ExamplesDecoder, records: list[bytes], first: int
) -> Iterator[pa.RecordBatch | Problem]:
    for batch, problems in decoder.decode_parts(records, first) if records else ():
        yield from problems
        if batch.num_rows:
            yield batch
