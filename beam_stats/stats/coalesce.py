"""Small record batches joined into larger ones before they reach the accumulators.

Adding a batch to a :class:`~beam_stats.stats.DatasetAccumulator` has a fixed cost per
feature and statistic family (a few milliseconds for 20 features), whatever the batch's
rows, so 2,000 files of 500 rows cost 4 times one file of 1M rows, and slices, which cut
every batch into one small part per slice, up to 15 times (issue 16). A
:class:`BatchCoalescer` holds batches until they make about :data:`COALESCE_ROWS` rows (or
:data:`COALESCE_BYTES` bytes, so a wide table never buffers more than that) and gives them
back as one batch; a :class:`KeyedCoalescer` does it per key (per slice), bounding the bytes
held over all keys; a :class:`BufferedAccumulator` is an accumulator with a coalescer in it.

Only batches of equal schemas (field names, types and nullability; metadata aside, as pandas
writes a different index into each file) are joined: a batch whose schema differs, as when a
column's type drifts between files, first flushes what is held. A join keeps the rows in
order, so exact statistics do not change (means and standard deviations up to the last bits
of float rounding). Sketches past their exact regime (quantile summaries past
``exact_limit``, top values past the frequent-items capacity) depend on where batches cut the
values, as they always did on the readers' batches, and stay within their stated bounds
(``tests/beam/test_coalesce_batches.py`` checks both on 2,000 small files against one).
A batch of :data:`COALESCE_ROWS` rows or more passes through without a copy, so a large
file's statistics are byte for byte those made without joining.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.spec import StatisticsSpec

#: Rows of a coalesced batch: at 64k rows the fixed cost of a batch is a few percent of its
#: whole cost on the 20-column benchmark (2,000 x 500 rows took 4.0x one 1M-row file).
COALESCE_ROWS = 65_536
#: Bytes of a coalesced batch (the Arrow buffers' size): a wide table's 64k rows can be
#: gigabytes, so the buffer is also cut here.
COALESCE_BYTES = 32 * 2**20
#: Bytes of the batches of many keys' rows that :meth:`KeyedCoalescer.flush_groups` joins:
#: a batch is flattened once for all its keys (1,000 slices of 1,000 rows of the 20-column
#: benchmark make about 8 batches), and it and its flattened columns are held at once
#: (with 32 MB batches the 1,000-slice run's peak grew by 120 MB).
GROUP_BYTES = 4 * 2**20
#: Bytes held over all keys of a :class:`KeyedCoalescer` (about eight 131,072-row batches
#: of the 20-column benchmark): past it, every key is flushed.
COALESCE_TOTAL_BYTES = 256 * 2**20


#: A key of :class:`KeyedCoalescer` whose first part has this many rows gives its rows on at
#: once and then in doubling batches (see ``KeyedCoalescer._target``).
RAMP_ROWS = 8_192


def _same_schema(a: pa.Schema, b: pa.Schema) -> bool:
    return a is b or a.equals(b, check_metadata=False)


def join_batches(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """`batches` (of equal schemas, at least one) as one batch, rows in order, with the
    first batch's schema; a single batch is returned as it is."""
    if len(batches) == 1:
        return batches[0]
    schema = batches[0].schema
    table = pa.Table.from_batches(
        [b if b.schema is schema else b.replace_schema_metadata(schema.metadata) for b in batches],
        schema=schema,
    ).combine_chunks()
    joined = table.to_batches()
    if len(joined) == 1:
        return joined[0]
    # Columns of one chunk each make one batch; an empty table makes none.
    return pa.RecordBatch.from_pylist([], schema=schema) if not joined else joined[0]


