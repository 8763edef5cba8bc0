"""The statistics of a dataset and its slices in one process, without Beam.

:class:`SlicedAccumulators` keeps one accumulator per slice key and one of the whole dataset,
joining each key's small parts before they are added (:mod:`beam_stats.stats.coalesce`);
what the keys still hold at the end is added many slices at a time, each batch of them
flattened once (:func:`~beam_stats.stats.grouped.add_groups`).
Cutting batches into slices (:meth:`SlicedAccumulators.cut`) and adding the cut batches
(:meth:`SlicedAccumulators.add_cut`) touch different parts of it, so one thread may cut the
batches while another adds those cut before, in order (the in-process engine does,
:mod:`beam_stats.beam.inprocess`).

Where the slices partition a batch and the run counts its whole dataset through them
(:meth:`~beam_stats.stats.slicing.SliceCounter.partition`: decided on the first batch they
partition, by its rows per slice), the batch is added to its slices only, and the whole
dataset's accumulator is the merge of all those slices' at the end, each sketch merging them
at once (:meth:`~beam_stats.stats.dataset.DatasetAccumulator.merge_all`): every row is
added once rather than twice. The rows of other batches are added to the whole dataset
and, apart, to their slices, so each row is counted once in the whole and once in each of
its slices whatever the batches hold: a slice's statistics are the merge of both its parts
(which only a batch the slices do not partition makes: a list value in two slices).
Every accumulator works with the given `threads` (:class:`DatasetAccumulator`).

With many slices that only hold rows at the end, :meth:`SlicedAccumulators.share` hands
every other one to be finished apart (:mod:`beam_stats.stats.shares`; by a second process
in the in-process engine) while :meth:`SlicedAccumulators.results` finishes the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import pyarrow as pa

from beam_stats._memory import give_back
from beam_stats.stats.coalesce import BatchCoalescer, KeyedCoalescer
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.finishing import finished
from beam_stats.stats.grouped import add_groups
from beam_stats.stats.shares import ShareResult, SliceShare, worth_sharing
from beam_stats.stats.slicing import SliceCounter, SlicingSpec
from beam_stats.stats.spec import StatisticsSpec
from beam_stats.stats.wire import DatasetBytes, from_bytes


class CutBatch(NamedTuple):
    """A batch cut into its slices (:meth:`SlicedAccumulators.cut`)."""

    #: The batch, which the whole dataset adds itself; None: the whole dataset counts its
    #: rows through its slices' accumulators (merged at the end).
    whole: pa.RecordBatch | None
    #: (slice key, rows) of each of its slices.
    parts: list[tuple[str, pa.RecordBatch]]
    #: The batch's bytes per row (a part is counted its share).
    per_row: float

    @property
    def held_bytes(self) -> int:
        """About the bytes it holds: its rows' share of the batch's bytes (the parts' buffers
        are those of all the parts taken with them, so their own sizes would count them
        once per part), and the batch's where the whole dataset adds it."""
        rows = sum(part.num_rows for _, part in self.parts)
        rows += self.whole.num_rows if self.whole is not None else 0
        return int(self.per_row * rows)


