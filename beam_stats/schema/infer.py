"""Schema inference from statistics, with TFDV's semantics.

Per feature, as TFDV infers it:

* type: INT, FLOAT, BYTES (string and binary statistics) or STRUCT (fields in
  ``struct_domain``).
* presence: ``min_count`` 1 when any example has the feature (else 0); ``min_fraction`` 1.0
  only when no example lacks it.
* valency: ``value_count`` ``min`` = ``max`` = n when every present example has n values,
  else ``min`` 1 when none is empty (else nothing). With ``infer_shape``, a feature present
  everywhere with n values everywhere gets ``shape { dim { size: n } }`` instead (not a
  STRUCT).
* domain, first that applies: the semantic domain named by TFDV's ``domain_info`` custom
  statistic (:mod:`beam_stats.schema.checks.semantic`); none for binary values or invalid UTF-8;
  ``bool_domain`` for ints in {0, 1} with max 1, or one or two strings among true/false
  spellings
  (``true``/``false``, ``TRUE``/``FALSE``, ``1``/``0``, ``set``/``clear``);
  ``int_domain`` for strings that all spell int64 numbers; an enumerated string domain
  (schema-level ``string_domain``, named by the feature path) when there are at most
  ``max_string_domain_size`` distinct values; ``int_domain { is_categorical: true }`` for
  int features summarised as strings.

* derived features (TFDV's ``validation_derived_source`` in the statistics): lifecycle
  VALIDATION_DERIVED with that source.

Only what the statistics prove is inferred: string domains need every distinct value to be
listed with an exact count (see :mod:`beam_stats.schema.view`). Beyond TFDV, off by
default: numeric ranges, ``unique_constraints``, and ``float_domain`` NaN/inf bans.
"""

from __future__ import annotations

import math

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import path_str
from beam_stats.schema import extras
from beam_stats.schema.checks.domains import int64
from beam_stats.schema.checks.semantic import apply_domain_info, mark_derived
from beam_stats.schema.features import add_feature
from beam_stats.schema.privacy import with_privacy
from beam_stats.schema.spec import SchemaInferenceSpec
from beam_stats.schema.view import (
    FeatureView,
    StatsType,
    dataset_views,
    float32,
    one_dataset,
    parse_int,
)
from beam_stats.stats.stored import recorded_privacy

#: TFDV's spellings of true and false (the empty string counts as true there too).
TRUE_STRINGS = frozenset({"TRUE", "true", "SET", "set", "1", ""})
FALSE_STRINGS = frozenset({"FALSE", "false", "CLEAR", "clear", "0"})


def infer_schema(
    statistics: statistics_pb2.DatasetFeatureStatisticsList
    | statistics_pb2.DatasetFeatureStatistics,
    spec: SchemaInferenceSpec | None = None,
) -> schema_pb2.Schema:
    """A schema that the data behind `statistics` satisfies (see the module docstring).

    Args:
        statistics: statistics of one dataset (a list holding exactly one, or the dataset).
        spec: inference options; TFDV's behaviour when omitted.

    Returns:
        A tensorflow-metadata ``Schema``; its annotation records the options and the
        dataset (read back by :func:`update_schema`), and its tags the privacy policy the
        statistics were made with (:mod:`beam_stats.schema.privacy`).

    Raises:
        InvalidInputError: `statistics` holds no dataset or several.
    """
    spec = spec or SchemaInferenceSpec()
    dataset = one_dataset(statistics)
    schema = schema_pb2.Schema()
    for view in dataset_views(dataset).values():
        if not view.composite_only:  # a sparse or weighted feature's checks: no column
            infer_feature(schema, view, spec)
    extras.set_provenance(
        schema, extras.provenance_of(spec, dataset.name, int(dataset.num_examples))
    )
    privacy = recorded_privacy(dataset)
    return with_privacy(schema, privacy) if privacy.active else schema


def infer_feature(
    schema: schema_pb2.Schema, view: FeatureView, spec: SchemaInferenceSpec
) -> schema_pb2.Feature:
    """Adds the feature of `view` to `schema`, inferred from its statistics."""
    feature = add_feature(schema, view.path)
    feature.type = view.schema_type
    mark_derived(feature, view)
    _presence_and_valency(feature, view, spec)
    _domain(schema, feature, view, spec)
    if spec.unique is not None and view.unique is not None and view.unique_relative_error == 0:
        margin = spec.unique.margin
        feature.unique_constraints.min = math.floor(view.unique * (1 - margin))
        feature.unique_constraints.max = math.ceil(view.unique * (1 + margin))
    return feature