class BatchCoalescer:
    """Record batches in, fewer and larger batches out, in the same order of rows.

    Args:
        max_rows: a batch is given back once the held batches have this many rows.
        max_bytes: ... or this many bytes (``RecordBatch.nbytes``).

    A batch's ``nbytes`` walks its columns (50-150 us for 20 columns: 6-12% of adding 2,000
    files of 500 rows), so it is measured only when it can matter: each held batch counts
    its buffers' size first (``get_total_buffer_size``, about 2 us), which is at least its
    ``nbytes`` (a slice's buffers are its parent's), and the batches are measured once
    those sizes reach `max_bytes`, or when :attr:`nbytes` is asked. The batches given back
    are the ones measuring every batch would give, unless a batch's columns share buffers
    (counted once by the first measure, once per column by ``nbytes``).

    Raises:
        ValueError: `max_rows` or `max_bytes` is below 1.
    """

    def __init__(self, max_rows: int = COALESCE_ROWS, max_bytes: int = COALESCE_BYTES) -> None:
        if max_rows < 1 or max_bytes < 1:
            raise ValueError(f"max_rows and max_bytes must be >= 1, got {max_rows}, {max_bytes}")
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self._held: list[pa.RecordBatch] = []
        self._sizes: list[int | None] = []  # each held batch's nbytes, None until measured
        self._measured = 0  # the nbytes of the measured batches
        self._bounds = 0  # the buffers' sizes of the others
        self._unmeasured = 0
        self.rows = 0

    def __bool__(self) -> bool:
        """Whether a batch is held (a batch of no rows counts: it declares columns)."""
        return bool(self._held)

    @property
    def nbytes(self) -> int:
        """The held batches' bytes (``RecordBatch.nbytes``), measured now if need be."""
        if self._unmeasured:
            for i, size in enumerate(self._sizes):
                if size is None:
                    self._sizes[i] = size = self._held[i].nbytes
                    self._measured += size
            self._bounds = self._unmeasured = 0
        return self._measured

    def add(self, batch: pa.RecordBatch, nbytes: int | None = None) -> Iterator[pa.RecordBatch]:
        """The batches ready once `batch` is added: none while it is held; what was held
        when its schema differs; it alone, after what was held, when it is large. `nbytes`:
        its size if known (else measured when it matters, see the class docstring)."""
        if self._held and not _same_schema(self._held[0].schema, batch.schema):
            yield from self.flush()
        bound = batch.get_total_buffer_size() if nbytes is None else nbytes
        if bound >= self.max_bytes and nbytes is None:
            bound = nbytes = batch.nbytes
        if batch.num_rows >= self.max_rows or bound >= self.max_bytes:
            yield from self.flush()
            yield batch
            return
        self._held.append(batch)
        self._sizes.append(nbytes)
        if nbytes is None:
            self._bounds += bound
            self._unmeasured += 1
        else:
            self._measured += nbytes
        self.rows += batch.num_rows
        if self.rows >= self.max_rows or (
            self._measured + self._bounds >= self.max_bytes and self.nbytes >= self.max_bytes
        ):
            yield from self.flush()

    @property
    def columns(self) -> int:
        """The columns of the first batch held (0 if none is)."""
        return self._held[0].num_columns if self._held else 0

    def take(self) -> list[pa.RecordBatch]:
        """What is held, as the batches given (not joined), no longer held."""
        held = self._held
        self._held, self._sizes, self.rows = [], [], 0
        self._measured = self._bounds = self._unmeasured = 0
        return held

    def flush(self) -> Iterator[pa.RecordBatch]:
        """What is held, as one batch (nothing if nothing is held)."""
        if self._held:
            yield join_batches(self.take())


