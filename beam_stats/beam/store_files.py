"""The files of a statistics store: its manifest, adding, removing and reading spans
(:class:`StoreFiles`; :class:`beam_stats.beam.history.StatisticsStore` adds the baselines,
and its module's notes describe the layout, the order of writes and concurrency)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Collection, Iterable, Iterator

from apache_beam.io.filesystems import FileSystems
from google.protobuf import message
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.artifacts import PathLike, load_statistics, read_file
from beam_stats.beam.spans import (
    SpanEntry,
    check_span,
    file_name,
    is_span_file_name,
    manifest_from_json,
    manifest_to_json,
    now,
)
from beam_stats.beam.writing import check_outputs, write_file
from beam_stats.errors import (
    DeserializationError,
    IncompatibleMergeError,
    InvalidInputError,
    OutputError,
)
from beam_stats.proto import sketches_pb2
from beam_stats.stats import wire
from beam_stats.stats.composite import is_composite_entry
from beam_stats.stats.feature import STATE_NAME
from beam_stats.stats.stored import check_same_settings, recorded_settings

#: The manifest's file name inside a store.
MANIFEST = "manifest.json"

__all__ = ["MANIFEST", "StoreFiles"]


def _check_state(statistics: statistics_pb2.DatasetFeatureStatisticsList, source: str) -> None:
    for dataset in statistics.datasets:
        for feature in dataset.features:
            if not any(c.name == STATE_NAME and c.HasField("any") for c in feature.custom_stats):
                name = ".".join(feature.path.step) or feature.name
                raise IncompatibleMergeError(
                    f"{source}: feature {name!r} has no sketch state (the file was written "
                    "without it, or by another tool such as TFDV), so it could never merge "
                    "into a baseline: compute the statistics with their sketch state"
                )


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class StoreFiles:
    """The files of a store (use :class:`beam_stats.beam.history.StatisticsStore`).

    Args:
        path: the folder, on any Beam file system.
    """

    def __init__(self, path: PathLike) -> None:
        text = os.fspath(path)
        if not text:
            raise InvalidInputError("the statistics store's path is empty")
        self.path = text.rstrip("/") or "/"

    def __repr__(self) -> str:
        return f"StatisticsStore({self.path!r})"

    @property
    def manifest_path(self) -> str:
        """Where the manifest is: ``STORE/manifest.json``."""
        return self._join(MANIFEST)

    def _join(self, name: str) -> str:
        return f"{self.path}/{name}" if self.path != "/" else f"/{name}"

    def file_path(self, span: str | SpanEntry) -> str:
        """The path of a span's statistics file.

        Raises:
            InvalidInputError: no such span in the store.
        """
        entry = span if isinstance(span, SpanEntry) else self.entry(span)
        return self._join(entry.file)

    # --- the manifest ------------------------------------------------------------------

    def spans(self) -> list[SpanEntry]:
        """Every span of the store, sorted by span key (empty when there is no manifest).

        Raises:
            DeserializationError: the manifest is damaged or of a newer version.
        """
        path = self.manifest_path
        if not FileSystems.exists(path):
            return []
        return manifest_from_json(read_file(path, "statistics store manifest"), path)

    def _write_manifest(self, entries: Iterable[SpanEntry]) -> None:
        write_file(self.manifest_path, manifest_to_json(entries))

    def __contains__(self, span: object) -> bool:
        return any(e.span == span for e in self.spans())

    def entry(self, span: str) -> SpanEntry:
        """The manifest's entry of `span`.

        Raises:
            InvalidInputError: no such span in the store (or not a valid span key).
        """
        return self._find(self.spans(), check_span(span))

    def _find(self, entries: list[SpanEntry], span: str) -> SpanEntry:
        found = next((e for e in entries if e.span == span), None)
        if found is None:
            held = (
                f"its {len(entries)} spans run from {entries[0].span!r} to {entries[-1].span!r}"
                if entries
                else "it is empty"
            )
            raise InvalidInputError(
                f"no span {span!r} in the statistics store {self.path} ({held})"
            )
        return found

    # --- adding ------------------------------------------------------------------------

    def add(
        self,
        statistics: statistics_pb2.DatasetFeatureStatisticsList | PathLike,
        span: str,
        *,
        replace: bool = True,
    ) -> SpanEntry:
        """Adds the statistics of `span` to the store; an existing span is replaced.

        Args:
            statistics: statistics with sketch state, or the path of a statistics file
                (binary, text or TFRecord, any Beam file system); stored in binary.
            span: the span's key (see :func:`check_span`).
            replace: replace the span's statistics if the store has them; when False, such
                a span is refused.

        Returns:
            The span's new entry.

        Raises:
            InvalidInputError: a bad span key, the span is there and `replace` is False, or
                the file cannot be read.
            OutputError: the store cannot be written, or the file to add is the one the span
                has (it would be deleted).
            IncompatibleMergeError: the statistics have no sketch state.
            DeserializationError: the file or the manifest is damaged.
        """
        check_span(span)
        old = next((e for e in self.spans() if e.span == span), None)
        if old is not None and not replace:
            raise InvalidInputError(
                f"the statistics store {self.path} has span {span!r} already (added "
                f"{old.added}); replace it, or choose another span"
            )
        source = "the statistics"
        if not isinstance(statistics, statistics_pb2.DatasetFeatureStatisticsList):
            if not isinstance(statistics, str | os.PathLike):
                raise InvalidInputError(
                    "expected a DatasetFeatureStatisticsList or a path, got "
                    f"{type(statistics).__name__}"
                )
            source = os.fspath(statistics)
            replaced = self._join(old.file) if old is not None else None
            check_outputs([source], [self.manifest_path, replaced])
            statistics = load_statistics(source)
        _check_state(statistics, source)
        settings = recorded_settings(statistics.datasets[0]) if statistics.datasets else None
        if settings is not None:
            self.check_settings(settings, source, replacing=[span])
        entry = self.write_span(statistics, span, source)
        self.add_entries([entry])
        return entry

    def check_settings(
        self,
        settings: sketches_pb2.SketchSettings,
        what: str,
        *,
        replacing: Collection[str] = (),
    ) -> None:
        """Refuses statistics made with `settings` when the store's newest span (of those
        not `replacing`) was made with others: they could never merge into a baseline, so
        the span is refused when it is added, not when a baseline is merged. A span whose
        file is missing or damaged is passed over for the newest readable one (a baseline
        that needs it reports it; adding other spans meanwhile goes on).

        Raises:
            IncompatibleMergeError: the settings differ (the message names the span).
        """
        others = [e for e in self.spans() if e.span not in replacing]
        for entry in reversed(others):
            try:
                reference = self._load(entry)
            except (InvalidInputError, DeserializationError):
                continue
            if reference.datasets:
                check_same_settings(
                    settings, reference.datasets[0], what, f"the store's span {entry.span!r}"
                )
            return

    def write_span(
        self,
        statistics: statistics_pb2.DatasetFeatureStatisticsList,
        span: str,
        source: str = "the statistics",
    ) -> SpanEntry:
        """Writes `span`'s statistics (with sketch state) under a new file name, and returns
        its entry, not yet in the manifest: :meth:`add_entries` lists it (so spans written
        in parallel, on Beam workers, are listed in one write). `source` names them.

        Raises:
            InvalidInputError: a bad span key, or no dataset.
            IncompatibleMergeError: the statistics have no sketch state.
            OutputError: the file cannot be written.
        """
        check_span(span)
        if not statistics.datasets:
            raise InvalidInputError(f"no dataset in {source}; nothing to add")
        _check_state(statistics, source)
        name = file_name(span)
        digest = hashlib.sha256()
        size = 0

        def chunks() -> Iterator[bytes]:
            nonlocal size
            for chunk in wire.statistics_chunks(statistics):
                digest.update(chunk)
                size += len(chunk)
                yield chunk

        write_file(self._join(name), chunks())
        first = statistics.datasets[0]
        return SpanEntry(
            span=span,
            file=name,
            num_examples=first.num_examples,
            num_features=sum(not is_composite_entry(f) for f in first.features),
            size=size,
            sha256=digest.hexdigest(),
            added=now(),
        )

    def add_entries(self, entries: Iterable[SpanEntry]) -> None:
        """Lists the spans :meth:`write_span` wrote in the manifest, in one atomic write
        that replaces those spans' earlier entries, then deletes the files they replace.
        When the manifest cannot be written, the new files are deleted.

        Raises:
            InvalidInputError: a span given twice.
            OutputError: the manifest cannot be written.
            DeserializationError: the manifest is damaged.
        """
        added = list(entries)
        spans = [e.span for e in added]
        twice = sorted({s for s in spans if spans.count(s) > 1})
        if twice:
            raise InvalidInputError(f"spans given more than once: {twice}")
        listed = self.spans()
        old = [e for e in listed if e.span in set(spans)]
        kept = [e for e in listed if e.span not in set(spans)]
        try:
            self._write_manifest([*kept, *added])
        except BaseException:
            with contextlib.suppress(Exception):  # the manifest's error is the one to see
                FileSystems.delete([self._join(e.file) for e in added])
            raise
        new_files = {e.file for e in added}
        gone = [self._join(e.file) for e in old if e.file not in new_files]
        if gone:
            # The manifest no longer names them: a file left behind is never read.
            with contextlib.suppress(Exception):
                FileSystems.delete(gone)

    # --- removing ----------------------------------------------------------------------

    def remove(self, spans: Iterable[str]) -> list[SpanEntry]:
        """Removes `spans` from the store: one atomic write of the manifest without them,
        then their files are deleted (a file left behind by a failed delete is an
        :meth:`orphans` file, never read).

        Returns:
            The entries removed.

        Raises:
            InvalidInputError: no span given, a span twice, or a span not in the store.
            OutputError: the manifest cannot be written (nothing is removed then).
            DeserializationError: the manifest is damaged.
        """
        wanted = [check_span(s) for s in spans]
        if not wanted or len(set(wanted)) != len(wanted):
            raise InvalidInputError(f"give each span to remove once, got {wanted!r}")
        listed = self.spans()
        removed = [self._find(listed, s) for s in wanted]
        self._write_manifest([e for e in listed if e.span not in set(wanted)])
        with contextlib.suppress(Exception):  # the manifest no longer names them
            FileSystems.delete([self._join(e.file) for e in removed])
        return removed

    def orphans(self) -> list[str]:
        """The paths of span files in the store's folder that the manifest does not name:
        left by a run killed between writing a span's file and listing it, or by a failed
        delete. Only names of the form the store gives its files count; nothing else in the
        folder is ever touched.

        Raises:
            DeserializationError: the manifest is damaged.
        """
        named = {e.file for e in self.spans()}
        try:
            found = FileSystems.match([self._join("*.pb")])[0].metadata_list
        except Exception:  # noqa: BLE001 (a folder that does not exist: nothing in it)
            return []
        paths = sorted(m.path for m in found)
        return [p for p in paths if _base(p) not in named and is_span_file_name(_base(p))]

    def clean(self) -> list[str]:
        """Deletes the :meth:`orphans` and returns their paths. A writer: never run it while
        spans are being added (a backfill writes its files before it lists them).

        Raises:
            OutputError: a file cannot be deleted.
        """
        found = self.orphans()
        if found:
            try:
                FileSystems.delete(found)
            except Exception as e:
                raise OutputError(f"cannot delete files of the store {self.path}: {e}") from e
        return found

    # --- reading -----------------------------------------------------------------------

    def _fetch(self, entry: SpanEntry) -> tuple[bytes, str | None]:
        """The bytes of `entry`'s file and None, or no bytes and what is wrong with it."""
        path = self._join(entry.file)
        if not FileSystems.exists(path):
            return b"", "missing"
        try:
            data = read_file(path, "statistics")
        except DeserializationError:  # an empty file
            data = b""
        except InvalidInputError as e:
            return b"", f"unreadable ({e})"
        if len(data) != entry.size:
            return b"", f"damaged ({len(data)} bytes, the manifest records {entry.size})"
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            return b"", "damaged (its SHA-256 differs from the manifest's)"
        return data, None

    def _read(self, entry: SpanEntry) -> bytes:
        data, problem = self._fetch(entry)
        if problem is None:
            return data
        where = f"span {entry.span!r} of the statistics store {self.path}: its file"
        where = f"{where} {self._join(entry.file)} is {problem}"
        if problem.startswith("damaged"):
            raise DeserializationError(
                f"{where}: it changed after it was added; add the span again"
            )
        raise InvalidInputError(f"{where}; add the span again")

    def load(self, span: str) -> statistics_pb2.DatasetFeatureStatisticsList:
        """The statistics of `span`, after checking its file's size and checksum.

        Raises:
            InvalidInputError: no such span, or its file is missing or unreadable.
            DeserializationError: the file is damaged (it differs from what was added) or
                the manifest is; the message names the span and the file.
        """
        return self._load(self.entry(span))

    def _load(self, entry: SpanEntry) -> statistics_pb2.DatasetFeatureStatisticsList:
        data = self._read(entry)
        statistics = statistics_pb2.DatasetFeatureStatisticsList()
        # The checksum says these are the bytes add() wrote: no need for parse_message's
        # look for foreign fields (a tenth of the load time of large files).
        try:
            statistics.ParseFromString(data)
        except (message.DecodeError, RecursionError) as e:
            raise DeserializationError(
                f"span {entry.span!r}: {self._join(entry.file)} is not a statistics file"
            ) from e
        return statistics

    def verify(self, span: str) -> None:
        """Checks `span`'s file against the manifest, raising as :meth:`load` does."""
        self._read(self.entry(span))

    def damaged(self) -> dict[str, str]:
        """The spans whose file is missing, unreadable or damaged, each with what is wrong
        (``"missing"``, ``"damaged (...)"``, ``"unreadable (...)"``); empty when every file
        is as it was added.

        Raises:
            DeserializationError: the manifest is damaged.
        """
        found = {}
        for entry in self.spans():
            _, problem = self._fetch(entry)
            if problem is not None:
                found[entry.span] = problem
        return found
