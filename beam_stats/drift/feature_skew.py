"""Feature skew by key: the same example in two datasets (base and test), feature by feature.

Rows of both datasets are keyed by their identifier feature(s). An identifier with exactly one
row on each side is *joined*, and each feature (top-level column) of the pair is compared:
present on both sides (not null; an empty list is present), a match when the values are equal
and a mismatch otherwise; present on one side only, ``base_only`` or ``test_only``.

Equality: floats, and an int against a float, when ``|a - b| <= max(absolute_tolerance,
relative_tolerance * max(|a|, |b|))`` or both are NaN (an infinity equals only itself); ints,
strings, bytes and booleans exactly (a string equals its UTF-8 bytes); timestamps, dates, times
and durations as the instants or spans they are, whatever their unit
(:mod:`beam_stats.drift.skew_types`); lists when of equal
length and equal element by element (nulls equal only nulls; nested lists alike); structs
field by field; a list of one value and that value alike, so a TFRecord file (whose features
are all lists) compares with a Parquet or CSV one. Values of different kinds (a string
against an int) differ.

Identifiers are equal when their values are, kind included (a list of one value is that
value): the int 5, the float 5.0 and the string "5" are three identifiers (booleans are ints;
timestamps and dates are instants, so units and zones do not matter, see
:mod:`beam_stats.drift.skew_types`; other types compare as their Arrow text).
Counted, never dropped: rows whose identifier is null in an identifier feature, or whose
batch lacks one (``*_null_ids``, rows); distinct identifiers on one side only
(``*_only_ids``); identifiers with several rows on a side (``*_duplicate_ids``,
``*_duplicate_rows``). A duplicated identifier cannot be paired
unambiguously, so it is never compared (``duplicate_ids_skipped``: those on both sides).
Hence, per side, ``rows = null_ids + distinct - duplicate_ids + duplicate_rows`` and
``distinct = only_ids + joined + duplicate_ids_skipped``.

How, vectorised: :func:`identifier_keys` encodes the identifier columns of a batch into one
order-preserving binary key per row (a kind tag, then ints and floats as 8 big-endian bytes
with the sign handled, strings with escaped NULs and a terminator); :func:`split_batch`
hashes the keys into ``num_shards`` shards and splits the batch into one sub-batch per shard,
so all rows of an identifier, from either side, meet in one shard.
:meth:`FeatureSkewAccumulator.add` joins a shard with Arrow (group by key, inner join of the
groups) and compares each feature column of the pairs at once. Samples are the mismatches of
the smallest keys, ``sample_size`` per feature, kept through merges (a bounded top), so they
do not depend on the order of shards. Memory: one shard, ``rows / num_shards`` of each side.

Privacy (``FeatureSkewSpec.privacy``): values are compared as read; the samples keep only
what the policy lets through (:mod:`beam_stats.drift.skew_samples`).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from google.protobuf.descriptor import FieldDescriptor

from beam_stats.drift.skew_samples import Sample, json_text, kept_samples, make_samples
from beam_stats.drift.skew_types import TEMPORAL, common_temporal, kind, micros
from beam_stats.errors import InvalidInputError
from beam_stats.pandas_free import python_values
from beam_stats.proto import skew_pb2
from beam_stats.sketches.hashing import hash_array
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import row_policy

Bools = npt.NDArray[np.bool_]
#: The identifier keys of some rows and the rows (columns: identifiers and features).
Part = tuple[pa.Array, pa.RecordBatch]

# Plain bytes, made Arrow scalars where used: pa.scalar at import would import pandas.
_INT, _FLOAT, _BYTES, _TEXT = (bytes([t]) for t in (1, 2, 3, 4))
_TEMPORAL_TAGS = {k: bytes([5 + i]) for i, k in enumerate(TEMPORAL)}
_END, _EMPTY = b"\x00\x00", b""
_SIGN = np.uint64(1 << 63)
_RESULT_COUNTS = [
    f.name
    for f in skew_pb2.FeatureSkewResult.DESCRIPTOR.fields
    if f.type == FieldDescriptor.TYPE_UINT64
]
_FEATURE_COUNTS = (
    "base_count", "test_count", "match_count", "mismatch_count", "base_only", "test_only",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class FeatureSkewSpec:
    """What to join on and compare, and how (see the module docstring).

    Args:
        identifier_features: the column(s) that identify an example on both sides.
        features: the columns to compare (default: every column but the identifiers).
        relative_tolerance, absolute_tolerance: of float comparisons.
        sample_size: mismatched pairs kept per feature (those of the smallest identifiers).
        num_shards: hash partitions of the join; a shard's rows are held in memory at once.
        privacy: what the samples keep of the values (see the module docstring).
    """

    identifier_features: tuple[str, ...]
    features: tuple[str, ...] | None = None
    relative_tolerance: float = 1e-6
    absolute_tolerance: float = 1e-6
    sample_size: int = 10
    num_shards: int = 512
    privacy: PrivacySpec = dataclasses.field(default_factory=PrivacySpec)

    def __post_init__(self) -> None:
        row_policy(self.privacy)
        if isinstance(self.identifier_features, str):  # one name, not its letters
            object.__setattr__(self, "identifier_features", (self.identifier_features,))
        if self.features is not None:
            object.__setattr__(self, "features", tuple(self.features))
        ids = self.identifier_features
        if not ids or not all(isinstance(i, str) and i for i in ids) or len(set(ids)) < len(ids):
            raise InvalidInputError(f"identifier features must be distinct names, got {ids!r}")
        if self.features is not None and set(self.features) & set(ids):
            raise InvalidInputError(f"features {self.features!r} include an identifier feature")
        tolerances = (self.relative_tolerance, self.absolute_tolerance)
        if not all(math.isfinite(t) and t >= 0 for t in tolerances):
            raise InvalidInputError(f"float tolerances must be finite and >= 0, got {tolerances}")
        if self.sample_size < 0 or self.num_shards < 1:
            raise InvalidInputError(
                f"sample_size must be >= 0 and num_shards >= 1, got {self.sample_size}, "
                f"{self.num_shards}"
            )


def _fixed(tag: bytes, bits: npt.NDArray[np.uint64], values: pa.Array) -> pa.Array:
    """tag + 8 big-endian bytes per value, null where `values` is."""
    n = len(bits)
    data = np.empty((n, 9), dtype=np.uint8)
    data[:, 0] = tag[0]
    data[:, 1:] = bits.astype(">u8").view(np.uint8).reshape(n, 8)
    offsets = pa.py_buffer(np.arange(0, 9 * n + 1, 9, dtype=np.int64).tobytes())
    out = pa.Array.from_buffers(pa.large_binary(), n, [None, offsets, pa.py_buffer(data)])
    return pc.if_else(values.is_valid(), out, None) if values.null_count else out


def _single_values(values: pa.Array) -> tuple[Bools, pa.Array]:
    """Of a list array: which rows hold exactly one value, and that value per row (null in
    the other rows)."""
    single = np.asarray(pc.fill_null(pc.list_value_length(values), 0)) == 1
    flat = pc.list_flatten(values)
    parents = np.asarray(pc.list_parent_indices(values), dtype=np.int64)
    index = np.full(len(values), -1, dtype=np.int64)
    first = single[parents]
    index[parents[first]] = np.flatnonzero(first)
    return single, flat.take(pa.array(index, mask=index < 0))


def _encode(values: pa.Array) -> pa.Array:
    """One identifier column as order-preserving binary keys (see the module docstring)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    t = values.type
    if kind(t) == "list" and not pa.types.is_nested(t.value_type):
        # A list of one value (every TFRecord feature is a list) is that value, so it joins
        # the same identifier of a Parquet or CSV file.
        single, value = _single_values(values)
        if single.all():
            return _encode(value)
        return pc.if_else(pa.array(single), _encode(value), _encode_plain(values))
    return _encode_plain(values)


