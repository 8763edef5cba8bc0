"""Making and running a pipeline the same way on every runner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import BeamIOError
from apache_beam.options.pipeline_options import PipelineOptions

from beam_stats.beam.sinks import discard_temporaries
from beam_stats.errors import InvalidInputError, LostOutputError


def make_pipeline(options: PipelineOptions | Sequence[str] | None = None) -> beam.Pipeline:
    """A pipeline with `options` (an object, or flags such as ``["--runner=FlinkRunner"]``).

    Raises:
        InvalidInputError: a bad option, e.g. an unknown runner.
    """
    if options is None or not isinstance(options, PipelineOptions):
        options = PipelineOptions(list(options or ()))
    try:
        return beam.Pipeline(options=options)
    except ValueError as e:  # e.g. an unknown --runner
        raise InvalidInputError(f"bad pipeline option: {e}") from e


def run_pipeline(pipeline: Any) -> None:
    """Runs `pipeline` to the end, on any runner (the DaskRunner leaves its client open).
    A run that fails leaves the earlier outputs as they were.

    Raises:
        LostOutputError: the runner could not finish writing an output's files.
    """
    try:
        result = pipeline.run()
        result.wait_until_finish()
    except BaseException as e:
        discard_temporaries(pipeline)  # the earlier outputs stay as they were
        if not isinstance(e, BeamIOError):
            raise
        # e.g. Beam's DaskRunner finalising a sharded write twice
        raise LostOutputError(
            f"the runner could not finish writing an output ({e}); its files are incomplete. "
            "Beam's DaskRunner does not finalise sharded writes (docs/RUNNERS.md): use "
            "another runner."
        ) from e
    client = getattr(result, "client", None)
    if client is not None:
        client.close()
