"""The history report (``history_report``): a chart per feature and metric along the spans,
the values those of the data (numpy), the anomalies of ``monitor --all-spans`` marked at
their span and listed, every user string escaped."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from history_store import HOSTILE, MISSING, OUTAGE, SPANS, make_store, metrics_of
from report_pages import Element, parse

from beam_stats import (
    HistorySeries,
    compare_statistics,
    history_report,
    monitor,
    store_history,
)
from beam_stats.beam.history import StatisticsStore
from beam_stats.errors import DeserializationError, InvalidInputError, OutputError
from beam_stats.validation import anomaly_rows
from beam_stats.validation.catalogue import CUSTOM_NAMES

NUMERIC = ("missing_fraction", "mean", "std", "drift_previous")
STRINGS = ("missing_fraction", "distinct", "top_share", "drift_previous")


def _l_infinity(before: list[object], after: list[object]) -> float:
    """The largest difference of a value's share of the listed values, with numpy."""
    labels = np.unique(np.array([v for v in before + after if v is not None], dtype=str))

    def shares(values: list[object]) -> np.ndarray:
        present = np.array([v for v in values if v is not None], dtype=str)
        return np.array([np.count_nonzero(present == label) for label in labels]) / len(present)

    return float(np.max(np.abs(shares(before) - shares(after))))


def _drift(store: StatisticsStore, tables: dict, feature: str, span: str) -> float:
    """drift_previous of `feature` at `span`: L-infinity of its shares (numpy) for strings,
    else the Jensen-Shannon divergence that compare_statistics gives the two spans."""
    before = SPANS[SPANS.index(span) - 1]
    if feature != "amount":
        return _l_infinity(
            tables[before].column(feature).to_pylist(), tables[span].column(feature).to_pylist()
        )
    compared = compare_statistics(store.load(before), store.load(span)).features
    measured = next(f for f in compared if f.path == (feature,)).measured
    return next(m for m in measured if m.measure == "jensen_shannon").distance.value


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[StatisticsStore, dict, str]:
    folder = tmp_path_factory.mktemp("history-report")
    store, tables = make_store(folder / "store")
    page = history_report(store, folder / "history.html")
    assert (folder / "history.html").read_text(encoding="utf-8") == page
    return store, tables, page


def _charts(root: Element) -> dict[tuple[str, str], Element]:
    return {
        (svg.attrs["data-feature"], svg.attrs["data-metric"]): svg
        for svg in root.find_all("svg", "hchart")
    }


def _marks(chart: Element) -> dict[str, set[str]]:
    """span -> the anomaly names of its mark on `chart`."""
    return {
        c.attrs["data-span"]: set(c.attrs["data-anomaly"].split())
        for c in chart.find_all("circle", "mark")
    }


def test_a_chart_per_feature_and_metric_with_the_values_of_the_data(made: tuple) -> None:
    store, tables, page = made
    charts = _charts(parse(page))
    expected = {("", "num_examples")}
    expected |= {("amount", m) for m in NUMERIC}
    expected |= {(f, m) for f in ("country", HOSTILE) for m in STRINGS}
    assert set(charts) == expected
    for (feature, metric), chart in charts.items():
        points = chart.find_all("circle", "pt")
        # The first span has no previous span to drift from.
        drawn = SPANS[1:] if metric == "drift_previous" else SPANS
        assert [p.attrs["data-span"] for p in points] == drawn, (feature, metric)
        for point in points:
            span = point.attrs["data-span"]
            table = tables[span]
            want = (
                table.num_rows
                if not feature
                else _drift(store, tables, feature, span)
                if metric == "drift_previous"
                else metrics_of(table, feature)[metric]
            )
            got = float(point.attrs["data-value"])
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (feature, metric, point)
        # The tooltip gives the span and the value.
        assert points[0].find_all("title")[0].text().startswith(f"{drawn[0]}: ")


def test_the_outage_is_marked_at_its_span_and_listed(made: tuple) -> None:
    _, tables, page = made
    root = parse(page)
    examples = _charts(root)["", "num_examples"]
    assert _marks(examples) == {OUTAGE: {"HISTORY_NUM_EXAMPLES_DROP"}}
    (mark,) = examples.find_all("circle", "mark")
    assert "error" in mark.classes
    tip = mark.find_all("title")[0].text()
    assert f"HISTORY_NUM_EXAMPLES_DROP: Span {OUTAGE}: the number of examples" in tip
    assert f"is {tables[OUTAGE].num_rows}," in tip
    # At the outage's value, where its point is.
    (point,) = [p for p in examples.find_all("circle", "pt") if p.attrs["data-span"] == OUTAGE]
    assert (mark.attrs["cx"], mark.attrs["cy"]) == (point.attrs["cx"], point.attrs["cy"])
    rows = root.by_id("anomalies").find_all("tr")[1:]
    assert any(
        r.attrs["data-span"] == OUTAGE and r.attrs["data-anomaly"] == "HISTORY_NUM_EXAMPLES_DROP"
        for r in rows
    )


def test_the_table_lists_what_monitor_finds_in_every_span(made: tuple) -> None:
    store, _, page = made
    found = set()
    for span, anomalies in monitor(store, all_spans=True).anomalies.items():
        for row in anomaly_rows(anomalies):
            name = row.short_description if row.short_description in CUSTOM_NAMES else row.type
            found.add((span, row.feature or "(dataset)", name, row.description))
    rows = parse(page).by_id("anomalies").find_all("tr")[1:]
    listed = set()
    for row in rows:
        cells = [c.text() for c in row.find_all("td")]
        listed.add((cells[0], cells[1], cells[2], cells[4]))
    assert listed == found and len(rows) == len(found)
    assert (OUTAGE, "(dataset)") in {(s, f) for s, f, _, _ in found}