def _encode_plain(values: pa.Array) -> pa.Array:
    t = values.type
    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.large_binary())
    if pa.types.is_integer(t) or pa.types.is_boolean(t):
        # uint64 keeps its bits: one-to-one, though above 2**63 it sorts before 0.
        ints = np.asarray(pc.fill_null(values.cast(pa.int64(), safe=False), 0))
        return _fixed(_INT, ints.view(np.uint64) ^ _SIGN, values)
    if (temporal := kind(t)) in TEMPORAL:
        ticks = np.asarray(pc.fill_null(micros(values), 0))
        return _fixed(_TEMPORAL_TAGS[temporal], ticks.view(np.uint64) ^ _SIGN, micros(values))
    if pa.types.is_floating(t):
        floats = np.asarray(pc.fill_null(values.cast(pa.float64()), 0.0)) + 0.0  # -0.0 is 0.0
        floats[np.isnan(floats)] = np.nan  # one NaN
        bits = floats.view(np.uint64)
        return _fixed(_FLOAT, np.where(bits >= _SIGN, ~bits, bits | _SIGN), values)
    tag = _BYTES if kind(t) == "bytes" else _TEXT
    try:
        raw = values.cast(pa.large_binary() if tag == _BYTES else pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # nested: Python, rare
        raw = pa.array([None if v is None else json_text(v) for v in python_values(values)])
    escaped = pc.replace_substring(raw.cast(pa.large_binary()), b"\x00", b"\x00\xff")
    first, end, empty = (pa.scalar(part, pa.large_binary()) for part in (tag, _END, _EMPTY))
    return pc.binary_join_element_wise(first, escaped, end, empty)


def identifier_keys(batch: pa.RecordBatch, identifiers: Sequence[str]) -> pa.Array:
    """One large_binary key per row of `batch`: null where an identifier is null or absent."""
    parts = []
    for name in identifiers:
        index = batch.schema.get_field_index(name)
        if index < 0:
            return pa.nulls(batch.num_rows, pa.large_binary())
        parts.append(_encode(batch.column(index)))
    empty = pa.scalar(_EMPTY, pa.large_binary())
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, empty)


