"""A privacy policy applied to rows: the values commands write as they are (bad and good
rows of ``validate-examples``, the pairs of ``feature-skew``).

The statistics apply a :class:`~beam_stats.stats.privacy.PrivacySpec` to each feature's
state (:mod:`beam_stats.stats.privacy`); a row is one example, so here the policy applies
cell by cell, to the column of each feature path and to its nested fields:

* ``redact``: the column of the feature (or of a struct holding it) is null in every row;
  the column, its type and the rows stay.
* ``hash``: each value (a list's elements, a struct's fields) is its keyed hash, 32 hex
  digits as a string (:meth:`PrivacySpec.hash_values`; strings and bytes hashed as their
  bytes, other values as their Arrow text), so equal values stay equal and rows still join.
* ``redact_pii``: each string or bytes value that looks like personal data
  (:func:`~beam_stats.stats.pii_patterns.detect`) is null; the other cells of the row stay.
  (The statistics redact a whole feature once enough of its values look like it; a row's
  value is checked on its own.)
* ``min_count`` keeps a *listed* value from a small group of examples; a row is not a list
  of values by count, so rows are left as they are. What commands quote about rows (the
  reasons of a bad row, skew samples) carries no value under it.

Vectorised: a column's distinct values (its dictionary) are hashed or checked once, and the
result taken back to the rows; lists, maps and structs are rebuilt around their protected
children. A column the policy does not touch is returned as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats._types import FeaturePath, path_str
from beam_stats.arrow import plain_layout
from beam_stats.errors import InvalidInputError
from beam_stats.pandas_free import python_values
from beam_stats.stats.pii_patterns import Mask, detect
from beam_stats.stats.privacy import PrivacySpec

#: What a message shows instead of a value the policy keeps out.
REDACTED = "<redacted>"


def row_policy(spec: PrivacySpec | None) -> PrivacySpec:
    """`spec` (None: a policy that keeps everything), checked for use on rows.

    Raises:
        InvalidInputError: not a policy, or features to hash and no key (a policy read back
            from a file has only the key's id).
    """
    spec = PrivacySpec() if spec is None else spec
    if not isinstance(spec, PrivacySpec):
        raise InvalidInputError(f"privacy must be a PrivacySpec, got {spec!r}")
    if spec.hash and spec.hash_key is None:
        raise InvalidInputError(
            f"values to hash, but no hash key (the policy names key {spec.hash_key_id}): "
            "give the key file"
        )
    return spec


def covers(paths: Iterable[FeaturePath], name: str) -> bool:
    """Whether the feature of dotted `name` is one of `paths` or inside one of them."""
    return any(name == (p := path_str(path)) or name.startswith(p + ".") for path in paths)


def _covered(path: FeaturePath, paths: frozenset[FeaturePath]) -> bool:
    return any(path[:i] in paths for i in range(1, len(path) + 1))


def touches(path: FeaturePath, spec: PrivacySpec) -> bool:
    """Whether the policy may change the column at `path` (or a field inside it)."""
    if spec.redact_pii:
        return True
    named = spec.redact | spec.hash
    return any(p[: len(path)] == path or path[: len(p)] == p for p in named)


def personal(values: pa.Array) -> Mask:
    """Which of string or bytes `values` look like personal data of any kind."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    masks = list(detect(values).values())
    return np.logical_or.reduce(masks) if masks else np.zeros(len(values), dtype=bool)


def _text_bytes(values: pa.Array) -> list[bytes | None]:
    """Values as the bytes their hash is of: strings and bytes as they are, others as
    their Arrow text."""
    t = values.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or _is_bytes(t)):
        try:
            values = values.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return [None if v is None else str(v).encode() for v in python_values(values)]
    return values.cast(pa.large_binary()).to_pylist()  # type: ignore[no-any-return]


def hashed_values(values: pa.Array, spec: PrivacySpec) -> pa.Array:
    """Each value of a flat array as its keyed hash (strings; nulls stay null), each
    distinct value hashed once."""
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), pa.string())
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    distinct = _text_bytes(encoded.dictionary)
    digests = spec.hash_values(v for v in distinct if v is not None)
    it = iter(digests)
    hashed = pa.array([None if v is None else next(it).decode() for v in distinct], pa.string())
    return hashed.take(encoded.indices)


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or _is_bytes(t))


