"""Arrow record batches to per-feature columns.

A record batch holds one example per row. Every column, and every field of a struct column,
is a *feature* addressed by its path. For each feature of a batch :func:`flatten_batch` yields
a :class:`FeatureColumn`:

* ``present``: which examples have the feature. A scalar is present when it is not null; a
  list is present when the list is not null, even when it is empty (zero values), as in
  TFDV. Below the outermost list, presence does not change any more.
* ``num_values``: the number of non-null leaf values of each example (values per example).
* ``values``: the non-null leaf values of the whole batch, in one flat Arrow array.
* ``kind``: the value kind that decides which statistics apply (:class:`Kind`).

Temporal values are INT features counted in one unit whatever their Arrow type, so that
files that store one feature in different units (``timestamp[s]`` here, ``timestamp[ns]``
there, or ``date32`` and ``timestamp``) give one consistent statistic: **int64
microseconds** (:func:`temporal_micros`). Timestamps and dates count from the Unix epoch in
UTC (Arrow stores zoned timestamps as UTC instants; a timestamp without a zone is taken as
UTC); times from midnight; durations as they are. int64 microseconds reach about 292,000
years either side of 1970, so sentinels such as 0001-01-01 and 9999-12-31 fit (in
nanoseconds, whose range is 1677 to 2262, they would not); nanoseconds are rounded down
(floor) to the microsecond. A value whose microseconds do not fit int64 (a ``timestamp[s]``
or ``date32`` beyond those years) is not wrapped: it is counted as invalid
(``num_invalid``) and left out like a null.

Lists of lists are flattened to their leaves. A struct is a feature of its own (its
presence and valency) and each field is a feature below it. Everything is vectorised:
list lengths map leaf values to examples and ``np.bincount`` counts them per example.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats._types import FeaturePath


class Kind(enum.Enum):
    """What a feature's values are, as far as statistics go."""

    INT = "INT"
    FLOAT = "FLOAT"
    STRING = "STRING"
    BYTES = "BYTES"
    STRUCT = "STRUCT"
    NULL = "NULL"  # only nulls were seen: the type is unknown
    UNSUPPORTED = "UNSUPPORTED"  # maps, unions, ...: counted, not summarised


@dataclasses.dataclass(frozen=True)
class FeatureColumn:
    """One feature of one record batch (see the module docstring)."""

    path: FeaturePath
    kind: Kind
    num_examples: int
    present: np.ndarray  # bool, one per example
    num_values: np.ndarray  # int64, one per example (0 where missing)
    values: pa.Array  # non-null leaf values; numeric kinds are int64 or float64
    arrow_type: pa.DataType  # the leaf type as read, for messages
    num_invalid: int = 0  # values a reader could not convert and left null (INVALID_VALUES_KEY)


#: A column whose type nests lists and structs deeper than this is counted as unsupported
#: values, not walked: Arrow's kernels (filter, ...) recurse once per level and crash the
#: process on deep types (a segmentation fault at 3,000 levels of structs).
MAX_DEPTH = 64

#: Field metadata key by which a reader counts values it could not convert to the column's
#: type and left null (see beam_stats.beam.sources); statistics report them.
INVALID_VALUES_KEY = b"beam_stats.num_invalid_values"


def _num_invalid(field: pa.Field) -> int:
    metadata = field.metadata or {}
    try:
        return int(metadata.get(INVALID_VALUES_KEY, b"0"))
    except ValueError:
        return 0


def kind_of(arrow_type: pa.DataType) -> Kind:
    """The statistics kind of a (non-list) Arrow type."""
    if pa.types.is_dictionary(arrow_type):
        return kind_of(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type) or pa.types.is_integer(arrow_type):
        return Kind.INT
    if pa.types.is_interval(arrow_type):
        return Kind.UNSUPPORTED
    if pa.types.is_temporal(arrow_type):
        return Kind.INT
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return Kind.FLOAT
    if (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    ):
        return Kind.STRING
    if (
        pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
        or pa.types.is_fixed_size_binary(arrow_type)
        or pa.types.is_binary_view(arrow_type)
    ):
        return Kind.BYTES
    if pa.types.is_struct(arrow_type):
        return Kind.STRUCT
    if pa.types.is_null(arrow_type):
        return Kind.NULL
    return Kind.UNSUPPORTED


def _is_list(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_fixed_size_list(arrow_type)
        or pa.types.is_list_view(arrow_type)
        or pa.types.is_large_list_view(arrow_type)
    )