def split_batch(batch: pa.RecordBatch, spec: FeatureSkewSpec) -> tuple[int, list[tuple[int, Part]]]:
    """The number of rows without an identifier, and ``(shard, (keys, rows))`` for the others.

    The rows keep the identifier and feature columns only; each part is a compact copy, so it
    serialises small. Rows of one identifier always go to the same shard.
    """
    keep = [n for n in batch.schema.names if spec.features is None or n in spec.features]
    keep += [n for n in spec.identifier_features if n in batch.schema.names and n not in keep]
    rows = batch.select(keep)
    keys = identifier_keys(batch, spec.identifier_features)
    nulls = keys.null_count
    if nulls:
        valid = keys.is_valid()
        keys, rows = keys.filter(valid), rows.filter(valid)
    shards = (hash_array(keys) % np.uint64(spec.num_shards)).astype(np.int64)
    order = np.argsort(shards, kind="stable")
    bounds = [0, *(np.flatnonzero(np.diff(shards[order])) + 1).tolist(), len(order)]
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if stop > start:
            take = pa.array(order[start:stop])
            parts.append((int(shards[order[start]]), (keys.take(take), rows.take(take))))
    return nulls, parts


def _column(batches: Sequence[pa.RecordBatch], name: str) -> pa.Array:
    """A column over several batches; nulls where a batch lacks it; types unified."""
    chunks = []
    for batch in batches:
        index = batch.schema.get_field_index(name)
        chunk = batch.column(index) if index >= 0 else pa.nulls(batch.num_rows)
        chunks.append(chunk.dictionary_decode() if pa.types.is_dictionary(chunk.type) else chunk)
    types = list(dict.fromkeys(c.type for c in chunks if not pa.types.is_null(c.type)))
    if len({kind(t) == "list" for t in types}) > 1:
        # Lists in one file (TFRecord), scalars in another: a scalar is a list of one value.
        chunks = [_as_list(c) for c in chunks]
        types = list(dict.fromkeys(c.type for c in chunks if not pa.types.is_null(c.type)))
    if len(types) > 1 and (temporal := common_temporal(chunks)) is not None:
        chunks = temporal  # timestamp[s] in one file, timestamp[ns] in another: one instant
    elif len(types) > 1:
        try:
            schemas = [pa.schema([("v", t)]) for t in types]
            target = pa.unify_schemas(schemas, promote_options="permissive").field(0).type
            chunks = [c.cast(target) for c in chunks]
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            # Types that do not unify (a string in one file, a list in another): JSON text.
            text = [None if v is None else json_text(v) for c in chunks for v in python_values(c)]
            return pa.array(text, pa.large_string())
    elif types:
        chunks = [c.cast(types[0]) for c in chunks]
    return pa.concat_arrays(chunks) if chunks else pa.nulls(0)


