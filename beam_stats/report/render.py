"""``render_report``: statistics (and anomalies) to one self-contained HTML page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats._types import FeaturePath
from beam_stats.errors import InvalidInputError
from beam_stats.report import page
from beam_stats.report.charts import chart
from beam_stats.report.findings import Finding, Measure, findings, measures
from beam_stats.report.groups import groups_section
from beam_stats.report.label_loop import label_loop_section
from beam_stats.report.labels import label_section
from beam_stats.report.model import (
    Selection,
    Statistics,
    feature_labels,
    feature_name,
    fmt,
    merged_details,
    path_key,
    select,
    summarize,
)

DEFAULT_TITLE = "beam-stats report"


def render_report(
    statistics: Statistics,
    other: Statistics | None = None,
    anomalies: anomalies_pb2.Anomalies | None = None,
    *,
    title: str = DEFAULT_TITLE,
    dataset: str | None = None,
    other_dataset: str | None = None,
    label_join: Any | None = None,
    groups: Sequence[str | FeaturePath] | None = None,
) -> str:
    """A self-contained HTML report of one dataset's statistics, or of two side by side.

    The page needs no network: its style, script and data are inline and its charts are
    drawn as SVG by the script when a feature is opened, so a report of thousands of
    features stays small and opens fast. Every string from the data is escaped.

    Args:
        statistics: the (base) statistics, e.g. of the training data.
        other: statistics to compare with (test, e.g. serving), shown beside the base ones
            and overlaid in every chart.
        anomalies: validation results, e.g. of ``other`` against a schema, with drift and
            skew measurements in ``drift_skew_info``; listed with their descriptions and
            severities, breaches highlighted.
        title: the page title.
        dataset: which dataset of `statistics` to show, by name, when it holds several
            (slices); by default the first (the whole dataset). The others are listed.
        other_dataset: the same for `other`.
        label_join: a ``beam_stats.LabelJoinSummary`` (``beam-stats label-join``): the
            labeling loop's coverage, delays and calibration, in their own section.
        groups: the group features shown in the groups section, a table each (share,
            label distribution and disparity per group, :mod:`beam_stats.report.groups`);
            by default those the statistics were computed with (``StatisticsSpec.groups``).

    Returns:
        The HTML document.

    Raises:
        InvalidInputError: an argument is not statistics or anomalies, or names no dataset.
    """
    if anomalies is not None and not isinstance(anomalies, anomalies_pb2.Anomalies):
        raise InvalidInputError(f"expected Anomalies, got {type(anomalies).__name__}")
    selections = [select(statistics, dataset)]
    if other is not None:
        selections.append(select(other, other_dataset))
    labels_of = feature_labels([f for s in selections for f in s.dataset.features])
    by_name = [{labels_of[path_key(f)]: f for f in s.dataset.features} for s in selections]
    # Anomalies name features by their dotted path; a column `a.b` shows those of "a.b" too.
    dotted = {
        labels_of[path_key(f)]: feature_name(f) for s in selections for f in s.dataset.features
    }
    names = list(by_name[0])
    for extra in by_name[1:]:
        names += [n for n in extra if n not in by_name[0]]

    found = list(findings(anomalies)) if anomalies is not None else []
    measured = list(measures(anomalies)) if anomalies is not None else []
    found_by: defaultdict[str, list[Finding]] = defaultdict(list)
    for f in found:
        found_by[f.feature].append(f)
    measured_by: defaultdict[str, list[Measure]] = defaultdict(list)
    for m in measured:
        measured_by[m.feature].append(m)

    rows = []
    features_data: list[dict[str, Any]] = []
    for index, name in enumerate(names):
        features = [d.get(name) for d in by_name]
        summaries = [summarize(f) if f is not None else None for f in features]
        key = dotted.get(name, name)
        rows.append(page.feature_row(index, name, summaries, found_by[key], measured_by[key]))
        features_data.append(
            {
                "n": name,
                "c": chart(features),
                "x": merged_details(features),
                "a": [
                    [f.severity, f.type, f.short_description, f.description] for f in found_by[key]
                ],
                "m": [
                    [m.kind, m.type, fmt(m.value), fmt(m.threshold), m.breach]
                    for m in measured_by[key]
                ],
            }
        )
    labels = _labels(selections)
    compared = len(selections) > 1
    sections = [
        page.findings_section(found, anomalies is not None),
        page.measures_section(measured),
        label_section([s.dataset for s in selections], found),
        label_loop_section(label_join),
        groups_section([s.dataset for s in selections], labels, groups),
        _features_section(rows, len(names), labels, compared),
    ]
    data = {"d": labels, "f": features_data}
    return page.page(title, _header(selections, labels), sections, data)


def _labels(selections: list[Selection]) -> list[str]:
    labels = [s.dataset.name or "(unnamed)" for s in selections]
    if len(labels) == 2 and labels[0] == labels[1]:
        labels = [f"{labels[0]} (base)", f"{labels[1]} (test)"]
    return labels


def _header(selections: list[Selection], labels: list[str]) -> str:
    roles = ["base", "test"] if len(selections) > 1 else ["dataset"]
    cards = []
    for role, label, selection in zip(roles, labels, selections, strict=False):
        d = selection.dataset
        summary = (
            f"<strong>{page.text(label)}</strong> \u00b7 {page.text(fmt(d.num_examples))} "
            f"examples \u00b7 {len(d.features)} features"
        )
        if d.weighted_num_examples:
            summary += f" \u00b7 weighted {page.text(fmt(d.weighted_num_examples))}"
        cards.append((role, summary, selection.others))
    return page.datasets_header(cards)


def _features_section(rows: list[str], count: int, labels: list[str], compared: bool) -> str:
    sort_by = ""
    if compared:
        options = "".join(
            f'<option value="{i}">{role}: {page.text(label)}</option>'
            for i, (role, label) in enumerate(zip(("base", "test"), labels, strict=False))
        )
        sort_by = f'<label>Sort by the values of <select id="sort-by">{options}</select></label>'
    return (
        f'<section id="features"><h2>Features (<span id="shown-count">{count}</span> of '
        f"{count})</h2>"
        '<div class="controls"><label>Filter <input type="search" id="filter" '
        'placeholder="feature name" autocomplete="off" spellcheck="false"></label>'
        '<label><input type="checkbox" id="flagged"> only features with anomalies or '
        f"breaches</label>{sort_by}"
        '<span class="hint">Click a feature for its chart and statistics; click a heading '
        "to sort.</span></div>" + page.feature_table(rows, compared) + "</section>"
    )