class SlicedAccumulators:
    """Record batches in; the finished whole dataset and slices out, as
    (key, :class:`~beam_stats.stats.wire.DatasetBytes`) made without a name
    (:func:`~beam_stats.stats.wire.datasets_chunks` writes them).

    Raises:
        InvalidInputError: (from :meth:`add`) more than ``slicing.max_slices`` slices, or an
            unusable slicing (:mod:`beam_stats.stats.slicing`).
    """

    def __init__(self, spec: StatisticsSpec, slicing: SlicingSpec, threads: int = 1) -> None:
        self.spec, self.threads = spec, threads  # each accumulator's (DatasetAccumulator)
        self.counter = SliceCounter(slicing)
        self.whole = DatasetAccumulator(spec, threads)  # the batches not counted through slices
        self.seen = False  # a batch was given (no batch: no whole dataset)
        self.merged: dict[str, DatasetAccumulator] = {}  # slices' rows the whole merges
        self.apart: dict[str, DatasetAccumulator] = {}  # slices' rows the whole adds itself
        self._batches = BatchCoalescer()
        self._merged_rows, self._apart_rows = KeyedCoalescer(), KeyedCoalescer()

    def add(self, batch: pa.RecordBatch) -> None:
        """Adds one record batch to the whole dataset and to its slices (small batches are
        joined before they are sliced: a batch makes a part per slice): :meth:`cut`, then
        :meth:`add_cut`."""
        for cut in self.cut(batch):
            self.add_cut(cut)

    def cut(self, batch: pa.RecordBatch) -> Iterator[CutBatch]:
        """The first half of :meth:`add`: `batch` joined with the small batches held before
        it and cut into its slices, when that makes a batch to add. It touches neither
        accumulator, so a thread can cut batches while another adds the ones before
        (:meth:`cut_all`; the slicing's sort and ``take`` release the GIL).

        Raises:
            InvalidInputError: as :meth:`add`.
        """
        self.seen = True
        for ready in self._batches.add(batch):
            yield self._cut(ready)

    def cut_all(self, batches: Iterable[pa.RecordBatch]) -> Iterator[CutBatch]:
        """:meth:`cut` of every batch of `batches`, then of the batches still held: each to
        be given to :meth:`add_cut` in order."""
        for batch in batches:
            yield from self.cut(batch)
        for ready in self._batches.flush():
            yield self._cut(ready)

    def _cut(self, batch: pa.RecordBatch) -> CutBatch:
        parts, through_slices = self.counter.partition(batch)
        # The parts share the batch's bytes by their rows: ``nbytes`` walks the columns
        # (~0.13 ms), once for the batch rather than for each of its 1,000 parts.
        per_row = batch.nbytes / max(batch.num_rows, 1)
        return CutBatch(None if through_slices else batch, parts, per_row)

    def add_cut(self, cut: CutBatch) -> None:
        """The second half of :meth:`add`: a cut batch (of :meth:`cut`, in order) added."""
        if cut.whole is not None:
            self.whole.add(cut.whole)
        rows, accumulators = (
            (self._apart_rows, self.apart)
            if cut.whole is not None
            else (self._merged_rows, self.merged)
        )
        for key, part in cut.parts:
            for ready_key, ready in rows.add(key, part, int(cut.per_row * part.num_rows)):
                self._accumulator(accumulators, ready_key).add(ready)

    def _accumulator(
        self, accumulators: dict[str, DatasetAccumulator], key: str
    ) -> DatasetAccumulator:
        accumulator = accumulators.get(key)
        if accumulator is None:
            accumulator = accumulators[key] = DatasetAccumulator(self.spec, self.threads)
        return accumulator

    def _flush_batches(self) -> None:
        for ready in self._batches.flush():
            self.add_cut(self._cut(ready))

    def flush(self) -> None:
        """Adds every batch still held."""
        self._flush_batches()
        # Every slice's rows joined (many slices' rows in a batch: a batch has a fixed cost
        # per feature) before any is added: the cut batches they were parts of are freed
        # before the accumulators grow, and each joined group once it is added.
        groups = [
            (group, accumulators)
            for rows, accumulators in (
                (self._merged_rows, self.merged),
                (self._apart_rows, self.apart),
            )
            for group in rows.flush_groups()
        ]
        groups.reverse()
        give_back()  # what reading and cutting held, before the accumulators grow
        while groups:
            (keys, ready, bounds), accumulators = groups.pop()
            add_groups([self._accumulator(accumulators, key) for key in keys], ready, bounds)

    def share(self) -> SliceShare | None:
        """Hands every other slice (in key order) of those that hold rows and have no
        accumulator yet to a :class:`~beam_stats.stats.shares.SliceShare`, to be finished
        apart and given to :meth:`results`; None (nothing handed) when they are too few
        to pay (:func:`~beam_stats.stats.shares.worth_sharing`). The slices handed are no
        longer here (a second call would hand half of the rest)."""
        self._flush_batches()
        held = set(self._merged_rows.held_keys()) | set(self._apart_rows.held_keys())
        keys = sorted(held - self.merged.keys() - self.apart.keys())
        columns = max(self._merged_rows.held_columns(), self._apart_rows.held_columns())
        if not worth_sharing(len(keys), columns):
            return None
        shared = keys[1::2]
        return SliceShare(
            self.spec,
            self._merged_rows.split(shared).flush_groups(),
            self._apart_rows.split(shared).flush_groups(),
        )

    def results(
        self,
        whole: str,
        include_state: bool = True,
        shared: Callable[[], ShareResult] | None = None,
    ) -> Iterator[tuple[str, DatasetBytes]]:
        """(key, finished dataset) of the whole dataset (under `whole`, unless no batch was
        added) and of each slice, in no order; each accumulator is spent as it is finished.
        `shared`: the finished share of :meth:`share` (called once this process's own
        slices are finished), whose slices are given as they are and whose partial whole
        dataset the whole merges after its own slices.
        """
        if shared is None:
            yield from finished(self.states(whole), include_state)
            return
        self.flush()
        self.whole.merge_all(list(self.merged.values()))  # a share: a batch was added
        yield from finished(self._slices(), include_state)
        result = shared()
        yield from result.datasets
        if result.whole is not None:
            self.whole.merge(from_bytes(result.whole, self.spec))
        yield from finished([(whole, self.whole)], include_state)

    def states(self, whole: str) -> Iterator[tuple[str, DatasetAccumulator]]:
        """(key, accumulator) of the whole dataset (under `whole`, unless no batch was added)
        and of each slice, in no order: what :meth:`results` finishes, or another process
        merges with its own (:mod:`beam_stats.beam.parallel`). Each is given up as it is
        yielded."""
        self.flush()
        if self.seen:
            self.whole.merge_all(list(self.merged.values()))
            yield whole, self.whole
        yield from self._slices()

    def _slices(self) -> Iterator[tuple[str, DatasetAccumulator]]:
        """(key, accumulator) of each slice, its merged and apart parts merged; each given
        up as it is yielded."""
        for key in self.merged.keys() | self.apart.keys():
            merged, apart = self.merged.pop(key, None), self.apart.pop(key, None)
            if merged is not None and apart is not None:
                merged.merge(apart)
            accumulator = apart if merged is None else merged
            if accumulator is not None:
                yield key, accumulator
