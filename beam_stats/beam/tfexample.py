"""Serialized ``tf.Example`` to Arrow record batches, vectorised over a batch of records.

Each record is parsed with the C protobuf backend into
:class:`~beam_stats.proto.example_pb2.RawExample`, the same wire format as ``tf.Example`` with
each feature left serialized: the only Python work per record and feature is to group the
serialized features by name. Each feature is then decoded for the whole batch at once: numbers
with numpy, straight from the wire format (packed floats are read in place, packed varints
decoded a byte position at a time); the bytes values of all records by one protobuf parse of
their lists joined together. A feature serialized in another form than the canonical one
(unpacked numbers, a field repeated, unknown fields) is first rewritten by protobuf (parsed as
a :class:`~beam_stats.proto.example_pb2.Feature` and serialized again), so that every valid
encoding reads the same, and one protobuf cannot parse makes its record malformed.

As in TFDV, every feature becomes a list column: ``large_list<int64>``,
``large_list<float32>`` or ``large_list<large_binary>``. A feature absent from a record, or
present without a kind, is null there. A feature whose values are of another kind than the
first values of that feature in the file is read as missing in that record, counted in the
field's metadata (``INVALID_VALUES_KEY``, one per record) and reported as ``wrong_type``; an
empty list of any kind is an empty list. A record that is not a ``tf.Example`` is left out of
the batch and reported as ``malformed_record``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pyarrow as pa
from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet

from beam_stats.arrow import INVALID_VALUES_KEY
from beam_stats.proto import example_pb2

_BYTES, _FLOAT, _INT = 1, 2, 3  # Feature field numbers, also the kinds below (0: not set)
_KIND_NAMES = {0: "no kind", _BYTES: "bytes_list", _FLOAT: "float_list", _INT: "int64_list"}
_VALUE_TYPES = {_BYTES: pa.large_binary(), _FLOAT: pa.float32(), _INT: pa.int64()}
_MAX_LISTED = 5  # record numbers quoted in one wrong_type message


class Problem(NamedTuple):
    """One problem with a TFRecord file; ``record`` counts from 0."""

    kind: str
    message: str
    record: int | None


def _varints(buf: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The varint starting at each position: (value, size in bytes, 0 where malformed)."""
    inside = pos < len(buf)
    value = buf[np.minimum(pos, len(buf) - 1)].astype(np.int64)
    size = inside.astype(np.int64)
    long = np.flatnonzero(inside & (value >= 0x80))
    if len(long):  # most varints here are lengths below 128: one byte
        index = pos[long, None] + np.arange(10)
        data = np.where(index < len(buf), buf[np.minimum(index, len(buf) - 1)], 0x80)
        last = data < 0x80
        size[long] = np.where(last.any(axis=1), last.argmax(axis=1) + 1, 0)
        used = np.arange(10) < size[long, None]
        parts = (data & 0x7F).astype(np.uint64) << (7 * np.arange(10, dtype=np.uint64))
        value[long] = np.bitwise_or.reduce(np.where(used, parts, 0), axis=1).astype(np.int64)
    return value, size


def _gather(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The slices buf[start:start + length], concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.uint8)
    if total >= 64 * len(starts):  # long slices: copied one by one, with fewer temporaries
        slices = zip(starts.tolist(), lengths.tolist(), strict=True)
        return np.concatenate([buf[start : start + length] for start, length in slices])
    out_starts = np.cumsum(lengths) - lengths
    return buf[np.repeat(starts - out_starts, lengths) + np.arange(total)]


def _decode_varints(data: np.ndarray) -> np.ndarray:
    """Packed varints (each at most 10 bytes, the last byte complete) to int64."""
    if len(data) == 0:
        return np.empty(0, np.int64)
    ends = np.flatnonzero(data < 0x80)
    starts = np.concatenate(([0], ends[:-1] + 1))
    sizes = ends - starts + 1
    values = (data[starts] & 0x7F).astype(np.uint64)
    for k in range(1, int(sizes.max())):  # byte k of the varints that have one
        longer = np.flatnonzero(sizes > k)
        values[longer] |= (data[starts[longer] + k] & 0x7F).astype(np.uint64) << np.uint64(7 * k)
    return values.view(np.int64)


class _Scan(NamedTuple):
    """One feature of a batch of records, as found in the wire format."""

    kinds: np.ndarray  # per record holding it: 0 (no kind), _BYTES, _FLOAT or _INT
    counts: np.ndarray  # values per record
    irregular: np.ndarray  # records not in the canonical encoding (indexes)
    spans: tuple[np.ndarray, np.ndarray]  # numbers: the packed payload of each record
    strings: tuple[np.ndarray, pa.Array]  # bytes: the record of each value, and the values


def _scan(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> _Scan:
    """Reads the serialized Features at buf[start:start + length], canonical ones only."""
    n = len(starts)
    kinds = np.zeros(n, np.int64)
    counts = np.zeros(n, np.int64)
    regular = np.ones(n, bool)
    pay_start, pay_len = np.zeros(n, np.int64), np.zeros(n, np.int64)
    # Feature: one field (tag byte, length) holding the whole list.
    some = np.flatnonzero(lengths > 0)
    tag = buf[starts[some]]
    size1, skip = _varints(buf, starts[some] + 1)
    known = (tag == 0x0A) | (tag == 0x12) | (tag == 0x1A)
    ok = (skip > 0) & known & (1 + skip + size1 == lengths[some])
    regular[some[~ok]] = False
    some, body, size1 = some[ok], (starts[some] + 1 + skip)[ok], size1[ok]
    kinds[some] = tag[ok] >> 3
    # Numbers: one packed field (tag 0x0a, length, payload), or nothing for an empty list.
    numbers = (kinds[some] != _BYTES) & (size1 > 0)
    rows, at = some[numbers], body[numbers]
    size2, skip = _varints(buf, at + 1)
    ok = (buf[at] == 0x0A) & (skip > 0) & (size2 > 0) & (1 + skip + size2 == size1[numbers])
    ok &= (kinds[rows] == _INT) | (size2 % 4 == 0)
    pay_start[rows], pay_len[rows] = at + 1 + skip, np.where(ok, size2, 0)
    regular[rows[~ok]] = False
    floats = rows[ok & (kinds[rows] == _FLOAT)]
    counts[floats] = pay_len[floats] // 4
    ints = rows[ok & (kinds[rows] == _INT)]
    if len(ints):
        last = np.flatnonzero(buf < 0x80)  # the last bytes of varints (and of other things)
        begin, end = pay_start[ints], pay_start[ints] + pay_len[ints]
        counts[ints] = np.searchsorted(last, end) - np.searchsorted(last, begin)
        regular[ints[buf[end - 1] >= 0x80]] = False  # the last varint runs past its list
        # A varint of more than 10 bytes: 10 or more bytes >= 0x80 before one that is not.
        too_long = last[np.flatnonzero(np.diff(last, prepend=-1) > 10)]
        holder = np.searchsorted(begin, too_long, side="right") - 1
        inside = (holder >= 0) & (too_long < end[np.maximum(holder, 0)])
        regular[ints[holder[inside]]] = False
    # Bytes: one field (tag 0x0a, length, value) per value.
    strings = (np.empty(0, np.int64), pa.array([], pa.large_binary()))
    lists = (kinds[some] == _BYTES) & (size1 > 0)
    if lists.any():
        rows = some[lists]
        found = _string_values(buf, body[lists], size1[lists])
        if found is None:  # one is not canonical, or corrupt: protobuf tells which
            regular[rows] = False
        else:
            counts[rows] = found[0]
            strings = (np.repeat(rows, found[0]), found[1])
    return _Scan(kinds, counts, np.flatnonzero(~regular), (pay_start, pay_len), strings)


def _string_values(
    buf: np.ndarray, at: np.ndarray, size: np.ndarray
) -> tuple[np.ndarray, pa.Array] | None:
    """The number of values of each BytesList at buf[at:at + size], and all the values;
    None unless all are valid and canonically encoded.

    Protobuf parses all the lists as one (concatenated messages merge). The encoding is
    canonical when the encoded sizes of the values add up to the lists' size (any other
    encoding of the same values takes more bytes), and then every list must end where a
    value does.
    """
    try:
        values = list(example_pb2.BytesList.FromString(_gather(buf, at, size).tobytes()).value)
    except DecodeError:
        return None
    lengths = np.fromiter(map(len, values), np.int64, len(values))
    value_ends = np.cumsum(1 + _varint_sizes(lengths) + lengths)
    list_ends = np.cumsum(size)
    if not len(value_ends) or value_ends[-1] != list_ends[-1]:
        return None
    last = np.searchsorted(value_ends, list_ends)  # in range: list_ends <= value_ends[-1]
    if not (value_ends[last] == list_ends).all():
        return None
    offsets = pa.py_buffer(np.concatenate(([0], np.cumsum(lengths))))
    array = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(values), [None, offsets, pa.py_buffer(b"".join(values))]
    )
    return np.diff(last + 1, prepend=0), array


def _varint_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes in the varint encoding of each (non-negative) value."""
    sizes = np.ones(len(values), np.int64)
    for k in range(1, 10):
        sizes += values >= 1 << (7 * k)
    return sizes


def _values(buf: np.ndarray, scan: _Scan, kind: int, rows: np.ndarray) -> pa.Array:
    """The values of `rows` (ascending record indexes, all of `kind`), concatenated."""
    if kind == _BYTES:
        record, values = scan.strings
        chosen = np.zeros(len(scan.kinds), bool)
        chosen[rows] = True
        keep = chosen[record]
        return values if keep.all() else values.filter(pa.array(keep))
    data = _gather(buf, scan.spans[0][rows], scan.spans[1][rows])
    if kind == _FLOAT:
        return pa.array(data.view("<f4"))
    return pa.array(_decode_varints(data))


class _Column:
    """The raw features of one name in a batch: the records holding it, and their bytes."""

    __slots__ = ("add_raw", "add_row", "raws", "rows")

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.raws: list[bytes] = []
        self.add_row = self.rows.append
        self.add_raw = self.raws.append


def _reparsed(data: bytes) -> dict[str, bytes]:
    """The features of a record whose map entries protobuf's fast parse set aside (an entry
    holding an unknown field): parsed as a whole tf.Example, each Feature re-serialized.

    Raises:
        DecodeError: the record is not a tf.Example.
    """
    example = example_pb2.Example.FromString(data)
    return {name: feature.SerializeToString() for name, feature in example.features.feature.items()}


def _normalise(raw: bytes) -> bytes | str:
    """The canonical encoding of a serialized Feature, or why it is not one."""
    try:
        feature = example_pb2.Feature.FromString(raw)
    except DecodeError as e:
        return str(e) or "not a Feature"
    feature.DiscardUnknownFields()
    return feature.SerializeToString()


class ExamplesDecoder:
    """Decodes batches of serialized ``tf.Example`` of one file (see the module docstring).

    It remembers the kind first seen for each feature in the file, so that the batches of a
    file agree on each column's type.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, int] = {}

    def decode(self, records: Sequence[bytes], first: int) -> tuple[pa.RecordBatch, list[Problem]]:
        """Decodes `records`, the first of which is record number `first` of the file.

        Returns:
            The record batch (one row per decodable record) and the problems found.
        """
        return self._build(records, first, *self._group(records))

    def decode_parts(
        self, records: Sequence[bytes], first: int, max_cells: int = 1 << 23
    ) -> Iterator[tuple[pa.RecordBatch, list[Problem]]]:
        """As :meth:`decode`, in parts of at most about `max_cells` rows x columns.

        Each feature is a column of every record of its batch, so sparse records (a few of
        many features each) would take records x features memory in one batch. Parts of
        sqrt(max_cells / features per record) records hold at most about max_cells cells.
        """
        columns, bad = self._group(records)
        if len(records) < 2 or len(columns) * len(records) <= max_cells:
            yield self._build(records, first, columns, bad)
            return
        per_record = max(1.0, sum(len(c.rows) for c in columns.values()) / len(records))
        size = max(1, max_cells // len(columns), math.isqrt(int(max_cells / per_record)))
        del columns
        for start in range(0, len(records), size):
            part = records[start : start + size]
            yield self._build(part, first + start, *self._group(part))

    @staticmethod
    def _group(records: Sequence[bytes]) -> tuple[dict[str, _Column], dict[int, str]]:
        """The serialized features of `records` grouped by name, and the unparsable ones."""
        bad: dict[int, str] = {}
        columns: dict[str, _Column] = {}
        get = columns.get
        parse = example_pb2.RawExample.FromString
        for row, data in enumerate(records):
            try:
                raw = parse(data).features
                features: Mapping[str, bytes] = raw.feature
                if len(UnknownFieldSet(raw)):  # upb keeps odd map entries out of the map
                    features = _reparsed(data)
            except DecodeError as e:
                bad[row] = str(e) or "not a tf.Example"
                continue
            for name in features:  # the hot loop: one pass per feature of each record
                column = get(name)
                if column is None:
                    column = columns[name] = _Column()
                column.add_row(row)
                column.add_raw(features[name])
        return columns, bad

    def _build(
        self,
        records: Sequence[bytes],
        first: int,
        columns: dict[str, _Column],
        bad: dict[int, str],
    ) -> tuple[pa.RecordBatch, list[Problem]]:
        problems: list[Problem] = []
        scans = {name: self._read_column(column, bad) for name, column in columns.items()}
        keep = np.ones(len(records), bool)
        keep[list(bad)] = False
        arrays, fields = [], []
        # Columns sorted by name, as tfx_bsl's decoder (TFDV) orders them: a record's own
        # order would make the column order depend on where a batch starts.
        for name in sorted(scans):
            buf, rows, scan = scans[name]
            good = keep[rows]
            if not good.any():
                continue  # only in records that are left out
            array, wrong = self._column(name, buf, rows, scan, good, len(records))
            arrays.append(array.filter(pa.array(keep)) if bad else array)
            metadata = {INVALID_VALUES_KEY: str(len(wrong)).encode()} if len(wrong) else None
            fields.append(pa.field(name, array.type, metadata=metadata))
            if len(wrong):
                expected = _KIND_NAMES[self._kinds[name]]
                found = scan.kinds[wrong]
                problems.append(_wrong_type(name, expected, rows[wrong] + first, found))
        for row, message in sorted(bad.items()):
            problems.append(
                Problem(
                    "malformed_record",
                    f"record {first + row}: not a tf.Example ({message}); skipped",
                    first + row,
                )
            )
        if not fields:  # no features at all: the records still count as examples
            num_rows = int(keep.sum())
            if num_rows:  # said, since a batch without columns loses its rows when pickled
                problems.append(
                    Problem(
                        "no_features",
                        f"{num_rows} records from record {first} on have no features",
                        first,
                    )
                )
            empty = pa.array([{}] * num_rows, pa.struct([]))
            return pa.RecordBatch.from_struct_array(empty), problems
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields)), problems

    @staticmethod
    def _read_column(column: _Column, bad: dict[int, str]) -> tuple[np.ndarray, np.ndarray, _Scan]:
        for attempt in range(2):
            lengths = np.fromiter(map(len, column.raws), np.int64, len(column.raws))
            buf = np.frombuffer(b"".join(column.raws), np.uint8)
            scan = _scan(buf, np.cumsum(lengths) - lengths, lengths)
            # Rare: protobuf rewrites these in the canonical encoding, which the scan reads.
            for i in scan.irregular:
                normal = _normalise(column.raws[i]) if attempt == 0 else "not decodable"
                if isinstance(normal, str):
                    bad[column.rows[i]] = normal
                    normal = b""
                column.raws[i] = normal
            if not len(scan.irregular):
                break
        return buf, np.asarray(column.rows, np.int64), scan

    def _column(
        self,
        name: str,
        buf: np.ndarray,
        rows: np.ndarray,
        scan: _Scan,
        good: np.ndarray,
        num_rows: int,
    ) -> tuple[pa.Array, np.ndarray]:
        """The column of a feature and the indexes (into `rows`) of wrong-kind records."""
        kinds = np.where(good, scan.kinds, 0)
        kind = self._kinds.get(name)
        if kind is None:  # the kind of the file's first values; of an empty list until then
            typed = np.flatnonzero(kinds)
            if not len(typed):
                return pa.nulls(num_rows), np.empty(0, np.int64)
            valued = typed[scan.counts[typed] > 0]
            kind = int(kinds[valued[0]] if len(valued) else kinds[typed[0]])
            if len(valued):
                self._kinds[name] = kind
        empty = scan.counts == 0  # an empty list has no values of a wrong type
        wrong = np.flatnonzero((kinds != kind) & (kinds != 0) & ~empty)
        chosen = np.flatnonzero((kinds == kind) | ((kinds != 0) & empty))
        counts = np.zeros(num_rows, np.int64)
        counts[rows[chosen]] = scan.counts[chosen]
        offsets = np.concatenate(([0], np.cumsum(counts)))
        null = np.ones(num_rows, bool)
        null[rows[chosen]] = False
        values = _values(buf, scan, kind, chosen)
        array = pa.LargeListArray.from_arrays(
            pa.array(offsets), values, pa.large_list(_VALUE_TYPES[kind]), mask=pa.array(null)
        )
        return array, wrong


def _wrong_type(name: str, kind: str, records: np.ndarray, kinds: np.ndarray) -> Problem:
    found = sorted({_KIND_NAMES[int(k)] for k in kinds})
    listed = ", ".join(str(r) for r in records[:_MAX_LISTED])
    more = f" and {len(records) - _MAX_LISTED} more" if len(records) > _MAX_LISTED else ""
    return Problem(
        "wrong_type",
        f"feature {name!r} is {kind} in this file but {' or '.join(found)} in "
        f"{len(records)} records ({listed}{more}); read as missing there",
        int(records[0]),
    )
