"""The report's groups section: one table per group feature (:mod:`beam_stats.drift.groups`).

Each table lists the feature's groups (the union of both datasets' when two are shown, most
examples first in the base, then the examples without the feature) and, per dataset, the
group's examples, its share of the examples, its label distribution over its labeled
examples and its disparity ``max_y |p(y | group) - p(y)|`` with the class where it is
reached and its standard error; with two datasets, the change of the share (test minus
base). Unlike the rest of the report, this reads the sketch state (the label counts per
group are only there). A table's note (too many values for exact counts, no label columns)
is shown above it. Every string from the data is escaped (:func:`beam_stats.report.page.text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift.file_groups import group_tables, groups_of
from beam_stats.drift.groups import MISSING, GroupRow, GroupTable
from beam_stats.errors import BeamStatsError
from beam_stats.report.model import NONE, fmt
from beam_stats.report.page import text


def _pct(share: float) -> str:
    return f"{100 * share:.3g}%"


def _label_cell(row: GroupRow | None) -> str:
    if row is None or not row.label_shares:
        return NONE
    return " \u00b7 ".join(f"{y}: {_pct(p)}" for y, p in row.label_shares.items())


def _disparity_cell(row: GroupRow | None) -> str:
    if row is None or row.disparity is None:
        return NONE
    error = f" \u00b1 {fmt(row.standard_error)}" if row.standard_error is not None else ""
    return f"{fmt(row.disparity)} ({row.disparity_class}){error}"


def _cells(row: GroupRow | None) -> list[tuple[str, bool]]:
    """(text, numeric) of one dataset's cells of one group."""
    if row is None:
        return [(NONE, True), (NONE, True), (NONE, False), (NONE, False)]
    return [
        (fmt(row.examples), True),
        (_pct(row.share), True),
        (_label_cell(row), False),
        (_disparity_cell(row), False),
    ]


def _table(tables: Sequence[GroupTable], labels: Sequence[str]) -> str:
    order: list[str] = []
    for table in tables:
        order += [r.group for r in table.groups if r.group not in order]
    if any(r.group == MISSING for t in tables for r in t.rows):
        order.append(MISSING)
    by_group = [{r.group: r for r in t.rows} for t in tables]
    compared = len(tables) > 1
    head = '<th scope="col">Group</th>'
    for label in labels:
        who = f" ({text(label)})" if compared else ""
        head += (
            f'<th scope="col">Examples{who}</th><th scope="col">Share{who}</th>'
            f'<th scope="col">Label distribution{who}</th>'
            f'<th scope="col">Disparity (class) \u00b1 s.e.{who}</th>'
        )
    if compared:
        head += '<th scope="col">Share change</th>'
    body = ""
    for group in order:
        rows = [found.get(group) for found in by_group]
        cells = "".join(
            f'<td class="num">{text(value)}</td>' if numeric else f"<td>{text(value)}</td>"
            for row in rows
            for value, numeric in _cells(row)
        )
        if compared:
            a, b = rows[0], rows[1]
            change = NONE
            if group != MISSING:
                change = f"{100 * ((b.share if b else 0.0) - (a.share if a else 0.0)):+.3g} pts"
            cells += f'<td class="num">{text(change)}</td>'
        name = f"<em>{text(group)}</em>" if group == MISSING else text(group)
        body += f"<tr><td>{name}</td>{cells}</tr>"
    return f'<table class="groups"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def groups_section(
    datasets: Sequence[Any],
    labels: Sequence[str],
    features: Sequence[str | FeaturePath] | None = None,
) -> str:
    """The section ("" when there is no group feature).

    Args:
        datasets: the shown datasets (``DatasetFeatureStatistics``), base first.
        labels: their names, as the report shows them.
        features: the group features; by default those any dataset was computed with.
    """
    notes: list[str] = []
    if features is None:
        found: list[FeaturePath] = []
        for dataset in datasets:
            try:
                found += [p for p in groups_of(dataset) if p not in found]
            except BeamStatsError as e:
                notes.append(f"groups unreadable: {e}")
        paths = sorted(found)
    else:
        paths = [tuple(f.split(".")) if isinstance(f, str) else tuple(f) for f in features]
    if not paths:
        return ""
    parts = []
    for path in paths:
        try:
            tables = [group_tables(dataset, [path])[0] for dataset in datasets]
        except BeamStatsError as e:
            parts.append(f'<h3>{text(path_str(path))}</h3><p class="empty">{text(e)}</p>')
            continue
        said = [
            f"{label}: {t.note}" if len(tables) > 1 else t.note
            for label, t in zip(labels, tables, strict=False)
            if t.note
        ]
        note = "".join(f'<p class="empty">{text(n)}</p>' for n in said)
        label = next((t.label for t in tables if t.label), "")
        about = f" \u00b7 label {text(label)}" if label else ""
        parts.append(f"<h3>{text(path_str(path))}{about}</h3>{note}{_table(tables, labels)}")
    problems = "".join(f'<p class="empty">{text(n)}</p>' for n in notes)
    return (
        f'<section id="groups"><h2>Groups ({len(paths)})</h2>{problems}'
        + "".join(parts)
        + "</section>"
    )
