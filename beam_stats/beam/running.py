"""Making and running a pipeline the same way on every runner."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import BeamIOError
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import create_runner

from beam_stats.beam.sinks import discard_temporaries
from beam_stats.errors import InvalidInputError, LostOutputError


def make_pipeline(options: PipelineOptions | Sequence[str] | None = None) -> beam.Pipeline:
    """A pipeline with `options` (an object, or flags such as ``["--runner=FlinkRunner"]``).

    Raises:
        InvalidInputError: a bad option, e.g. an unknown runner, or a flag that is no
            pipeline option (:func:`check_flags`).
    """
    if options is None or not isinstance(options, PipelineOptions):
        flags = list(options or ())
        check_flags(flags)
        options = PipelineOptions(flags)
    try:
        return beam.Pipeline(options=options)
    except ValueError as e:  # e.g. an unknown --runner
        raise InvalidInputError(f"bad pipeline option: {e}") from e


def check_flags(flags: Sequence[str]) -> None:
    """Refuses flags that no pipeline option takes: Beam drops them with a warning and runs
    without them, so that a misspelled option (``--slices`` for ``--slice``, ``--runer``)
    would give other results than asked, as if nothing were wrong. The options of the
    runner the flags name count (its module is imported first, as running imports it: the
    DaskRunner's ``--dask_client_address``).

    Raises:
        InvalidInputError: naming the flags no option takes, or an option's bad value.
    """
    options = PipelineOptions(list(flags))
    runner = options.view_as(StandardOptions).runner
    if isinstance(runner, str):
        with contextlib.suppress(Exception):  # a bad runner is refused when the pipeline is made
            create_runner(runner)
    unknown: list[str] = []

    def collect(parser: argparse.ArgumentParser) -> None:
        # Called with every option class's arguments added, before Beam parses the flags.
        parser.exit_on_error = False  # a bad value raises (not a usage page and an exit)
        try:
            unknown.extend(parser.parse_known_args(list(flags))[1])
        except argparse.ArgumentError as e:
            raise InvalidInputError(f"bad pipeline option: {e}") from e

    # Unknown options kept (not dropped with a warning): they are refused below instead.
    options.get_all_options(add_extra_args_fn=collect, retain_unknown_options=True)
    names = [flag.split("=", 1)[0] for flag in unknown if flag.startswith("-")]
    if names:
        raise InvalidInputError(
            f"unknown option{'s' if len(names) > 1 else ''} {', '.join(names)}: neither an "
            "option of beam-stats nor a Beam pipeline option (see --help)"
        )


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