def _as_list(values: pa.Array) -> pa.Array:
    """Each non-null value as a list of one; null stays null."""
    if kind(values.type) == "list" or pa.types.is_null(values.type):
        return values
    offsets = pa.array(np.arange(len(values) + 1, dtype=np.int64))
    return pa.LargeListArray.from_arrays(offsets, values, mask=values.is_null())


def _filled(mask: pa.Array) -> Bools:
    return np.asarray(pc.fill_null(mask, False), dtype=bool)


def values_equal(a: pa.Array, b: pa.Array, spec: FeatureSkewSpec) -> Bools:
    """Row by row equality of two arrays of equal length (False where either is null)."""
    a, b = (v.dictionary_decode() if pa.types.is_dictionary(v.type) else v for v in (a, b))
    this, other = kind(a.type), kind(b.type)
    if this != other and "list" in (this, other):  # a list of one value equals that value
        listed, scalar = (a, b) if this == "list" else (b, a)
        single, value = _single_values(listed)
        return single & values_equal(value, scalar, spec)
    if this != other:
        return np.zeros(len(a), dtype=bool)
    if this == "number":
        if pa.types.is_integer(a.type) and pa.types.is_integer(b.type):
            return _filled(pc.equal(a, b))
        x = np.asarray(pc.fill_null(a.cast(pa.float64(), safe=False), math.nan))
        y = np.asarray(pc.fill_null(b.cast(pa.float64(), safe=False), math.nan))
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf; nulls are NaN here
            largest = np.maximum(np.abs(x), np.abs(y))
            bound = np.maximum(spec.absolute_tolerance, spec.relative_tolerance * largest)
            close = np.isfinite(x) & np.isfinite(y) & (np.abs(x - y) <= bound)
            same: Bools = (x == y) | (np.isnan(x) & np.isnan(y)) | close
        return same & _filled(a.is_valid()) & _filled(b.is_valid())
    if this == "bytes":
        return _filled(pc.equal(a.cast(pa.large_binary()), b.cast(pa.large_binary())))
    if this in TEMPORAL and a.type != b.type:  # one scale (see skew_types)
        return _filled(pc.equal(micros(a), micros(b)))
    if this == "list":
        la = np.asarray(pc.fill_null(pc.list_value_length(a), -1))
        lb = np.asarray(pc.fill_null(pc.list_value_length(b), -2))
        rows = np.flatnonzero(la == lb)
        a_rows, b_rows = a.take(pa.array(rows)), b.take(pa.array(rows))
        same = _elements_equal(pc.list_flatten(a_rows), pc.list_flatten(b_rows), spec)
        parents = np.asarray(pc.list_parent_indices(a_rows), dtype=np.int64)
        bad = np.bincount(parents[~same], minlength=len(rows)) > 0
        out = np.zeros(len(a), dtype=bool)
        out[rows] = ~bad
        return out
    if this == "struct":
        names_a, names_b = [f.name for f in a.type], [f.name for f in b.type]
        out = _filled(a.is_valid()) & _filled(b.is_valid())
        if sorted(names_a) != sorted(names_b):
            return out & False
        fields_a, fields_b = dict(zip(names_a, a.flatten(), strict=True)), b.flatten()
        for name, field_b in zip(names_b, fields_b, strict=True):
            out &= _elements_equal(fields_a[name], field_b, spec)
        return out
    try:
        return _filled(pc.equal(a, b))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # Python, rare
        pairs = zip(python_values(a), python_values(b), strict=True)
        return np.array([x is not None and x == y for x, y in pairs], dtype=bool)


