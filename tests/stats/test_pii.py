"""Personal-data detection (stats/pii_patterns.py, stats/pii.py): precision and recall on a
generated mix labelled by independent checks, and the statistic's counts, merges and output."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pii_reference import MAKERS, luhn_ok, mix

from beam_stats import StatisticsSpec, generate_statistics_from_table, merge_statistics
from beam_stats.stats.pii import PREFIX, PiiAccumulator
from beam_stats.stats.pii_checks import luhn
from beam_stats.stats.pii_patterns import DETECTORS, detect


@pytest.mark.parametrize("seed", [0, 1])
def test_every_planted_value_is_found_and_no_lookalike(seed: int) -> None:
    values, kinds = mix(seed)
    found = detect(pa.array(values))
    for kind in DETECTORS:
        truth = [k == kind for k in kinds]
        hits = list(found[kind])
        true_positives = sum(h and t for h, t in zip(hits, truth, strict=True))
        recall = true_positives / sum(truth)
        precision = true_positives / max(sum(hits), 1)
        missed = [v for v, h, t in zip(values, hits, truth, strict=True) if t and not h][:5]
        wrong = [v for v, h, t in zip(values, hits, truth, strict=True) if h and not t][:5]
        assert (recall, precision) == (1.0, 1.0), (kind, missed, wrong)


def test_checksums_decide() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    numbers = ["4111111111111111", "4111111111111112", "5500005555555559", "378282246310005"]
    assert list(luhn(pa.array(numbers))) == [luhn_ok(n) for n in numbers]
    found = detect(pa.array(["DE89370400440532013000", "DE89370400440532013001"]))
    assert list(found["iban"]) == [True, False]
    ssn = detect(pa.array(["123-45-6789", "000-45-6789", "666-45-6789", "900-45-6789"]))
    assert list(ssn["us_ssn"]) == [True, False, False, False]


@given(st.lists(st.text(max_size=30) | st.sampled_from(["a@b.co", "10.0.0.1", "::1"])))
def test_any_text_is_handled_and_slices_agree(values: list[str]) -> None:
    array = pa.array(values + ["x@y.org"])
    whole = detect(array)
    # a sliced array (an offset into its buffers) gives the same answers
    tail = detect(array.slice(1))
    for kind in DETECTORS:
        assert list(whole[kind][1:]) == list(tail[kind])


def test_the_statistic_is_the_fraction_of_values_and_merges_exactly() -> None:
    values, kinds = mix(3, per_kind=50, others=500)
    table = pa.table({"v": values + [None] * 10, "n": list(range(len(values) + 10))})
    stats = generate_statistics_from_table(table)
    feature = stats.datasets[0].features
    custom = {c.name: c.num for f in feature if f.path.step == ["v"] for c in f.custom_stats}
    for kind in MAKERS:
        expected = kinds.count(kind) / len(values)
        assert custom[PREFIX + kind] == pytest.approx(expected)
    # numbers are not checked
    assert not [
        c
        for f in feature
        if f.path.step == ["n"]
        for c in f.custom_stats
        if c.name.startswith(PREFIX)
    ]
    halves = [generate_statistics_from_table(table.slice(0, 700)),
              generate_statistics_from_table(table.slice(700))]  # fmt: skip
    merged = merge_statistics(*halves)
    again = {
        c.name: c.num
        for f in merged.datasets[0].features
        if f.path.step == ["v"]
        for c in f.custom_stats
    }
    assert {k: again[k] for k in custom if k.startswith(PREFIX)} == {
        k: v for k, v in custom.items() if k.startswith(PREFIX)
    }


def test_the_state_round_trips_and_merges_in_any_order() -> None:
    parts = [["a@b.co", "x"], ["10.0.0.1", "a@b.co"], [None, "::1"]]
    accs = []
    for part in parts:
        acc = PiiAccumulator()
        acc.add(pa.array(part, pa.string()))
        accs.append(PiiAccumulator.from_proto(acc.to_proto()))
    forward, backward = PiiAccumulator(), PiiAccumulator()
    for acc in accs:
        forward.merge(acc)
    for acc in reversed(accs):
        backward.merge(acc)
    assert forward.to_proto() == backward.to_proto()
    assert forward.result() == {"email": 2 / 5, "ipv4": 1 / 5, "ipv6": 1 / 5}


def test_detection_can_be_turned_off() -> None:
    table = pa.table({"v": ["a@b.co"] * 10})
    stats = generate_statistics_from_table(table, StatisticsSpec(detect_pii=False))
    names = [c.name for f in stats.datasets[0].features for c in f.custom_stats]
    assert not [n for n in names if n.startswith(PREFIX)]
