"""A share of a sliced run's slices (:mod:`beam_stats.stats.shares`) finished by a second
process while this one finishes its own.

The end of a run of many slices is Python work a slice and a feature at a time, which one
process does on one core whatever its threads. Where this process may use two cores or
more, a :class:`ShareProcess` is started as soon as a batch is cut into many slices, so
that its imports overlap the reading: a new Python (``python -c`` with this process's
import path; not multiprocessing's ``spawn``, which imports the main module again, so that
a user's script without a ``__main__`` guard would run twice), safe beside the threads
Arrow runs. At the end the share's held rows are written to Arrow IPC files in a temporary
folder (a group of slices' rows at a time: no second copy of them is held here); the
process maps them, adds, merges and finishes them, writes the finished slices to a file
and answers with where they are and its partial whole dataset's state.

Else the share is finished here after this process's own slices: on one core, for a spec
the process cannot have (a custom statistic defined in a function or in the main script),
or with no room for the files; and when the process ends without an answer (killed, out of
memory), which is logged, from the files it was given. The statistics are the same bytes
in every case.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

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
    share = SliceShare(sent.spec, _groups(sent, True), _groups(sent, False))
    whole, datasets = finish_share(share, sent.include_state)
    index, start = [], 0
    with open(output, "wb") as out:
        for key, dataset in datasets:
            out.write(dataset.data)
            index.append((key, start, len(dataset.data), dataset.features, dataset.state))
            start += len(dataset.data)
    return _Finished(whole, index)


def serve(task: IO[bytes], user_code: bool) -> int:
    """The second process (:mod:`beam_stats.beam._share_worker`): waits for its task on
    `task` (this process's standard input: the share's files, and where to write the
    finished slices and the answer), then does it. Nothing sent (the share did not come):
    it ends. `user_code`: the spec has custom statistics (pyarrow keeps looking for pandas)."""
    if not user_code:
        pyarrow_without_pandas()  # only beam-stats' code runs here, no user function
    data = task.read()
    if not data:
        return 0
    sent, output, answer = pickle.loads(data)
    finished = _finish(sent, output)
    with open(answer + ".part", "wb") as out:
        pickle.dump(finished, out)
    os.replace(answer + ".part", answer)
    return 0


def _read(
    output: str, datasets: list[tuple[str, int, int, int, int]]
) -> Iterator[tuple[str, DatasetBytes]]:
    """The finished slices the second process wrote to `output`, in its order."""
    with open(output, "rb") as data:
        for key, _, size, features, state in datasets:
            yield key, DatasetBytes(data.read(size), features, state)


def _sendable(spec: StatisticsSpec) -> bool:
    """Whether the second process can have `spec`: it pickles, and no custom statistic is
    defined in the main module (a user's script, which that process does not run)."""
    if any(type(statistic).__module__ == "__main__" for statistic in spec.statistics):
        return False
    try:
        pickle.dumps(spec)
    except Exception:  # noqa: BLE001 - pickle raises several types
        return False
    return True


#: The second process's start: the parent's import path (its modules, a custom statistic's
#: among them), then the worker (python -c, so that no module of the parent runs again).
_BOOT = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from beam_stats.beam._share_worker import main; raise SystemExit(main())"
)


class ShareProcess:
    """The second process that finishes a share (:meth:`finishing`), at most one, started
    as soon as a share is likely (:meth:`start`: its imports, about 0.4 s, then happen while
    this process reads); stopped, and its files removed, by :meth:`close` (killed if it is
    still working: this process failed or was interrupted)."""

    def __init__(self, spec: StatisticsSpec, include_state: bool) -> None:
        self.spec, self.include_state = spec, include_state
        # This process may use two cores or more, the spec can be sent, and Python runs.
        self.usable = feature_threads() >= 2 and bool(sys.executable) and _sendable(spec)
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: str | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The second process, once started (None before, and once stopped)."""
        return self._process

    def __enter__(self) -> ShareProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Starts the process if it can be used and is not started yet (if it cannot be
        started, or has nowhere to put its files, a share is finished here)."""
        if not self.usable or self._process is not None:
            return
        try:
            self._folder = tempfile.mkdtemp(prefix="beam-stats-share-")
            self._stderr = open(os.path.join(self._folder, "stderr.txt"), "wb")  # noqa: SIM115
            command = [sys.executable, "-c", _BOOT, json.dumps([str(p) for p in sys.path])]
            if self.spec.statistics:
                command.append("--user-code")
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._stderr
            )
        except OSError:  # no folder (a full or missing TMPDIR), no Python to start
            self.usable = False
            self.close()

    def finishing(self, share: SliceShare | None) -> Callable[[], ShareResult] | None:
        """What :meth:`~beam_stats.stats.sliced.SlicedAccumulators.results` takes as
        `shared` for `share` (None for None): a call that returns the finished share,
        finished by the process (started now if it is not yet) when it can be used, else
        here when it is called.

        A process that ends without an answer (killed, out of memory, or failed: the same
        failure then shows here) is logged, and its share finished here from the files it
        was given: nothing is lost.
        """
        if share is None:
            self._stop()  # started for a share that did not come
            return None
        self.start()
        process, folder = self._process, self._folder
        if process is None or folder is None or process.stdin is None:
            return lambda: _here(share, self.include_state)
        files, entries = _write(share, folder)
        output = os.path.join(folder, "finished.bin")
        answer = os.path.join(folder, "answer.pickle")
        sent = _Sent(share.spec, files, entries, self.include_state)
        with contextlib.suppress(OSError):  # else it ended already: finished here
            process.stdin.write(pickle.dumps((sent, output, answer)))
            process.stdin.close()

        def result() -> ShareResult:
            code = process.wait()
            if code == 0 and os.path.exists(answer):
                with open(answer, "rb") as data:
                    finished: _Finished = pickle.load(data)
                return ShareResult(_read(output, finished.datasets), finished.whole)
            _ended(code, self._error(), len(entries))
            return _from_files(sent)

        return result

    def _error(self) -> str:
        """The last line the process wrote to its standard error."""
        if self._folder is None:
            return ""
        try:
            with open(os.path.join(self._folder, "stderr.txt"), "rb") as text:
                lines = text.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def _stop(self) -> None:
        """Ends the process: told there is no task (it ends itself), else killed."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(OSError):
                process.stdin.close()  # no task: it ends
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
        process.wait()

    def close(self) -> None:
        """Stops the process and removes the share's files."""
        self._stop()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _ended(code: int, error: str, groups: int) -> None:
    _LOG.warning(
        "the second process ended without an answer (exit status %s%s: killed, or out of "
        "memory?); the %d groups of slices it was given are finished here instead",
        code,
        f", {error}" if error else "",
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
