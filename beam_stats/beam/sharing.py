"""A share of a sliced run's slices (:mod:`beam_stats.stats.shares`) finished by a second
process while this one finishes its own.

The end of a run of many slices is Python work a slice and a feature at a time, which one
process does on one core whatever its threads. Where this process may use two cores or
more, a :class:`ShareProcess` is started (``spawn``, as the workers of
:mod:`beam_stats.beam.parallel`: safe beside the threads Arrow runs) as soon as a batch is
cut into many slices, so that its imports overlap the reading. At the end the share's held
rows are written to Arrow IPC files in a temporary folder (a group of slices' rows at a
time: no second copy of them is held here); the process maps them, adds, merges and
finishes them, writes the finished slices to a file and answers with where they are and
its partial whole dataset's state. Else (one core, a spec that cannot be sent to another
process, such as a custom statistic defined in a function, or no room for the files) the
share is finished here after this process's own slices; and a process that ends without an
answer (killed, out of memory) is logged and its share finished here from its files. The
statistics are the same bytes in every case.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

import pyarrow as pa

from beam_stats.pandas_free import pyarrow_without_pandas
from beam_stats.stats.dataset import feature_threads
from beam_stats.stats.shares import Group, ShareResult, SliceShare, finish_share
from beam_stats.stats.spec import StatisticsSpec
from beam_stats.stats.wire import DatasetBytes

_LOG = logging.getLogger(__name__)


class _Entry(NamedTuple):
    """A group of a share written to a file: its kind (merged or apart), its slices' keys
    and bounds, and where its rows are (file, batch)."""

    merged: bool
    keys: list[str]
    bounds: list[int]
    file: int
    batch: int


class _Sent(NamedTuple):
    """What the second process is given."""

    spec: StatisticsSpec
    files: list[str]
    entries: list[_Entry]
    include_state: bool


def _write(share: SliceShare, folder: str) -> tuple[list[str], list[_Entry]]:
    """The share's groups written to Arrow IPC files in `folder` (a new file where the
    rows' schema changes), and where each is."""
    files: list[str] = []
    entries: list[_Entry] = []
    writer: pa.ipc.RecordBatchFileWriter | None = None
    schema: pa.Schema | None = None
    written = 0
    try:
        for merged, groups in ((True, share.merged), (False, share.apart)):
            for keys, rows, bounds in groups:
                if writer is None or not rows.schema.equals(schema, check_metadata=True):
                    if writer is not None:
                        writer.close()
                    files.append(os.path.join(folder, f"rows-{len(files)}.arrow"))
                    schema, written = rows.schema, 0
                    writer = pa.ipc.new_file(files[-1], schema)
                writer.write_batch(rows)
                entries.append(_Entry(merged, keys, bounds, len(files) - 1, written))
                written += 1
    finally:
        if writer is not None:
            writer.close()
    return files, entries


class _Finished(NamedTuple):
    """What the second process gives back: its partial whole dataset's state, and where
    each of its finished slices is in its file: (key, start, size, features, state)."""

    whole: bytes | None
    datasets: list[tuple[str, int, int, int, int]]


def _groups(sent: _Sent, merged: bool) -> Iterator[Group]:
    """The merged (or apart) groups of the files, mapped: once they are gone through, the
    files are no longer held (their pages count in this process's memory while mapped)."""
    readers: dict[int, pa.ipc.RecordBatchFileReader] = {}
    for entry in sent.entries:
        if entry.merged is merged:
            reader = readers.get(entry.file)
            if reader is None:
                reader = readers[entry.file] = pa.ipc.open_file(
                    pa.memory_map(sent.files[entry.file])
                )
            yield entry.keys, reader.get_batch(entry.batch), entry.bounds


