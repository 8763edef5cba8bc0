"""Wire bytes made with numpy (sketches/wirebytes.py) against protobuf's own encoding."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.proto import sketches_pb2
from beam_stats.sketches.wirebytes import put_varints, repeated_bytes, varint_sizes

BOUNDARIES = [0, 1, 127, 128, 16_383, 16_384, 2**21 - 1, 2**21, 2**35, 2**56, 2**63 - 1]


def reference_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_varints_of_every_width() -> None:
    values = np.array(BOUNDARIES, dtype=np.int64)
    sizes = varint_sizes(values)
    assert sizes.tolist() == [len(reference_varint(v)) for v in BOUNDARIES]
    at = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    out = np.zeros(int(sizes.sum()), dtype=np.uint8)
    put_varints(out, at, values, sizes)
    assert out.tobytes() == b"".join(reference_varint(v) for v in BOUNDARIES)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=300), max_size=60),
    st.integers(0, 5),
    st.sampled_from([pa.binary(), pa.large_binary()]),
)
def test_a_repeated_bytes_field_parses_to_the_values(
    values: list[bytes], cut: int, arrow_type: pa.DataType
) -> None:
    array = pa.array(values, type=arrow_type).slice(min(cut, len(values)))
    expected = sketches_pb2.FrequentItemsState(values=values[min(cut, len(values)) :])
    data = repeated_bytes(2, array)  # FrequentItemsState.values is field 2
    assert data == expected.SerializeToString()
    assert sketches_pb2.FrequentItemsState.FromString(data) == expected


def test_long_values_and_strings() -> None:
    values = ["", "é", "x" * 128, "y" * 20_000, "日本"]
    for arrow_type in (pa.string(), pa.large_string()):
        data = repeated_bytes(2, pa.array(values, type=arrow_type))
        msg = sketches_pb2.FrequentItemsState.FromString(data)
        assert list(msg.values) == [v.encode() for v in values]


def test_other_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="strings or binaries"):
        repeated_bytes(2, pa.array([1, 2]))
    with pytest.raises(ValueError, match="no nulls"):
        repeated_bytes(2, pa.array([b"a", None]))
    assert repeated_bytes(2, pa.array([], type=pa.binary())) == b""


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=200),
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(min_value=0, max_value=2**63 - 1),
        ),
        max_size=30,
    )
)
def test_message_entries_parse_to_the_messages_made_field_by_field(
    entries: list[tuple[str, float, int]],
) -> None:
    """Rank histogram buckets (varints, a string, a double), every width and empty text."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    from beam_stats.sketches.wirebytes import message_entries

    labels = pa.array([label for label, _, _ in entries], pa.string())
    counts = np.array([count for _, count, _ in entries], dtype=np.float64)
    ranks = np.array([rank for _, _, rank in entries], dtype=np.int64)
    fields = [(1, ranks), (2, ranks), (4, labels), (5, counts)]
    out, ends = message_entries(1, len(entries), fields)
    expected = statistics_pb2.RankHistogram()
    for label, count, rank in entries:
        expected.buckets.add(low_rank=rank, high_rank=rank, label=label, sample_count=count)
    parsed = statistics_pb2.RankHistogram.FromString(out.tobytes())
    assert parsed == expected
    assert len(ends) == len(entries) and (not entries or ends[-1] == out.size)
    for i in range(len(entries)):  # each entry's bytes alone: that bucket
        start = ends[i - 1] if i else 0
        one = statistics_pb2.RankHistogram.FromString(out[start : ends[i]].tobytes())
        assert list(one.buckets) == [expected.buckets[i]]


def test_message_entries_refuse_other_values() -> None:
    from beam_stats.sketches.wirebytes import message_entries

    with pytest.raises(TypeError, match="field 3"):
        message_entries(1, 2, [(3, np.array([1, 2], dtype=np.int32))])