def _normalise_values(values: pa.Array, kind: Kind) -> pa.Array:
    """Numeric values as int64/float64; strings and bytes keep their (dictionary) type."""
    if kind is Kind.INT:
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_boolean(values.type):
            values = pc.cast(values, pa.int8())
        if pa.types.is_uint64(values.type):
            # uint64 above 2**63 does not fit int64; float64 keeps the magnitude (rounded).
            return pc.cast(values, pa.float64(), safe=False)
        # A cast to the same type is a copy-free no-op that still costs a kernel call.
        return values if values.type == pa.int64() else pc.cast(values, pa.int64())
    if kind is Kind.FLOAT:
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if values.type == pa.float64():
            return values
        return pc.cast(values, pa.float64(), safe=False)
    return values


#: Microseconds per unit of the temporal types (dates: date32 counts days, date64 ms).
_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1, "day": 86_400_000_000}
_NANOS = "ns"
_INT64_MAX = np.iinfo(np.int64).max


def _unit(arrow_type: pa.DataType) -> str:
    if pa.types.is_date32(arrow_type):
        return "day"
    if pa.types.is_date64(arrow_type):
        return "ms"
    return str(arrow_type.unit)


def temporal_micros(array: pa.Array) -> tuple[pa.Array, int]:
    """A temporal array (timestamp, date, time or duration) as int64 microseconds, the unit
    all of them are counted in (see the module docstring), and how many values did not fit.

    Returns:
        The int64 array, null where `array` is null or the value overflows int64
        microseconds, and the number of such overflows.
    """
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    width = pa.int32() if array.type.bit_width == 32 else pa.int64()
    raw = pc.cast(array.view(width), pa.int64())
    unit = _unit(array.type)
    valid = _valid_mask(raw)
    ticks = np.asarray(raw.fill_null(0)) if raw.null_count else np.asarray(raw)
    overflow = np.zeros(len(raw), dtype=bool)
    if unit == _NANOS:
        micros = np.floor_divide(ticks, 1_000)
    elif _MICROS[unit] == 1:
        return raw, 0
    else:
        factor = _MICROS[unit]
        limit = _INT64_MAX // factor
        overflow = valid & ((ticks > limit) | (ticks < -limit))
        micros = np.where(overflow, 0, ticks) * factor
    return pa.array(micros, pa.int64(), mask=~valid | overflow), int(np.count_nonzero(overflow))


def _counts(parent: np.ndarray | None, valid: np.ndarray, num_examples: int) -> np.ndarray:
    """Non-null elements per example, given each element's example index."""
    if parent is None:
        return valid.astype(np.int64)
    return np.bincount(parent[valid], minlength=num_examples).astype(np.int64)


def _validity(array: pa.Array) -> pa.Buffer | None:
    """The validity bitmap of `array` (bit i for element ``array.offset + i``), if it has
    one that ``is_valid`` reads as it is (not a union's or the null type's)."""
    if pa.types.is_union(array.type) or pa.types.is_null(array.type):
        return None
    bitmap: pa.Buffer | None = array.buffers()[0]
    return bitmap


