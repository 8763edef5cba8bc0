"""The top values and rank histograms of many string features written at once.

A string feature's report lists its ``num_top_values`` most frequent values
(``string_stats.top_values``) and a rank histogram of up to ``num_rank_histogram_buckets``
(1,000) of them. Made one feature at a time, that is a conversion of the values to text, a
Python object per top value and a histogram's bytes (about half a millisecond under
cProfile); a run of 1,000 slices does it for every string feature of every slice.
:func:`prepare_reports` does it for many features in one pass: their frequent items put in
canonical order with one sort (:func:`~beam_stats.sketches.frequent.order_many`), their
values made text with one conversion, and both fields of all of them written with numpy
(:func:`~beam_stats.sketches.wirebytes.message_entries`), then cut into each feature's
bytes (a :class:`~beam_stats.stats.strings.PreparedReport`), which its report parses in one
call. The message parsed is the one made value by value (tested byte for byte).

Only the ordinary order is prepared: a categorical int feature orders ties as numbers, and
the weighted top values are made per feature, as before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches.frequent import order_many
from beam_stats.sketches.wirebytes import LENGTH_DELIMITED, message_entries, varint
from beam_stats.stats.histograms import rank_buckets
from beam_stats.stats.strings import PreparedReport, StringAccumulator, printable

_FIELDS = statistics_pb2.StringStatistics.DESCRIPTOR.fields_by_name
_TOP = _FIELDS["top_values"].number
_RANK_TAG = varint(_FIELDS["rank_histogram"].number << 3 | LENGTH_DELIMITED)
_ENTRY = statistics_pb2.StringStatistics.FreqAndValue.DESCRIPTOR.fields_by_name
_VALUE, _FREQUENCY = _ENTRY["value"].number, _ENTRY["frequency"].number


def prepare_reports(strings: list[StringAccumulator], top: int, rank: int) -> None:
    """Sets each accumulator's ``prepared`` report (`top` values, `rank` buckets), all
    written at once; what its report makes alone (see the module docstring)."""
    order_many([string.top_values for string in strings])
    strings = [string for string in strings if len(string.top_values.entries[0])]
    if not strings:
        return
    frequent = [string.top_values for string in strings]
    k = max(top, rank)
    heads = [f.top_arrays(k) for f in frequent]  # slices of the canonical order
    lengths = np.fromiter((len(values) for values, _ in heads), np.int64, len(heads))
    texts = printable(pa.concat_arrays([values for values, _ in heads]))
    counts = np.maximum(np.concatenate([lowers for _, lowers in heads]), 1.0)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(len(texts), dtype=np.int64) - np.repeat(starts, lengths)
    tops = np.flatnonzero(position < top)
    top_bytes, top_ends = message_entries(
        _TOP, len(tops), [(_VALUE, texts.take(tops)), (_FREQUENCY, counts[tops])]
    )
    ranked = np.flatnonzero(position < rank)
    rank_bytes, rank_ends = rank_buckets(texts.take(ranked), counts[ranked], position[ranked])
    top_cuts = _cuts(top_ends, np.minimum(lengths, top))
    rank_cuts = _cuts(rank_ends, np.minimum(lengths, rank))
    for i, string in enumerate(strings):
        histogram = rank_bytes[rank_cuts[i] : rank_cuts[i + 1]].tobytes()
        data = b"".join(
            (
                top_bytes[top_cuts[i] : top_cuts[i + 1]].tobytes(),
                _RANK_TAG,
                varint(len(histogram)),
                histogram,
            )
        )
        string.prepared = PreparedReport(string.top_values.entries, top, rank, data)


def _cuts(ends: np.ndarray, counts: np.ndarray) -> list[int]:
    """Where each feature's bytes start, and the last one's end: entry ends `ends`, the
    features having `counts` entries each, in order."""
    bounds = np.concatenate(([0], np.asarray(ends, dtype=np.int64)))
    return bounds[np.concatenate(([0], np.cumsum(counts)))].tolist()  # type: ignore[no-any-return]
