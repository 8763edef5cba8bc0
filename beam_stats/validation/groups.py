"""Group anomalies of one dataset: under-represented groups and groups labeled unlike the rest.

For each active feature of the schema with group thresholds
(:class:`~beam_stats.drift.threshold_schema.GroupThresholds`, set by
:func:`~beam_stats.drift.threshold_schema.set_group_thresholds` or ``run --group``) that
the statistics have, the feature's group table (:mod:`beam_stats.drift.groups`) is read from
the statistics and:

=======================  ==========================================================
anomaly (short desc.)    raised when
=======================  ==========================================================
``GROUP_SHARE_LOW``      a group's share of the examples is below ``min_share``
``GROUP_LABEL_``         a group's label disparity ``max_y |p(y | group) - p(y)|``
``DISPARITY_HIGH``       is above ``max_label_disparity`` and above ``Z`` (3)
                         standard errors, so sampling noise in a small group
                         cannot raise it (needs label-aware statistics)
=======================  ==========================================================

Both are ``CUSTOM_VALIDATION`` reasons told apart by their short description; one reason
per feature and kind, naming the groups (most extreme first, at most ten) with their
figures. The examples without the feature (the ``(missing)`` row) are not a group. A table
without rows (a feature with too many values for exact counts, or no value counts) raises
nothing; its note is in the report and in :func:`beam_stats.drift.file_groups.group_tables`.
The share moving between two datasets is a comparator (``group_share``,
``GROUP_SHARE_MOVED``, :mod:`beam_stats.validation.comparators`).
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.drift.file_groups import group_tables
from beam_stats.drift.groups import GroupRow, GroupTable
from beam_stats.drift.threshold_schema import GroupThresholds, group_thresholds
from beam_stats.schema.features import dotted_path, iter_features
from beam_stats.schema.view import dataset_views
from beam_stats.schema.violations import Violation, num, pct

AnomalyType = anomalies_pb2.AnomalyInfo.Type
#: Groups named in one reason.
SHOWN = 10


def check_groups(
    dataset: statistics_pb2.DatasetFeatureStatistics, schema: schema_pb2.Schema
) -> dict[FeaturePath, list[Violation]]:
    """The group reasons of every group feature of `dataset` (see the module docstring).

    Raises:
        SchemaError: a feature's group thresholds are unreadable or invalid.
        DeserializationError: corrupt sketch state.
    """
    views = dataset_views(dataset)
    wanted: dict[FeaturePath, GroupThresholds] = {}
    for schema_path, feature in iter_features(schema, active_only=True):
        limits = group_thresholds(feature)
        path = schema_path if schema_path in views else dotted_path(schema_path)
        if not limits.empty and path in views:
            wanted[path] = limits
    found: dict[FeaturePath, list[Violation]] = {}
    if not wanted:
        return found
    for table in group_tables(dataset, list(wanted)):
        violations = _share_low(table, wanted[table.feature])
        violations += _disparity_high(table, wanted[table.feature])
        if violations:
            found[table.feature] = violations
    return found


def _named(rows: list[GroupRow], figure: str) -> str:
    shown = [f'"{r.group}" ({figure} {_figure(r, figure)})' for r in rows[:SHOWN]]
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    return ", ".join(shown) + more


def _figure(row: GroupRow, figure: str) -> str:
    if figure == "share":
        return f"{pct(row.share)}, {row.examples} examples"
    assert row.disparity is not None and row.standard_error is not None
    return (
        f'{num(row.disparity)} on class "{row.disparity_class}": '
        f"{pct(row.label_shares[row.disparity_class])} of its {row.labeled} labeled examples, "
        f"+- {num(row.standard_error)}"
    )


def _share_low(table: GroupTable, limits: GroupThresholds) -> list[Violation]:
    if limits.min_share is None:
        return []
    low = sorted(
        (r for r in table.groups if r.share < limits.min_share), key=lambda r: (r.share, r.group)
    )
    if not low:
        return []
    long = (
        f"{len(low)} group(s) have a share of the examples below the minimum "
        f"{pct(limits.min_share)}: {_named(low, 'share')}."
    )
    return [Violation(AnomalyType.CUSTOM_VALIDATION, "GROUP_SHARE_LOW", long)]


def _disparity_high(table: GroupTable, limits: GroupThresholds) -> list[Violation]:
    bound = limits.max_label_disparity
    if bound is None:
        return []
    high = sorted(
        (
            r
            for r in table.groups
            if r.disparity is not None and r.disparity > bound and r.significant
        ),
        key=lambda r: (-(r.disparity or 0.0), r.group),
    )
    if not high:
        return []
    whole = ", ".join(f'"{y}" {pct(p)}' for y, p in table.label_shares.items())
    long = (
        f"{len(high)} group(s) have a label distribution farther than {num(bound)} from the "
        f"whole dataset's ({whole}; label {table.label}), beyond sampling noise: "
        f"{_named(high, 'disparity')}."
    )
    return [Violation(AnomalyType.CUSTOM_VALIDATION, "GROUP_LABEL_DISPARITY_HIGH", long)]