def _is_bytes(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
    )


def _without_personal(values: pa.Array) -> pa.Array:
    """Strings or bytes with those that look like personal data made null (dictionaries
    decoded, so that the type does not depend on what was found)."""
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    plain = values.dictionary_decode() if pa.types.is_dictionary(values.type) else values
    flagged = personal(encoded.dictionary)
    if not flagged.any():
        return plain
    rows = pc.fill_null(pa.array(flagged).take(encoded.indices), False)
    return pc.if_else(rows, pa.scalar(None, plain.type), plain)


def _nulls(values: pa.Array) -> pa.Array:
    try:
        return pa.nulls(len(values), values.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.nulls(len(values))


def _plain(values: pa.Array) -> pa.Array:
    """`values` in the layout :func:`~beam_stats.arrow.plain_layout` gives, and a dictionary
    of lists or structs decoded (rebuilt around its protected children)."""
    values = plain_layout(values)
    t = values.type
    if pa.types.is_dictionary(t) and pa.types.is_nested(t.value_type):
        return plain_layout(values.dictionary_decode())
    return values


def _mask(values: pa.Array) -> pa.Array | None:
    return values.is_null() if values.null_count else None


def _offsets(values: pa.Array, large: bool) -> pa.Array:
    lengths = np.asarray(pc.fill_null(pc.list_value_length(values), 0), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return pa.array(offsets, pa.int64() if large else pa.int32())


def protect_column(values: pa.Array, path: FeaturePath, spec: PrivacySpec) -> pa.Array:
    """The column of the feature at `path` (a top-level column: a one-name path) as the
    policy lets it be written (see the module docstring)."""
    if not touches(path, spec):
        return values
    if _covered(path, spec.redact):
        return _nulls(values)
    values = _plain(values)
    t = values.type
    if pa.types.is_map(t):
        # Arrow flattens no map: the slice's offsets index all the keys and items.
        offsets = np.asarray(values.offsets, dtype=np.int64)
        start, size = int(offsets[0]), int(offsets[-1] - offsets[0])
        keys = protect_column(values.keys.slice(start, size), path, spec)
        if keys.null_count:  # a key cannot be null
            keys = pc.fill_null(keys, pa.scalar(REDACTED).cast(keys.type))
        items = protect_column(values.items.slice(start, size), path, spec)
        rebased = pa.array(offsets - start, pa.int32())
        return pa.MapArray.from_arrays(rebased, keys, items, mask=_mask(values))
    if pa.types.is_struct(t):
        pairs = zip(list(t), values.flatten(), strict=True)
        children = [protect_column(c, (*path, f.name), spec) for f, c in pairs]
        fields = [f.with_type(c.type).with_nullable(True) for f, c in zip(t, children, strict=True)]
        return pa.StructArray.from_arrays(children, fields=fields, mask=_mask(values))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or hasattr(t, "value_field"):
        large = pa.types.is_large_list(t) or pa.types.is_large_list_view(t)
        child = protect_column(pc.list_flatten(values), path, spec)
        field = t.value_field.with_type(child.type)
        kind = pa.LargeListArray if large else pa.ListArray
        list_type = pa.large_list(field) if large else pa.list_(field)
        offsets = _offsets(values, large)
        return kind.from_arrays(offsets, child, type=list_type, mask=_mask(values))
    if _covered(path, spec.hash):
        return hashed_values(values, spec)
    value_type = t.value_type if pa.types.is_dictionary(t) else t
    if spec.redact_pii and _is_text(value_type) and len(values):
        return _without_personal(values)
    return values


def protect_batch(batch: pa.RecordBatch, spec: PrivacySpec) -> pa.RecordBatch:
    """Every column of `batch` protected (:func:`protect_column`): the same rows, names and
    metadata; a type changes where values became hashes (strings) or a column touched was
    rebuilt in a plain layout (a dictionary decoded, a fixed-size list or view a list)."""
    if not (spec.redact or spec.hash or spec.redact_pii):
        return batch
    columns = [
        protect_column(column, (field.name,), spec)
        for field, column in zip(batch.schema, batch.columns, strict=True)
    ]
    fields = [f.with_type(c.type) for f, c in zip(batch.schema, columns, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields, batch.schema.metadata))
