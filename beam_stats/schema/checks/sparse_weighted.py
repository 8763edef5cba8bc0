"""Sparse and weighted features checked from their components' statistics: SPARSE_FEATURE_*,
WEIGHTED_FEATURE_*.

A ``sparse_feature`` is made of a value feature and one or more index features (in the same
struct, or at the top level); a ``weighted_feature`` of a value feature and a weight feature
(top level). Their components are known columns even when the schema does not list them as
features (TFDV reports them as new columns then); a composite's own path in the statistics
(TFDV writes its checks there) is known too.

TFDV's statistics generator, given the schema, counts per composite the examples that have
some component but miss the value (``missing_value``), an index (``missing_index``, per index
feature) or the weight (``missing_weight``), and the least and greatest difference between
an index's (weight's) and the value's list lengths in one example, a missing list counting 0
values (``min_length_diff``/``max_length_diff``, ``min_weight_length_diff``/...). When the
statistics carry those custom statistics, they are read as TFDV reads them: statistics
written by TFDV, or by beam-stats given the schema (:func:`beam_stats.schema.composite_specs`, the
``StatisticsSpec.composites`` that :mod:`beam_stats.stats.composite` counts; ``beam-stats
stats --schema`` and ``run --schema`` use it). Statistics computed without the schema hold
only per-feature counts, so the checks are what those counts prove, with ``p`` the examples
that have a component, ``n`` its values in all and ``max`` its most values in one example:

* missing value (index, weight): another component has a larger ``p``; at least the
  difference of examples lack it (SPARSE/WEIGHTED_FEATURE_MISSING_VALUE/INDEX/WEIGHT);
* length mismatch: the two components' ``n`` or ``max`` differ (with no example missing
  either, also their least values per example), so some example has lists of two lengths
  (SPARSE/WEIGHTED_FEATURE_LENGTH_MISMATCH).

Examples that miss different components in equal numbers, or lists that differ in length
in opposite directions by equal totals, leave every count equal and are not found from
such statistics; statistics computed with the schema, or ``validate-examples`` (per row),
are the exact check.

A composite whose name is also a plain feature's (or, for a weighted feature, a sparse
feature's) is a name collision (SPARSE/WEIGHTED_FEATURE_NAME_COLLISION): both are
deprecated, as in TFDV. A composite with any anomaly is deprecated in the relaxed schema.
"""

from __future__ import annotations

from collections.abc import Mapping

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.schema.composite import Composite, Parts, composites
from beam_stats.schema.features import deprecate, find_feature, has_inactive_ancestor, is_deprecated
from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation, num


def check_composites(
    schema: schema_pb2.Schema, views: Mapping[FeaturePath, FeatureView]
) -> dict[FeaturePath, list[Violation]]:
    """The anomalies of every active composite, deprecating those with some (in `schema`)."""
    found: dict[FeaturePath, list[Violation]] = {}
    sparse_paths = {p.path: p.message for p in composites(schema) if p.sparse}
    for parts in list(composites(schema)):
        if is_deprecated(parts.message) or has_inactive_ancestor(schema, parts.path):
            continue
        violations = _collision(schema, parts, sparse_paths)
        if not violations and any(v in views for v in (parts.value, *parts.others)):
            view = views.get(parts.path)
            custom = {c.name: c for c in view.stats.custom_stats} if view is not None else {}
            violations = _from_tfdv(parts, custom) if _has_tfdv_stats(parts, custom) else []
            if not violations and not _has_tfdv_stats(parts, custom):
                violations = _from_counts(parts, views)
        if violations:
            deprecate(parts.message)
            found[parts.path] = violations
    return found


def _collision(
    schema: schema_pb2.Schema, parts: Parts, sparse_paths: Mapping[FeaturePath, Composite]
) -> list[Violation]:
    plain = find_feature(schema, parts.path)
    plain = plain if plain is not None and not is_deprecated(plain) else None
    if parts.sparse:
        if plain is None:
            return []
        deprecate(plain)
        return [
            Violation(
                AnomalyType.SPARSE_FEATURE_NAME_COLLISION,
                "Sparse feature name collision",
                f"The sparse feature {path_str(parts.path)} has the name of a feature.",
            )
        ]
    sparse = sparse_paths.get(parts.path)
    sparse = sparse if sparse is not None and not is_deprecated(sparse) else None
    if plain is None and sparse is None:
        return []
    for other in (plain, sparse):
        if other is not None:
            deprecate(other)
    kind = "feature" if plain is not None else "sparse feature"
    return [
        Violation(
            AnomalyType.WEIGHTED_FEATURE_NAME_COLLISION,
            "Weighted feature name collision",
            f"The weighted feature {path_str(parts.path)} has the name of a {kind}.",
        )
    ]


_SPARSE_STATS = ("missing_value", "missing_index", "min_length_diff", "max_length_diff")
_WEIGHTED_STATS = (
    "missing_value",
    "missing_weight",
    "min_weight_length_diff",
    "max_weight_length_diff",
)


