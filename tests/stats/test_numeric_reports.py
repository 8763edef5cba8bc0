"""The median and histograms of many numeric features made at once (stats/numeric_reports.py):
each feature's report is the message its own queries make, whatever the values (NaN, signed
zeros, repeated values, the widest range of floats) and bucket numbers; features it cannot
prepare (one value, past the exact limit) and a state changed since are reported as before."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats.sketches import QuantilesSpec
from beam_stats.stats.numeric import NumericAccumulator
from beam_stats.stats.numeric_reports import prepare_numeric

SPEC = QuantilesSpec(exact_limit=1000)
COMMON = statistics_pb2.CommonStatistics(num_non_missing=3)


def _state(parts: list[np.ndarray]) -> NumericAccumulator:
    state = NumericAccumulator(SPEC)
    for part in parts:  # several adds: merged pending parts, as a slice's batches make
        state.add(pa.array(part, type=pa.float64()))
    return state


def _alone(state: NumericAccumulator, buckets: tuple[int, int]) -> bytes:
    """The report of a copy of `state` that was never prepared."""
    copy = NumericAccumulator.from_proto(state.to_proto(), SPEC)
    assert copy.prepared is None
    stats, bounds = copy.result(COMMON, *buckets)
    return stats.SerializeToString(deterministic=True) + repr(sorted(bounds.items())).encode()


def _report(state: NumericAccumulator, buckets: tuple[int, int]) -> bytes:
    stats, bounds = state.result(COMMON, *buckets)
    return stats.SerializeToString(deterministic=True) + repr(sorted(bounds.items())).encode()


_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e308, -1e308, 5e-324, np.nan]),
    st.integers(-5, 5).map(float),
)
_PART = st.lists(_VALUES, max_size=40).map(lambda xs: np.array(xs, dtype=np.float64))


@settings(max_examples=80, deadline=None)
@given(
    features=st.lists(st.lists(_PART, min_size=0, max_size=3), min_size=1, max_size=12),
    buckets=st.tuples(st.sampled_from([1, 2, 3, 10]), st.sampled_from([1, 2, 4, 10])),
)
def test_each_report_is_the_one_made_alone(
    features: list[list[np.ndarray]], buckets: tuple[int, int]
) -> None:
    states = [_state(parts) for parts in features]
    expected = [_alone(state, buckets) for state in states]
    prepare_numeric(states, *buckets)
    for state in states:
        m = state.moments
        # Prepared exactly when it can be: some finite values, not all equal.
        assert (state.prepared is not None) == bool(m.count and m.min < m.max)
    assert [_report(state, buckets) for state in states] == expected


def test_what_is_not_prepared_and_what_changed_since_are_reported_as_before() -> None:
    rng = np.random.default_rng(5)
    wide = _state([rng.normal(size=3000)])  # past the exact limit of 1,000: a summary
    constant = _state([np.full(7, 2.5)])
    plain = _state([rng.integers(0, 50, 300).astype(np.float64)])
    nan_only = _state([np.array([np.nan, np.nan])])
    states = [wide, constant, plain, nan_only]
    expected = [_alone(state, (10, 10)) for state in states]
    prepare_numeric(states, 10, 10)
    assert [state.prepared is not None for state in states] == [False, False, True, False]
    assert [_report(state, (10, 10)) for state in states] == expected
    # Other bucket numbers than prepared: made as before.
    assert _report(plain, (4, 3)) == _alone(plain, (4, 3))
    # Values added since (a NaN changes only the moments): the new report, not the old one.
    plain.add(pa.array([np.nan]))
    assert _report(plain, (10, 10)) == _alone(plain, (10, 10))
    plain.add(pa.array([1000.0]))
    assert _report(plain, (10, 10)) == _alone(plain, (10, 10))
    histogram = plain.result(COMMON, 10, 10)[0].histograms[0]
    assert histogram.buckets[-1].high_value == 1000.0 and histogram.num_nan == 1


def test_prepared_counts_and_edges_against_numpy() -> None:
    """Independent of the sketch: the prepared histograms of integer data checked with numpy
    (equal-width counts by np.histogram, quantile edges by inverted_cdf)."""
    rng = np.random.default_rng(9)
    data = [rng.integers(-20, 20, int(n)).astype(np.float64) for n in rng.integers(2, 400, 30)]
    states = [_state([d[: d.size // 2], d[d.size // 2 :]]) for d in data]
    prepare_numeric(states, 8, 4)
    for d, state in zip(data, states, strict=True):
        stats, _ = state.result(COMMON, 8, 4)
        assert state.prepared is not None
        standard, quantiles = stats.histograms
        counts, edges = np.histogram(d, bins=8, range=(d.min(), d.max()))
        assert [b.sample_count for b in standard.buckets] == counts.tolist()
        np.testing.assert_allclose([b.low_value for b in standard.buckets], edges[:-1])
        ranks = np.linspace(0, 1, 5)
        expected = np.quantile(d, ranks, method="inverted_cdf")
        got = [quantiles.buckets[0].low_value] + [b.high_value for b in quantiles.buckets]
        assert got == expected.tolist()
        assert stats.median == np.quantile(d, 0.5, method="inverted_cdf")
        assert quantiles.type == statistics_pb2.Histogram.QUANTILES


def test_one_bucket_over_the_widest_range_starts_at_the_minimum() -> None:
    """Its step is infinite (1e308 - -1e308): the first edge was NaN, and the report failed."""
    state = _state([np.array([-1e308, 0.0, 1e308])])
    expected = _alone(state, (1, 2))
    stats, _ = state.result(COMMON, 1, 2)
    (bucket,) = stats.histograms[0].buckets
    assert (bucket.low_value, bucket.high_value, bucket.sample_count) == (-1e308, 1e308, 3)
    prepare_numeric([state], 1, 2)
    assert state.prepared is not None and _report(state, (1, 2)) == expected
