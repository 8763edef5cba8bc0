"""The report's labeling-loop section: what ``beam-stats label-join`` found.

From a ``beam_stats.LabelJoinSummary`` (:mod:`beam_stats.drift.label_join`): label coverage
(rows and identifiers), what could not be joined (orphans, duplicates, rows without an
identifier or a readable label), the label delay quantiles, predicted against actual overall,
per calibration bucket and per group. Figures are shown as the summary holds them; nothing is
recomputed. Every string from the data (group values, feature names) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beam_stats.report.model import NONE, fmt, percent
from beam_stats.report.page import text


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]], table_class: str) -> str:
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in heads)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{text(v)}</td>' if i else f"<td>{text(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="{table_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _rates(name: str, rates: Any) -> list[str]:
    """A row: rows, labeled, coverage, mean prediction, label rate (of the compared rows)."""
    compared = rates.compared_rows > 0
    return [
        name,
        fmt(rates.served_rows),
        fmt(rates.labeled_rows),
        percent(rates.coverage if rates.served_rows else None),
        fmt(rates.compared_mean_prediction) if compared else NONE,
        fmt(rates.compared_label_rate) if compared else NONE,
    ]


_RATE_HEADS = ("", "Served rows", "Labeled", "Coverage", "Mean prediction", "Label rate")


def label_loop_section(summary: Any | None) -> str:
    """The section (empty without a summary)."""
    if summary is None:
        return ""
    s = summary
    coverage = percent(s.coverage if s.served_rows else None)
    counts = [
        ("Served rows", fmt(s.served_rows)),
        ("Labeled rows", f"{fmt(s.labeled_rows)} ({coverage})"),
        ("Served identifiers labeled", f"{fmt(s.labeled_ids)} of {fmt(s.served_ids)}"),
        ("Served rows without an identifier", fmt(s.served_null_ids)),
        ("Served identifiers with several rows", fmt(s.served_duplicate_ids)),
        ("Feedback rows", fmt(s.feedback_rows)),
        ("Feedback identifiers never served", fmt(s.orphan_ids)),
        ("Feedback identifiers with several rows", fmt(s.feedback_duplicate_ids)),
        ("Feedback rows without a label, or not a number",
         fmt(s.feedback_null_labels + s.feedback_bad_labels)),
    ]  # fmt: skip
    parts = [
        f'<section id="label-loop"><h2>Labeling loop: <code>{text(s.label_feature)}</code> '
        f"for <code>{text(s.prediction_feature)}</code></h2>",
        _table(("", "Count"), counts, "label-loop-counts"),
    ]
    delay = s.delay
    if delay.count:
        heads = ["Labels", "Mean (s)", *(f"p{100 * r:g} (s)" for r in delay.ranks)]
        row = [fmt(delay.count), fmt(delay.mean), *(fmt(q) for q in delay.quantiles)]
        parts += ["<h3>Label delay</h3>", _table(heads, [["", *row]], "label-delay")]
        if delay.negative:
            parts.append(f"<p>{fmt(delay.negative)} labels came before the serving time.</p>")
    rows = [_rates("All served rows", s.overall)]
    last = len(s.calibration) - 1  # the last bucket holds its upper edge
    rows += [
        _rates(f"[{fmt(b.lower)}, {fmt(b.upper)}{']' if i == last else ')'}", b.rates)
        for i, b in enumerate(s.calibration)
    ]
    parts += ["<h3>Predicted vs actual, per prediction bucket</h3>",
              _table(_RATE_HEADS, rows, "calibration")]  # fmt: skip
    if s.groups:
        groups = [
            _rates(f"{g.feature} = {'(missing)' if g.missing else g.value}", g.rates)
            for g in s.groups
        ]
        parts += ["<h3>Per group</h3>", _table(_RATE_HEADS, groups, "label-groups")]
    return "".join(parts) + "</section>"
