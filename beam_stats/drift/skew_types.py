"""The kinds of values feature skew compares, and temporal values on one scale.

Feature skew compares a value with another of the same *kind*: numbers (integers, floats and
decimals), bytes (strings and binaries), lists, structs, and three temporal kinds - instants
(timestamps and dates), times of day and durations. Values of different kinds differ; any other
Arrow type is its own kind (its type name).

Temporal values of one kind compare as the same quantity whatever their unit or time zone, as
the statistics count them (:func:`beam_stats.arrow.temporal_micros`): a ``timestamp[s]`` of one
file equals the ``timestamp[ns]`` of the same instant in another, a ``date32`` equals the
timestamp of its midnight UTC, and a zoned timestamp equals the UTC instant it stores. Two
values of one type compare exactly (nanoseconds included); values of different units compare
to the microsecond, floor rounded. A value whose microseconds overflow int64 (a
``timestamp[s]`` beyond year 294,247) is equal to nothing on another unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from beam_stats.arrow import temporal_micros

_KINDS = {  # names in pa.types (the view types are missing from older pyarrow)
    "number": ("is_integer", "is_floating", "is_decimal"),
    "bytes": ("is_string", "is_large_string", "is_string_view", "is_binary", "is_large_binary",
              "is_binary_view", "is_fixed_size_binary"),
    "list": ("is_list", "is_large_list", "is_fixed_size_list"),
    "struct": ("is_struct",),
    "instant": ("is_timestamp", "is_date"),
    "time": ("is_time",),
    "duration": ("is_duration",),
}  # fmt: skip

#: The temporal kinds, each with the microsecond type its values are put on.
TEMPORAL = {
    "instant": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
    "duration": pa.duration("us"),
}


def kind(t: pa.DataType) -> str:
    """The kind of values of type `t` (see the module docstring)."""
    for name, tests in _KINDS.items():
        if any(getattr(pa.types, test, lambda _: False)(t) for test in tests):
            return name
    return str(t)


def micros(values: pa.Array) -> pa.Array:
    """Temporal `values` as int64 microseconds (null where null or out of int64's range)."""
    return temporal_micros(values)[0]


def common_temporal(chunks: Sequence[pa.Array]) -> list[pa.Array] | None:
    """Chunks of one temporal kind but different types, put on that kind's microsecond type;
    None when the chunks are not all of one temporal kind."""
    kinds = {kind(c.type) for c in chunks if not pa.types.is_null(c.type)}
    if len(kinds) != 1 or (only := kinds.pop()) not in TEMPORAL:
        return None
    target = TEMPORAL[only]
    return [
        pa.nulls(len(c), target) if pa.types.is_null(c.type) else micros(c).cast(target)
        for c in chunks
    ]