def _finish(sent: _Sent, output: str) -> _Finished:
    """The second process's work: the share of the files, finished; the slices written to
    `output` one after another as they are finished."""
    if not sent.spec.statistics:
        pyarrow_without_pandas()  # only beam-stats' code runs here, no user function
    share = SliceShare(sent.spec, _groups(sent, True), _groups(sent, False))
    whole, datasets = finish_share(share, sent.include_state)
    index, start = [], 0
    with open(output, "wb") as out:
        for key, dataset in datasets:
            out.write(dataset.data)
            index.append((key, start, len(dataset.data), dataset.features, dataset.state))
            start += len(dataset.data)
    return _Finished(whole, index)


def _read(
    output: str, datasets: list[tuple[str, int, int, int, int]]
) -> Iterator[tuple[str, DatasetBytes]]:
    """The finished slices the second process wrote to `output`, in its order."""
    with open(output, "rb") as data:
        for key, _, size, features, state in datasets:
            yield key, DatasetBytes(data.read(size), features, state)


def _sendable(spec: StatisticsSpec) -> bool:
    try:
        pickle.dumps(spec)
    except Exception:  # noqa: BLE001 - pickle raises several types
        return False
    return True


def _ready() -> None:
    """A first task: the second process has imported what a share needs once it is done."""


class ShareProcess:
    """The second process that finishes a share (:meth:`finishing`), at most one, started
    as soon as a share is likely (:meth:`start`: its imports, about 0.4 s, then happen while
    this process reads); stopped, and its files removed, by :meth:`close`."""

    def __init__(self, spec: StatisticsSpec, include_state: bool) -> None:
        self.spec, self.include_state = spec, include_state
        # This process may use two cores or more, and the spec can be sent.
        self.usable = feature_threads() >= 2 and _sendable(spec)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._folder: str | None = None

    def __enter__(self) -> ShareProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Starts the process if it can be used and is not started yet."""
        if self.usable and self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=context)
            self._pool.submit(_ready)

    def finishing(self, share: SliceShare | None) -> Callable[[], ShareResult] | None:
        """What :meth:`~beam_stats.stats.sliced.SlicedAccumulators.results` takes as
        `shared` for `share` (None for None): a call that returns the finished share,
        finished by the process (started now if it is not yet) when it can be used, else
        here when it is called.

        A process that ends without an answer (killed, out of memory) is logged, and its
        share finished here from the files it was given: nothing is lost.
        """
        if share is None:
            self._stop()  # started for a share that did not come
            return None
        if not self.usable:
            return lambda: _here(share, self.include_state)
        try:
            folder = tempfile.mkdtemp(prefix="beam-stats-share-")
        except OSError:  # nowhere to put the rows (a full or missing TMPDIR): finished here
            self._stop()
            return lambda: _here(share, self.include_state)
        self._folder = folder
        self.start()
        assert self._pool is not None
        files, entries = _write(share, folder)
        output = os.path.join(folder, "finished.bin")
        sent = _Sent(share.spec, files, entries, self.include_state)
        try:
            future = self._pool.submit(_finish, sent, output)
        except BrokenProcessPool as e:  # it ended already (it could not start)
            _ended(e, len(entries))
            self._stop()
            return lambda: _from_files(sent)

        def result() -> ShareResult:
            try:
                finished = future.result()
            except BrokenProcessPool as e:  # killed (out of memory?): its files are here
                _ended(e, len(entries))
                self._stop()
                return _from_files(sent)
            self._stop()  # its memory given back now, not when the run ends
            return ShareResult(_read(output, finished.datasets), finished.whole)

        return result

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        """Stops the process (once its task is done) and removes the share's files."""
        self._stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _ended(error: BaseException, groups: int) -> None:
    _LOG.warning(
        "the second process ended without an answer (%s: killed, or out of memory?); the "
        "%d groups of slices it was given are finished here instead",
        error,
        groups,
    )


def _from_files(sent: _Sent) -> ShareResult:
    """The share of the files finished here (its process ended without an answer)."""
    return _here(
        SliceShare(sent.spec, _groups(sent, True), _groups(sent, False)), sent.include_state
    )


def _here(share: SliceShare, include_state: bool) -> ShareResult:
    whole, datasets = finish_share(share, include_state)
    return ShareResult(datasets, whole)