def _valid_mask(array: pa.Array) -> np.ndarray:
    """``is_valid`` as numpy booleans: unpacked from the validity bitmap directly (8x
    faster than converting Arrow's booleans, issue 16)."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    bitmap = _validity(array)
    if bitmap is None:
        return np.asarray(array.is_valid(), dtype=bool)
    bits = np.frombuffer(bitmap, dtype=np.uint8)
    unpacked = np.unpackbits(bits, count=array.offset + len(array), bitorder="little")
    mask: np.ndarray = unpacked[array.offset :].view(bool)
    return mask


def _drop_nulls(array: pa.Array, valid: np.ndarray) -> pa.Array:
    """``array.filter(valid)`` for `valid` its :func:`_valid_mask`: with the validity
    bitmap itself as the filter when there is one (no conversion of `valid` to Arrow)."""
    bitmap = _validity(array)
    if bitmap is None:
        return array.filter(valid)
    keep = pa.BooleanArray.from_buffers(pa.bool_(), len(array), [None, bitmap], offset=array.offset)
    return array.filter(keep)


def plain_layout(array: pa.Array) -> pa.Array:
    """`array` in a layout the statistics read: an extension type (uuid, ...) as its
    storage, run-end encoded values decoded, string and binary views as large strings and
    binaries (Arrow's filter has no kernel for views)."""
    while True:
        array_type = array.type
        if isinstance(array_type, pa.BaseExtensionType):
            array = array.storage
        elif pa.types.is_run_end_encoded(array_type):
            array = pc.run_end_decode(array)
        elif pa.types.is_string_view(array_type):
            array = array.cast(pa.large_string())
        elif pa.types.is_binary_view(array_type):
            array = array.cast(pa.large_binary())
        else:
            return array


def _walk(
    path: FeaturePath,
    array: pa.Array,
    parent: np.ndarray | None,
    present: np.ndarray | None,
    num_examples: int,
) -> Iterator[FeatureColumn]:
    """Yields the features of `array`, whose element i belongs to example parent[i]."""
    array = plain_layout(array)
    array_type = array.type
    if pa.types.is_dictionary(array_type) and _is_list(array_type.value_type):
        array = array.dictionary_decode()
        array_type = array.type
    if _is_list(array_type):
        valid = _valid_mask(array)
        if present is None:
            if parent is None:
                present = valid
            else:
                present = np.zeros(num_examples, dtype=bool)
                present[parent[valid]] = True
        # list_flatten skips the values under null lists; count lengths the same way.
        lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy()
        child_parent = np.repeat(np.arange(len(array), dtype=np.int64), lengths)
        child = pc.list_flatten(array)
        if parent is not None:
            child_parent = parent[child_parent]
        yield from _walk(path, child, child_parent, present, num_examples)
        return

    kind = kind_of(array_type)
    num_invalid = 0
    if kind is Kind.INT and pa.types.is_temporal(
        array_type.value_type if pa.types.is_dictionary(array_type) else array_type
    ):
        array, num_invalid = temporal_micros(array)
    valid = _valid_mask(array)
    counts = _counts(parent, valid, num_examples)
    feature_present = present if present is not None else counts > 0
    if kind is Kind.STRUCT:
        yield FeatureColumn(
            path, kind, num_examples, feature_present, counts, _drop_nulls(array, valid), array_type
        )
        assert isinstance(array, pa.StructArray)
        for field, child in zip(array_type, array.flatten(), strict=True):
            yield from _walk((*path, field.name), child, parent, present, num_examples)
        return
    values = array if array.null_count == 0 else _drop_nulls(array, valid)
    yield FeatureColumn(
        path,
        kind,
        num_examples,
        feature_present,
        counts,
        _normalise_values(values, kind),
        array_type,
        num_invalid,
    )


def type_depth(arrow_type: pa.DataType) -> int:
    """How deep `arrow_type` nests (1 for a scalar type), found without recursion."""
    depth, level = 0, [arrow_type]
    while level:
        depth += 1
        children: list[pa.DataType] = []
        for t in level:
            if isinstance(t, pa.BaseExtensionType):
                t = t.storage_type
            if pa.types.is_dictionary(t):
                t = t.value_type
            children.extend(t.field(i).type for i in range(t.num_fields))
        level = children
    return depth


def _too_deep(path: FeaturePath, column: pa.Array, num_examples: int) -> FeatureColumn:
    """A column nested deeper than MAX_DEPTH: its non-null values, counted only."""
    present = _valid_mask(column)
    values = pa.nulls(int(np.count_nonzero(present)))
    return FeatureColumn(
        path, Kind.UNSUPPORTED, num_examples, present, present.astype(np.int64), values, column.type
    )


def flatten_batch(batch: pa.RecordBatch) -> Iterator[FeatureColumn]:
    """Yields one :class:`FeatureColumn` per feature (column or nested field) of `batch`."""
    for field, column in zip(batch.schema, batch.columns, strict=True):
        yield from flatten_field(field, column, batch.num_rows)


def flatten_field(field: pa.Field, column: pa.Array, num_rows: int) -> list[FeatureColumn]:
    """The features of one column of a batch of `num_rows` rows (with its `field`), as
    :func:`flatten_batch` makes them: the column's alone, so columns can be flattened
    apart (on threads) and their features joined in column order."""
    invalid = _num_invalid(field)
    if type_depth(field.type) > MAX_DEPTH:
        return [_too_deep((field.name,), column, num_rows)]
    features = list(_walk((field.name,), column, None, None, num_rows))
    if invalid:
        features = [
            dataclasses.replace(feature, num_invalid=feature.num_invalid + invalid)
            for feature in features
        ]
    return features
