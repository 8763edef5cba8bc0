"""The exceptions beam-stats raises.

::

    BeamStatsError
    ├── InvalidInputError        bad arguments or unreadable input the caller must fix
    │   ├── DeserializationError a corrupt or foreign protobuf / sketch payload
    │   ├── SchemaError          a schema that is inconsistent or does not fit the request
    │   └── OutputError          an output that must not or cannot be written there
    └── IncompatibleMergeError   two states made with different settings or types

Bad *data* (a malformed row, a wrong-typed value, invalid UTF-8) is not raised: it is
counted and reported in the statistics and the reader's error output.
"""

from __future__ import annotations


class BeamStatsError(Exception):
    """Base class of every error beam-stats raises on purpose."""


class InvalidInputError(BeamStatsError, ValueError):
    """An argument, option or input file the caller has to fix."""


class DeserializationError(InvalidInputError):
    """A serialized statistics file or sketch state that cannot be decoded."""


class SchemaError(InvalidInputError):
    """A schema that is inconsistent, or that does not declare what the caller asks for
    (e.g. an unknown environment or anomaly type name)."""


class OutputError(InvalidInputError):
    """An output path that names an input of the same command, a directory, or a place that
    cannot be written (no such folder, no permission, no space left)."""


class IncompatibleMergeError(BeamStatsError):
    """Two accumulators or statistics that cannot be merged (different settings)."""


class LostOutputError(BeamStatsError):
    """A runner finished without writing an output the job produced (a runner's bug)."""
