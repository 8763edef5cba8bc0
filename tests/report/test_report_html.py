"""The report page, parsed with html.parser: its features, numbers, findings and escaping."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pyarrow as pa
import pytest
from report_pages import cell, feature_rows, lines, parse, report_data
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats import (
    SlicingSpec,
    generate_statistics_from_table,
    infer_schema,
    validate_statistics,
)
from beam_stats.errors import InvalidInputError
from beam_stats.report import render_report
from beam_stats.report.model import feature_name, visible
from beam_stats.report.script import SCRIPT
from beam_stats.stats.feature import STATE_NAME

Measurement = anomalies_pb2.DriftSkewInfo.Measurement
EVIL = (
    "<script>alert(1)</script>",
    "</script><script>alert(2)</script>",
    "\"double' single` quotes",
    "a & b &amp; <b>bold</b>",
    "line\u2028separator\u2029paragraph",
    "<img src=x onerror=alert(3)>",
    "<!-- comment --><![CDATA[x]]>",
)
#: Every tag a report is made of; anything else came from the data.
TAGS = {
    "#document", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3",
    "div", "span", "strong", "q", "p", "main", "section", "table", "thead", "tbody", "tr",
    "th", "td", "button", "label", "input", "select", "option", "a", "code", "noscript",
    "script",
}  # fmt: skip


def _features(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> dict[str, object]:
    return {feature_name(f): f for f in statistics.datasets[0].features}


@pytest.fixture(scope="module")
def base() -> statistics_pb2.DatasetFeatureStatisticsList:
    rng = np.random.default_rng(7)
    table = pa.table(
        {
            "x": pa.array(np.append(rng.normal(10, 2, 999), np.nan)),
            "n": pa.array([i % 7 if i % 10 else None for i in range(1000)]),
            "color": pa.array(["red"] * 500 + ["green"] * 300 + ["blue"] * 200),
            "tags": pa.array([["a", "b"] if i % 2 else [] for i in range(1000)]),
        }
    )
    return generate_statistics_from_table(table, name="train")


@pytest.fixture(scope="module")
def test_stats() -> statistics_pb2.DatasetFeatureStatisticsList:
    rng = np.random.default_rng(8)
    table = pa.table(
        {
            "x": pa.array(rng.normal(14, 2, 400)),
            "n": pa.array([float(i % 5) for i in range(400)]),  # INT -> FLOAT
            "color": pa.array(["red"] * 100 + ["purple"] * 300),
            "only_test": pa.array(["z"] * 400),
        }
    )
    return generate_statistics_from_table(table, name="serving")


def test_one_dataset_rows_show_the_statistics(base: statistics_pb2.DatasetFeatureStatisticsList):
    page = render_report(base, title="one")
    root = parse(page)
    rows = feature_rows(root)
    features = _features(base)
    assert list(rows) == list(features)
    x = features["x"].num_stats  # type: ignore[attr-defined]
    row = rows["x"]
    for column, value in (
        ("mean", x.mean),
        ("std", x.std_dev),
        ("min", x.min),
        ("median", x.median),
        ("max", x.max),
    ):
        assert float(cell(row, column).attrs["data-s0"]) == value
    assert lines(cell(row, "type")) == ["FLOAT"]
    n_common = features["n"].num_stats.common_stats  # type: ignore[attr-defined]
    missing = float(cell(rows["n"], "missing").attrs["data-s0"])
    assert missing == n_common.num_missing / 1000 == 0.1
    assert lines(cell(rows["n"], "missing")) == ["10.0%"]
    color = features["color"].string_stats  # type: ignore[attr-defined]
    assert float(cell(rows["color"], "distinct").attrs["data-s0"]) == color.unique == 3
    assert lines(cell(rows["color"], "top")) == ["red (50.0%)"]
    assert lines(cell(rows["color"], "mean")) == ["\u2014"]
    assert root.find_all("title")[0].text() == "one"
    assert STATE_NAME not in page  # the sketch state is never shown


def test_details_data_and_charts(base: statistics_pb2.DatasetFeatureStatisticsList) -> None:
    data = report_data(parse(render_report(base)))
    assert data["d"] == ["train"]
    by_name = {f["n"]: f for f in data["f"]}
    hist = by_name["x"]["c"]
    assert hist["k"] == "h" and len(hist["e"]) == 11
    assert sum(hist["s"][0]) == pytest.approx(1, abs=1e-4)  # fractions; the NaN is left out
    details = {row[0]: row[1] for row in by_name["x"]["x"]}
    assert details["num_nan"] == "1"
    assert details["quantiles_rank_error"] == details["histogram_count_error"] == "0"
    assert STATE_NAME not in details
    bars = by_name["color"]["c"]
    assert bars == {"k": "b", "l": ["red", "green", "blue"], "s": [[0.5, 0.3, 0.2]], "more": 0}
    assert by_name["tags"]["c"]["l"] == ["a", "b"]


def test_two_datasets_side_by_side(
    base: statistics_pb2.DatasetFeatureStatisticsList,
    test_stats: statistics_pb2.DatasetFeatureStatisticsList,
) -> None:
    root = parse(render_report(base, test_stats))
    rows = feature_rows(root)
    assert list(rows) == [*_features(base), "only_test"]  # base order, then the new ones
    assert "compared" in root.by_id("feature-table").classes
    mean = cell(rows["x"], "mean")
    test_x = _features(test_stats)["x"].num_stats  # type: ignore[attr-defined]
    assert float(mean.attrs["data-s1"]) == test_x.mean
    types = cell(rows["n"], "type")
    assert lines(types) == ["INT", "FLOAT"]
    assert all("changed" in span.classes for span in types.find_all("span", "v"))
    assert lines(cell(rows["only_test"], "type")) == ["absent", "STRING"]
    assert lines(cell(rows["tags"], "type")) == ["STRING", "absent"]
    data = report_data(root)
    by_name = {f["n"]: f for f in data["f"]}
    bars = by_name["color"]["c"]  # the union of both top lists, largest share first
    assert bars["l"] == ["purple", "red", "green", "blue"]
    assert bars["s"] == [[None, 0.5, 0.3, 0.2], [0.75, 0.25, None, None]]
    hist = by_name["x"]["c"]  # common bins over both ranges
    edges = hist["e"]
    assert edges[0] == pytest.approx(min(_features(base)["x"].num_stats.min, test_x.min))  # type: ignore[attr-defined]
    assert all(sum(s) == pytest.approx(1, abs=1e-4) for s in hist["s"])
    assert by_name["only_test"]["x"][0][1] == "\u2014"  # absent in the base dataset


def test_same_names_are_told_apart(base: statistics_pb2.DatasetFeatureStatisticsList) -> None:
    assert report_data(parse(render_report(base, base)))["d"] == ["train (base)", "train (test)"]


def _anomalies(
    base: statistics_pb2.DatasetFeatureStatisticsList,
    test_stats: statistics_pb2.DatasetFeatureStatisticsList,
) -> anomalies_pb2.Anomalies:
    anomalies = validate_statistics(test_stats, infer_schema(base))
    for feature, value, threshold in (("color", 0.55, 0.1), ("x", 0.1, 0.1)):
        info = anomalies.drift_skew_info.add()
        info.path.step.append(feature)
        info.drift_measurements.add(type=Measurement.L_INFTY, value=value, threshold=threshold)
    return anomalies


def test_anomalies_and_breaches(
    base: statistics_pb2.DatasetFeatureStatisticsList,
    test_stats: statistics_pb2.DatasetFeatureStatisticsList,
) -> None:
    anomalies = _anomalies(base, test_stats)
    root = parse(render_report(base, test_stats, anomalies))
    findings = root.by_id("anomalies").find_all("tr")[1:]
    described = {
        (tr.find_all("a")[0].text() if tr.find_all("a") else "", tr.find_all("code")[0].text())
        for tr in findings
    }
    expected = {
        (name, anomalies_pb2.AnomalyInfo.Type.Name(reason.type))
        for name, info in anomalies.anomaly_info.items()
        for reason in info.reason
    }
    assert expected and described == expected
    info = anomalies.anomaly_info["only_test"]
    assert info.description in root.by_id("anomalies").text()
    assert "ERROR" in root.by_id("anomalies").text()
    measures = root.by_id("drift").find_all("tbody")[0].find_all("tr")
    assert [tr.attrs["class"] for tr in measures] == ["breach", "within"]  # 0.1 = 0.1 passes
    assert [tr.find_all("a")[0].text() for tr in measures] == ["color", "x"]
    rows = feature_rows(root)
    assert "flag-breach" in rows["color"].classes and "flag-breach" not in rows["x"].classes
    assert rows["color"].find_all("span", "breach")[0].text() == "drift 0.55 > 0.1"
    data = {f["n"]: f for f in report_data(root)["f"]}
    assert data["color"]["m"] == [["drift", "L_INFTY", "0.55", "0.1", True]]


def test_warnings_keep_their_severity(base: statistics_pb2.DatasetFeatureStatisticsList) -> None:
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info["color"]
    info.severity = anomalies_pb2.AnomalyInfo.WARNING
    info.reason.add(
        type=anomalies_pb2.AnomalyInfo.SCHEMA_NEW_COLUMN, short_description="s", description="d"
    )
    root = parse(render_report(base, anomalies=anomalies))
    assert "sev-warning" in root.by_id("anomalies").find_all("tr")[1].classes
    assert "flag-warning" in feature_rows(root)["color"].classes


def test_evil_strings_render_as_text() -> None:
    columns = {name: pa.array([*EVIL, *EVIL, *EVIL, name]) for name in EVIL}  # top: its name
    evil_stats = generate_statistics_from_table(pa.table(columns), name=EVIL[1])
    other = generate_statistics_from_table(pa.table({EVIL[0]: pa.array(["x"])}), name=EVIL[4])
    anomalies = validate_statistics(evil_stats, infer_schema(other))  # new columns, named
    info = anomalies.drift_skew_info.add()
    info.path.step.append(EVIL[3])
    info.skew_measurements.add(type=Measurement.JENSEN_SHANNON_DIVERGENCE, value=1, threshold=0)
    page = render_report(other, evil_stats, anomalies, title=EVIL[0] + EVIL[2])
    root = parse(page)
    # Only the report's own markup: no element, and no script, came from the data.
    assert {e.tag for e in root.iter()} <= TAGS
    scripts = root.find_all("script")
    assert [s.attrs for s in scripts] == [{"type": "application/json", "id": "report-data"}, {}]
    assert scripts[1].text() == SCRIPT
    assert len(re.findall("<script", page, re.IGNORECASE)) == 2
    assert len(re.findall("</script", page, re.IGNORECASE)) == 2
    assert "<!--" not in page and "<img" not in page
    # The data block: JSON with <, >, &, U+2028 and U+2029 escaped, the strings intact.
    raw = scripts[0].text()
    assert not set(raw) & {"<", ">", "&", "\u2028", "\u2029"}
    data = json.loads(raw)
    # Strings come back as they were, but for characters that hide or reorder text (the
    # line separators here), shown as escapes: `visible`.
    shown = [visible(e) for e in EVIL]
    assert data["d"] == [shown[4], shown[1]]
    assert sorted(f["n"] for f in data["f"]) == sorted(shown)
    top = {f["n"]: f["c"]["l"] for f in data["f"]}[shown[2]]
    assert sorted(top) == sorted(shown)
    # In HTML text and attributes, every string comes back exactly as it was (`visible`).
    rows = feature_rows(root)
    assert set(rows) == set(shown)
    for name, row in rows.items():
        assert row.find_all("button", "toggle")[0].text() == name
        assert cell(row, "name").attrs["data-s0"] == name
        assert lines(cell(row, "top"))[1] == f"{name} (18.2%)"
    assert root.find_all("title")[0].text() == EVIL[0] + EVIL[2]
    assert root.find_all("h1")[0].text() == EVIL[0] + EVIL[2]
    anomaly_names = {a.text() for a in root.by_id("anomalies").find_all("a")}
    assert anomaly_names == set(shown)  # new columns, and unexpected values of EVIL[0]
    descriptions = " ".join(
        tr.find_all("td")[-1].text() for tr in root.by_id("anomalies").find_all("tr")[1:]
    )
    assert all(name in descriptions for name in shown[1:])  # the new columns, by name
    (breach,) = root.by_id("drift").find_all("tr", "breach")
    assert breach.find_all("a")[0].text() == EVIL[3]
    assert breach.find_all("a")[0].attrs["href"].startswith("#open=")


def test_slices_show_one_dataset_and_list_the_others() -> None:
    table = pa.table({"country": ["DE", "FR", "DE"], "v": [1, 2, 3]})
    sliced = generate_statistics_from_table(table, slicing=SlicingSpec(features=("country",)))
    root = parse(render_report(sliced))
    assert report_data(root)["d"] == ["All Examples"]
    others = root.find_all("p", "others")[0]
    assert [q.text() for q in others.find_all("q")] == ["country=DE", "country=FR"]
    chosen = parse(render_report(sliced, sliced, dataset="country=DE", other_dataset="country=FR"))
    assert report_data(chosen)["d"] == ["country=DE", "country=FR"]
    v = feature_rows(chosen)["v"]
    assert [float(cell(v, "mean").attrs[f"data-s{i}"]) for i in (0, 1)] == [2.0, 2.0]
    with pytest.raises(InvalidInputError, match="country=XX"):
        render_report(sliced, dataset="country=XX")


def test_bad_arguments() -> None:
    with pytest.raises(InvalidInputError, match="DatasetFeatureStatisticsList"):
        render_report("stats.pb")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="no dataset"):
        render_report(statistics_pb2.DatasetFeatureStatisticsList())
    stats = statistics_pb2.DatasetFeatureStatistics(name="d")
    with pytest.raises(InvalidInputError, match="Anomalies"):
        render_report(stats, anomalies=stats)  # type: ignore[arg-type]
    assert "No anomalies." in render_report(stats, anomalies=anomalies_pb2.Anomalies())


def _wide(num_features: int, rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(num_features):
        if i % 3 == 2:
            columns[f"feature_{i:04d}_category"] = pa.array(
                rng.choice([f"value_{k}" for k in range(50)], rows)
            )
        else:
            columns[f"feature_{i:04d}_number"] = pa.array(rng.normal(i, 1 + i % 5, rows))
    return pa.table(columns)


def test_a_thousand_features() -> None:
    base = generate_statistics_from_table(_wide(1000, 300, 1), name="base")
    test = generate_statistics_from_table(_wide(1000, 300, 2), name="test")
    started = time.perf_counter()
    one = render_report(base)
    middle = time.perf_counter()
    two = render_report(base, test)
    done = time.perf_counter()
    print(
        f"\n1,000 features: one dataset {len(one.encode()) / 1e6:.2f} MB in "
        f"{middle - started:.2f} s; two {len(two.encode()) / 1e6:.2f} MB in {done - middle:.2f} s"
    )
    assert len(one.encode()) < 2_000_000
    assert len(two.encode()) < 3_000_000
    root = parse(two)
    assert len(feature_rows(root)) == 1000
    assert len(report_data(root)["f"]) == 1000
