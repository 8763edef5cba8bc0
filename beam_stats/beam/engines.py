"""Which engine computes the statistics of files: a Beam pipeline, or this process
(:mod:`beam_stats.beam.inprocess`). Told without importing Beam (the command line asks
before anything else)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from beam_stats.beam.formats import is_local
from beam_stats.errors import InvalidInputError

if TYPE_CHECKING:
    from apache_beam.options.pipeline_options import PipelineOptions

#: How :func:`~beam_stats.jobs.compute_statistics` may run: ``auto`` (in this process when no
#: pipeline option is given and every input is local, else Beam), ``beam`` (a pipeline, on
#: the runner the options name) or ``in-process``.
ENGINES = ("auto", "beam", "in-process")


def runs_in_process(
    engine: str, pipeline_options: PipelineOptions | Sequence[str] | None, inputs: Sequence[str]
) -> bool:
    """Whether a statistics job runs in this process (:mod:`beam_stats.beam.inprocess` says why).

    Raises:
        InvalidInputError: an unknown engine; ``in-process`` with pipeline options or with an
            input on another file system than the local one.
    """
    if engine not in ENGINES:
        raise InvalidInputError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "beam":
        return False
    # A PipelineOptions object is options, even with every default.
    options = pipeline_options is not None and (
        not isinstance(pipeline_options, Sequence) or len(pipeline_options) > 0
    )
    remote = [path for path in inputs if not is_local(path)]
    if engine == "auto":
        return not options and not remote
    if options:
        raise InvalidInputError(
            "pipeline options need a pipeline: give engine 'beam' (or 'auto') with them"
        )
    if remote:
        raise InvalidInputError(
            f"{remote[0]!r} is not a local file: the in-process engine reads local files "
            "only; give engine 'beam' (or 'auto')"
        )
    return True
