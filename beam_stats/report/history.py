"""``render_history_report``: a statistics history over time as one self-contained HTML page.

Draws a :class:`~beam_stats.validation.history_series.HistorySeries` (what
:func:`beam_stats.jobs.monitoring.store_history` gathers from a store): the dataset's number of
examples, then per feature a small chart per metric (:mod:`beam_stats.report.history_charts`)
along the spans, each anomaly marked at its span, and every anomaly in one table (span,
feature, anomaly, severity, description). Presentation only: the checks ran in the library.

The page is the report's (:func:`beam_stats.report.page.page`: inline style and script
allowed by their hashes, no network); the charts are SVG in the page, so they show without
JavaScript; the script only filters the features by name and by "has anomalies". Every
string from the data goes through :func:`~beam_stats.report.page.text`; the JSON data block
holds only counts.
"""

from __future__ import annotations

from collections.abc import Sequence

from beam_stats.report import page
from beam_stats.report.history_charts import metric_chart
from beam_stats.report.style import STYLE
from beam_stats.validation.history_series import HistorySeries, SeriesMark

__all__ = ["DEFAULT_HISTORY_TITLE", "render_history_report"]

DEFAULT_HISTORY_TITLE = "beam-stats history"

HISTORY_STYLE = (
    STYLE
    + """
.hfeature{padding:10px 0;border-top:1px solid #eceef1}
.hfeature h3{font-size:14px;margin:0 0 6px;overflow-wrap:anywhere}
.hfeature .kind{color:var(--muted);font-weight:400;font-size:12px;margin-left:6px}
.charts{display:flex;gap:10px;flex-wrap:wrap}
svg.hchart{display:block;background:#fff;border:1px solid var(--line);border-radius:4px}
svg.hchart text{font-size:10px;fill:#4a5260}
svg.hchart text.head{font-size:11px;font-weight:600;fill:#1d2430}
svg.hchart .grid{stroke:#e6e8eb}
svg.hchart .line{fill:none;stroke:var(--d0);stroke-width:1.5}
svg.hchart .pt{fill:var(--d0)}
svg.hchart .mark{fill:var(--err);fill-opacity:.85;stroke:#fff;stroke-width:1}
svg.hchart .mark.warning{fill:var(--warn)}
.findings td:nth-child(2){overflow-wrap:anywhere;max-width:20em}
#anomalies td:first-child{min-width:7em}
#anomalies td:nth-child(2){min-width:6em}
"""
)

HISTORY_SCRIPT = """
(function () {
  "use strict";
  var box = document.getElementById("filter");
  var flagged = document.getElementById("flagged");
  var counter = document.getElementById("shown-count");
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".hfeature"));
  document.documentElement.setAttribute("data-ready", "1");
  if (!box) return;
  function apply() {
    var q = box.value.toLowerCase(), only = flagged.checked, shown = 0;
    blocks.forEach(function (b) {
      var name = (b.getAttribute("data-name") || "").toLowerCase();
      var hide = (q && name.indexOf(q) < 0) || (only && !b.classList.contains("flagged"));
      b.hidden = !!hide;
      if (!hide) shown += 1;
    });
    counter.textContent = String(shown);
  }
  box.addEventListener("input", apply);
  flagged.addEventListener("change", apply);
  apply();
})();
"""


def render_history_report(series: HistorySeries, *, title: str = DEFAULT_HISTORY_TITLE) -> str:
    """A self-contained HTML page of a statistics history (see the module notes).

    Args:
        series: the metric series and anomalies of the spans.
        title: the page title.

    Returns:
        The HTML document.
    """
    spans = list(series.spans)
    names = [n for n in series.series if n]
    names += list(dict.fromkeys(m.feature for m in series.marks if m.feature not in series.series))
    anchors = {name: f"h-{i + 1}" for i, name in enumerate(names)}
    anchors[""] = "h-0"
    marks_of: dict[str, list[SeriesMark]] = {}
    for mark in series.marks:
        marks_of.setdefault(mark.feature, []).append(mark)
    blocks = [
        _feature(name, anchors[name], series, marks_of.get(name, []), spans) for name in names
    ]
    sections = [
        _anomalies_section(series.marks, anchors, len(spans)),
        _dataset_section(series, marks_of.get("", []), spans),
        _features_section(blocks),
    ]
    data = {"spans": len(spans), "features": len(names), "anomalies": len(series.marks)}
    return page.page(
        title,
        _header(series, len(names)),
        sections,
        data,
        style=HISTORY_STYLE,
        script=HISTORY_SCRIPT,
        noscript="Filtering the features needs JavaScript.",
    )