class KeyedCoalescer:
    """A :class:`BatchCoalescer` per key, holding at most `max_total_bytes` over all keys
    (past it every key is flushed, in the order the keys came). A key whose first part is
    large (:data:`RAMP_ROWS` rows, as each of a few slices of a large batch is) gives it on at
    once and then as many rows as it gave so far, up to `max_rows`: the accumulators start
    while the slices gather instead of after several batches.

    Args:
        max_rows, max_bytes: per key, as :class:`BatchCoalescer`.
        max_total_bytes: over all keys.
    """

    def __init__(
        self,
        max_rows: int = COALESCE_ROWS,
        max_bytes: int = COALESCE_BYTES,
        max_total_bytes: int = COALESCE_TOTAL_BYTES,
    ) -> None:
        BatchCoalescer(max_rows, max_bytes)  # checks the arguments
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self.max_total_bytes = max_total_bytes
        self._by_key: dict[str, BatchCoalescer] = {}
        # Every key seen: the rows it gave so far if its first part was large, else None.
        self._ramps: dict[str, int | None] = {}
        self.nbytes = 0

    def add(
        self, key: str, batch: pa.RecordBatch, nbytes: int | None = None
    ) -> Iterator[tuple[str, pa.RecordBatch]]:
        """The (key, batch) pairs ready once `batch` (of `nbytes`, if known) is added under
        `key`."""
        held = self._by_key.get(key)
        if held is None:
            if key not in self._ramps:
                self._ramps[key] = 0 if batch.num_rows >= RAMP_ROWS else None
            held = self._by_key[key] = BatchCoalescer(self._target(key), self.max_bytes)
        before = held.nbytes
        ready = list(held.add(batch, nbytes))
        self.nbytes += held.nbytes - before
        for part in ready:
            given = self._ramps[key]
            if given is not None:
                self._ramps[key] = given + part.num_rows
                held.max_rows = self._target(key)
            yield key, part
        if self.nbytes > self.max_total_bytes:
            yield from self.flush()

    def _target(self, key: str) -> int:
        """The rows `key` holds before they are given: ``max_rows``, but a key whose first
        part was large (>= :data:`RAMP_ROWS` rows) gives it at once and then as many rows
        as it gave so far (doubling up to ``max_rows``), so that the accumulators start
        while a few large slices gather (10 slices of 1M rows: -6%), at a few more adds
        per such slice."""
        given = self._ramps[key]
        return self.max_rows if given is None else min(self.max_rows, max(RAMP_ROWS, given))

    def flush(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        """What every key holds, one batch per key."""
        by_key, self._by_key, self.nbytes = self._by_key, {}, 0
        for key, held in by_key.items():
            for part in held.flush():
                yield key, part

    def held_keys(self) -> list[str]:
        """The keys that hold rows (or a batch of no rows), in the order they came."""
        return [key for key, held in self._by_key.items() if held]

    def held_columns(self) -> int:
        """The most columns of a batch held (0 if none is)."""
        return max((held.columns for held in self._by_key.values() if held), default=0)

    def split(self, keys: Iterable[str]) -> KeyedCoalescer:
        """A coalescer of the same limits holding what `keys` hold here, no longer held
        here (a key holding nothing is skipped)."""
        out = KeyedCoalescer(self.max_rows, self.max_bytes, self.max_total_bytes)
        for key in keys:
            held = self._by_key.pop(key, None)
            if held is None:
                continue
            size = held.nbytes
            self.nbytes -= size
            out._by_key[key], out._ramps[key] = held, self._ramps[key]
            out.nbytes += size
        return out

    def flush_groups(
        self, max_bytes: int = GROUP_BYTES
    ) -> Iterator[tuple[list[str], pa.RecordBatch, list[int]]]:
        """What every key holds, as :meth:`flush` gives it, but the rows of consecutive
        keys joined into one batch of about `max_bytes` (:data:`GROUP_BYTES`; a key's rows
        are never cut, each key's rows in order, keys in the order they came, a batch's keys
        of one schema): (keys, batch, bounds), key ``keys[i]`` holding rows
        ``bounds[i]:bounds[i + 1]`` of the batch
        (:func:`~beam_stats.stats.grouped.add_groups` adds them)."""
        by_key, self._by_key, self.nbytes = self._by_key, {}, 0
        keys: list[str] = []
        parts: list[pa.RecordBatch] = []
        bounds, size = [0], 0
        for key, held in by_key.items():
            rows, nbytes, batches = held.rows, held.nbytes, held.take()
            if not batches:
                continue
            if parts and (
                size >= max_bytes or not _same_schema(parts[0].schema, batches[0].schema)
            ):
                yield keys, join_batches(parts), bounds
                keys, parts, bounds, size = [], [], [0], 0
            keys.append(key)
            parts.extend(batches)
            bounds.append(bounds[-1] + rows)
            size += nbytes
        if parts:
            yield keys, join_batches(parts), bounds


class BufferedAccumulator(DatasetAccumulator):
    """A :class:`DatasetAccumulator` with record batches still to add (``pending``): the
    accumulator of the pipeline's ``StatisticsCombineFn`` and of the in-process engine. Its
    statistics count the pending batches
    only after :meth:`flush`."""

    def __init__(self, spec: StatisticsSpec, threads: int = 1) -> None:
        super().__init__(spec, threads)
        self.pending = BatchCoalescer()

    def buffer(self, batch: pa.RecordBatch) -> None:
        """Holds `batch`, adding what the coalescer gives back."""
        for ready in self.pending.add(batch):
            self.add(ready)

    def flush(self) -> None:
        """Adds every pending batch."""
        for ready in self.pending.flush():
            self.add(ready)

    def take_pending(self) -> list[pa.RecordBatch]:
        """The pending batches (joined), no longer held: the caller adds them."""
        return list(self.pending.flush())

    def travels_as_rows(self) -> bool:
        """Whether this accumulator is only a few pending rows (nothing added): cheaper to
        move between workers as those rows than as a state (see :data:`ROWS_TRAVEL_BYTES`)."""
        return bool(self.pending) and is_identity(self) and self.pending.nbytes <= ROWS_TRAVEL_BYTES


def flushed(accumulator: DatasetAccumulator) -> DatasetAccumulator:
    """`accumulator` with its pending batches added (if it is a BufferedAccumulator)."""
    if isinstance(accumulator, BufferedAccumulator):
        accumulator.flush()
    return accumulator


#: A :class:`BufferedAccumulator` that holds only pending rows, up to this many bytes of
#: them, leaves its worker as those rows (Arrow IPC), not as a state: the rows are added
#: where the accumulators are merged. A small slice's state (about 8 KB per feature) is as
#: large as a thousand rows of it, and encoding and decoding it took 16% of a 1,000-slice
#: run (benchmarks/RESULTS.md); past this size a state is the smaller message.
ROWS_TRAVEL_BYTES = 1 << 20


def is_identity(accumulator: DatasetAccumulator) -> bool:
    """Whether `accumulator` holds nothing: no examples (so no composite state) and no
    features (a batch of no rows can still declare columns)."""
    return accumulator.num_examples == 0 and not accumulator.features