def _has_tfdv_stats(parts: Parts, custom: Mapping[str, statistics_pb2.CustomStatistic]) -> bool:
    return any(name in custom for name in (_SPARSE_STATS if parts.sparse else _WEIGHTED_STATS))


def _labels(stat: statistics_pb2.CustomStatistic | None) -> dict[str, float]:
    if stat is None:
        return {}
    return {b.label: b.sample_count for b in stat.rank_histogram.buckets if b.sample_count}


def _from_tfdv(
    parts: Parts, custom: Mapping[str, statistics_pb2.CustomStatistic]
) -> list[Violation]:
    """TFDV's reading of the composite's custom statistics."""
    found = []
    missing = custom.get("missing_value")
    if missing is not None and missing.num:
        found.append(_missing(parts, parts.value, missing.num))
    if parts.sparse:
        # Buckets are labelled by the index feature's name (its last step).
        index = {other[-1]: other for other in parts.others}
        for label, count in _labels(custom.get("missing_index")).items():
            found.append(_missing(parts, index.get(label, (label,)), count))
        for name in ("max_length_diff", "min_length_diff"):
            for label, diff in _labels(custom.get(name)).items():
                found.append(_mismatch(parts, index.get(label, (label,)), f"{name} = {num(diff)}"))
        return found
    weight = custom.get("missing_weight")
    if weight is not None and weight.num:
        found.append(_missing(parts, parts.others[0], weight.num))
    low, high = custom.get("min_weight_length_diff"), custom.get("max_weight_length_diff")
    low_diff, high_diff = (low.num if low else 0.0), (high.num if high else 0.0)
    if low_diff or high_diff:
        found.append(
            _mismatch(
                parts,
                parts.others[0],
                f"min_weight_length_diff = {num(low_diff)} and "
                f"max_weight_length_diff = {num(high_diff)}",
            )
        )
    return found


def _from_counts(parts: Parts, views: Mapping[FeaturePath, FeatureView]) -> list[Violation]:
    """What the components' own statistics prove (see the module docstring)."""
    components = (parts.value, *parts.others)
    present = {p: views[p].num_present if p in views else 0 for p in components}
    if not any(present.values()):
        return []
    found = []
    for path in components:
        lacking = max(present.values()) - present[path]
        if lacking > 0:
            found.append(_missing(parts, path, lacking, at_least=True))
    value = views.get(parts.value)
    for other in parts.others:
        reason = _length_difference(views.get(other), value)
        if reason:
            found.append(_mismatch(parts, other, reason))
    return found


def _length_difference(index: FeatureView | None, value: FeatureView | None) -> str:
    def counts(view: FeatureView | None) -> tuple[int, int, int, int]:
        if view is None:
            return 0, 0, 0, 1
        common = view.common
        total, high = int(common.tot_num_values), int(common.max_num_values)
        return total, high, int(common.min_num_values), view.num_missing

    total, high, low, missing = counts(index)
    value_total, value_high, value_low, value_missing = counts(value)
    if total != value_total:
        return f"{total} values in all against {value_total} values"
    if high != value_high:
        return f"at most {high} values in an example against at most {value_high}"
    if not missing and not value_missing and low != value_low:
        return f"at least {low} values in every example against at least {value_low}"
    return ""


def _missing(
    parts: Parts, component: FeaturePath, count: float, *, at_least: bool = False
) -> Violation:
    name = path_str(component)
    if component == parts.value:
        kind, short = "value", "Missing value feature"
        anomaly = (
            AnomalyType.SPARSE_FEATURE_MISSING_VALUE
            if parts.sparse
            else AnomalyType.WEIGHTED_FEATURE_MISSING_VALUE
        )
    elif parts.sparse:
        kind, short = "index", "Missing index feature"
        anomaly = AnomalyType.SPARSE_FEATURE_MISSING_INDEX
    else:
        kind, short = "weight", "Missing weight feature"
        anomaly = AnomalyType.WEIGHTED_FEATURE_MISSING_WEIGHT
    return Violation(
        anomaly,
        short,
        f"{'At least ' if at_least else ''}{num(count)} example{'s' if count != 1 else ''} "
        f"with some other part of the {'sparse' if parts.sparse else 'weighted'} feature "
        f"{path_str(parts.path)} {'lack' if count != 1 else 'lacks'} its {kind} feature {name}.",
    )


def _mismatch(parts: Parts, other: FeaturePath, reason: str) -> Violation:
    if parts.sparse:
        anomaly, kind = AnomalyType.SPARSE_FEATURE_LENGTH_MISMATCH, "index"
    else:
        anomaly, kind = AnomalyType.WEIGHTED_FEATURE_LENGTH_MISMATCH, "weight"
    return Violation(
        anomaly,
        f"Length mismatch between value and {kind} feature",
        f"Some examples have {kind} and value lists of different lengths: the {kind} feature "
        f"{path_str(other)} and the value feature {path_str(parts.value)} ({reason}).",
    )
