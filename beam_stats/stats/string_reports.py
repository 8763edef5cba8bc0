"""The top values and rank histograms of string features, written as wire bytes.

A string feature's report lists its ``num_top_values`` most frequent values
(``string_stats.top_values``) and a rank histogram of up to ``num_rank_histogram_buckets``
(1,000) of them; a weighted feature lists the same of its weights in
``string_stats.weighted_string_stats``. Made value by value, that is a Python object per top
value and a message per bucket (about half a millisecond a feature under cProfile); a run of
1,000 slices does it for every string feature of every slice.

:func:`report_bytes` writes both fields of one feature or of many at once with numpy
(:func:`~beam_stats.sketches.wirebytes.message_entries`), given their ordered heads, and cuts
them into each feature's bytes, which its report parses in one ``MergeFromString``. The
message parsed is the one made value by value (tested byte for byte); its rank histogram is
written even without buckets (present and empty, as TFDV's is).

Every report is made so. :func:`prepare_reports` does it ahead for many features' ordinary
order at once (:mod:`beam_stats.stats.finishing`): their frequent items put in canonical order
with one sort (:func:`~beam_stats.sketches.frequent.order_many`), their values made text with
one conversion and written with one call, each feature's bytes kept as a
:class:`PreparedReport`. A categorical int feature (ties ordered as numbers), the weighted top
values and a feature not prepared are written one feature at a time by its report
(:meth:`~beam_stats.stats.strings.StringFamily.report`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa
from google.protobuf.descriptor import Descriptor
from numpy.typing import ArrayLike
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches.frequent import FrequentItemsAccumulator, order_many
from beam_stats.sketches.wirebytes import LENGTH_DELIMITED, message_entries, varint
from beam_stats.stats.histograms import rank_buckets
from beam_stats.stats.utf8 import printable


@dataclasses.dataclass(frozen=True)
class ReportFields:
    """The field numbers the top values and rank histogram of a message are written with: its
    ``top_values`` and ``rank_histogram``, and the ``value`` and ``frequency`` of a
    ``FreqAndValue`` entry."""

    top_values: int
    rank_histogram: int
    value: int
    frequency: int

    @classmethod
    def of(cls, message: Descriptor) -> ReportFields:
        """The numbers of `message`'s fields (from its descriptor)."""
        fields = message.fields_by_name
        entry_type = fields["top_values"].message_type
        if entry_type is None:
            raise ValueError(f"{message.full_name}.top_values is not a message field")
        entry = entry_type.fields_by_name
        return cls(
            fields["top_values"].number,
            fields["rank_histogram"].number,
            entry["value"].number,
            entry["frequency"].number,
        )


#: ``string_stats`` (``StringStatistics``) and ``string_stats.weighted_string_stats``.
STRING_FIELDS = ReportFields.of(statistics_pb2.StringStatistics.DESCRIPTOR)
WEIGHTED_FIELDS = ReportFields.of(statistics_pb2.WeightedStringStatistics.DESCRIPTOR)


