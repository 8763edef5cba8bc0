"""Concept shift (`beam_stats.drift.concept`): a reversed effect is found on its feature
only, and sampling noise raises nothing."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from concept_reference import concept_data

from beam_stats.arrow import flatten_batch
from beam_stats.drift.concept import concept_shift
from beam_stats.stats.labels import LabelAccumulator, LabelSpec, label_batch

SPEC = LabelSpec(feature="y")


def _state(frame: pd.DataFrame) -> dict[str, LabelAccumulator]:
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    columns = {c.path[0]: c for c in flatten_batch(batch)}
    label = label_batch(columns["y"], SPEC, batch.num_rows)
    states = {}
    for name, column in columns.items():
        states[name] = LabelAccumulator(SPEC)
        states[name].add(column, label, categorical=False)
    return states


def _shifts(base: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    a, b = _state(base), _state(test)
    found = {}
    for name in ("x1", "x2", "x3"):
        distance = concept_shift(a[name], b[name], numeric=name == "x2")
        assert distance is not None
        found[name] = distance.value
    return found


def test_a_reversed_effect_is_found_on_its_feature_only() -> None:
    base, test = concept_data(0, False), concept_data(1, True)
    # The premise, on the raw data: same P(x1), same label rate, reversed P(y | x1).
    assert abs((base.x1 == "a").mean() - (test.x1 == "a").mean()) < 0.02
    assert abs((base.y == "pos").mean() - (test.y == "pos").mean()) < 0.02
    rate = lambda f: f[f.x1 == "a"].y.eq("pos").mean()  # noqa: E731
    assert rate(base) > 0.75 and rate(test) < 0.25
    shifts = _shifts(base, test)
    # The raw total variation of P(y | x1) is ~0.6 in both buckets; noise takes ~0.02.
    raw = 0.5 * sum(
        abs(base[base.x1 == v].y.eq(c).mean() - test[test.x1 == v].y.eq(c).mean())
        * 0.5
        * ((base.x1 == v).mean() + (test.x1 == v).mean())
        for v in ("a", "b")
        for c in ("pos", "neg")
    )
    assert shifts["x1"] == pytest.approx(raw, abs=0.03) and shifts["x1"] > 0.5
    assert shifts["x2"] == 0.0 and shifts["x3"] == 0.0


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_an_unshifted_pair_raises_nothing(seed: int) -> None:
    """Categorical buckets are exact: nothing survives the noise margin. Numeric buckets
    of 20,000 values are estimated from the quantiles sketch: at most a trace."""
    shifts = _shifts(concept_data(0, False), concept_data(seed, False))
    assert shifts["x1"] == 0.0 and shifts["x3"] == 0.0 and shifts["x2"] < 0.005


def test_small_buckets_cannot_raise_an_alarm() -> None:
    """A value seen in three examples per side whose labels flip completely."""
    base = pd.DataFrame(
        {"x": ["rare"] * 3 + ["common"] * 2000, "y": ["pos"] * 3 + ["neg", "pos"] * 1000}
    )
    test = pd.DataFrame(
        {"x": ["rare"] * 3 + ["common"] * 2000, "y": ["neg"] * 3 + ["neg", "pos"] * 1000}
    )
    a, b = _state(base)["x"], _state(test)["x"]
    distance = concept_shift(a, b, numeric=False)
    assert distance is not None and distance.value == 0.0 and distance.error == 0.0
    # The same flip in 3,000 examples is a shift.
    base.loc[base.x == "common", "y"] = "pos"
    big = concept_shift(_state(base)["x"], b, numeric=False)
    assert big is not None and big.value > 0.4 and '"common"' in big.detail


def test_validation_raises_it_on_the_reversed_feature_only() -> None:
    """End to end: label-aware statistics of both datasets, drift thresholds on every
    feature; a concept-shift anomaly on x1 alone, and none for an unshifted pair."""
    from beam_stats import infer_schema, set_drift_thresholds, validate_statistics
    from beam_stats.stats import StatisticsSpec, generate_statistics_from_table
    from beam_stats.validation import anomaly_rows

    spec = StatisticsSpec(label="y")

    def stats(frame: pd.DataFrame) -> object:
        return generate_statistics_from_table(
            pa.Table.from_pandas(frame, preserve_index=False), spec
        )

    previous = stats(concept_data(0, False))
    schema = infer_schema(previous)
    for name in ("x1", "x2", "x3"):
        schema = set_drift_thresholds(schema, name, concept_shift=0.1)
    for current, expected in ((concept_data(1, True), {"x1"}), (concept_data(2, False), set())):
        found = validate_statistics(stats(current), schema, previous_statistics=previous)
        rows = [
            r for r in anomaly_rows(found) if r.short_description == "COMPARATOR_CONCEPT_SHIFT_HIGH"
        ]
        assert {r.feature for r in rows} == expected
        assert all('"a"' in r.description or '"b"' in r.description for r in rows)