def _header(series: HistorySeries, features: int) -> str:
    spans = series.spans
    flagged = len({m.span for m in series.marks})
    when = f"{page.text(spans[0])} to {page.text(spans[-1])}" if spans else "no spans"
    count = f"{len(spans)} span{'s' * (len(spans) != 1)}"
    return (
        f'<div class="datasets"><div class="dataset d0"><span class="role">history</span> '
        f"<strong>{count}</strong>, {when} \u00b7 {features} features \u00b7 "
        f"{len(series.marks)} anomalies in {flagged} spans</div></div>"
    )


def _charts(
    feature: str,
    metrics: dict[str, list[float | None]],
    marks: Sequence[SeriesMark],
    spans: list[str],
) -> str:
    charts = []
    for metric, values in metrics.items():
        # A mark about another metric, or about no metric, is drawn on every chart.
        on = [m for m in marks if m.metric == metric or m.metric not in metrics]
        charts.append(metric_chart(feature, metric, spans, values, on))
    return f'<div class="charts">{"".join(charts)}</div>'


def _feature(
    name: str, anchor: str, series: HistorySeries, marks: list[SeriesMark], spans: list[str]
) -> str:
    metrics = series.series.get(name, {})
    kind = series.kinds.get(name, "no metrics")
    flagged = " flagged" if marks else ""
    errors = sum(m.severity == "ERROR" for m in marks)
    badges = ""
    if errors:
        badges += f' <span class="badge error">{errors} error{"s" * (errors > 1)}</span>'
    if len(marks) > errors:
        other = len(marks) - errors
        badges += f' <span class="badge warning">{other} warning{"s" * (other > 1)}</span>'
    body = (
        _charts(name, metrics, marks, spans)
        if metrics
        else '<p class="empty">No metric series for this feature.</p>'
    )
    return (
        f'<div class="hfeature{flagged}" id="{anchor}" data-name="{page.text(name)}">'
        f'<h3>{page.text(name)}<span class="kind">{page.text(kind)}</span>{badges}</h3>'
        f"{body}</div>"
    )


def _dataset_section(series: HistorySeries, marks: list[SeriesMark], spans: list[str]) -> str:
    metrics = series.series.get("", {})
    body = _charts("", metrics, marks, spans) if metrics else '<p class="empty">No spans.</p>'
    return f'<section id="dataset"><h2 id="h-0">Dataset</h2>{body}</section>'


def _features_section(blocks: list[str]) -> str:
    count = len(blocks)
    if not blocks:
        return (
            '<section id="features"><h2>Features (0)</h2>'
            '<p class="empty">No features.</p></section>'
        )
    return (
        f'<section id="features"><h2>Features (<span id="shown-count">{count}</span> of '
        f"{count})</h2>"
        '<div class="controls"><label>Filter <input type="search" id="filter" '
        'placeholder="feature name" autocomplete="off" spellcheck="false"></label>'
        '<label><input type="checkbox" id="flagged"> only features with anomalies</label>'
        '<span class="hint">Hover a point for its span and value, a mark for its '
        "anomalies.</span></div>" + "".join(blocks) + "</section>"
    )


def _anomalies_section(marks: Sequence[SeriesMark], anchors: dict[str, str], spans: int) -> str:
    flagged = len({m.span for m in marks})
    heading = f"Anomalies ({len(marks)} in {flagged} of {spans} spans)"
    if not marks:
        return (
            f'<section id="anomalies"><h2>{heading}</h2>'
            '<p class="empty">No anomalies.</p></section>'
        )
    rows = "".join(
        f'<tr class="sev-{page.text(m.severity.lower())}" data-span="{page.text(m.span)}" '
        f'data-anomaly="{page.text(m.anomaly)}">'
        f"<td>{page.text(m.span)}</td>"
        f'<td><a href="#{anchors[m.feature]}">{page.text(m.feature or "(dataset)")}</a></td>'
        f"<td><code>{page.text(m.anomaly)}</code></td>"
        f'<td><span class="badge {page.text(m.severity.lower())}">{page.text(m.severity)}'
        f"</span></td><td>{page.text(m.description)}</td></tr>"
        for m in marks
    )
    return (
        f'<section id="anomalies"><h2>{heading}</h2><table class="findings"><thead><tr>'
        '<th scope="col">Span</th><th scope="col">Feature</th><th scope="col">Anomaly</th>'
        '<th scope="col">Severity</th><th scope="col">Description</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )
