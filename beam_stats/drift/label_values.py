"""Columns of the labeling loop as numbers: predictions, labels, times and group values.

Each function takes one Arrow column and returns numpy arrays of its length, vectorised (a
Python loop only over the distinct values of a group column, or over the strings that
Arrow's own parsers refuse). A value is *null* when it is missing (null, NaN, an empty list)
and *bad* when it is present but not of the kind asked for; both come out as NaN, and the
caller counts them apart.

* Numbers (:func:`as_numbers`): integers, floats and booleans (true is 1); strings that
  spell a number (``" 0.25"``, ``"1e-3"``) or a boolean (``true``/``false``, any case).
* Times (:func:`as_seconds`): seconds since the Unix epoch. Timestamps (any unit; naive
  ones taken as UTC) and dates; numbers as seconds already; ISO 8601 strings
  (``2024-05-01``, ``2024-05-01 12:00:00.5``, ``2024-05-01T12:00:00+02:00``, ``...Z``).
* Group values (:func:`group_codes`): one code per distinct value, -1 for a missing one,
  and each value's text.

A list of exactly one value (every TFRecord feature is a list) is that value; a list of
several values is bad.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.pandas_free import python_values
from beam_stats.validation.examples import escape_bytes

F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]

_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_ZONE = r"(Z|z|[-+]\d\d(:?\d\d)?)$"
_EPOCH_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def _filled(mask: pa.Array) -> Bools:
    return np.asarray(pc.fill_null(mask, False), dtype=bool)


def scalars(values: pa.Array) -> tuple[pa.Array, Bools]:
    """Dictionaries decoded, lists of one value as that value; and the rows that hold a
    list of several values (bad, null in the array returned)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    t = values.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        return values, np.zeros(len(values), dtype=bool)
    lengths = np.asarray(pc.fill_null(pc.list_value_length(values), 0))
    single = lengths == 1
    parents = np.asarray(pc.list_parent_indices(values), dtype=np.int64)
    flat = pc.list_flatten(values)
    index = np.full(len(values), -1, dtype=np.int64)
    first = single[parents]
    index[parents[first]] = np.flatnonzero(first)
    inner, bad = scalars(flat.take(pa.array(index, mask=index < 0)))
    return inner, bad | (lengths > 1)


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def as_numbers(values: pa.Array) -> tuple[F64, Bools, Bools]:
    """`values` as float64 (NaN where null or bad), the null rows and the bad rows."""
    values, bad = scalars(values)
    t = values.type
    n = len(values)
    present = _filled(values.is_valid())
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        out = np.array(pc.fill_null(values.cast(pa.float64()), math.nan), dtype=np.float64)
    elif _is_text(t):
        text = pc.utf8_lower(pc.utf8_trim_whitespace(values.cast(pa.large_string())))
        number = _filled(pc.match_substring_regex(text, _NUMBER))
        out = np.full(n, math.nan)
        if number.any():
            out[number] = np.asarray(text.filter(pa.array(number)).cast(pa.float64()))
        out[_filled(pc.equal(text, "true"))] = 1.0
        out[_filled(pc.equal(text, "false"))] = 0.0
        bad |= present & np.isnan(out) & ~_filled(pc.equal(text, "nan"))
    else:
        out = np.full(n, math.nan)
        bad |= present
    out[bad] = math.nan
    return out, ~bad & np.isnan(out), bad


def as_seconds(values: pa.Array) -> tuple[F64, Bools, Bools]:
    """`values` as seconds since the epoch (NaN where null or bad), the null and bad rows."""
    values, bad = scalars(values)
    t = values.type
    if pa.types.is_date(t):
        values, t = values.cast(pa.timestamp("s")), pa.timestamp("s")
    if pa.types.is_timestamp(t):
        ticks = values.cast(pa.int64()) if t.tz is None else values.cast(pa.timestamp(t.unit))
        ticks = ticks.cast(pa.int64())
        out = np.array(pc.fill_null(ticks.cast(pa.float64()), math.nan)) / _EPOCH_UNITS[t.unit]
    elif _is_text(t):
        out, bad_text = _parse_times(values)
        bad |= bad_text
    else:
        out, _, bad_number = as_numbers(values)
        bad |= bad_number
    out = np.array(out, dtype=np.float64)
    out[bad | ~np.isfinite(out)] = math.nan
    return out, ~bad & np.isnan(out), bad


def _parse_times(values: pa.Array) -> tuple[F64, Bools]:
    text = pc.utf8_trim_whitespace(values.cast(pa.large_string()))
    present = _filled(text.is_valid()) & _filled(pc.greater(pc.utf8_length(text), 0))
    zoned = present & _filled(pc.match_substring_regex(text, _ZONE))
    out = np.full(len(text), math.nan)
    for rows, target in ((zoned, pa.timestamp("ns", "UTC")), (present & ~zoned, None)):
        if not rows.any():
            continue
        part = text.filter(pa.array(rows))
        try:
            parsed = part.cast(target or pa.timestamp("ns"))
            out[rows] = as_seconds(parsed)[0]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # some are not times: rare
            out[rows] = [_parse_one(s) for s in part.to_pylist()]
    return out, present & np.isnan(out)


def _parse_one(text: str) -> float:
    try:
        when = datetime.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return math.nan
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return escape_bytes(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def group_codes(values: pa.Array) -> tuple[I64, list[str]]:
    """A code per row (-1: missing; a list of several values counts as missing) and the
    text of each code's value."""
    values, several = scalars(values)
    if pa.types.is_null(values.type):
        return np.full(len(values), -1, dtype=np.int64), []
    if pa.types.is_floating(values.type):  # NaN is missing, -0.0 is 0.0
        values = pc.if_else(pc.is_nan(values), None, pc.add(values, 0.0))
    encoded = pc.dictionary_encode(values)
    codes = np.array(pc.fill_null(encoded.indices.cast(pa.int64()), -1), dtype=np.int64)
    codes[several] = -1
    names = [_text(v) for v in python_values(encoded.dictionary)]
    return codes, names
