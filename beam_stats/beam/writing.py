"""Where results are written: never over an input, never half-written.

Every command checks its outputs before it reads anything, with :func:`check_outputs`: an
output that is one of the command's inputs is refused (local paths are compared as resolved
real paths, through symlinks, ``./``, ``..`` and relative or absolute spelling, and by
device and inode, so a hard link is caught too; paths on other file systems as the matched
paths), as is an output that is a directory or whose folder cannot be created or written.

Every result file is written atomically, with :func:`write_file`: into a temporary file of
a unique name in the destination's folder, then renamed over the destination
(``os.replace``, atomic on POSIX). A reader, a run that dies mid-write and two runs writing
one output all see the old file or a complete new one, never a partial one (the last rename
wins). On other Beam file systems (``gs://``, ``s3://``, ...) the temporary object is written,
then renamed with ``filesystems().rename``: there an object becomes visible only once its upload
is complete, so the destination is never partial either, but the rename is a copy and a
delete, not one atomic step; a run that dies between the two leaves the temporary object
``.NAME.<hex>.tmp`` beside the destination.

Files a Beam sink writes (:class:`~beam_stats.beam.sinks.WriteTextFile`, e.g. the input-
errors file) follow the same rule. Beam's ``WriteToText`` writes a temporary shard and,
before renaming it, *deletes* the destination (``FileBasedSink.pre_finalize``): a run that
dies there loses the old file, and two runs race. So the sink writes to a unique temporary
name, and a last step renames that file over the destination. Sharded files (the row files
of ``validate-examples``) are written into a staging folder beside them
(:func:`staging_folder`) and moved into place when the run has succeeded
(:func:`publish_files`): each file appears whole, and a run that dies leaves the earlier
files as they were (the set of shards is replaced file by file, not in one step).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from beam_stats.beam.formats import is_local
from beam_stats.beam.matching import match
from beam_stats.errors import OutputError

if TYPE_CHECKING:
    from apache_beam.io.filesystems import FileSystems as _FileSystems

_GLOB_CHARACTERS = frozenset("*?[")
# The permissions a new file gets from open(): mkstemp's 0600 would hide results.
_UMASK = os.umask(0)
os.umask(_UMASK)


def filesystems() -> type[_FileSystems]:
    """Beam's ``FileSystems``, imported when a path needs it (a glob, a file on another file
    system): importing apache_beam takes about 1.4 s, which a command that reads and writes
    local files by name does not pay."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def local_path(path: str) -> str:
    """A local path without its ``file://``."""
    return path[len("file://") :] if path.startswith("file://") else path


def input_pattern(pattern: str) -> str:
    """`pattern` as Beam's file systems match it.

    Beam lists the folder before a pattern's first wildcard, which for a relative pattern
    without a folder (``*.parquet``) is the empty string: it matched nothing. Such patterns
    are given the folder ``./``.
    """
    if not is_local(pattern) or not _GLOB_CHARACTERS & set(pattern):
        return pattern
    if os.path.isabs(local_path(pattern)) or pattern.startswith(("./", "../", "file://")):
        return pattern
    return "./" + pattern


def match_inputs(patterns: Sequence[str]) -> list[str]:
    """The files that `patterns` (paths or globs, any Beam file system) match, in order.

    Raises:
        FileNotFoundError: a pattern matches no file; the message names it.
    """
    files: list[str] = []
    for pattern in patterns:
        matched = match(input_pattern(pattern))
        if not matched:
            raise FileNotFoundError(f"no file matches {pattern!r}")
        files += matched
    return files


def _identity(path: str) -> str:
    return os.path.realpath(local_path(path)) if is_local(path) else path


class _File(NamedTuple):
    """What tells a file apart: its path as matched (other file systems), or its real path
    and, if it exists, its device and inode (hard links) for a local one."""

    path: str
    local: bool
    real: str
    inode: tuple[int, int] | None


def _file(path: str) -> _File:
    if not is_local(path):
        return _File(path, False, path, None)
    try:
        found = os.stat(local_path(path))
        inode: tuple[int, int] | None = (found.st_dev, found.st_ino)
    except OSError:
        inode = None
    return _File(path, True, _identity(path), inode)


def _same_file(a: _File, b: _File) -> bool:
    if not (a.local and b.local):
        return a.path == b.path
    return a.real == b.real or (a.inode is not None and a.inode == b.inode)


def _input_files(inputs: Iterable[str]) -> list[tuple[str, str]]:
    """(given pattern, file) for every file an input names or matches."""
    files: list[tuple[str, str]] = []
    for given in inputs:
        files.append((given, given))
        if _GLOB_CHARACTERS & set(given):
            try:
                matched = match(input_pattern(given))
            except Exception:  # an unmatchable input is reported when it is read
                matched = []
            files += [(given, path) for path in matched]
    return files


