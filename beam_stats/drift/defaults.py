"""The thresholds beam-stats applies when the user sets none, and which features get them.

One policy, used by every command that puts thresholds on many features at once: ``run``
(the skew thresholds of the schema it infers), ``compare`` (no schema and no
``--threshold``), ``infer-schema --drift-threshold/--skew-threshold`` and
:func:`with_thresholds_for_all` in Python.

- :data:`DEFAULT_THRESHOLDS`: common rules of thumb. The normalized absolute difference
  (it grows with a change in volume alone) and chi-squared (any difference is significant
  in a large sample) get none; concept shift only where there is a label
  (:data:`DEFAULT_CONCEPT_SHIFT`).
- A threshold "for every feature" skips what a distribution check cannot judge: STRUCT
  features (their children are checked), and *id-like* features (:func:`is_id_like`), whose
  values are mostly new in every dataset, so every distance between two datasets is near its
  maximum (a ``user_id`` had a PSI of 10.5). An id-like feature keeps ``missing_fraction``,
  which means the same for it as for any other. A threshold set on one feature by name is
  always kept.
- Group features (``StatisticsSpec.groups``) get :data:`DEFAULT_GROUP_THRESHOLDS` and a
  ``group_share`` threshold of :data:`DEFAULT_GROUP_SHARE` (:func:`with_group_thresholds`):
  a group under 1% of the examples, a group whose label distribution is 0.2 away from the
  whole dataset's beyond 3 standard errors, or a group share that moved by 0.1 is an
  anomaly; balanced data (up to 100 groups, labeled alike) raises nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.drift.threshold_schema import (
    GroupThresholds,
    Kind,
    Thresholds,
    set_group_thresholds,
    set_thresholds,
)
from beam_stats.schema.features import iter_features
from beam_stats.schema.view import dataset_views

#: Thresholds when the user gives none (see the module docstring).
DEFAULT_THRESHOLDS = Thresholds(
    l_infinity=0.1,
    jensen_shannon=0.1,
    psi=0.25,
    ks=0.1,
    wasserstein=0.25,
    hellinger=0.25,
    missing_fraction=0.1,
)

#: The concept-shift threshold a job with a label puts on every feature (``run --label``).
#: The measure already leaves out what sampling can explain (three standard errors per
#: bucket, see :mod:`beam_stats.drift.concept`), so 0.1 - the label's distribution moving by
#: 10 points of total variation on average over the feature's values - is a real change.
DEFAULT_CONCEPT_SHIFT = 0.1
#: A group feature's thresholds when the user gives none (see the module docstring).
DEFAULT_GROUP_THRESHOLDS = GroupThresholds(min_share=0.01, max_label_disparity=0.2)
#: The largest change of a group's share between two datasets when the user gives none.
DEFAULT_GROUP_SHARE = 0.1

#: A string feature is id-like when its distinct values are more than this share of its
#: values (TFDV's ``unique`` over ``tot_num_values``).
ID_LIKE_UNIQUE_SHARE = 0.5


def is_id_like(feature: statistics_pb2.FeatureNameStatistics) -> bool:
    """Whether `feature` looks like an identifier: a string feature most of whose values are
    distinct (more than :data:`ID_LIKE_UNIQUE_SHARE` of them)."""
    if feature.WhichOneof("stats") != "string_stats":
        return False
    values = feature.string_stats.common_stats.tot_num_values
    return bool(values) and feature.string_stats.unique > ID_LIKE_UNIQUE_SHARE * values


def applicable(feature: statistics_pb2.FeatureNameStatistics, wanted: Thresholds) -> Thresholds:
    """The part of `wanted` (thresholds meant for every feature) that applies to `feature`:
    none for a STRUCT, only ``missing_fraction`` for an id-like feature, else all."""
    kind = feature.WhichOneof("stats")
    if kind == "struct_stats":
        return Thresholds()
    if is_id_like(feature):
        return Thresholds(missing_fraction=wanted.missing_fraction)
    return wanted


def with_thresholds_for_all(
    schema: schema_pb2.Schema,
    statistics: statistics_pb2.DatasetFeatureStatistics,
    kind: Kind,
    wanted: Thresholds = DEFAULT_THRESHOLDS,
) -> schema_pb2.Schema:
    """A copy of `schema` whose features check `wanted` (of :func:`applicable` to each, as
    `statistics` show it) as their `kind` (``"drift"`` or ``"skew"``) thresholds; thresholds
    `wanted` leaves unset are kept. Features absent from `statistics` get `wanted` as it is,
    except STRUCTs."""
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    views = dataset_views(statistics)
    for path, feature in iter_features(result):
        if feature.type == schema_pb2.STRUCT:
            continue
        view = views.get(path)
        values = wanted if view is None else applicable(view.stats, wanted)
        if not values.empty:
            set_thresholds(feature, kind, values)
    return result


def with_group_thresholds(
    schema: schema_pb2.Schema,
    groups: Iterable[str | FeaturePath],
    kind: Kind,
    wanted: GroupThresholds = DEFAULT_GROUP_THRESHOLDS,
    share: float | None = DEFAULT_GROUP_SHARE,
) -> schema_pb2.Schema:
    """A copy of `schema` whose group features check `wanted` and, as their `kind`
    (``"drift"`` or ``"skew"``) threshold, ``group_share`` = `share` (None: not set).
    Features the schema lacks are skipped.
    """
    result = schema_pb2.Schema()
    result.CopyFrom(schema)
    known = {path: feature for path, feature in iter_features(result)}
    for group in groups:
        path = tuple(group.split(".")) if isinstance(group, str) else tuple(group)
        if path not in known:
            continue
        result = set_group_thresholds(
            result,
            path,
            min_share=wanted.min_share,
            max_label_disparity=wanted.max_label_disparity,
        )
        if share is not None:
            feature = next(f for p, f in iter_features(result) if p == path)
            set_thresholds(feature, kind, Thresholds(group_share=share))
    return result