def _elements_equal(a: pa.Array, b: pa.Array, spec: FeatureSkewSpec) -> Bools:
    """Like values_equal, but two nulls are equal (list elements, struct fields)."""
    return values_equal(a, b, spec) | (_filled(a.is_null()) & _filled(b.is_null()))


def _groups(keys: pa.Array, side: str) -> pa.Table:
    """Per distinct key: its number of rows and its first row (columns k, SIDEn, SIDEi)."""
    rows = pa.table({"k": keys, "i": pa.array(np.arange(len(keys), dtype=np.int64))})
    groups = rows.group_by("k", use_threads=False).aggregate([("i", "count"), ("i", "min")])
    return groups.rename_columns(["k", f"{side}n", f"{side}i"])


class FeatureSkewAccumulator:
    """Counts and samples of feature skew; mergeable (sums, and the smallest samples)."""

    def __init__(self, spec: FeatureSkewSpec) -> None:
        self.spec = spec
        self.counts = dict.fromkeys(_RESULT_COUNTS, 0)
        self.features: dict[str, list[int]] = {}  # feature -> counts in _FEATURE_COUNTS order
        self.samples: dict[str, list[Sample]] = {}
        for name in spec.features or ():
            self._feature(name)

    def _feature(self, name: str) -> list[int]:
        self.samples.setdefault(name, [])
        return self.features.setdefault(name, [0] * len(_FEATURE_COUNTS))

    def add_null_ids(self, base_rows: int, test_rows: int) -> None:
        """Counts rows whose identifier is missing."""
        for side, rows in (("base", base_rows), ("test", test_rows)):
            self.counts[f"{side}_null_ids"] += rows
            self.counts[f"{side}_rows"] += rows

    def add(self, base: Sequence[Part], test: Sequence[Part]) -> None:
        """Joins and compares one shard: every row of its identifiers, from both sides."""
        c, ids = self.counts, self.spec.identifier_features
        none = [pa.array([], pa.large_binary())]
        base_keys, test_keys = (pa.concat_arrays([k for k, _ in s] or none) for s in (base, test))
        groups_b, groups_t = _groups(base_keys, "b"), _groups(test_keys, "t")
        both = groups_b.join(groups_t, "k", join_type="inner", use_threads=False)
        c["base_rows"] += len(base_keys)
        c["test_rows"] += len(test_keys)
        for side, groups in (("base", groups_b), ("test", groups_t)):
            n = np.asarray(groups.column(f"{side[0]}n"))
            c[f"{side}_duplicate_ids"] += int(np.count_nonzero(n > 1))
            c[f"{side}_duplicate_rows"] += int(n[n > 1].sum())
            c[f"{side}_only_ids"] += groups.num_rows - both.num_rows
        single = _filled(pc.and_(pc.equal(both["bn"], 1), pc.equal(both["tn"], 1)))
        pairs = both.filter(pa.array(single))
        pairs = pairs.take(pc.sort_indices(pairs["k"]))  # smallest keys first: the samples
        c["joined"] += pairs.num_rows
        c["duplicate_ids_skipped"] += both.num_rows - pairs.num_rows
        base_rows, test_rows = [b for _, b in base], [t for _, t in test]
        b_index, t_index = pairs["bi"].combine_chunks(), pairs["ti"].combine_chunks()
        names = self.spec.features or sorted(
            {n for batch in base_rows + test_rows for n in batch.schema.names} - set(ids)
        )
        for name in names:
            b = _column(base_rows, name).take(b_index)
            t = _column(test_rows, name).take(t_index)
            in_b, in_t = _filled(b.is_valid()), _filled(t.is_valid())
            same = values_equal(b, t, self.spec)
            differ = in_b & in_t & ~same
            counts = (in_b, in_t, in_b & in_t & same, differ, in_b & ~in_t, ~in_b & in_t)
            feature = self._feature(name)
            for i, mask in enumerate(counts):
                feature[i] += int(np.count_nonzero(mask))
            kept = kept_samples(self.spec.privacy, self.spec.sample_size, name)
            picked = pa.array(np.flatnonzero(differ)[:kept])
            if len(picked):  # the pairs are sorted by key: these are the smallest
                in_base = b_index.take(picked)
                id_columns = {i: _column(base_rows, i).take(in_base) for i in ids}
                pair = (pairs["k"].take(picked), b.take(picked), t.take(picked))
                self._keep(name, make_samples(self.spec.privacy, name, id_columns, *pair))

    def _keep(self, name: str, new: Iterable[Sample]) -> None:
        self.samples[name] = heapq.nsmallest(self.spec.sample_size, [*self.samples[name], *new])

    def merge(self, other: FeatureSkewAccumulator) -> None:
        """Adds `other` (of another set of identifiers) into this accumulator."""
        for key, value in other.counts.items():
            self.counts[key] += value
        for name, theirs in other.features.items():
            ours = self._feature(name)
            for i, value in enumerate(theirs):
                ours[i] += value
            self._keep(name, other.samples[name])

    def to_proto(self) -> skew_pb2.FeatureSkewResult:
        """The result: counts, and per feature (by name) its counts and samples."""
        spec = self.spec
        out = skew_pb2.FeatureSkewResult(
            float_tolerance=spec.relative_tolerance,
            float_absolute_tolerance=spec.absolute_tolerance,
            identifier_features=spec.identifier_features,
        )
        for key, value in self.counts.items():
            setattr(out, key, value)
        for name in sorted(self.features):
            counts = dict(zip(_FEATURE_COUNTS, self.features[name], strict=True))
            feature = out.features.add(feature=name, **counts)
            for sort_key, identifier, base, test in self.samples[name]:
                feature.samples.add(
                    identifier=identifier, base_value=base, test_value=test, key=sort_key
                )
        return out

    @classmethod
    def from_proto(
        cls, message: skew_pb2.FeatureSkewResult, spec: FeatureSkewSpec
    ) -> FeatureSkewAccumulator:
        """The accumulator of a result (lossless: ``from_proto(to_proto(a))`` merges like a)."""
        accumulator = cls(spec)
        accumulator.counts = {name: getattr(message, name) for name in _RESULT_COUNTS}
        for feature in message.features:
            accumulator.features[feature.feature] = [getattr(feature, n) for n in _FEATURE_COUNTS]
            accumulator.samples[feature.feature] = [
                (s.key, s.identifier, s.base_value, s.test_value) for s in feature.samples
            ]
        return accumulator


def feature_skew(
    base: Iterable[pa.RecordBatch], test: Iterable[pa.RecordBatch], spec: FeatureSkewSpec
) -> skew_pb2.FeatureSkewResult:
    """Feature skew of in-memory batches: what ``DetectFeatureSkew`` computes on Beam."""
    accumulator = FeatureSkewAccumulator(spec)
    shards: dict[int, tuple[list[Part], list[Part]]] = {}
    for side, batches in enumerate((base, test)):
        for batch in batches:
            nulls, parts = split_batch(batch, spec)
            accumulator.add_null_ids(*((nulls, 0) if side == 0 else (0, nulls)))
            for shard, part in parts:
                shards.setdefault(shard, ([], []))[side].append(part)
    for base_parts, test_parts in shards.values():
        accumulator.add(base_parts, test_parts)
    return accumulator.to_proto()
