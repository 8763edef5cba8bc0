"""ParDoWithTaggedOutput: a second output kept apart without Beam's tagged outputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_stats.beam._outputs import ParDoWithTaggedOutput


class _EvenAndOdd(beam.DoFn):
    def process(self, x: int) -> Iterator[Any]:
        if x % 2:
            yield beam.pvalue.TaggedOutput("odd", (x, "odd"))
        else:
            yield x
            yield x  # several outputs of one element


def test_main_and_tagged_outputs_are_apart() -> None:
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        main, odd = (
            pipeline
            | beam.Create(range(6))
            | "Split" >> ParDoWithTaggedOutput(_EvenAndOdd(), "odd")
        )
        assert_that(main, equal_to([0, 0, 2, 2, 4, 4]), label="Main")
        assert_that(odd, equal_to([(1, "odd"), (3, "odd"), (5, "odd")]), label="Odd")


def test_a_dofn_with_lifecycle_methods_is_refused() -> None:
    class WithSetup(_EvenAndOdd):
        def setup(self) -> None:
            pass

    with pytest.raises(TypeError, match=r"WithSetup defines \['setup'\]"):
        ParDoWithTaggedOutput(WithSetup(), "odd")