def check_outputs(inputs: Iterable[str | None], outputs: Iterable[str | None]) -> None:
    """Refuses outputs that would destroy an input, or that cannot be written.

    Args:
        inputs: every path or glob the command reads (None entries are skipped).
        outputs: every file the command writes (None entries are skipped); a name with
            wildcards (``DIR/bad-rows-*``) stands for the files it matches, existing or not.

    Raises:
        OutputError: an output is an input (or matches one), is another output, is a
            directory, or its folder cannot be created or written; the message names both
            paths.
    """
    # Each input's identity is found once (thousands of inputs, several outputs).
    files = [(g, f, _file(f)) for g, f in _input_files(i for i in inputs if i is not None)]
    written: list[tuple[str, _File]] = []
    for output in (o for o in outputs if o is not None):
        this = _file(output)
        twice = next(
            (
                w
                for w, other in written
                if not _GLOB_CHARACTERS & set(output + w) and _same_file(other, this)
            ),
            None,
        )
        if twice is not None:
            raise OutputError(
                f"refusing to write {output}: the command writes another output there ({twice})"
            )
        written.append((output, this))
        if _GLOB_CHARACTERS & set(output):
            pattern = _identity(output) if is_local(output) else output
            clash = next((g for g, _, f in files if fnmatch.fnmatchcase(f.real, pattern)), None)
        else:
            clash = next((g for g, _, f in files if _same_file(f, this)), None)
        if clash is not None:
            shown = "" if clash == output else f" ({clash})"
            raise OutputError(
                f"refusing to write {output}: it is an input of this command{shown}; "
                "choose another output path"
            )
        _check_writable(output)


def _check_writable(path: str) -> None:
    """A local output is not a directory, and its nearest existing folder takes a new file
    (probed with a temporary file; no folder is created yet)."""
    if not is_local(path):
        return
    local = local_path(path)
    if os.path.isdir(local):
        raise OutputError(f"cannot write {path}: it is a directory")
    folder = os.path.dirname(os.path.abspath(local))
    while not os.path.lexists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {path}: {folder} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_reason(e)}") from e


def _reason(error: OSError) -> str:
    if isinstance(error, FileExistsError | NotADirectoryError):  # a file where a folder goes
        return f"{error.filename} is a file, not a folder"
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _temporary_name(path: str) -> str:
    folder, name = path.rsplit("/", 1) if "/" in path else ("", path)
    temporary = f".{name}.{uuid.uuid4().hex}.tmp"
    return f"{folder}/{temporary}" if folder else temporary


def temporary_path(path: str) -> str:
    """A unique hidden name in `path`'s folder (``.NAME.<hex>.tmp``), for a file a job
    writes, reads back and deletes (as the label bins of a first pass)."""
    return _temporary_name(path)


def write_file(path: str, data: bytes | Iterable[bytes]) -> str:
    """Writes `data` (bytes, or chunks of bytes) to `path` atomically and returns the path.

    The parent folder is created when missing. If writing fails (no space, no permission,
    an exception while `data` is produced, the process killed), the destination keeps its
    earlier content, and locally no temporary file is left (except after a kill).

    Raises:
        OutputError: the file cannot be written; the message names it and says why.
    """
    if not is_local(path):
        return _write_remote(path, data)
    local = local_path(path)
    if os.path.isdir(local):
        raise OutputError(f"cannot write {path}: it is a directory")
    folder, name = os.path.split(local)
    try:
        os.makedirs(folder or ".", exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{name}.", suffix=".tmp", dir=folder or "."
        )
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_reason(e)}") from e
    try:
        with os.fdopen(descriptor, "wb") as f:
            for chunk in [data] if isinstance(data, bytes | bytearray) else data:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, local)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(e, OSError):
            raise OutputError(f"cannot write {path}: {_reason(e)}") from e
        raise
    return path


def _write_remote(path: str, data: bytes | Iterable[bytes]) -> str:
    temporary = _temporary_name(path)
    try:
        with filesystems().create(temporary) as f:
            for chunk in [data] if isinstance(data, bytes | bytearray) else data:
                f.write(chunk)
        filesystems().rename([temporary], [path])
    except BaseException:
        with contextlib.suppress(Exception):  # the write's own error is the one to see
            filesystems().delete([temporary])
        raise
    return path


def replace_file(temporary: str, path: str) -> str:
    """Renames the finished file `temporary` over `path` (same folder) and returns `path`."""
    try:
        if is_local(path):
            os.replace(local_path(temporary), local_path(path))
        else:
            filesystems().rename([temporary], [path])
    except OSError as e:
        raise OutputError(f"cannot write {path}: {_reason(e)}") from e
    return path


def staging_folder(directory: str) -> str:
    """A new, unique folder name inside `directory`, for files that :func:`publish_files`
    moves into `directory` once they are complete."""
    return f"{directory.rstrip('/')}/.staging-{uuid.uuid4().hex}.tmp"


def publish_files(staging: str, directory: str, pattern: str) -> list[str]:
    """Moves the files of `staging` into `directory`, replacing those there that match
    `pattern` (e.g. ``bad-rows-*``: files of an earlier run that no new file replaces are
    deleted), then removes `staging`.

    Returns:
        The paths of the files published.
    """
    directory = directory.rstrip("/")
    found = filesystems().match([f"{staging}/*"])[0].metadata_list
    new = {m.path.rsplit("/", 1)[-1]: m.path for m in found}
    old = filesystems().match([f"{directory}/{pattern}"])[0].metadata_list
    stale = [m.path for m in old if m.path.rsplit("/", 1)[-1] not in new]
    if stale:
        filesystems().delete(stale)
    published = [replace_file(path, f"{directory}/{name}") for name, path in sorted(new.items())]
    discard(staging)
    return published


def discard(staging: str) -> None:
    """Removes a staging folder (of a run that failed), if it exists."""
    with contextlib.suppress(Exception):  # cleaning up: the run's own error is the one to see
        if filesystems().exists(staging):
            filesystems().delete([staging])
