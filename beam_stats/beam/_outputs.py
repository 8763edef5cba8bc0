"""A ParDo with a second output that every runner keeps apart from the main one.

The usual way, ``beam.ParDo(fn).with_outputs(tag, main=...)``, is not kept apart by Beam's
DaskRunner (checked on 2.77): it turns the ParDo into one ``dask.bag`` and hands that same bag
to the consumers of every output, so each output holds the elements of all of them (record
batches among the error records and error records among the batches).

:class:`ParDoWithTaggedOutput` runs the DoFn with a single output of ``(tag, value)`` pairs and
splits it with two ``FlatMap`` s, which every runner supports. Runners that fuse steps (the
portable ones, Dataflow, the FnApiRunner) run the three steps as one, so the cost elsewhere is
a tuple per output element.

The pairs are typed :class:`~beam_stats.beam.batch_coder.BatchesOrAny`, whose coder
estimates the size of record batches without encoding them (Beam samples the size of the
elements of fused PCollections too); each output is typed as given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.typehints.decorators import no_annotations

from beam_stats.beam.batch_coder import BatchesOrAny, register_coders

_LIFECYCLE = ("setup", "start_bundle", "finish_bundle", "teardown")


class _PairOutputs(beam.DoFn):
    """Runs ``fn.process``; each output becomes ``(tag, value)``, main outputs ``(None, value)``."""

    def __init__(self, fn: beam.DoFn) -> None:
        self._fn = fn

    def process(self, element: Any) -> Iterator[tuple[str | None, Any]]:
        for output in self._fn.process(element) or ():
            if isinstance(output, beam.pvalue.TaggedOutput):
                yield output.tag, output.value
            else:
                yield None, output


def _select(pair: Any, tag: str | None) -> Iterator[Any]:
    if pair[0] == tag:
        yield pair[1]


class ParDoWithTaggedOutput(beam.PTransform):
    """``ParDo(fn)`` whose ``TaggedOutput(tag, ...)`` elements form a second PCollection.

    Args:
        fn: a DoFn with ``process`` only (no setup or bundle methods, which the wrapper would
            have to forward), yielding main outputs and ``beam.pvalue.TaggedOutput(tag, ...)``.
        tag: the one additional output tag `fn` uses.
        main_type, tagged_type: the type hints of the two outputs (their coders follow).

    Returns (from ``expand``): ``(main, tagged)``, two PCollections.

    Raises:
        TypeError: `fn` defines a lifecycle method.
    """

    def __init__(
        self, fn: beam.DoFn, tag: str, main_type: Any = Any, tagged_type: Any = Any
    ) -> None:
        super().__init__()
        overridden = [m for m in _LIFECYCLE if getattr(type(fn), m) is not getattr(beam.DoFn, m)]
        if overridden:
            raise TypeError(f"{type(fn).__name__} defines {overridden}: only process is supported")
        self._fn = fn
        self._tag = tag
        self._main_type, self._tagged_type = main_type, tagged_type

    def expand(
        self, pcoll: beam.pvalue.PCollection
    ) -> tuple[beam.pvalue.PCollection, beam.pvalue.PCollection]:
        register_coders()  # before the typed outputs below pick their coders
        pairs = pcoll | "Run" >> beam.ParDo(_PairOutputs(self._fn)).with_output_types(BatchesOrAny)
        main = pairs | "Main" >> beam.FlatMap(_select, None).with_output_types(self._main_type)
        tagged = pairs | self._tag.capitalize() >> beam.FlatMap(
            _select, self._tag
        ).with_output_types(self._tagged_type)
        return main, tagged


# Several PCollections out: without this, Beam logs that it ignores the annotation.
no_annotations(ParDoWithTaggedOutput.expand)
