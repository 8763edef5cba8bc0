"""A privacy policy applied to what per-example validation writes: the rows and their reasons.

:func:`protect_check` applies a :class:`~beam_stats.stats.privacy.PrivacySpec` to a
:class:`~beam_stats.validation.examples.CheckResult` after the rows were checked (on the
values as read): good and bad rows cell by cell (:mod:`beam_stats.stats.row_privacy`), and
the ``value`` of each reason (:func:`protect_reasons`). Rows, reasons, anomaly counts and
column problems are all kept; only values change.

A reason's value is a value of its feature, except for the anomalies of :data:`NOT_VALUES`
(a number of values, or a component's name), which stay. The others: null when the
feature (or a struct holding it) is redacted, or when ``min_count`` > 1 (a reason quotes
one row's value, which no count vouches for); the keyed hash of the value's text when the
feature is hashed (so it equals the hashed cell of the row); null when ``redact_pii`` and it
looks like personal data.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import covers, hashed_values, personal, protect_batch
from beam_stats.validation.examples import REASON_TYPE, CheckResult

#: Anomalies whose reason value is a number of values or a component's name, not a value
#: of the feature (``check_feature_rows``'s counts; ``example_composites``).
NOT_VALUES = (
    "FEATURE_TYPE_NOT_PRESENT",
    "INVALID_FEATURE_SHAPE",
    "FEATURE_TYPE_LOW_NUMBER_VALUES",
    "FEATURE_TYPE_HIGH_NUMBER_VALUES",
    "SPARSE_FEATURE_MISSING_VALUE",
    "SPARSE_FEATURE_MISSING_INDEX",
    "SPARSE_FEATURE_LENGTH_MISMATCH",
    "WEIGHTED_FEATURE_MISSING_VALUE",
    "WEIGHTED_FEATURE_MISSING_WEIGHT",
    "WEIGHTED_FEATURE_LENGTH_MISMATCH",
)


def _rows(values: pa.Array, names: list[str]) -> np.ndarray:
    return np.asarray(pc.is_in(values, pa.array(names, pa.string())), dtype=bool)


def protect_reasons(reasons: pa.Array, spec: PrivacySpec) -> pa.Array:
    """A ``list<struct<feature, anomaly, value>>`` reasons column with its values as the
    policy lets them be written (see the module docstring)."""
    if not spec.active:
        return reasons
    entries = pc.list_flatten(reasons)
    feature, anomaly, value = (entries.field(i) for i in range(3))
    quoting = np.asarray(value.is_valid(), dtype=bool) & ~_rows(anomaly, list(NOT_VALUES))
    drop = quoting.copy()
    if spec.min_count == 1:
        names = pc.unique(feature.filter(pa.array(quoting))).to_pylist()
        hidden = [n for n in names if covers(spec.redact, n)]
        hashed = [n for n in names if n not in hidden and covers(spec.hash, n)]
        drop = quoting & _rows(feature, hidden)
        to_hash = quoting & _rows(feature, hashed)
        if to_hash.any():
            mask = pa.array(to_hash)
            value = pc.replace_with_mask(value, mask, hashed_values(value.filter(mask), spec))
        if spec.redact_pii:
            drop |= quoting & ~to_hash & personal(value)
    value = pc.if_else(pa.array(drop), pa.scalar(None, pa.string()), value)
    rebuilt = pa.StructArray.from_arrays([feature, anomaly, value], fields=list(REASON_TYPE))
    lengths = np.asarray(pc.fill_null(pc.list_value_length(reasons), 0), dtype=np.int64)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]), pa.int32())
    mask = reasons.is_null() if reasons.null_count else None
    return pa.ListArray.from_arrays(offsets, rebuilt, type=reasons.type, mask=mask)


def protect_check(result: CheckResult, spec: PrivacySpec) -> CheckResult:
    """`result` with its rows and reasons as the policy lets them be written."""
    if not spec.active:
        return result
    bad = result.bad
    last = bad.num_columns - 1
    fields = list(bad.schema)
    data = protect_batch(
        pa.RecordBatch.from_arrays(bad.columns[:last], schema=pa.schema(fields[:last])), spec
    )
    reasons = protect_reasons(bad.column(last), spec)
    bad = pa.RecordBatch.from_arrays(
        [*data.columns, reasons],
        schema=pa.schema([*data.schema, fields[last]], bad.schema.metadata),
    )
    return result._replace(good=protect_batch(result.good, spec), bad=bad)
