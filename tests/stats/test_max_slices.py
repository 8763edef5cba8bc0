"""SlicingSpec.max_slices: a slicing by an id fails with a message that says what to change,
before it exhausts memory; half the bound warns; under it nothing changes."""

from __future__ import annotations

import logging
import re

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from proto_compare import assert_close
from stats.test_slicing import _without_sketches
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import GenerateStatistics, SlicingSpec, generate_statistics_from_table
from beam_stats.beam.slices import _CollectSlices
from beam_stats.errors import InvalidInputError
from beam_stats.stats.slicing import DEFAULT_MAX_SLICES, SliceCounter

N = 5000
SLICING_LOG = "beam_stats.stats.slicing"


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = np.random.default_rng(11)
    country = rng.choice(["DE", "FR", "JP"], N).astype(object)
    country[rng.random(N) < 0.05] = None  # a fourth slice: country=<missing>
    return pa.table(
        {
            "user_id": [f"user-{i:07d}" for i in rng.permutation(N)],  # near-unique
            "country": pa.array(country, pa.string()),
            "age": pa.array(rng.integers(18, 90, N), mask=rng.random(N) < 0.1),
            "income": rng.lognormal(10, 1, N),
        }
    )


def test_default_and_bad_settings() -> None:
    assert SlicingSpec(features=("a",)).max_slices == DEFAULT_MAX_SLICES == 10_000
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(InvalidInputError, match=re.escape(f"got {bad!r}")):
            SlicingSpec(features=("a",), max_slices=bad)  # type: ignore[arg-type]


def test_an_id_in_one_batch_fails_before_any_slice_is_made(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("user_id",), max_slices=1000)
    counter = SliceCounter(slicing)
    with pytest.raises(InvalidInputError) as raised:
        generate_statistics_from_table(table, slicing=slicing)
    message = str(raised.value)
    assert f"slicing by 'user_id' made {N:,} slices in one batch of {N:,} rows" in message
    assert "more than max_slices=1,000" in message
    assert "raise max_slices" in message and "--max-slices" in message
    with pytest.raises(InvalidInputError, match="max_slices"):
        next(counter.slice(table.to_batches()[0]))  # fails before yielding a first slice
    assert counter.count == 0


def test_an_id_spread_over_batches_fails_at_the_first_slice_too_many(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("user_id",), max_slices=1000)
    with pytest.raises(InvalidInputError) as raised:  # 500 ids per batch: no batch alone fails
        generate_statistics_from_table(table, slicing=slicing, batch_size=500)
    assert "slicing by 'user_id' made 1,001 slices, more than max_slices=1,000" in str(raised.value)


def test_the_message_ranks_the_slicings_by_the_slices_they_made(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("country", "user_id"), max_slices=1000)
    with pytest.raises(InvalidInputError) as raised:
        generate_statistics_from_table(table, slicing=slicing, batch_size=500)
    found = re.search(
        r"slicing by 'user_id' \(([\d,]+) slices\), 'country' \((\d) slices\) made 1,001 slices",
        str(raised.value),
    )
    assert found, str(raised.value)
    assert int(found[1].replace(",", "")) == 997 and int(found[2]) == 4  # DE FR JP <missing>


def test_half_of_the_bound_warns_once_and_results_are_unchanged(
    table: pa.Table, caplog: pytest.LogCaptureFixture
) -> None:
    unbounded = generate_statistics_from_table(
        table, slicing=SlicingSpec(features=("country",)), batch_size=700
    )
    assert len(unbounded.datasets) == 5  # the whole dataset and 4 slices
    for limit, warns in ((4, True), (8, True), (9, False)):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=SLICING_LOG):
            bounded = generate_statistics_from_table(
                table, slicing=SlicingSpec(features=("country",), max_slices=limit), batch_size=700
            )
        assert_close(_without_sketches(bounded), _without_sketches(unbounded))
        warnings = [r.getMessage() for r in caplog.records if r.name == SLICING_LOG]
        if warns:
            (warning,) = warnings  # once per run, not once per batch
            half = -(-limit // 2)  # the first count that is at least half of the bound
            assert f"slicing by 'country' has made {half} slices" in warning
            assert f"half of max_slices={limit}" in warning
        else:
            assert warnings == []


def test_a_beam_pipeline_fails_with_the_message(table: pa.Table) -> None:
    slicing = SlicingSpec(features=("user_id",), max_slices=1000)
    # The 500-row batches are joined before slicing (beam_stats.stats.coalesce), so the
    # run fails on one joined batch of more than 1,000 ids or on the count of the keys.
    with (
        pytest.raises(InvalidInputError, match=r"slicing by 'user_id' made [\d,]+ slices"),
        beam.Pipeline(runner=FnApiRunner()) as pipeline,
    ):
        batches = pipeline | beam.Create(table.to_batches(max_chunksize=500))
        _ = batches | GenerateStatistics(slicing=slicing)


def test_a_beam_pipeline_under_the_bound_is_unchanged(
    table: pa.Table, caplog: pytest.LogCaptureFixture
) -> None:
    # Without the ids: their top values (5,000 distinct, capacity 2,048) depend on merge order.
    table = table.drop_columns(["user_id"])
    expected = generate_statistics_from_table(table, slicing=SlicingSpec(features=("country",)))

    def check(outputs: list[statistics_pb2.DatasetFeatureStatisticsList]) -> None:
        (output,) = outputs
        assert_close(_without_sketches(output), _without_sketches(expected))

    with (
        caplog.at_level(logging.WARNING, logger=SLICING_LOG),
        beam.Pipeline(runner=FnApiRunner()) as pipeline,
    ):
        batches = pipeline | beam.Create(table.to_batches(max_chunksize=600))
        slicing = SlicingSpec(features=("country",), max_slices=8)
        assert_that(batches | GenerateStatistics(slicing=slicing), check)
    assert any("half of max_slices=8" in r.getMessage() for r in caplog.records)


def test_gathering_counts_the_slices_of_every_worker() -> None:
    """Workers that each saw fewer slices than the bound: the gather step still fails."""
    slicing = SlicingSpec(features=("user_id",), max_slices=3)
    results = [(name, statistics_pb2.DatasetFeatureStatisticsList()) for name in "wabc"]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        collected = pipeline | beam.Create(results) | beam.CombineGlobally(_CollectSlices(slicing))
        assert_that(collected | beam.Map(len), equal_to([4]))  # the whole dataset + 3 slices
    with (
        pytest.raises(InvalidInputError, match="slicing by 'user_id' made 4 slices, more than"),
        beam.Pipeline(runner=FnApiRunner()) as pipeline,
    ):
        more = pipeline | beam.Create([*results, ("d", results[0][1])])
        _ = more | beam.CombineGlobally(_CollectSlices(slicing))
