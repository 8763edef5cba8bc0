"""The HTML page: one self-contained file, every data string escaped.

Escaping, the only two places data reaches the page:

* HTML text and attribute values: :func:`text` (``html.escape(quote=True)``), everywhere.
* The data block ``<script type="application/json">``: :func:`script_json` writes JSON with
  ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\uXXXX`` escapes, so no data string can end
  the element (``</script>``) or start a comment; the page's script reads it with
  ``JSON.parse`` and puts strings into the DOM as text nodes only. No script is ever built
  from data.

A Content-Security-Policy allows only the page's own style and script (by their SHA-256) and
no network access at all: nothing is fetched when the report is viewed, and markup that got
in anyway could not run a script.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from beam_stats.report.findings import DATASET, Finding, Measure
from beam_stats.report.model import NONE, Summary, fmt, percent, visible
from beam_stats.report.script import SCRIPT
from beam_stats.report.style import STYLE

#: Other datasets (slices) of a file named in the header, at most.
MAX_OTHERS = 30
#: The feature table's columns: key, heading, kind ("text" or "num"), tooltip.
COLUMNS = (
    ("name", "Feature", "text", "Feature path; click to open its chart and statistics"),
    ("type", "Type", "text", "Type in the statistics"),
    ("missing", "Missing", "num", "Examples without the feature"),
    ("distinct", "Distinct", "num", "Distinct values (strings and bytes)"),
    ("mean", "Mean", "num", ""),
    ("std", "Std dev", "num", "Population standard deviation"),
    ("min", "Min", "num", ""),
    ("median", "Median", "num", "From the quantiles sketch"),
    ("max", "Max", "num", ""),
    ("top", "Top value", "text", "Most frequent value, with its share of the values"),
    ("status", "Status", "num", "Anomalies and drift/skew breaches"),
)


def text(value: object) -> str:
    """`value` as HTML text or attribute value, invisible characters shown (`visible`)."""
    return html.escape(visible(str(value)), quote=True)


def _shown(data: Any) -> Any:
    """`data` with every string made `visible` and every NaN or infinity (from another
    tool's statistics) as None: JSON has no such numbers."""
    if isinstance(data, str):
        return visible(data)
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {_shown(k): _shown(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_shown(v) for v in data]
    return data


def script_json(data: object) -> str:
    """`data` as JSON that is safe inside a ``<script>`` element (strings `visible`)."""
    encoded = json.dumps(_shown(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        encoded.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _sha256(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def feature_link(feature: str) -> str:
    """A link that opens `feature` in the feature table (the script reads the fragment)."""
    return f'<a href="#open={text(quote(visible(feature), safe=""))}">{text(feature)}</a>'


def _sort_key(value: float | str | None) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _cell(
    values: Sequence[tuple[float | str | None, str]],
    classes: Sequence[str] = (),
    cell_class: str = "",
) -> str:
    """A cell with one line per dataset: (sort key, shown text) each."""
    attrs = f' class="{cell_class}"' if cell_class else ""
    attrs += "".join(f' data-s{i}="{text(_sort_key(key))}"' for i, (key, _) in enumerate(values))
    lines = "".join(
        f'<span class="v d{i}{" " + c if c else ""}">{text(shown)}</span>'
        for i, ((_, shown), c) in enumerate(
            zip(values, list(classes) + [""] * (len(values) - len(classes)), strict=True)
        )
    )
    return f"<td{attrs}>{lines}</td>"


def _status(findings: Sequence[Finding], measures: Sequence[Measure]) -> tuple[float, str]:
    """(sort key, badges) of a feature's anomalies and breaches."""
    errors = sum(f.severity == "ERROR" for f in findings)
    warnings = len(findings) - errors
    breaches = [m for m in measures if m.breach]
    badges = []
    if errors:
        badges.append(f'<span class="badge error">{errors} error{"s" * (errors > 1)}</span>')
    if warnings:
        plural = "s" * (warnings > 1)
        badges.append(f'<span class="badge warning">{warnings} warning{plural}</span>')
    for m in breaches:
        badges.append(
            f'<span class="badge breach" title="{text(m.type)}">{text(m.kind)} '
            f"{text(fmt(m.value))} &gt; {text(fmt(m.threshold))}</span>"
        )
    if not badges and measures:
        badges.append('<span class="badge ok">within thresholds</span>')
    return 100.0 * len(breaches) + 10.0 * errors + warnings, "".join(badges)


def feature_row(
    index: int,
    name: str,
    summaries: Sequence[Summary | None],
    findings: Sequence[Finding],
    measures: Sequence[Measure],
) -> str:
    """One row of the feature table (one line per dataset in each cell)."""
    score, badges = _status(findings, measures)
    types = [s.type if s else "absent" for s in summaries]
    type_classes = ["absent" if s is None else "" for s in summaries]
    if len({s.type for s in summaries if s}) > 1:
        type_classes = [c or "changed" for c in type_classes]
    cells = [
        f'<td class="name" data-s0="{text(name)}"><button type="button" class="toggle" '
        f'aria-expanded="false" aria-controls="d-{index}">{text(name)}</button></td>',
        _cell([(t, t) for t in types], type_classes, cell_class="type"),
    ]
    for key in ("missing", "distinct", "mean", "std", "min", "median", "max"):
        values = [getattr(s, key) if s else None for s in summaries]
        shown = percent if key == "missing" else fmt
        cells.append(_cell([(v, shown(v)) for v in values], cell_class="num"))
    tops: list[tuple[str | None, str]] = []
    for s in summaries:
        if s is None or s.top is None:
            tops.append((None, NONE))
        else:
            tops.append((s.top, f"{s.top} ({percent(s.top_fraction)})"))
    cells.append(_cell(tops, cell_class="top"))
    cells.append(f'<td class="status" data-s0="{score!r}">{badges}</td>')
    flags = " ".join(
        flag
        for flag, on in (
            ("flag-breach", any(m.breach for m in measures)),
            ("flag-error", any(f.severity == "ERROR" for f in findings)),
            ("flag-warning", any(f.severity != "ERROR" for f in findings)),
        )
        if on
    )
    flag_attr = ' data-flag="1"' if flags else ""
    return (
        f'<tr class="feature {flags}" id="f-{index}" data-i="{index}" '
        f'data-name="{text(name)}"{flag_attr}>{"".join(cells)}</tr>'
    )


def feature_table(rows: Sequence[str], compared: bool) -> str:
    head = "".join(
        f'<th scope="col" data-key="{key}" data-kind="{kind}" title="{text(tip)}" '
        f'aria-sort="none"><button type="button" class="sort">{text(label)}</button></th>'
        for key, label, kind, tip in COLUMNS
    )
    table_class = "features compared" if compared else "features"
    return (
        f'<table id="feature-table" class="{table_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def findings_section(findings: Sequence[Finding], has_anomalies: bool) -> str:
    if not has_anomalies:
        return ""
    if not findings:
        body = '<p class="empty">No anomalies.</p>'
    else:
        rows = "".join(
            f'<tr class="sev-{text(f.severity.lower())}">'
            f"<td>{feature_link(f.feature) if f.feature != DATASET else '(dataset)'}</td>"
            f"<td><code>{text(f.type)}</code></td>"
            f'<td><span class="badge {text(f.severity.lower())}">{text(f.severity)}</span></td>'
            f"<td><strong>{text(f.short_description)}</strong> {text(f.description)}</td></tr>"
            for f in findings
        )
        body = (
            '<table class="findings"><thead><tr><th scope="col">Feature</th>'
            '<th scope="col">Anomaly</th><th scope="col">Severity</th>'
            '<th scope="col">Description</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    return f'<section id="anomalies"><h2>Anomalies ({len(findings)})</h2>{body}</section>'


def measures_section(measures: Sequence[Measure]) -> str:
    if not measures:
        return ""
    breaches = sum(m.breach for m in measures)
    rows = "".join(
        f'<tr class="{"breach" if m.breach else "within"}">'
        f"<td>{feature_link(m.feature)}</td><td>{text(m.kind)}</td>"
        f"<td><code>{text(m.type)}</code></td>"
        f'<td class="num">{text(fmt(m.value))}</td><td class="num">{text(fmt(m.threshold))}</td>'
        f"<td>{'above the threshold' if m.breach else 'within'}</td></tr>"
        for m in measures
    )
    return (
        f'<section id="drift"><h2>Drift and skew ({breaches} of {len(measures)} above '
        'threshold)</h2><table class="measures"><thead><tr><th scope="col">Feature</th>'
        '<th scope="col">Comparison</th><th scope="col">Measure</th>'
        '<th scope="col">Value</th><th scope="col">Threshold</th><th scope="col">Result</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def datasets_header(cards: Sequence[tuple[str, str, Sequence[str]]]) -> str:
    """Legend cards: (role, summary line, other datasets of the same file) each."""
    parts = []
    for i, (role, summary, others) in enumerate(cards):
        more = ""
        if others:
            listed = ", ".join(f"<q>{text(o)}</q>" for o in others[:MAX_OTHERS])
            if len(others) > MAX_OTHERS:
                listed += f" and {len(others) - MAX_OTHERS} more"
            more = f'<p class="others">Also in this file, not shown: {listed}</p>'

        parts.append(
            f'<div class="dataset d{i}"><span class="swatch d{i}"></span>'
            f'<span class="role">{text(role)}</span> {summary}{more}</div>'
        )
    return f'<div class="datasets">{"".join(parts)}</div>'


def page(
    title: str,
    header: str,
    sections: Sequence[str],
    data: Any,
    *,
    style: str = STYLE,
    script: str = SCRIPT,
    noscript: str = "Sorting, filtering and the charts need JavaScript.",
) -> str:
    """The whole document (another page's own `style` and `script` replace the report's)."""
    policy = (
        f"default-src 'none'; style-src {_sha256(style)}; script-src {_sha256(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{text(policy)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="beam-stats">'
        f"<title>{text(title)}</title><style>{style}</style></head>\n"
        f"<body><header><h1>{text(title)}</h1>{header}</header>\n<main>"
        + "\n".join(s for s in sections if s)
        + "</main>\n"
        f'<noscript><p class="empty">{text(noscript)}</p></noscript>\n'
        f'<script type="application/json" id="report-data">{script_json(data)}</script>\n'
        f"<script>{script}</script>\n</body></html>\n"
    )