def report_bytes(
    texts: pa.Array,
    counts: np.ndarray,
    lengths: ArrayLike,
    top: int,
    rank: int,
    fields: ReportFields = STRING_FIELDS,
) -> list[bytes]:
    """Each feature's top values and rank histogram as the wire bytes of a message of
    `fields` (:data:`STRING_FIELDS` or :data:`WEIGHTED_FIELDS`): the first `top` of its
    (text, count) pairs as ``top_values``, the first `rank` as the rank histogram's buckets
    (the histogram written even without buckets).

    The features' pairs are given concatenated, each feature's in order (count descending):
    `texts` (string or binary, UTF-8), `counts` (float64) and `lengths`, how many pairs each
    feature has.

    Raises:
        ValueError: the texts are not valid UTF-8 (a proto string must be) or neither strings
            nor binaries, the lengths do not add up to the pairs, or `top` or `rank` is
            negative.
    """
    if top < 0 or rank < 0:
        raise ValueError(f"top and rank must be >= 0, got {top} and {rank}")
    lengths = np.asarray(lengths, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    if not len(texts) == len(counts) == int(lengths.sum()):
        raise ValueError(
            f"expected as many texts as counts as lengths add up to, got {len(texts)}, "
            f"{len(counts)} and {int(lengths.sum())}"
        )
    if pa.types.is_binary(texts.type):  # checked: ArrowInvalid (a ValueError) if not UTF-8
        texts = texts.cast(pa.string())
    elif pa.types.is_large_binary(texts.type):
        texts = texts.cast(pa.large_string())
    n = len(texts)
    if lengths.size == 1:  # one feature: its first rows, its bytes in one piece
        tops: slice | np.ndarray = slice(0, min(n, top))
        ranked: slice | np.ndarray = slice(0, min(n, rank))
        ranks = np.arange(min(n, rank), dtype=np.int64)
    else:
        starts = np.cumsum(lengths) - lengths
        position = np.arange(n, dtype=np.int64) - np.repeat(starts, lengths)
        tops, ranked = np.flatnonzero(position < top), np.flatnonzero(position < rank)
        ranks = position[ranked]
    top_counts = counts[tops]
    top_bytes, top_ends = message_entries(
        fields.top_values,
        len(top_counts),
        [(fields.value, _rows(texts, tops)), (fields.frequency, top_counts)],
    )
    rank_bytes, rank_ends = rank_buckets(_rows(texts, ranked), counts[ranked], ranks)
    rank_tag = varint(fields.rank_histogram << 3 | LENGTH_DELIMITED)
    if lengths.size == 1:
        top_cuts, rank_cuts = [0, top_bytes.size], [0, rank_bytes.size]
    else:
        top_cuts = _cuts(top_ends, np.minimum(lengths, top))
        rank_cuts = _cuts(rank_ends, np.minimum(lengths, rank))
    out = []
    for i in range(len(lengths)):
        histogram = rank_bytes[rank_cuts[i] : rank_cuts[i + 1]].tobytes()
        entries = top_bytes[top_cuts[i] : top_cuts[i + 1]].tobytes()
        out.append(b"".join((entries, rank_tag, varint(len(histogram)), histogram)))
    return out


def _rows(values: pa.Array, rows: slice | np.ndarray) -> pa.Array:
    """`values`' `rows`: a slice (not a copy), or increasing indices."""
    if isinstance(rows, slice):
        return values.slice(rows.start, rows.stop - rows.start)
    return values.take(rows)


def _cuts(ends: np.ndarray, counts: np.ndarray) -> list[int]:
    """Where each feature's bytes start, and the last one's end: entry ends `ends`, the
    features having `counts` entries each, in order."""
    bounds = np.concatenate(([0], np.asarray(ends, dtype=np.int64)))
    return bounds[np.concatenate(([0], np.cumsum(counts)))].tolist()  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class PreparedReport:
    """A string feature's top values and rank histogram written ahead
    (:func:`prepare_reports`), for the frequent items `entries` (the very arrays: any change
    replaces them) with `top` values and `rank` buckets: the ``string_stats`` bytes `data`."""

    entries: tuple[pa.Array, np.ndarray]
    top: int
    rank: int
    data: bytes


class Reported(Protocol):
    """What :func:`prepare_reports` reads and sets of a feature's state (a
    :class:`~beam_stats.stats.strings.StringAccumulator`)."""

    top_values: FrequentItemsAccumulator
    prepared: PreparedReport | None


def prepare_reports(strings: Sequence[Reported], top: int, rank: int) -> None:
    """Sets each state's ``prepared`` report (`top` values, `rank` buckets, ties as bytes),
    all written at once; what its report makes alone (see the module docstring)."""
    order_many([string.top_values for string in strings])
    strings = [string for string in strings if len(string.top_values.entries[0])]
    if not strings:
        return
    heads = [string.top_values.top_arrays(max(top, rank)) for string in strings]
    lengths = np.fromiter((len(values) for values, _ in heads), np.int64, len(heads))
    texts = printable(pa.concat_arrays([values for values, _ in heads]))
    counts = np.maximum(np.concatenate([lowers for _, lowers in heads]), 1.0)
    reports = report_bytes(texts, counts, lengths, top, rank)
    for string, data in zip(strings, reports, strict=True):
        string.prepared = PreparedReport(string.top_values.entries, top, rank, data)
