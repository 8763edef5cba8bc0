"""Slices: statistics per group of examples, beside those of the whole dataset.

A slice is named by its key. Slicing by features gives one slice per combination of values,
named ``feature=value`` (crosses join with ``,``: ``country=DE,device=phone``); an example
whose slicing feature is missing falls in ``feature=<missing>``, so every example is in
exactly one slice of each slicing of scalar features. A list-valued feature (as every
TFRecord feature is) puts an example in the slice of each of its distinct values, as TFDV
does; crossing needs at most one value per example. A slicing function
``RecordBatch -> [(key, RecordBatch)]`` may put an example in any number of slices. The
whole dataset is always computed too.

Partitioning a batch is vectorised: the slicing columns are dictionary-encoded, their codes
combined into one group id per row, rows sorted once by it (stable) and cut into slices.
Each slice keeps one accumulator, so memory grows with the number of slices: slice by
categorical features, not by ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.errors import InvalidInputError

SliceFunction = Callable[[pa.RecordBatch], Iterable[tuple[str, pa.RecordBatch]]]
MISSING = "<missing>"
#: The name of the whole dataset beside its slices when no name is given (as in TFDV).
WHOLE_DATASET = "All Examples"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SlicingSpec:
    """Which slices to compute.

    Args:
        features: each entry is one slicing: a feature name, or a tuple of names to cross.
        functions: slicing functions, ``RecordBatch -> iterable of (key, RecordBatch)``;
            they must be picklable (module-level functions) to run on distributed runners.
    """

    features: tuple[str | tuple[str, ...], ...] = ()
    functions: tuple[SliceFunction, ...] = ()

    def __post_init__(self) -> None:
        crosses = []
        for entry in self.features:
            names = (entry,) if isinstance(entry, str) else tuple(entry)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise InvalidInputError(
                    f"a slicing is a feature name or a tuple of names, got {entry!r}"
                )
            crosses.append(names)
        object.__setattr__(self, "features", tuple(crosses))
        for function in self.functions:
            if not callable(function):
                raise InvalidInputError(f"slicing functions must be callable, got {function!r}")
        if not crosses and not self.functions:
            raise InvalidInputError("a SlicingSpec needs at least one feature or function")


def _label(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bytes):  # a TFRecord bytes feature, or a binary column
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _codes(batch: pa.RecordBatch, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The slice memberships of one slicing column: (row, code) pairs and each code's label.

    A scalar column gives one pair per row. A list column (every TFRecord feature is one)
    gives a pair per distinct value of a row, as in TFDV: an example with two values is in
    both slices, and one with no value is in ``<missing>``.
    """
    index = batch.schema.get_field_index(name)
    rows = np.arange(batch.num_rows, dtype=np.int64)
    if index < 0:
        return rows, np.zeros(batch.num_rows, dtype=np.int64), [MISSING]
    column = batch.column(index)
    if (
        pa.types.is_struct(column.type)
        or (pa.types.is_list(column.type) or pa.types.is_large_list(column.type))
        and pa.types.is_nested(column.type.value_type)
    ):
        raise InvalidInputError(
            f"slicing feature {name!r} must be a scalar or a list of scalars, got {column.type}"
        )
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
        values = pc.list_flatten(column)
        value_rows = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
        empty = np.flatnonzero(lengths == 0)
        encoded = pc.dictionary_encode(values, null_encoding="encode")
        labels = [_label(v) for v in encoded.dictionary.to_pylist()]
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        missing = labels.index(MISSING) if MISSING in labels else len(labels)
        if missing == len(labels) and len(empty):
            labels.append(MISSING)
        rows = np.concatenate([value_rows.astype(np.int64), empty])
        codes = np.concatenate([codes, np.full(len(empty), missing, dtype=np.int64)])
        # A value repeated within one example puts it in that slice once.
        pairs = np.unique(np.stack([rows, codes], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1], labels
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    labels = [_label(v) for v in encoded.dictionary.to_pylist()]
    return rows, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), labels


def _slice_by_features(
    batch: pa.RecordBatch, names: tuple[str, ...]
) -> Iterator[tuple[str, pa.RecordBatch]]:
    if batch.num_rows == 0:  # e.g. the schema-only batch of an empty file: no slice
        return
    memberships = [_codes(batch, name) for name in names]
    if len(names) == 1:
        rows, group, _ = memberships[0]
    else:
        rows = np.arange(batch.num_rows, dtype=np.int64)
        group = np.zeros(batch.num_rows, dtype=np.int64)
        for name, (member_rows, codes, values) in zip(names, memberships, strict=True):
            if len(member_rows) != batch.num_rows or not np.array_equal(member_rows, rows):
                raise InvalidInputError(
                    f"slicing feature {name!r} has more than one value in some examples; "
                    "a cross of features needs one value (or none) per example"
                )
            group = group * len(values) + codes
    labels = [values for _, _, values in memberships]
    order = np.argsort(group, kind="stable")
    sorted_groups = group[order]
    starts = np.flatnonzero(np.diff(sorted_groups, prepend=-1))
    taken = batch.take(pa.array(rows[order]))
    for start, stop in zip(starts, [*starts[1:], len(order)], strict=True):
        code = int(sorted_groups[start])
        parts = []
        for name, values in zip(reversed(names), reversed(labels), strict=True):
            code, digit = divmod(code, len(values))
            parts.append(f"{name}={values[digit]}")
        yield ",".join(reversed(parts)), taken.slice(start, stop - start)


def slice_batch(
    batch: pa.RecordBatch, slicing: SlicingSpec
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The (slice key, rows) pairs of one batch, for every slicing of `slicing`."""
    for names in slicing.features:
        yield from _slice_by_features(batch, names)  # type: ignore[arg-type]
    for function in slicing.functions:
        for key, part in function(batch):
            if not isinstance(key, str) or not isinstance(part, pa.RecordBatch):
                raise InvalidInputError(
                    f"slicing function {getattr(function, '__name__', function)!r} must yield "
                    f"(str, RecordBatch) pairs, got ({type(key).__name__}, {type(part).__name__})"
                )
            yield key, part
