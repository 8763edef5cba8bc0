"""The report in a real browser: headless Chromium opens it, runs its script, shows it.

Chromium (Debian's ``chromium``) is installed by a session fixture when missing
(``headless_chromium.install``, also runnable as a script); these tests skip only where it
is missing and cannot be installed (not root, or no apt-get). The browser is driven by its
command line: ``--dump-dom`` gives the DOM after the page's script ran, ``--screenshot`` a
PNG. The view's state (open features, sort, filter) is set by the URL fragment.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import headless_chromium
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from report_pages import Element, feature_rows, parse
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats import (
    RangeInferenceSpec,
    SchemaInferenceSpec,
    add_environments,
    generate_statistics_from_table,
    infer_schema,
    validate_statistics,
)
from beam_stats.report import render_report
from beam_stats.report.model import feature_name, visible

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
Measurement = anomalies_pb2.DriftSkewInfo.Measurement
#: Runs only if some markup from the data got executed.
PWNED = "document.documentElement.setAttribute('data-pwned','1')"
EVIL = (
    f"<script>{PWNED}</script>",
    f'</script><img src=x onerror="{PWNED}">',
    "\"quotes' & <b>tags</b>\u2028",
)


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        return headless_chromium.install()
    except headless_chromium.CannotInstall as e:
        pytest.skip(f"no headless Chromium: {e}")


def _categorical_l_infty(
    base: statistics_pb2.DatasetFeatureStatisticsList,
    test: statistics_pb2.DatasetFeatureStatisticsList,
    feature: str,
) -> float:
    """The largest difference of a value's share between the datasets (TFDV's L-infinity)."""
    shares = []
    for statistics in (base, test):
        (found,) = [f for f in statistics.datasets[0].features if feature_name(f) == feature]
        total = found.string_stats.common_stats.tot_num_values
        shares.append({v.value: v.frequency / total for v in found.string_stats.top_values})
    values = set(shares[0]) | set(shares[1])
    return max(abs(shares[0].get(v, 0.0) - shares[1].get(v, 0.0)) for v in values)


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the sample pair: train vs serving, with the serving anomalies."""
    train = generate_statistics_from_table(pq.read_table(SAMPLE / "train.parquet"), name="train")
    serving = generate_statistics_from_table(
        pq.read_table(SAMPLE / "serving.parquet"), name="serving"
    )
    spec = SchemaInferenceSpec(ranges=RangeInferenceSpec(), disallow_nan=True)
    schema = add_environments(
        infer_schema(train, spec), ["TRAINING", "SERVING"], not_in={"churned": ["SERVING"]}
    )
    anomalies = validate_statistics(serving, schema, "SERVING")
    if not anomalies.drift_skew_info:
        # Validation does not measure drift yet: add the L-infinity distances of two
        # categorical features, computed here from the same statistics: `device` (changed
        # from 50/40/10% to 75/20/5%) breaches 0.1, `plan` (unchanged) does not.
        for feature in ("device", "plan"):
            info = anomalies.drift_skew_info.add()
            info.path.step.append(feature)
            info.drift_measurements.add(
                type=Measurement.L_INFTY,
                value=_categorical_l_infty(train, serving, feature),
                threshold=0.1,
            )
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(train, serving, anomalies, title="train vs serving"), "utf-8")
    return path


def _url(path: Path, **state: str | list[str]) -> str:
    return path.as_uri() + ("#" + urlencode(state, doseq=True, quote_via=quote) if state else "")


def _dom(chromium: str, url: str) -> Element:
    root = parse(headless_chromium.run(chromium, url, "--dump-dom"))
    (html,) = root.find_all("html")
    assert html.attrs.get("data-ready") == "1", "the page's script did not finish"
    return root


def _shown(root: Element) -> list[str]:
    return [name for name, row in feature_rows(root).items() if "hidden" not in row.attrs]


def test_sample_pair_in_the_browser(chromium: str, sample_report: Path) -> None:
    url = _url(sample_report, open=["device", "session_minutes"], sort="-missing", by="1")
    root = _dom(chromium, url)
    rows = feature_rows(root)
    assert len(rows) == 17  # 15 shared columns, churned (train only), promo_code (serving)
    assert {"session_minutes", "device", "promo_code", "churned", "zip_code"} <= set(rows)
    # Sorted by serving's missing share, largest first: promo_code 70%, referrer 12%.
    assert list(rows)[:2] == ["promo_code", "referrer"]
    # The planted drift of `device` is a highlighted breach, `plan` is within.
    (breach,) = root.by_id("drift").find_all("tr", "breach")
    assert breach.find_all("a")[0].text() == "device"
    assert "flag-breach" in rows["device"].classes
    assert rows["device"].find_all("span", "breach")
    assert "flag-breach" not in rows["plan"].classes
    # Opened features: their details were built, with their charts.
    for name, bar_kind in (("device", "b"), ("session_minutes", "h")):
        details = root.by_id("d-" + rows[name].attrs["data-i"])
        (chart,) = details.find_all("svg")
        bars = chart.find_all("rect", "bar")
        assert {"d0", "d1"} <= {c for r in bars for c in r.classes}
        assert chart.attrs["aria-label"] == ("top values" if bar_kind == "b" else "histogram")
    device = root.by_id("d-" + rows["device"].attrs["data-i"])
    texts = [t.own_text() for t in device.find_all("text")]
    assert texts[0] == "mobile"  # the largest share in either dataset first (serving's 75%)
    assert texts[1].endswith("%") and texts[2].endswith("%")
    assert "L_INFTY" in device.find_all("li", "breach")[0].text()
    anomalies = root.by_id("anomalies").text()
    assert "INT_TYPE_BIG_INT" in anomalies and "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in anomalies


