"""The HTML report: statistics, anomalies and drift/skew measures as one self-contained page.

Presentation only: reads the finished protos, never accumulators, and needs no Beam. The
names below are imported on first use (PEP 562), so that a module of this package (e.g.
``report.model``, whose escaping the command line uses) comes without the whole report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beam_stats._lazy import lazy_names

if TYPE_CHECKING:
    from beam_stats.report.history import render_history_report
    from beam_stats.report.render import DEFAULT_TITLE, render_report

_PUBLIC = {
    "DEFAULT_TITLE": "beam_stats.report.render",
    "render_history_report": "beam_stats.report.history",
    "render_report": "beam_stats.report.render",
}

__all__ = ["DEFAULT_TITLE", "render_history_report", "render_report"]

__getattr__, __dir__ = lazy_names(__name__, _PUBLIC, __all__)