def test_a_metric_outlier_is_on_its_own_chart_a_drift_on_every_chart(made: tuple) -> None:
    store, _, page = made
    charts = _charts(parse(page))
    assert "HISTORY_METRIC_OUTLIER" in _marks(charts["country", "missing_fraction"])[MISSING]
    for metric in ("distinct", "top_share"):
        assert "HISTORY_METRIC_OUTLIER" not in _marks(charts["country", metric]).get(MISSING, ())
    series = store_history(store)
    whole = [m for m in series.marks if m.feature == "country" and m.metric is None]
    assert {m.anomaly for m in whole} == {"HISTORY_ROLLING_DRIFT_HIGH"}
    for mark in whole:  # a drift of the distribution: on each of the feature's charts
        for metric in STRINGS:
            assert mark.anomaly in _marks(charts["country", metric])[mark.span]
    # amount is stable and the markup-named feature too: no marks.
    for metric in NUMERIC:
        assert _marks(charts["amount", metric]) == {}
    for metric in STRINGS:
        assert _marks(charts[HOSTILE, metric]) == {}


def test_store_history_is_plain_data(made: tuple) -> None:
    store, tables, _ = made
    series = store_history(store)
    assert isinstance(series, HistorySeries)
    assert series.spans == tuple(SPANS)
    assert list(series.series) == ["", HOSTILE, "amount", "country"]  # as the statistics list them
    assert series.kinds == {
        "": "dataset",
        "amount": "numeric",
        "country": "string",
        HOSTILE: "string",
    }
    assert series.series[""]["num_examples"] == [float(tables[s].num_rows) for s in SPANS]
    (drop,) = [m for m in series.marks if m.anomaly == "HISTORY_NUM_EXAMPLES_DROP"]
    assert (drop.span, drop.feature, drop.metric, drop.severity) == (
        OUTAGE,
        "",
        "num_examples",
        "ERROR",
    )


def test_user_text_is_escaped(tmp_path: Path) -> None:
    spans = [f'k{i:02d} &<>"' for i in range(10)]
    spans[-1] = "k09 &<>\" '<b>x"
    store, _ = make_store(tmp_path / "store", spans, outage=spans[-1])
    page = history_report(store, title='t <i>"&')
    # The markup-named feature and the span keys never appear as markup.
    assert HOSTILE not in page and "<b>" not in page and "<i>" not in page
    assert page.count("<script") == 2  # the data block and the page's own script
    root = parse(page)
    assert root.find_all("title")[0].text() == 't <i>"&'
    charts = _charts(root)
    assert {m for f, m in charts if f == HOSTILE} == set(STRINGS)
    assert HOSTILE in [d.attrs["data-name"] for d in root.find_all("div", "hfeature")]
    assert [h for h in root.find_all("h3") if h.own_text() == HOSTILE]
    points = charts[HOSTILE, "distinct"].find_all("circle", "pt")
    assert [p.attrs["data-span"] for p in points] == spans
    # The outage mark carries the span key as it is, and so does the table.
    examples = charts["", "num_examples"]
    assert _marks(examples) == {spans[-1]: {"HISTORY_NUM_EXAMPLES_DROP"}}
    rows = root.by_id("anomalies").find_all("tr")[1:]
    assert [r.find_all("td")[0].text() for r in rows] == [spans[-1]]
    assert rows[0].find_all("td")[4].text().startswith(f"Span {spans[-1]}: ")


def test_an_empty_store_a_damaged_file_and_an_output_that_is_an_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no spans in the statistics store .*empty"):
        history_report(tmp_path / "empty")
    store, _ = make_store(tmp_path / "store", spans=SPANS[:3])
    with pytest.raises(OutputError, match="it is an input"):
        history_report(store, store.manifest_path)
    with pytest.raises(OutputError, match="it is an input"):
        history_report(store, store.file_path(SPANS[1]))
    path = Path(store.file_path(SPANS[1]))
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DeserializationError, match=SPANS[1]):
        history_report(store, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def chromium() -> str:
    import headless_chromium

    try:
        return headless_chromium.install()
    except headless_chromium.CannotInstall as e:
        pytest.skip(f"no headless Chromium: {e}")


def test_the_page_filters_in_a_browser_under_its_policy(
    made: tuple, chromium: str, tmp_path: Path
) -> None:
    import headless_chromium

    path = tmp_path / "history.html"
    path.write_text(made[2], encoding="utf-8")
    shown = (
        "[...document.querySelectorAll('.hfeature')].filter(b => !b.hidden)"
        ".map(b => b.dataset.name).join('|')"
    )
    with headless_chromium.Page(chromium, path.as_uri()) as page:
        page.wait_for("document.documentElement.dataset.ready === '1'")  # the script ran
        assert page.evaluate("document.scripts.length") == 2
        assert page.evaluate(shown) == f"{HOSTILE}|amount|country"
        page.evaluate(
            "const f = document.getElementById('filter'); f.value = 'AMO';"
            "f.dispatchEvent(new Event('input'))"
        )
        assert page.evaluate(shown) == "amount"
        assert page.evaluate("document.getElementById('shown-count').textContent") == "1"
        page.evaluate(
            "document.getElementById('filter').value = '';"
            "const c = document.getElementById('flagged'); c.click()"
        )
        assert page.evaluate(shown) == "country"
        # The charts are in the page (no script builds them): each has its points.
        assert page.evaluate("document.querySelectorAll('svg.hchart circle.pt').length") == (
            10 * len(SPANS) + 3 * (len(SPANS) - 1)  # drift_previous: from the second span
        )
