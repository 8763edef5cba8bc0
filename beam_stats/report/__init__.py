"""The HTML report: statistics, anomalies and drift/skew measures as one self-contained page.

Presentation only: reads the finished protos, never accumulators, and needs no Beam.
"""

from beam_stats.report.history import render_history_report
from beam_stats.report.render import DEFAULT_TITLE, render_report

__all__ = ["DEFAULT_TITLE", "render_history_report", "render_report"]