def test_filter_and_flagged_from_the_fragment(chromium: str, sample_report: Path) -> None:
    assert _shown(_dom(chromium, _url(sample_report, q="Session"))) == ["session_minutes"]
    flagged = _shown(_dom(chromium, _url(sample_report, flagged="1")))
    assert set(flagged) == {
        "country",
        "device",
        "income",
        "num_purchases",
        "promo_code",
        "referrer",
        "tenure_days",
        "zip_code",
    }


def test_screenshot(chromium: str, sample_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    url = _url(sample_report, open=["device", "session_minutes"])
    headless_chromium.run(chromium, url, f"--screenshot={shot}", "--window-size=1400,2000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 2000)
    assert len(data) > 50_000  # a drawn page, not a blank one
    print(f"\nscreenshot: {shot}")


def test_evil_strings_stay_text_in_the_browser(chromium: str, tmp_path: Path) -> None:
    table = pa.table({name: pa.array([*EVIL, name]) for name in EVIL})
    statistics = generate_statistics_from_table(table, name=EVIL[0])
    path = tmp_path / "evil.html"
    path.write_text(render_report(statistics, statistics, title=EVIL[1]), "utf-8")
    root = _dom(chromium, _url(path, open=[visible(e) for e in EVIL]))
    (html,) = root.find_all("html")
    assert "data-pwned" not in html.attrs
    assert len(root.find_all("script")) == 2 and not root.find_all("img")
    rows = feature_rows(root)
    shown = {visible(e): e for e in EVIL}  # U+2028 shown as its escape (issue 11)
    assert set(rows) == set(shown)
    for name, row in rows.items():
        assert row.find_all("button", "toggle")[0].text() == name
        details = root.by_id("d-" + row.attrs["data-i"])  # built by the script, from JSON
        labels = {t.own_text() for t in details.find_all("text")}
        assert name in labels or name[:25] + "\u2026" in labels
        tooltips = {t.text() for t in details.find_all("title")}
        assert f"{visible(EVIL[0])} (base): {name} 50%" in tooltips


def test_a_thousand_features_in_the_browser(chromium: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    columns = {
        f"f{i:04d}": rng.normal(i, 1, 200) if i % 2 else rng.choice(["a", "b", "c"], 200)
        for i in range(1000)
    }
    statistics = generate_statistics_from_table(pa.table(columns), name="wide")
    path = tmp_path / "wide.html"
    path.write_text(render_report(statistics, statistics), "utf-8")
    started = time.perf_counter()
    root = _dom(chromium, _url(path, sort="-mean", open=["f0999", "f0998"], q="f09"))
    seconds = time.perf_counter() - started
    print(f"\n1,000 features: browser start, load, sort and dump in {seconds:.1f} s")
    shown = _shown(root)
    assert len(feature_rows(root)) == 1000 and len(shown) == 100
    assert shown[:2] == ["f0999", "f0997"]  # by mean, descending; strings have none: last
    assert len(root.find_all("svg")) == 2


def test_clicks_and_typing(chromium: str, sample_report: Path) -> None:
    rows = "Array.from(document.querySelectorAll('tr.feature'))"
    shown = f"{rows}.filter(r => !r.hidden).map(r => r.dataset.name)"
    with headless_chromium.Page(chromium, sample_report.as_uri()) as page:
        page.wait_for("document.documentElement.dataset.ready === '1'")
        # Open a feature: its details are built on demand, and the fragment says so.
        page.evaluate(
            f"{rows}.find(r => r.dataset.name === 'income').querySelector('button').click()"
        )
        assert page.evaluate("document.querySelectorAll('tr.details svg rect.bar').length") > 0
        assert page.evaluate("location.hash") == "#open=income"
        # Sort by the serving values of Missing: the heading twice toggles the direction.
        page.evaluate(
            "const s = document.getElementById('sort-by'); s.value = '1';"
            "s.dispatchEvent(new Event('change'));"
            "document.querySelector('th[data-key=missing] button').click()"
        )
        assert page.evaluate(shown)[:2] == ["promo_code", "referrer"]
        assert page.evaluate("document.querySelector('th[data-key=missing]').ariaSort") == (
            "descending"
        )
        # The open feature's details move with it.
        assert page.evaluate(
            f"{rows}.find(r => r.dataset.name === 'income').nextElementSibling.id"
        ).startswith("d-")
        page.evaluate("document.querySelector('th[data-key=missing] button').click()")
        assert page.evaluate(shown)[-3:] == ["referrer", "promo_code", "churned"]  # absent: last
        # Typing filters by name; the count follows.
        page.evaluate(
            "const f = document.getElementById('filter'); f.value = 'SCO';"
            "f.dispatchEvent(new Event('input'))"
        )
        assert page.evaluate(shown) == ["scores"]
        assert page.evaluate("document.getElementById('shown-count').textContent") == "1"
        # A feature link in the drift table clears the filter and opens the feature.
        page.evaluate("document.querySelector('#drift tr.breach a').click()")
        assert len(page.evaluate(shown)) == 17
        assert "open=device" in page.evaluate("location.hash")
        assert page.evaluate("document.getElementById('filter').value") == ""
