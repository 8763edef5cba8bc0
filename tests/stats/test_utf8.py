"""invalid_utf8_mask against Python's strict ``bytes.decode("utf-8")``."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import InvalidInputError
from beam_stats.stats.utf8 import _slow_invalid_mask, invalid_utf8_mask

TYPES = [pa.binary(), pa.large_binary(), pa.string(), pa.large_string()]


def _is_invalid(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _array(values: list[bytes], arrow_type: pa.DataType) -> pa.Array:
    """An array of ``arrow_type`` over the raw bytes, even where they are not valid UTF-8."""
    large = arrow_type in (pa.large_binary(), pa.large_string())
    raw = pa.array(values, type=pa.large_binary() if large else pa.binary())
    return pa.Array.from_buffers(arrow_type, len(raw), raw.buffers(), offset=raw.offset)


def _check(values: list[bytes], arrow_type: pa.DataType, start: int = 0) -> None:
    array = _array(values, arrow_type).slice(start)
    expected = np.array([_is_invalid(v) for v in values[start:]], dtype=bool)
    for function in (invalid_utf8_mask, _slow_invalid_mask):
        got = function(array)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, expected, err_msg=f"{function.__name__} {values}")


# Bytes at the edges of every class and of the restricted second-byte ranges.
EDGE_BYTES = bytes.fromhex(
    "00 41 7f 80 8f 90 9f a0 bf c0 c1 c2 df e0 e1 ec ed ee ef f0 f1 f3 f4 f5 f8 ff"
)

# Valid characters, raw bytes and edge bytes glued together: mostly near-valid values.
fragments = st.one_of(
    st.text(max_size=3).map(lambda s: s.encode("utf-8")),
    st.binary(max_size=3),
    st.sampled_from(list(EDGE_BYTES)).map(lambda b: bytes([b])),
)
mixed_values = st.lists(fragments, max_size=6).map(b"".join)


@settings(deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=30), st.sampled_from(TYPES), st.data())
def test_arbitrary_bytes(values: list[bytes], arrow_type: pa.DataType, data: st.DataObject) -> None:
    _check(values, arrow_type, data.draw(st.integers(0, len(values))))


@settings(deadline=None, max_examples=300)
@given(st.lists(mixed_values, max_size=30), st.sampled_from(TYPES), st.data())
def test_near_valid_bytes(
    values: list[bytes], arrow_type: pa.DataType, data: st.DataObject
) -> None:
    _check(values, arrow_type, data.draw(st.integers(0, len(values))))


@settings(deadline=None)
@given(st.lists(st.text(max_size=8), max_size=30), st.sampled_from(TYPES))
def test_valid_text(texts: list[str], arrow_type: pa.DataType) -> None:
    values = [t.encode("utf-8") for t in texts]
    _check(values, arrow_type)
    assert not _slow_invalid_mask(_array(values, arrow_type)).any()


EDGE_CASES = {
    "empty values": [b"", b"", b"a", b"", b""],
    "overlong 2-byte": [b"\xc0\xaf", b"\xc1\xbf", b"\xc2\x80"],
    "overlong 3-byte": [b"\xe0\x80\xaf", b"\xe0\x9f\xbf", b"\xe0\xa0\x80"],
    "overlong 4-byte": [b"\xf0\x80\x80\xaf", b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80"],
    "surrogates": [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\x9f\xbf", b"\xee\x80\x80"],
    "max code point": [b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff"],
    # A sequence cut at a value end, the rest starting the next value: both are invalid,
    # and a valid value after a cut one is not blamed.
    "truncated across values": [b"a\xe2\x82", b"\xac", b"\xf0\x9f", b"\x98\x80", b"\xe2", b"ok"],
    "truncated at the end": [b"ok", b"\xf0\x9f\x98"],
    "lead then ascii": [b"\xc3A", b"\xe2\x82A", b"\xf0\x9f\x98A"],
    "orphan and surplus continuations": [b"\x80", b"a\xbf", b"\xc3\xa9\xa9", b"\xc3\xa9"],
    "invalid lead swallowing nothing": [b"\xf8\x88\x80\x80\x80", b"\xfe", b"abc"],
}


@pytest.mark.parametrize("arrow_type", TYPES, ids=str)
@pytest.mark.parametrize("values", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases(values: list[bytes], arrow_type: pa.DataType) -> None:
    for start in range(len(values) + 1):
        _check(values, arrow_type, start)


def test_explicit_expectations() -> None:
    values = [b"\xe2\x82", b"\xac", b"", b"\xe2\x82\xac", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]
    got = invalid_utf8_mask(_array(values, pa.large_binary()).slice(1))
    np.testing.assert_array_equal(got, [True, False, False, True, True])


def test_slice_with_offset_of_nonzero_data_start() -> None:
    array = _array([b"\xff\xff", b"\xc3\xa9", b"\xa9", b"x"], pa.binary()).slice(1, 2)
    assert array.offset == 1
    np.testing.assert_array_equal(invalid_utf8_mask(array), [False, True])
    np.testing.assert_array_equal(invalid_utf8_mask(array.slice(0, 1)), [False])


@pytest.mark.parametrize("arrow_type", TYPES, ids=str)
def test_empty_array(arrow_type: pa.DataType) -> None:
    for function in (invalid_utf8_mask, _slow_invalid_mask):
        assert function(_array([], arrow_type)).shape == (0,)


def test_nulls_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match="nulls"):
        invalid_utf8_mask(pa.array([b"a", None]))


def test_other_types_are_rejected() -> None:
    with pytest.raises(InvalidInputError, match="int64"):
        invalid_utf8_mask(pa.array([1, 2]))


def _traced_peak(function: object, array: pa.Array) -> tuple[np.ndarray, int]:
    assert callable(function)
    tracemalloc.start()
    try:
        result = function(array)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def test_one_million_valid_values_take_the_fast_path() -> None:
    n, width = 1_000_000, 20
    rng = np.random.default_rng(0)
    data = rng.integers(0x20, 0x7F, size=n * width, dtype=np.uint8)
    offsets = np.arange(n + 1, dtype=np.int32) * width
    array = pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])

    # The first cast imports pyarrow.compute: warm up so that only the call itself is traced.
    invalid_utf8_mask(array.slice(0, 1))
    fast, fast_peak = _traced_peak(invalid_utf8_mask, array)
    slow, slow_peak = _traced_peak(_slow_invalid_mask, array)
    np.testing.assert_array_equal(fast, slow)
    assert not fast.any()
    # numpy reports its allocations to tracemalloc: the slow path needs several byte-sized
    # arrays (>= the 20 MB of data), the fast path only the 1 MB result.
    assert slow_peak > n * width
    assert fast_peak < 2 * n

    data[-1] = 0xFF
    np.testing.assert_array_equal(np.flatnonzero(invalid_utf8_mask(array)), [n - 1])