def _presence_and_valency(
    feature: schema_pb2.Feature, view: FeatureView, spec: SchemaInferenceSpec
) -> None:
    feature.presence.min_count = 1 if view.num_present >= 1 else 0
    if view.num_present == 0:
        return
    if view.num_missing == 0:
        feature.presence.min_fraction = 1.0
    levels = view.num_values_by_level() or [
        (int(view.common.min_num_values), int(view.common.max_num_values))
    ]
    fixed = [low for low, high in levels if low == high and low > 0]
    if (
        spec.infer_shape
        and view.schema_type != schema_pb2.STRUCT
        and view.num_missing == 0
        and len(fixed) == len(levels)
    ):
        for size in fixed:
            feature.shape.dim.add(size=size)
        return
    if len(levels) > 1:
        for low, high in levels:
            _set_value_count(feature.value_counts.value_count.add(), low, high)
    elif levels[0][0] > 0:
        _set_value_count(feature.value_count, *levels[0])


def _set_value_count(value_count: schema_pb2.ValueCount, low: int, high: int) -> None:
    if low <= 0:
        return
    if low == high:
        value_count.min = value_count.max = low
    else:
        value_count.min = 1


def is_bool_strings(values: list[str]) -> bool:
    """One or two values: at most one true spelling and at most one false spelling."""
    if not 1 <= len(values) <= 2:
        return False
    trues = [v for v in values if v in TRUE_STRINGS]
    falses = [v for v in values if v in FALSE_STRINGS]
    return len(trues) <= 1 and len(falses) <= 1 and len(trues) + len(falses) == len(values)


def _domain(
    schema: schema_pb2.Schema,
    feature: schema_pb2.Feature,
    view: FeatureView,
    spec: SchemaInferenceSpec,
) -> None:
    if apply_domain_info(feature, view):  # a semantic domain TFDV's statistics name
        return
    if view.stats_type == StatsType.STRUCT:
        feature.struct_domain.SetInParent()
        return
    if view.stats_type == StatsType.BYTES or view.invalid_utf8_count:
        return
    if view.stats_type == StatsType.INT and view.has_finite:
        if view.min >= 0 and view.max == 1:
            feature.bool_domain.SetInParent()
        elif spec.ranges is not None:
            low, high = _range(view, spec)
            # Statistics hold floats: 2**63 - 1 reads as 2**63, so the bounds are clamped to
            # what an int64 domain can hold.
            feature.int_domain.min = int64(math.floor(low))
            feature.int_domain.max = int64(math.ceil(high))
        return
    if view.stats_type == StatsType.FLOAT and view.has_numbers:
        if spec.ranges is not None and view.has_finite:
            low, high = _range(view, spec)
            feature.float_domain.min = float32(low)
            feature.float_domain.max = float32(high)
        if spec.disallow_nan and view.num_nan == 0:
            feature.float_domain.disallow_nan = True
        if spec.disallow_inf and view.num_inf == 0:
            feature.float_domain.disallow_inf = True
        return
    if view.stats_type == StatsType.INT and view.has_strings:
        feature.int_domain.is_categorical = True
        return
    values = view.all_values()
    if view.stats_type != StatsType.STRING or not values:
        return
    if is_bool_strings(values):
        for value in values:
            if value in TRUE_STRINGS:
                feature.bool_domain.true_value = value
            else:
                feature.bool_domain.false_value = value
    elif all(parse_int(v) is not None for v in values):
        feature.int_domain.SetInParent()
    elif len(values) <= spec.max_string_domain_size:
        feature.domain = _new_string_domain(schema, path_str(view.path), values)


def _range(view: FeatureView, spec: SchemaInferenceSpec) -> tuple[float, float]:
    assert spec.ranges is not None
    ranges = spec.ranges
    low = view.quantile(ranges.lower_quantile)
    high = view.quantile(ranges.upper_quantile)
    low = view.min if low is None else low
    high = view.max if high is None else high
    span = high - low
    lower, upper = low - ranges.margin * span, high + ranges.margin * span
    if view.min >= 0:
        lower = max(lower, 0.0)
    return lower, upper


def _new_string_domain(schema: schema_pb2.Schema, name: str, values: list[str]) -> str:
    taken = {d.name for d in schema.string_domain}
    unique, index = name, 1
    while unique in taken:
        index += 1
        unique = f"{name}{index}"
    schema.string_domain.add(name=unique, value=values)
    return unique
