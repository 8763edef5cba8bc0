"""Small line charts of one metric over the spans, drawn as inline SVG here (no script).

A history page holds a few charts per feature, each a few dozen points, so they are drawn
once, in Python, and shown without JavaScript. x is the span's position (spans evenly
spaced, oldest left); y runs from the series' smallest to its largest value, from 0 for
counts, shares and spreads (every metric but ``mean``), so a drop reads as a drop. Each value
is a point whose ``data-value`` is the value as Python writes it (``repr``: it reads back
exactly) and whose tooltip (``<title>``) gives the span and the value; a gap (a span without
the value) breaks the line. Each span with anomalies gets one red (error) or amber mark
(``data-anomaly``: their names, space separated) with a tooltip listing them; at the
span's value, or on the x axis when the span has none.

Every string from the data (span keys, descriptions) goes through :func:`page.text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from beam_stats.report.model import fmt
from beam_stats.report.page import text
from beam_stats.validation.history_series import SeriesMark

W, H = 250, 132
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 20, 24
#: Characters of a span key shown under the axis (the tooltips show all of it).
SPAN_CHARS = 12

#: Each metric's heading.
METRIC_LABELS = {
    "num_examples": "examples",
    "missing_fraction": "missing fraction",
    "mean": "mean",
    "std": "standard deviation",
    "distinct": "distinct values",
    "top_share": "top value share",
    "drift_previous": "drift from the previous span",
}


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _range(metric: str, values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if metric != "mean":
        low = min(low, 0.0)
    if high <= low:  # a constant series: a band around it
        pad = abs(high) * 0.1 or 1.0
        low, high = (low - pad, high + pad) if metric == "mean" or low < 0 else (low, high + pad)
    return low, high


def _short(span: str) -> str:
    return span if len(span) <= SPAN_CHARS else span[: SPAN_CHARS - 1] + "\u2026"


def _num(value: float) -> str:
    return f"{value:.2f}"


def metric_chart(
    feature: str,
    metric: str,
    spans: Sequence[str],
    values: Sequence[float | None],
    marks: Sequence[SeriesMark],
) -> str:
    """The SVG of one metric of one feature (``""`` the dataset) over `spans`.

    Args:
        feature: the feature's dotted path (for the chart's label).
        metric: the metric's name.
        spans: the span keys, oldest first.
        values: one value per span (None: the span has none).
        marks: the anomalies to mark on this chart, each at its span.
    """
    n = len(spans)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    shown = [_finite(v) for v in values]
    present = [v for v in shown if v is not None]
    low, high = _range(metric, present) if present else (0.0, 1.0)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (high - v) / (high - low)

    label = METRIC_LABELS.get(metric, metric)
    about = f"{label} of {feature}" if feature else f"{label} of the dataset"
    parts = [
        f'<svg class="hchart" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{text(about)}" data-feature="{text(feature)}" data-metric="{text(metric)}">',
        f'<text class="head" x="{LEFT}" y="13">{text(label)}</text>',
    ]
    for bound, level in ((high, TOP), (low, TOP + plot_h)):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{level}" y2="{level}"/>'
            f'<text x="{LEFT - 4}" y="{level + 4}" text-anchor="end">{text(fmt(bound))}</text>'
        )
    if n:
        ends = [(0, "start"), (n - 1, "end")] if n > 1 else [(0, "middle")]
        for i, anchor in ends:
            parts.append(
                f'<text class="span" x="{_num(x(i))}" y="{H - 8}" text-anchor="{anchor}">'
                f"<title>{text(spans[i])}</title>{text(_short(spans[i]))}</text>"
            )
    segment: list[str] = []
    for i, value in enumerate([*shown, None]):
        if value is not None:
            segment.append(f"{_num(x(i))},{_num(y(value))}")
        elif segment:
            if len(segment) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
            segment = []
    for i, value in enumerate(shown):
        if value is not None:
            parts.append(
                f'<circle class="pt" cx="{_num(x(i))}" cy="{_num(y(value))}" r="2.2" '
                f'data-span="{text(spans[i])}" data-value="{value!r}">'
                f"<title>{text(spans[i])}: {text(fmt(value))}</title></circle>"
            )
    at = {span: i for i, span in enumerate(spans)}
    by_span: dict[str, list[SeriesMark]] = {}
    for mark in marks:
        by_span.setdefault(mark.span, []).append(mark)
    for span, found in by_span.items():
        i = at[span]
        v: float | None = shown[i]
        severity = "error" if any(m.severity == "ERROR" for m in found) else "warning"
        names = " ".join(dict.fromkeys(m.anomaly for m in found))
        tip = "\n".join(
            [text(span if v is None else f"{span}: {fmt(v)}")]
            + [f"{text(m.anomaly)}: {text(m.description)}" for m in found]
        )
        parts.append(
            f'<circle class="mark {severity}" cx="{_num(x(i))}" '
            f'cy="{_num(y(v) if v is not None else TOP + plot_h)}" r="4.5" '
            f'data-span="{text(span)}" data-anomaly="{text(names)}"><title>{tip}</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
