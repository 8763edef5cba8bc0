"""TFRecord files of tf.Example: framing, decoding, bad records, and the statistics they give.

The files are written here with Beam's TFRecord writer (its own framing code, not ours) and
the examples with ``example_pb2`` or, for encodings protobuf itself never writes (unpacked
numbers, repeated fields, unknown fields, repeated keys), with a small wire encoder below.
Protobuf's own parse of each record is the reference the decoder is checked against.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import tempfile
import uuid
from pathlib import Path
from typing import Any

import apache_beam as beam
import google_crc32c
import hypothesis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.io import tfrecordio
from apache_beam.io.tfrecordio import ReadFromTFRecord, WriteToTFRecord, _TFRecordUtil
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from beam.test_pipeline import exact_part
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st
from proto_compare import assert_close

from beam_stats.arrow import INVALID_VALUES_KEY
from beam_stats.beam import (
    GenerateStatistics,
    ReadRecordBatches,
    WriteStatistics,
    load_statistics,
    tfrecord,
)
from beam_stats.beam.sources import format_of
from beam_stats.beam.tfexample import ExamplesDecoder
from beam_stats.proto import example_pb2
from beam_stats.stats import StatisticsSpec, generate_statistics_from_table

SPEC = StatisticsSpec()
Values = list[int] | list[float] | list[bytes]


def example(features: dict[str, Values | None], empty: str = "int64_list") -> bytes:
    """A tf.Example; a feature of None is present without a kind, an empty list is `empty`."""
    msg = example_pb2.Example()
    for name, values in features.items():
        feature = msg.features.feature[name]
        if values is None:
            continue
        if not values:
            getattr(feature, empty).SetInParent()
        elif isinstance(values[0], bytes):
            feature.bytes_list.value.extend(values)
        elif isinstance(values[0], float):
            feature.float_list.value.extend(values)
        else:
            feature.int64_list.value.extend(values)
    return msg.SerializeToString()


def write_tfrecord(path: Path, records: list[bytes], compress: bool = False) -> Path:
    buffer = io.BytesIO()
    for record in records:
        _TFRecordUtil.write_record(buffer, record)
    data = buffer.getvalue()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def decode_file(path: Path, batch_size: int = 1000) -> tuple[list[pa.RecordBatch], list[Any]]:
    items = list(tfrecord.read_examples(str(path), batch_size))
    batches = [i for i in items if isinstance(i, pa.RecordBatch)]
    return batches, [i for i in items if isinstance(i, tfrecord.Problem)]


def rows_of(batches: list[pa.RecordBatch]) -> list[dict[str, Any]]:
    return [row for batch in batches for row in batch.to_pylist()]


# --- Framing -----------------------------------------------------------------------------------


def test_crc32c_and_masking_match_beam_and_the_standard_check_value() -> None:
    assert tfrecord._crc32c_python(b"123456789") == 0xE3069283  # CRC-32C check value
    data = bytes(range(256)) * 3
    assert tfrecord._crc32c_python(data) == tfrecord.crc32c_function()(data)
    assert tfrecord.masked_crc32c(data) == _TFRecordUtil._masked_crc32c(data)


def test_without_a_compiled_crc32c_a_slow_one_is_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unavailable(data: bytes) -> int:
        raise RuntimeError("Could not find python-snappy, google-crc32c, or crcmod")

    data = io.BytesIO()
    _TFRecordUtil.write_record(data, b"payload")
    data.seek(0)
    monkeypatch.setattr(google_crc32c, "implementation", "python")  # no compiled one
    monkeypatch.setattr(tfrecordio, "_default_crc32c_fn", unavailable)
    tfrecord.crc32c_function.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            assert tfrecord.crc32c_function() is tfrecord._crc32c_python
        assert "google-crc32c" in caplog.text
        assert list(tfrecord.read_records(data)) == [b"payload"]
    finally:
        tfrecord.crc32c_function.cache_clear()


def test_the_compiled_crc32c_is_google_crc32c_and_agrees_with_beams() -> None:
    tfrecord.crc32c_function.cache_clear()
    assert tfrecord.crc32c_function() is google_crc32c.value
    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 4096):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert tfrecord.crc32c_function()(data) == tfrecordio._default_crc32c_fn(data)


def test_reads_what_beam_writes_and_beam_reads_the_same_records(tmp_path: Path) -> None:
    records = [example({"i": [n], "s": [b"x" * n]}) for n in range(300)] + [b""]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        _ = (
            pipeline
            | beam.Create(records)
            | WriteToTFRecord(str(tmp_path / "part"), file_name_suffix=".tfrecord.gz", num_shards=1)
        )
    (path,) = tmp_path.glob("part*.tfrecord.gz")
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        assert_that(pipeline | ReadFromTFRecord(str(path)), equal_to(records))
    with gzip.open(path) as f:
        assert sorted(tfrecord.read_records(f, block_size=1000)) == sorted(records)


def test_bad_checksums_and_truncation_are_problems_with_record_numbers(tmp_path: Path) -> None:
    records = [example({"i": [n]}) for n in range(5)]
    data = bytearray(write_tfrecord(tmp_path / "good.tfrecord", records).read_bytes())
    size = len(data) // 5
    bad_data = bytearray(data)
    bad_data[2 * size + 13] ^= 0x01  # record 2's data
    bad_length = bytearray(data)
    bad_length[3 * size] ^= 0x01  # record 3's length
    cases = {
        bytes(bad_data): ([0, 1, 3, 4], [("corrupt_record", 2)]),
        bytes(bad_length): ([0, 1, 2], [("corrupt_file", 3)]),
        bytes(data[:-3]): ([0, 1, 2, 3], [("corrupt_file", 4)]),
        bytes(data[: 4 * size + 5]): ([0, 1, 2, 3], [("corrupt_file", 4)]),
    }
    for content, (expected, problems) in cases.items():
        found = list(tfrecord.read_records(io.BytesIO(content), block_size=7))
        assert [r for r in found if isinstance(r, bytes)] == [records[i] for i in expected]
        assert [(p.kind, p.record) for p in found if isinstance(p, tfrecord.Problem)] == problems


def test_corrupt_gzip_and_empty_files_are_problems(tmp_path: Path) -> None:
    path = write_tfrecord(tmp_path / "a.tfrecord.gz", [example({"i": [1]})] * 1000, True)
    data = path.read_bytes()
    path.write_bytes(data[:10] + bytes(range(7, 250)))  # a gzip header, then no deflate stream
    assert [p.kind for p in decode_file(path)[1]] == ["unreadable_file"]
    path.write_bytes(data[: len(data) // 2])  # cut short: the last record is incomplete
    batches, problems = decode_file(path)
    # The compressed stream ends early: said so, with the records before it read.
    assert [p.kind for p in problems] == ["unreadable_file"]
    assert "ends early" in problems[0].message
    assert sum(b.num_rows for b in batches) == problems[0].record
    (tmp_path / "empty.tfrecord").write_bytes(b"")
    batches, problems = decode_file(tmp_path / "empty.tfrecord")
    assert batches == [] and [(p.kind, p.record) for p in problems] == [("empty_file", None)]


# --- Wire compatibility and decoding -----------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, data: bytes) -> bytes:  # length-delimited
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def test_messages_are_wire_compatible_with_tensorflow() -> None:
    # tf.train.Example(features={"a": int64_list [1, -1], "b": float_list [0.5],
    # "c": bytes_list [b"x", b""]}) as TensorFlow's feature.proto lays it out: Feature is a
    # oneof of bytes_list = 1, float_list = 2, int64_list = 3; numbers packed.
    ints = _field(3, _field(1, _varint(1) + _varint(-1)))
    floats = _field(2, _field(1, struct.pack("<f", 0.5)))
    strings = _field(1, _field(1, b"x") + _field(1, b""))
    entries = [_field(1, b"a") + _field(2, ints), _field(1, b"b") + _field(2, floats)]
    entries.append(_field(1, b"c") + _field(2, strings))
    wire = _field(1, b"".join(_field(1, entry) for entry in entries))
    msg = example_pb2.Example.FromString(wire)
    assert list(msg.features.feature["a"].int64_list.value) == [1, -1]
    assert list(msg.features.feature["b"].float_list.value) == [0.5]
    assert list(msg.features.feature["c"].bytes_list.value) == [b"x", b""]
    assert len(msg.SerializeToString()) == len(wire)


def _encode_feature(kind: str, values: Values, style: str) -> bytes:
    """A Feature in one of the encodings a valid writer may use."""
    if kind == "none":
        return b""
    if kind == "bytes":
        body = b"".join(_field(1, v) for v in values)
    elif style == "unpacked":
        pack = (lambda v: b"\x0d" + struct.pack("<f", v)) if kind == "float" else None
        body = b"".join(pack(v) if pack else b"\x08" + _varint(v) for v in values)
    else:
        numbers = [struct.pack("<f", v) if kind == "float" else _varint(v) for v in values]
        cut = len(numbers) // 2 if style == "split" else len(numbers)
        body = b"".join(
            _field(1, b"".join(part)) for part in (numbers[:cut], numbers[cut:]) if part
        )
    if style == "unknown":
        body += b"\x38\x05"  # field 7, a varint: unknown to a list
    number = {"bytes": 1, "float": 2, "int": 3}[kind]
    feature = _field(number, body)
    if style == "repeated":  # another list of the same kind first: protobuf merges them
        feature = _field(number, b"") + feature
    return feature + (b"\x48\x01" if style == "unknown" else b"")


_KIND_VALUES = {
    "int": st.lists(st.integers(-(2**63), 2**63 - 1), max_size=5),
    "float": st.lists(st.floats(width=32, allow_nan=False), max_size=5),
    "bytes": st.lists(st.binary(max_size=20), max_size=4),
    "none": st.just([]),
}
_FEATURE = st.sampled_from(["int", "float", "bytes", "none"]).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        _KIND_VALUES[kind],
        st.sampled_from(["canonical", "unpacked", "split", "unknown", "repeated"]),
    )
)
_RECORD = st.dictionaries(st.sampled_from(["a", "b", "c", "é"]), _FEATURE, max_size=4)


def _encode_example(features: dict[str, tuple[str, Values, str]], decoy: bool) -> bytes:
    entries = []
    for name, (kind, values, style) in features.items():
        if decoy:  # the same key earlier with other values: the last entry wins, as in a map
            entries.append(_field(1, name.encode()) + _field(2, _field(3, _field(1, b"\x07"))))
        entries.append(_field(1, name.encode()) + _field(2, _encode_feature(kind, values, style)))
    return _field(1, b"".join(_field(1, entry) for entry in entries))


def _same(got: list[Any], expected: list[Any]) -> bool:
    if expected and isinstance(expected[0], float):  # float32 both sides
        return np.array_equal(np.float32(got), np.float32(expected), equal_nan=True)
    return got == expected


def _reference(records: list[bytes]) -> list[dict[str, Any]]:
    """Protobuf's parse, each feature's kind fixed by its first values, as documented."""
    first_kind: dict[str, str] = {}
    rows = []
    for record in records:
        row: dict[str, Any] = {}
        for name, feature in example_pb2.Example.FromString(record).features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            if kind is not None and (not values or first_kind.setdefault(name, kind) == kind):
                row[name] = values
        rows.append(row)
    return rows


@settings(max_examples=150, deadline=None)
@given(st.lists(_RECORD, min_size=1, max_size=12), st.booleans())
def test_decoder_agrees_with_protobuf_on_every_encoding(
    records: list[dict[str, tuple[str, Values, str]]], decoy: bool
) -> None:
    serialized = [_encode_example(r, decoy) for r in records]
    batch, problems = ExamplesDecoder().decode(serialized, 0)
    got = [{k: v for k, v in row.items() if v is not None} for row in batch.to_pylist()]
    expected = _reference(serialized)
    assert batch.num_rows == len(records)
    for row_got, row_expected in zip(got, expected, strict=True):
        assert row_got.keys() == row_expected.keys()
        for name, values in row_expected.items():
            assert _same(row_got[name], values), name
    wrong = {p.message.split("'")[1] for p in problems if p.kind == "wrong_type"}
    for field in batch.schema:
        invalid = int((field.metadata or {}).get(INVALID_VALUES_KEY, b"0"))
        assert (invalid > 0) == (field.name in wrong)
    assert {p.kind for p in problems} <= {"wrong_type", "no_features"}


def _parses(record: bytes) -> bool:
    try:
        example_pb2.Example.FromString(record)
    except DecodeError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_RECORD, min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.booleans()), max_size=4),
)
# A map entry with an unknown field, which upb's fast parse leaves out of the map.
@hypothesis.example([{"a": ("float", [0.0], "unknown")}], [(3767, 0, False)])
def test_corrupt_records_are_malformed_exactly_when_protobuf_rejects_them(
    records: list[dict[str, tuple[str, Values, str]]], edits: list[tuple[int, int, bool]]
) -> None:
    serialized = [bytearray(_encode_example(r, False)) for r in records]
    for position, byte, cut in edits:  # overwrite a byte, or cut the record short there
        record = serialized[position % len(serialized)]
        if record:
            at = position % len(record)
            record[at:] = record[at + 1 :] if cut else bytes([byte]) + record[at + 1 :]
    _check_against_protobuf([bytes(r) for r in serialized])


_BAD_FEATURES = {
    "floats of 6 bytes": _field(2, _field(1, bytes(6))),
    "an unfinished varint": _field(3, _field(1, b"\x05\x81")),
    "an 11-byte varint": _field(3, _field(1, b"\x80" * 10 + b"\x01")),
    "a 10-byte varint with high bits": _field(3, _field(1, b"\xff" * 9 + b"\x7f")),
    "a value past its list": _field(1, _field(1, b"x") + b"\x0a\x05ab"),
    "a list past its feature": b"\x1a\x09\x0a\x01\x05",
    "a varint length of 11 bytes": b"\x12" + b"\x80" * 10 + b"\x00",
    "an unknown field in a list": _field(1, b"\x12\x01x" + _field(1, b"y")),
    "a list field as a varint": b"\x10\x05",
    "an empty feature": b"",
}


@pytest.mark.parametrize("feature", list(_BAD_FEATURES.values()), ids=list(_BAD_FEATURES))
def test_odd_features_read_as_protobuf_reads_them(feature: bytes) -> None:
    entry = _field(1, b"odd") + _field(2, feature)
    good = _encode_example({"other": ("int", [1, 2], "canonical")}, False)
    _check_against_protobuf([_field(1, _field(1, entry)), good])


def test_lists_that_are_only_valid_when_joined_are_malformed() -> None:
    # b"\x0a\x03ab" + b"c\x0a\x01d" parses as the values "abc" and "d"; neither list alone.
    records = [
        _field(1, b"s") + _field(2, _field(1, body)) for body in (b"\x0a\x03ab", b"c\x0a\x01d")
    ]
    _check_against_protobuf([_field(1, _field(1, entry)) for entry in records])


def _check_against_protobuf(data: list[bytes]) -> None:
    """Records protobuf rejects are malformed, the others read as protobuf reads them."""
    batch, problems = ExamplesDecoder().decode(data, 0)
    malformed = {p.record for p in problems if p.kind == "malformed_record"}
    assert malformed == {i for i, r in enumerate(data) if not _parses(r)}
    expected = _reference([r for r in data if _parses(r)])
    got = [{k: v for k, v in row.items() if v is not None} for row in batch.to_pylist()]
    assert len(got) == len(expected)
    for row_got, row_expected in zip(got, expected, strict=True):
        assert row_got.keys() == row_expected.keys()
        for name, values in row_expected.items():
            assert _same(row_got[name], values), name


def test_types_missing_features_and_kinds_not_set(tmp_path: Path) -> None:
    records = [
        example({"i": [1, 2], "f": [0.5], "s": [b"a"], "unset": None}),
        example({"i": [], "s": [b"b", b"c"], "unset": None}),
        example({}),
    ]
    (batch,), problems = decode_file(write_tfrecord(tmp_path / "x.tfrecord", records))
    assert problems == []
    assert batch.schema.field("i").type == pa.large_list(pa.int64())
    assert batch.schema.field("f").type == pa.large_list(pa.float32())
    assert batch.schema.field("s").type == pa.large_list(pa.large_binary())
    assert batch.schema.field("unset").type == pa.null()
    assert batch.to_pylist() == [
        {"i": [1, 2], "f": [0.5], "s": [b"a"], "unset": None},
        {"i": [], "f": None, "s": [b"b", b"c"], "unset": None},
        {"i": None, "f": None, "s": None, "unset": None},
    ]


def test_batches_are_bounded_in_records_and_in_bytes(tmp_path: Path) -> None:
    records = [example({"s": [b"x" * 100]}) for _ in range(50)]  # 109 bytes each
    path = str(write_tfrecord(tmp_path / "x.tfrecord", records))
    by_records = [b.num_rows for b in tfrecord.read_examples(path, batch_size=20)]
    by_bytes = [b.num_rows for b in tfrecord.read_examples(path, 20, block_size=1024)]
    assert by_records == [20, 20, 10]
    assert by_bytes == [10, 10, 10, 10, 10]


def test_records_without_features_count_and_are_reported(tmp_path: Path) -> None:
    path = write_tfrecord(tmp_path / "empty.tfrecord", [example({})] * 3)
    (batch,), problems = decode_file(path)
    assert batch.num_rows == 3 and batch.num_columns == 0
    assert [(p.kind, p.record) for p in problems] == [("no_features", 0)]


def test_schema_drift_and_malformed_records_are_reported(tmp_path: Path) -> None:
    records = [example({"x": [n], "y": [float(n)]}) for n in range(10)]
    records[3] = example({"x": [b"three"], "y": [3.0]})  # x: bytes, not int64
    records[7] = example({"x": [7.0], "y": [7.0]})  # x: float, not int64
    records[5] = b"\xff\xff not a protobuf"
    path = write_tfrecord(tmp_path / "drift.tfrecord", records)
    batches, problems = decode_file(path, batch_size=4)
    rows = rows_of(batches)
    assert [r["y"] for r in rows] == [[float(n)] for n in range(10) if n != 5]
    assert [r["x"] for r in rows] == [[n] if n not in (3, 7) else None for n in range(10) if n != 5]
    assert sorted((p.kind, p.record) for p in problems) == [
        ("malformed_record", 5),
        ("wrong_type", 3),
        ("wrong_type", 7),
    ]
    wrong = next(p for p in problems if p.record == 3)
    assert "'x'" in wrong.message and "int64_list" in wrong.message
    assert "bytes_list" in wrong.message
    metadata = [b.schema.field("x").metadata or {} for b in batches]
    assert sum(int(m.get(INVALID_VALUES_KEY, 0)) for m in metadata) == 2


# --- Through ReadRecordBatches -----------------------------------------------------------------


def _make_examples(n: int, seed: int) -> tuple[list[bytes], pa.Table]:
    """Random examples, and the same data as an Arrow table built from the Python values."""
    rng = np.random.default_rng(seed)
    columns: dict[str, list[Any]] = {"age": [], "score": [], "tags": [], "clicks": [], "text": []}
    records = []
    for i in range(n):
        row: dict[str, Any] = {
            "age": [int(rng.integers(18, 90))] if rng.random() > 0.1 else None,
            "score": [float(np.float32(v)) for v in rng.normal(0, 1, rng.integers(0, 4))],
            "tags": [bytes(rng.choice([b"a", b"bb", b"ccc"])) for _ in range(rng.integers(0, 3))],
            "clicks": [int(v) for v in rng.integers(-(2**40), 2**40, rng.integers(1, 6))],
            "text": [f"text {i} {'x' * int(rng.integers(0, 30))}".encode()],
        }
        if i % 7 == 0:
            row["score"] = None
        present = {k: v for k, v in row.items() if v is not None}
        records.append(example(present, empty=["float_list", "bytes_list"][i % 2]))
        for name, values in row.items():
            columns[name].append(values)
    types = {"age": pa.int64(), "score": pa.float32(), "clicks": pa.int64()}
    table = pa.table(
        {
            name: pa.array(values, pa.large_list(types.get(name, pa.large_binary())))
            for name, values in columns.items()
        }
    )
    return records, table


def _read(patterns: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    out = Path(tempfile.mkdtemp())

    def save_batch(batch: pa.RecordBatch) -> None:
        pq.write_table(pa.Table.from_batches([batch]), out / f"{uuid.uuid4().hex}.parquet")

    def save_error(error: dict[str, Any]) -> None:
        (out / f"{uuid.uuid4().hex}.json").write_text(json.dumps(error))

    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        result = pipeline | ReadRecordBatches(patterns, batch_size=100)
        _ = result.batches | "Batches" >> beam.Map(save_batch)
        _ = result.errors | "Errors" >> beam.Map(save_error)
    rows = [row for p in out.glob("*.parquet") for row in pq.read_table(p).to_pylist()]
    return rows, [json.loads(p.read_text()) for p in out.glob("*.json")]


def test_statistics_equal_those_of_the_same_data_as_an_arrow_table(tmp_path: Path) -> None:
    records, table = _make_examples(1500, seed=1)
    write_tfrecord(tmp_path / "part-0.tfrecord", records[:700])
    write_tfrecord(tmp_path / "part-1.tfrecord.gz", records[700:], compress=True)
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        read = pipeline | ReadRecordBatches(str(tmp_path / "part-*"), "tfrecord", batch_size=256)
        assert_that(read.errors, equal_to([]))
        _ = read.batches | GenerateStatistics(SPEC) | WriteStatistics(str(tmp_path / "s.pb"))
    statistics = load_statistics(str(tmp_path / "s.pb"))
    # tf.Example features come sorted by name (as from TFDV's decoder), whatever the order
    # inside the records and wherever a batch starts.
    order = [f.path.step[0] for f in statistics.datasets[0].features]
    assert order == sorted(table.column_names)
    expected = generate_statistics_from_table(table.select(order), SPEC)
    assert_close(exact_part(statistics), exact_part(expected))
    features = {f.path.step[0]: f for f in statistics.datasets[0].features}
    ages = [v[0] for v in table.column("age").to_pylist() if v is not None]
    assert features["age"].num_stats.common_stats.num_non_missing == len(ages)
    assert features["age"].num_stats.mean == pytest.approx(np.mean(ages), rel=1e-12)
    clicks = np.concatenate([np.array(v) for v in table.column("clicks").to_pylist()])
    assert features["clicks"].num_stats.max == clicks.max()


def test_errors_output_names_file_record_and_kind(tmp_path: Path) -> None:
    records = [example({"x": [n]}) for n in range(20)]
    records[4] = b"\x0a\x05junk!"
    path = write_tfrecord(tmp_path / "bad.tfrecords", records)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # the last record's data
    path.write_bytes(bytes(data))
    rows, errors = _read([str(path)])
    assert sorted(r["x"][0] for r in rows) == [n for n in range(19) if n != 4]
    assert sorted((Path(e["file"]).name, e["record"], e["kind"]) for e in errors) == [
        ("bad.tfrecords", 4, "malformed_record"),
        ("bad.tfrecords", 19, "corrupt_record"),
    ]
    assert all("record" in e["message"] for e in errors)


def test_format_from_suffix() -> None:
    assert format_of("gs://b/train.tfrecord") == "tfrecord"
    assert format_of("data/part-00000.tfrecords.gz") == "tfrecord"
