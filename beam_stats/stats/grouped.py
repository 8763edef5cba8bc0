"""Consecutive row ranges of one record batch added to one accumulator each, the batch
flattened once.

Slices cut every batch into one small part per slice (issue 16): with 1,000 slices, adding
each slice's rows as a batch of its own flattened 1,000 small batches into feature columns
(:func:`~beam_stats.arrow.flatten_batch`, about 2 ms per batch of 20 columns) and first
joined each slice's parts into a batch of its own. :func:`add_groups` takes the rows of many
slices as one batch, ordered by slice, flattens it once and gives each slice's accumulator
its rows' part of every feature column: the example range of ``present`` and
``num_values``, and the matching range of the flat ``values`` (values are in example order,
so a range of examples is a range of values).

String and bytes columns are also dictionary-encoded, hashed, measured (lengths, UTF-8)
and checked for personal data once for the whole batch: each range is given its distinct
values with their counts (:class:`~beam_stats.stats.family.DistinctValues`, one count of
(range, value) pairs for all ranges) instead of encoding its own values, about 0.6 ms a
range and string feature before; only where the ranges are small (large ones encode their
own, which is cheaper).

The parts are the columns :func:`~beam_stats.arrow.flatten_batch` makes of the sliced
batch (the same values, a slice of one array instead of an array of their own), so the
statistics are those of ``accumulators[i].add(batch.slice(...))``. Only batches where that
is plain to see take this path: columns of numbers, booleans, strings or bytes, or lists of
them, without a reader's count of invalid values (counted per batch, not per row); no
weight, label or sparse and weighted feature in the spec (they read the batch). Any other
batch is sliced and added range by range, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.arrow import INVALID_VALUES_KEY, FeatureColumn, flatten_batch
from beam_stats.sketches.hashing import hash_array
from beam_stats.stats.dataset import DatasetAccumulator, each_feature
from beam_stats.stats.family import STRINGS, DistinctValues
from beam_stats.stats.feature import FeatureAccumulator
from beam_stats.stats.pii_patterns import positions
from beam_stats.stats.utf8 import invalid_utf8_mask


def _plain_text(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
    )


def _plain_leaf(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or _plain_text(arrow_type)
    )


def _plain_field(field: pa.Field) -> bool:
    if field.metadata and INVALID_VALUES_KEY in field.metadata:
        return False
    arrow_type = field.type
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        arrow_type = arrow_type.value_type
    return _plain_leaf(arrow_type)


def groups_flatten(batch: pa.RecordBatch, spec_accumulator: DatasetAccumulator) -> bool:
    """Whether :func:`add_groups` flattens `batch` once for accumulators of the spec of
    `spec_accumulator` (else it adds the ranges one by one)."""
    spec = spec_accumulator.spec
    names = batch.schema.names
    return (
        spec.weight_feature is None
        and spec.label is None
        and not spec.composites
        and len(set(names)) == len(names)
        and all(_plain_field(field) for field in batch.schema)
    )


def add_groups(
    accumulators: Sequence[DatasetAccumulator], batch: pa.RecordBatch, bounds: Sequence[int]
) -> None:
    """Adds rows ``bounds[i]:bounds[i + 1]`` of `batch` to ``accumulators[i]``, for every
    `i`: the statistics of ``accumulators[i].add(batch.slice(bounds[i], ...))``.

    Args:
        accumulators: one per range, all of one spec.
        batch: the rows of every range, in order.
        bounds: ``len(accumulators) + 1`` increasing row numbers from 0 to
            ``batch.num_rows``.

    Raises:
        ValueError: `bounds` do not fit `batch` and `accumulators`.
        InvalidInputError: as :meth:`DatasetAccumulator.add`.
    """
    edges = np.asarray(bounds, dtype=np.int64)
    if (
        edges.size != len(accumulators) + 1
        or (edges.size and (edges[0] != 0 or edges[-1] != batch.num_rows))
        or np.any(np.diff(edges) < 0)
    ):
        raise ValueError(
            f"bounds must rise from 0 to {batch.num_rows} with one range per accumulator "
            f"({len(accumulators)}), got {list(bounds)[:10]}"
        )
    ranges = [
        (accumulator, int(start), int(stop))
        for accumulator, start, stop in zip(accumulators, edges[:-1], edges[1:], strict=True)
    ]
    if not ranges:
        return
    if not groups_flatten(batch, ranges[0][0]):
        for accumulator, start, stop in ranges:
            accumulator.add(batch.slice(start, stop - start))
        return
    for accumulator, start, stop in ranges:
        if stop == start:  # no rows, as added alone: the columns, of no values
            accumulator.add(batch.slice(start, 0))
    ranges = [(accumulator, start, stop) for accumulator, start, stop in ranges if stop > start]
    columns = list(flatten_batch(batch))
    # Each column's features, made here (the accumulators' dicts change in this thread only);
    # a column's work touches its features alone, so columns may be added on threads.
    features = [[accumulator._feature(c.path) for accumulator, _, _ in ranges] for c in columns]
    for accumulator, start, stop in ranges:
        accumulator.num_examples += stop - start
    # The ranges left are consecutive: range i is rows edges[i]:edges[i + 1].
    edges = np.array([start for _, start, _ in ranges] + [ranges[-1][2]], dtype=np.int64)
    detect_pii = ranges[0][0].spec.detect_pii
    jobs = [
        (_add_column, (position, column, targets, edges, detect_pii))
        for position, (column, targets) in enumerate(zip(columns, features, strict=True))
    ]
    each_feature(ranges[0][0].threads, jobs, batch.num_rows)


def _add_column(
    job: tuple[int, FeatureColumn, list[FeatureAccumulator], np.ndarray, bool],
) -> None:
    """Adds rows ``edges[i]:edges[i + 1]`` of one flattened column (at `position`) to
    ``features[i]``, for every `i`."""
    position, column, features, edges, detect_pii = job
    offset = np.concatenate(([0], np.cumsum(column.num_values)))
    distinct = (
        _distinct_parts(column.values, offset[edges], detect_pii)
        if column.kind in STRINGS
        and _plain_text(column.values.type)
        and not column.values.null_count
        and len(column.values) < _SMALL_PARTS * len(features)
        else None
    )
    bounds = edges.tolist()
    rows = zip(features, bounds[:-1], bounds[1:], strict=True)
    for index, (feature, start, stop) in enumerate(rows):
        first, last = int(offset[start]), int(offset[stop])
        part = FeatureColumn(
            column.path,
            column.kind,
            stop - start,
            column.present[start:stop],
            column.num_values[start:stop],
            column.values.slice(first, last - first),
            column.arrow_type,
            column.num_invalid,
        )
        feature.note_position(position)
        feature.add(part, distinct=None if distinct is None else distinct[index])


#: Values per range (on average) below which a group's string columns are encoded once for
#: all ranges: the encoding's hash table of a large group with many distinct values costs
#: more than the ranges' own (300,000 unique strings: 57 ms, against 10 x 3 ms in parts).
_SMALL_PARTS = 4096


def _distinct_parts(values: pa.Array, edges: np.ndarray, detect_pii: bool) -> list[DistinctValues]:
    """The distinct values of each part ``values[edges[i]:edges[i + 1]]`` of a string or
    bytes array without nulls, the batch encoded, hashed, measured and checked once."""
    encoded = pc.dictionary_encode(values)
    dictionary = encoded.dictionary
    size = len(dictionary)
    indices = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    width, parts = max(size, 1), edges.size - 1
    keys = np.repeat(np.arange(parts, dtype=np.int64) * width, np.diff(edges)) + indices
    if parts * width <= 16 * keys.size + 4096:  # a count per (part, value): no sort
        counts = np.bincount(keys, minlength=parts * width)
        keys = np.flatnonzero(counts)
        counts = counts[keys]
    else:
        keys, counts = np.unique(keys, return_counts=True)
    which = keys % width  # each part's distinct values, parts in order
    bounds = np.searchsorted(keys, np.arange(parts + 1, dtype=np.int64) * width)
    hashes = hash_array(dictionary)
    lengths = pc.binary_length(dictionary).to_numpy(zero_copy_only=False).astype(np.int64)
    invalid = invalid_utf8_mask(dictionary)
    kinds = None
    if detect_pii:
        kinds = {}
        for kind, at in positions(dictionary).items():
            mask = np.zeros(size, dtype=bool)
            mask[at] = True
            kinds[kind] = mask
    # Every part's values taken at once, in part order; each part is a slice of them.
    taken = dictionary.take(pa.array(which))
    hashes, lengths, invalid = hashes[which], lengths[which], invalid[which]
    if kinds is not None:
        kinds = {kind: mask[which] for kind, mask in kinds.items()}
    out = []
    for low, high in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        out.append(
            DistinctValues(
                taken.slice(low, high - low),
                counts[low:high],
                hashes[low:high],
                lengths[low:high],
                invalid[low:high],
                None if kinds is None else {kind: mask[low:high] for kind, mask in kinds.items()},
            )
        )
    return out
