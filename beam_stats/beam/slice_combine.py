"""The combine of each slice key, keeping apart the rows the whole dataset merges.

Each element of the sliced combine is ``(key, (slot, rows))``: rows of a slice that the whole
dataset counts through its slices (:data:`MERGED`: the batch was partitioned by them, see
:meth:`~beam_stats.stats.slicing.SliceCounter.partition`), rows of a slice that the whole
dataset counts itself (:data:`APART`), or, under the whole dataset's key, a batch it counts
itself (:data:`WHOLE`). :class:`SliceCombineFn` keeps one
:class:`~beam_stats.beam.combine.StatisticsCombineFn` accumulator per slot and gives a
:class:`SliceOutput`: a slice's finished dataset (both its slots merged) and the state of its
merged slot, or the whole dataset's own state; :func:`finish_whole` then merges those states
into the whole dataset where the slices are gathered. So every row is counted once in the
whole and once in each of its slices, whatever the batches hold.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, NamedTuple

import apache_beam as beam
import pyarrow as pa

from beam_stats.beam.combine import DatasetAccumulatorCoder, StatisticsCombineFn, flushed
from beam_stats.stats import DatasetAccumulator, StatisticsSpec, wire

MERGED, APART, WHOLE = 0, 1, 2
_SLOTS = 3
_LENGTH = struct.Struct("<Q")

Parts = list[DatasetAccumulator | None]  # one accumulator per slot, None until used


class SliceOutput(NamedTuple):
    """What one key's combine gives: the state the whole dataset merges (a slice's merged
    slot, or the whole dataset's own rows), and a slice's finished dataset (None for the
    whole dataset's key)."""

    share: bytes | None
    dataset: wire.DatasetBytes | None


def _is_empty(accumulator: DatasetAccumulator | None) -> bool:
    return accumulator is None or (accumulator.num_examples == 0 and not accumulator.features)


class SliceCombineFn(beam.CombineFn):
    """``(slot, record batch)`` in, a :class:`SliceOutput` out (see the module docstring)."""

    def __init__(self, spec: StatisticsSpec, include_state: bool = True) -> None:
        super().__init__()
        self._spec, self._include_state = spec, include_state
        self._slot = StatisticsCombineFn(spec, "", include_state)

    def create_accumulator(self) -> Parts:
        return [None] * _SLOTS

    def add_input(self, parts: Parts, element: tuple[int, pa.RecordBatch]) -> Parts:
        slot, batch = element
        accumulator = parts[slot] or self._slot.create_accumulator()
        parts[slot] = self._slot.add_input(accumulator, batch)
        return parts

    def compact(self, accumulator: Parts, *args: Any, **kwargs: Any) -> Parts:
        return [None if part is None else self._slot.compact(part) for part in accumulator]

    def merge_accumulators(self, accumulators: Iterable[Parts], *args: Any, **kwargs: Any) -> Parts:
        every = list(accumulators)
        merged: Parts = []
        for slot in range(_SLOTS):
            parts = [p[slot] for p in every if p[slot] is not None]
            merged.append(self._slot.merge_accumulators(parts) if parts else None)  # type: ignore[arg-type]
        return merged

    def extract_output(self, accumulator: Parts, *args: Any, **kwargs: Any) -> SliceOutput:
        merged, apart, whole = (None if p is None else flushed(p) for p in accumulator)
        if whole is not None:  # the whole dataset's key
            return SliceOutput(wire.to_bytes(whole), None)
        share = None if merged is None or _is_empty(merged) else wire.to_bytes(merged)
        if merged is not None and apart is not None:
            merged.merge(apart)
        finished = merged or apart or DatasetAccumulator(self._spec)
        return SliceOutput(share, wire.dataset_bytes(finished, "", self._include_state))

    def get_accumulator_coder(self) -> SlicePartsCoder:
        return SlicePartsCoder(self._spec)


class SlicePartsCoder(beam.coders.Coder):
    """The accumulators of one key's slots, each as
    :class:`~beam_stats.beam.combine.DatasetAccumulatorCoder` encodes it."""

    def __init__(self, spec: StatisticsSpec) -> None:
        self._spec = spec
        self._one = DatasetAccumulatorCoder(spec)

    def encode(self, value: Parts) -> bytes:
        out: list[bytes] = []
        for part in value:
            data = b"" if part is None else self._one.encode(part)
            out += [b"\x00" if part is None else b"\x01", _LENGTH.pack(len(data)), data]
        return b"".join(out)

    def decode(self, encoded: bytes) -> Parts:
        view, at, parts = memoryview(encoded), 0, []
        while at < len(view):
            present = view[at]
            (length,) = _LENGTH.unpack_from(view, at + 1)
            at += 1 + _LENGTH.size
            part = self._one.decode(bytes(view[at : at + length])) if present else None
            parts.append(part)
            at += length
        return parts

    def estimate_size(self, value: Parts) -> int:
        framing = len(value) * (1 + _LENGTH.size)
        return framing + sum(self._one.estimate_size(p) for p in value if p is not None)

    def is_deterministic(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlicePartsCoder) and other._spec == self._spec

    def __hash__(self) -> int:
        return hash((type(self), self._spec))


def finish_whole(
    outputs: list[tuple[str, SliceOutput]], whole: str, spec: StatisticsSpec, include_state: bool
) -> list[tuple[str, wire.DatasetBytes]]:
    """The finished datasets of every key: the slices', and the whole dataset's, merged from
    its own state and its slices' shares (none if there was no data)."""
    datasets = [(key, out.dataset) for key, out in outputs if out.dataset is not None]
    accumulator: DatasetAccumulator | None = None
    for _, out in outputs:
        if out.share is not None:
            share = wire.from_bytes(out.share, spec)
            if accumulator is None:
                accumulator = share
            else:
                accumulator.merge(share)
    if accumulator is not None:
        datasets.append((whole, wire.dataset_bytes(accumulator, "", include_state)))
    return datasets
