"""Sinks of the pipelines: one text file written atomically (:class:`WriteTextFile`), the
errors file of every job (:class:`WriteErrors`), and the clean-up of a failed pipeline's
temporary files (:func:`discard_temporaries`). The rules are
:mod:`beam_stats.beam.writing`'s."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.pipeline import PipelineVisitor

from beam_stats.beam.formats import is_local
from beam_stats.beam.writing import local_path, replace_file, temporary_path


@beam.typehints.with_input_types(str)
@beam.typehints.with_output_types(str)
class WriteTextFile(beam.PTransform):
    """Writes a PCollection of lines to one text file, atomically (see the module's notes).

    Args:
        path: the file (any Beam file system); written, empty, when there is no line.

    Returns (from ``expand``): a PCollection of `path`, once the file is in place.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._temporary = temporary_path(path)  # unique: concurrent runs do not collide

    def expand(self, lines: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return (
            lines
            | "Write" >> beam.io.WriteToText(self._temporary, num_shards=1, shard_name_template="")
            | "Rename" >> beam.Map(replace_file, self._path)
        )

    def discard(self) -> None:
        """Removes what a failed run of this sink left: its temporary file and Beam's
        ``beam-temp-`` folder of it (names unique to this sink, so no other run's)."""
        temporary = self._temporary
        folder, name = temporary.rsplit("/", 1) if "/" in temporary else (".", temporary)
        with contextlib.suppress(Exception):  # cleaning up: the run's error is the one to see
            if is_local(temporary):  # Beam's match lists files, not (empty) folders
                local = local_path(folder)
                for path in glob.glob(f"{glob.escape(local)}/beam-temp-{glob.escape(name)}-*"):
                    shutil.rmtree(path, ignore_errors=True)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(local_path(temporary))
                return
            found = FileSystems.match([temporary, f"{folder}/beam-temp-{name}-*/*"])
            paths = {m.path for result in found for m in result.metadata_list}
            # Beam's temporary folders go with the files in them.
            paths = {p.rsplit("/", 1)[0] if "/beam-temp-" in p else p for p in paths}
            if paths:
                FileSystems.delete(sorted(paths))


def discard_temporaries(pipeline: beam.Pipeline) -> None:
    """Removes the temporary files of every :class:`WriteTextFile` of a failed `pipeline`."""

    class _Sinks(PipelineVisitor):
        def enter_composite_transform(self, node: Any) -> None:
            if isinstance(node.transform, WriteTextFile):
                node.transform.discard()

    pipeline.visit(_Sinks())


@beam.typehints.with_input_types(dict[str, Any])
@beam.typehints.with_output_types(str)
class WriteErrors(beam.PTransform):
    """Writes error records to one JSON-lines file, atomically (:class:`WriteTextFile`).

    Args:
        path: the errors file; written, empty, when there is no record.
        to_line: one record as one line of JSON (``json.dumps``; the jobs whose outputs
            may be shown in HTML pass their escaping encoder).

    Returns (from ``expand``): a PCollection of `path`, once the file is in place.
    """

    def __init__(self, path: str, to_line: Callable[[Any], str] = json.dumps) -> None:
        super().__init__()
        self._path = path
        self._to_line = to_line

    def expand(self, records: beam.pvalue.PCollection) -> beam.pvalue.PCollection:
        return records | "ToJson" >> beam.Map(self._to_line) | "Write" >> WriteTextFile(self._path)
