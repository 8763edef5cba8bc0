"""A statistics history: one statistics file per span, in a folder on any Beam file system.

A *store* is a folder (local, ``gs://``, ``s3://``, any registered scheme) holding one
binary statistics file per *span* and a manifest, ``manifest.json``, listing them. A span is
a text key that sorts: a date (``2026-11-23``), an hour (``2026-11-23T10``), a zero-padded
run number. Spans sort as text (code point order), so dates are written year first and
numbers padded; a span is non-empty, printable, without ``/`` and without surrounding
spaces, at most 256 characters.

Layout::

    STORE/manifest.json                  {"format": ..., "version": 1, "spans": [...]}
    STORE/2026-11-23.3f9a1c2b0d4e.pb     the span's statistics (binary, with sketch state)

Each entry of the manifest (:class:`SpanEntry`) names the span, its file (relative to the
store; the span's characters outside ``A-Z a-z 0-9 . _ = -`` become ``_``, and a random
suffix makes each name unique), the examples and features of its first dataset, the file's
size and SHA-256, and when it was added (UTC). :meth:`StatisticsStore.load` checks the size
and checksum before it parses: a file changed or lost after it was added raises an error
naming the span and the file; no span is ever skipped.

Adding (:meth:`StatisticsStore.add`) writes the statistics under a new name (atomically,
:func:`~beam_stats.beam.writing.write_file`), then the manifest (atomically), then deletes
the file the span had before, if any. A reader sees the old manifest and the old file, or
the new manifest and the new file. A run killed between the steps leaves a file that no
entry names (harmless, never read), never a manifest naming a partial file. Many spans at
once (a backfill, :func:`beam_stats.jobs.backfill_history`): each span's file is written
(:meth:`StatisticsStore.write_span`, in parallel), then one manifest lists them all
(:meth:`StatisticsStore.add_entries`).

Baselines: :meth:`StatisticsStore.baseline` merges the statistics of the spans given,
:meth:`StatisticsStore.rolling_baseline` those of the last N spans before a span, with
:func:`beam_stats.stats.merge_statistics`: the exact merge of the sketch state, identical to
one run over the spans' data for exact statistics. So every file added must carry sketch
state; files made with other sketch settings or privacy policies refuse to merge
(:class:`~beam_stats.errors.IncompatibleMergeError`, naming the span).

Concurrency: one writer at a time. Readers may run beside the writer (a reader that read
the manifest just before a span was replaced may find that span's old file deleted: it gets
the missing-file error, and reads again). Two writers at once are not supported: each
rewrites the manifest from the one it read, so the last rename wins and the other's span is
lost from the manifest (its file stays, unnamed).
"""

from __future__ import annotations

from collections.abc import Iterable

from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.beam.spans import SpanEntry, check_span
from beam_stats.beam.store_files import MANIFEST, StoreFiles
from beam_stats.errors import InvalidInputError
from beam_stats.stats import merge_statistics
from beam_stats.stats.spec import StatisticsSpec

__all__ = ["MANIFEST", "SpanEntry", "StatisticsStore", "check_span"]


class StatisticsStore(StoreFiles):
    """A folder of statistics, one file per span, and its manifest (see the module's notes).

    Every method reads the manifest afresh, so a store object never shows a stale list. A
    folder without a manifest is an empty store; the first :meth:`add` creates both.

    Args:
        path: the folder, on any Beam file system.
    """

    # --- baselines ---------------------------------------------------------------------

    def window(self, last_n: int, *, before: str | None = None) -> list[SpanEntry]:
        """The last `last_n` spans before `before` (all spans when None), oldest first;
        fewer when the history is shorter.

        Raises:
            InvalidInputError: `last_n` is not a positive integer, or `before` is not a
                valid span key.
        """
        if isinstance(last_n, bool) or not isinstance(last_n, int) or last_n < 1:
            raise InvalidInputError(f"last_n must be a positive integer, got {last_n!r}")
        entries = self.spans()
        if before is not None:
            check_span(before)
            entries = [e for e in entries if e.span < before]
        return entries[-last_n:]

    def baseline(
        self,
        spans: Iterable[str],
        *,
        spec: StatisticsSpec | None = None,
        include_state: bool = True,
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        """The statistics of the spans' data together: their exact merge
        (:func:`beam_stats.stats.merge_statistics`).

        Args:
            spans: the spans to merge, each once.
            spec: the specs of the files' custom statistics, as for ``merge_statistics``.
            include_state: keep the merged sketch state, so the baseline merges again.

        Raises:
            InvalidInputError: no span given, a span twice, a span not in the store, or a
                missing file.
            DeserializationError: a damaged file (never skipped) or manifest.
            IncompatibleMergeError: spans made with other sketch settings or privacy
                policies; the message names the span.
        """
        wanted = [check_span(s) for s in spans]
        if not wanted:
            raise InvalidInputError("no span to merge into a baseline")
        twice = sorted({s for s in wanted if wanted.count(s) > 1})
        if twice:
            raise InvalidInputError(f"spans given more than once (they would count twice): {twice}")
        entries = self.spans()
        return self._merge([self._find(entries, s) for s in wanted], spec, include_state)

    def rolling_baseline(
        self,
        last_n: int,
        *,
        before: str | None = None,
        spec: StatisticsSpec | None = None,
        include_state: bool = True,
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        """The :meth:`baseline` of the :meth:`window` of the last `last_n` spans before
        `before` (the newest spans when None); fewer when the history is shorter.

        Raises:
            InvalidInputError: no span before `before`, and as :meth:`baseline`.
        """
        entries = self.window(last_n, before=before)
        if not entries:
            where = f"before {before!r} " if before is not None else ""
            raise InvalidInputError(f"no span {where}in the statistics store {self.path}")
        return self._merge(entries, spec, include_state)

    def _merge(
        self, entries: list[SpanEntry], spec: StatisticsSpec | None, include_state: bool
    ) -> statistics_pb2.DatasetFeatureStatisticsList:
        loaded = [self._load(e) for e in entries]
        sources = [f"span {e.span!r} ({self._join(e.file)})" for e in entries]
        return merge_statistics(*loaded, spec=spec, sources=sources, include_state=include_state)
