"""The report's groups section: a table per group feature, its figures those of
`group_tables`, user text escaped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from report_pages import parse

from beam_stats import generate_statistics_from_table, group_tables
from beam_stats.report import render_report
from beam_stats.stats import StatisticsSpec

EVIL = '<script>alert("g")</script>'
SPEC = StatisticsSpec(label="y", groups=("g", "band"))


def _stats(seed: int, shares: list[float]) -> object:
    rng = np.random.default_rng(seed)
    n = 2_000
    g = rng.choice(["A", "B", EVIL], size=n, p=shares)
    y = (rng.random(n) < np.where(g == "B", 0.7, 0.3)).astype(np.int64)
    frame = pd.DataFrame({"g": g, "band": rng.choice([1, 2], n), "y": y})
    return generate_statistics_from_table(pa.Table.from_pandas(frame, preserve_index=False), SPEC)


def _rows(page: str, feature: str) -> dict[str, list[str]]:
    section = parse(page).by_id("groups")
    headings = [h.text() for h in section.find_all("h3")]
    table = section.find_all("table")[[h.split(" ")[0] for h in headings].index(feature)]
    rows = {}
    for tr in table.find_all("tr")[1:]:
        cells = [td.text() for td in tr.find_all("td")]
        rows[cells[0]] = cells[1:]
    return rows


def test_one_table_per_group_feature_with_the_librarys_figures() -> None:
    statistics = _stats(0, [0.5, 0.4, 0.1])
    page = render_report(statistics)
    assert EVIL not in page and "&lt;script&gt;" in page
    section = parse(page).by_id("groups")
    assert [h.text() for h in section.find_all("h3")] == ["band \u00b7 label y", "g \u00b7 label y"]
    rows = _rows(page, "g")
    tables = {t.feature[0]: t for t in group_tables(statistics)}
    for row in tables["g"].rows:
        examples, share, labels, disparity = rows[row.group]
        assert examples == f"{row.examples:,}" and share == f"{100 * row.share:.3g}%"
        assert f"1: {100 * row.label_shares['1']:.3g}%" in labels
        assert disparity.startswith(f"{row.disparity:.4g} ({row.disparity_class})")
    assert set(rows) == {"A", "B", EVIL}


def test_two_datasets_side_by_side_with_the_share_change() -> None:
    base, test = _stats(1, [0.5, 0.4, 0.1]), _stats(2, [0.7, 0.2, 0.1])
    page = render_report(base, test)
    rows = _rows(page, "g")
    shares = {t.feature[0]: {r.group: r.share for r in t.rows} for t in group_tables(base)}
    after = {r.group: r.share for r in group_tables(test, ["g"])[0].rows}
    change = 100 * (after["A"] - shares["g"]["A"])
    assert rows["A"][-1] == f"{change:+.3g} pts" and len(rows["A"]) == 9


def test_no_group_feature_no_section() -> None:
    plain = generate_statistics_from_table(pa.table({"g": ["a", "b"]}))
    assert 'id="groups"' not in render_report(plain)
    page = render_report(plain, groups=["g"])
    assert 'id="groups"' in page and "A" not in _rows(page, "g")
    assert set(_rows(page, "g")) == {"a", "b"}
