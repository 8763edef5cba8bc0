"""The report's label section, checked against pandas on the raw data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from report_pages import Element, parse

from beam_stats import (
    StatisticsSpec,
    generate_statistics_from_table,
    infer_schema,
    set_drift_thresholds,
    validate_statistics,
)
from beam_stats.report import render_report
from beam_stats.report.labels import MIN_LIFT_EXAMPLES

EVIL = "<img src=x onerror=alert(1)>"


def _frame(seed: int, reversed_effect: bool = False, n: int = 6_000) -> pd.DataFrame:
    """`plan` drives the label (reversed on request), `score` too (numeric), `noise` not;
    the value of `plan` that drives it is an HTML tag; `rare` has a value too rare for its
    lift to be shown."""
    rng = np.random.default_rng(seed)
    plan = rng.choice([EVIL, "basic", "pro"], size=n, p=[0.5, 0.3, 0.2])
    high = (plan == EVIL) != reversed_effect
    y = np.where(rng.random(n) < np.where(high, 0.6, 0.15), "churn", "stay")
    score = rng.normal(size=n) + (y == "churn")
    rare = np.full(n, "common", dtype=object)
    rare[np.flatnonzero(y == "churn")[: MIN_LIFT_EXAMPLES - 1]] = "tiny"  # the highest lift
    noise = rng.choice(list("pqrs"), size=n)
    return pd.DataFrame({"plan": plan, "score": score, "rare": rare, "noise": noise, "y": y})


def _stats(frame: pd.DataFrame) -> object:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return generate_statistics_from_table(table, StatisticsSpec(label="y"))


def _rows(table: Element) -> list[list[Element]]:
    body = table.find_all("tbody")[0]
    return [[td for td in tr.find_all("td")] for tr in body.find_all("tr")]


def _values(td: Element) -> list[str]:
    return [span.text() for span in td.find_all("span", "v")]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame(0)


@pytest.fixture(scope="module")
def section(frame: pd.DataFrame) -> Element:
    root = parse(render_report(_stats(frame)))
    return root.by_id("label")


def test_label_distribution_is_pandas_value_counts(frame: pd.DataFrame, section: Element) -> None:
    (classes,) = section.find_all("table", "label-classes")
    shown = {row[0].text(): _values(row[1])[0] for row in _rows(classes)}
    counts = frame.y.value_counts()
    assert shown == {y: f"{n:,} ({100 * n / len(frame):.1f}%)" for y, n in counts.items()}
    assert "y" in section.find_all("h2")[0].text()


def test_features_are_ranked_by_mutual_information(frame: pd.DataFrame, section: Element) -> None:
    (signal,) = section.find_all("table", "label-signal")
    names = [row[0].text() for row in _rows(signal)]

    # Mutual information by hand (plug-in, bits): the ranking's top is the feature that
    # drives the label, and `noise` says almost nothing.
    def plug_in(x: pd.Series) -> float:
        joint = pd.crosstab(x, frame.y, normalize=True).to_numpy()
        px, py = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
        nz = joint > 0
        return float((joint[nz] * np.log2(joint[nz] / (px @ py)[nz])).sum())

    by_hand = {name: plug_in(frame[name]) for name in ("plan", "rare", "noise")}
    assert names.index("plan") < names.index("noise")
    assert by_hand["plan"] > 10 * by_hand["noise"]
    shown = {row[0].text(): float(_values(row[1])[0]) for row in _rows(signal)}
    # Miller-Madow subtracts (rows - 1)(columns - 1) / (2 N ln 2) from the plug-in estimate.
    rows, columns = pd.crosstab(frame.plan, frame.y).shape
    bias = (rows - 1) * (columns - 1) / (2 * len(frame) * np.log(2))
    assert shown["plan"] == pytest.approx(by_hand["plan"] - bias, rel=1e-3)
    assert names == sorted(names, key=lambda n: -shown[n])


def test_strongest_lift_and_correlation_are_pandas_figures(
    frame: pd.DataFrame, section: Element
) -> None:
    (signal,) = section.find_all("table", "label-signal")
    rows = {row[0].text(): row for row in _rows(signal)}
    rate = frame.y.value_counts(normalize=True)
    lifts = []
    for (value, label), n in frame.groupby(["plan", "y"]).size().items():
        x_count = int((frame.plan == value).sum())
        if x_count >= MIN_LIFT_EXAMPLES:
            lifts.append((n / x_count / rate[label], value, label, x_count))
    lift, value, label, x_count = max(lifts)
    shown = _values(rows["plan"][3])[0]
    assert shown == f"{value} \u2192 {label}: {lift:.4g} ({x_count:,} examples)"
    # `tiny` has the largest lift of `rare` but too few examples to be shown.
    assert "tiny" not in _values(rows["rare"][3])[0]
    # A categorical label gives no correlation.
    assert _values(rows["plan"][2]) == ["\u2014"]


def test_user_strings_are_escaped(section: Element) -> None:
    # The tag is a value: shown as text, never an element.
    assert not [e for e in section.iter() if e.tag == "img"]
    assert EVIL in section.text()


def test_numeric_label_correlation() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=5_000)
    y = 2 * x + rng.normal(size=5_000)
    table = pa.table({"x": x, "y": y})
    spec = StatisticsSpec(label="y")
    root = parse(render_report(generate_statistics_from_table(table, spec)))
    section = root.by_id("label")
    (signal,) = section.find_all("table", "label-signal")
    rows = {row[0].text(): row for row in _rows(signal)}
    assert float(_values(rows["x"][2])[0]) == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-3)


def test_two_datasets_and_concept_shift(frame: pd.DataFrame) -> None:
    base, shifted = _stats(frame), _stats(_frame(1, reversed_effect=True))
    schema = infer_schema(base)
    for name in ("plan", "noise"):
        schema = set_drift_thresholds(schema, name, concept_shift=0.1)
    anomalies = validate_statistics(shifted, schema, previous_statistics=base)
    root = parse(render_report(base, shifted, anomalies))
    section = root.by_id("label")
    assert "compared" in section.classes
    (classes,) = section.find_all("table", "label-classes")
    assert all(len(_values(row[1])) == 2 for row in _rows(classes))
    (shift,) = section.find_all("table", "concept-shift")
    assert [row[0].text() for row in _rows(shift)] == ["plan"]


def test_no_label_no_section(frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    root = parse(render_report(generate_statistics_from_table(table)))
    assert not [e for e in root.iter() if e.attrs.get("id") == "label"]
