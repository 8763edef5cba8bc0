"""Domain constraints (string, bool, int, float) checked against a feature's statistics.

Each check returns the violations it finds and relaxes the feature (a copy the caller owns)
so that it accepts the statistics, as TFDV's schema updater does: unexpected string values
join the domain, ranges widen, a bool domain that sees other values becomes an int or float
range, a ban on NaN or infinities is lifted, a domain the values cannot satisfy is cleared.

Listed string values (rank histogram) are real values of the data, so a listed value outside
the domain proves an anomaly even when the list is not complete. When it is not complete,
a distinct count above the domain's size proves unlisted values outside it (for an
estimated distinct count, only beyond three standard errors).
"""

from __future__ import annotations

import math

from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.schema.features import string_domain
from beam_stats.schema.view import (
    FeatureView,
    HistogramType,
    StatsType,
    float32,
    parse_float,
    parse_int,
)
from beam_stats.schema.violations import AnomalyType, Violation, num, pct, quoted

#: Domains that describe text or numbers, which binary values cannot satisfy.
_TEXT_DOMAINS = ("domain", "string_domain", "bool_domain", "int_domain", "float_domain")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def int64(value: float) -> int:
    """`value` as the nearest int an int64 field holds (statistics read 2**63 - 1 as 2**63)."""
    return min(max(int(value), INT64_MIN), INT64_MAX)


def check_domain(
    schema: schema_pb2.Schema, feature: schema_pb2.Feature, view: FeatureView
) -> list[Violation]:
    """The domain violations of one feature (type and domain already agree with the data)."""
    which = feature.WhichOneof("domain_info")
    if view.stats_type == StatsType.BYTES and which in _TEXT_DOMAINS:
        feature.ClearField(which)
        return [
            Violation(
                AnomalyType.DOMAIN_INVALID_FOR_TYPE,
                f"Binary values with a {which}",
                f"The values are binary (mostly not valid UTF-8), which the feature's {which} "
                "cannot describe.",
            )
        ]
    if which in ("domain", "string_domain"):
        return _string(schema, feature, view)
    if which == "bool_domain":
        return _bool(feature, view)
    if which == "int_domain":
        return _int(feature, view)
    if which == "float_domain":
        return _float(feature, view)
    return []


def _values(count: float) -> str:
    return "value" if count == 1 else "values"


def _unique_lower_bound(view: FeatureView) -> int:
    unique = view.unique or 0
    return math.floor(unique / (1 + 3 * view.unique_relative_error))


def _string(
    schema: schema_pb2.Schema, feature: schema_pb2.Feature, view: FeatureView
) -> list[Violation]:
    domain = string_domain(schema, feature)
    if domain is None or not view.has_strings:
        return []
    name = domain.name or feature.name
    if view.invalid_utf8_count:
        feature.ClearField(feature.WhichOneof("domain_info"))
        return [
            Violation(
                AnomalyType.ENUM_TYPE_INVALID_UTF8,
                f"{view.invalid_utf8_count} invalid UTF-8 strings",
                f"{view.invalid_utf8_count} values are not valid UTF-8; the string domain "
                f"{name} expects UTF-8 strings.",
            )
        ]
    allowed = set(domain.value)
    off = {v: c for v, c in sorted(view.values().items()) if v not in allowed}
    unlisted = 0
    if not view.values_complete:
        unlisted = max(_unique_lower_bound(view) - len(allowed) - len(off), 0)
    total = view.common.tot_num_values or 1
    off_count = sum(off.values())
    constraints = feature.distribution_constraints
    max_off = 1.0 - constraints.min_domain_mass if constraints.HasField("min_domain_mass") else 0.0
    if not (off_count / total > max_off or (max_off == 0.0 and (off or unlisted))):
        return []
    at_least = "" if view.counts_exact else "at least "
    shown = ", ".join(
        f'"{v}" ({at_least}{num(c)} {_values(c)}, {pct(c / total)})'
        for v, c in list(off.items())[:10]
    )
    if len(off) > 10:
        shown += f" and {len(off) - 10} more"
    if unlisted:
        shown += (", and " if shown else "") + (
            f"at least {unlisted} more distinct values the statistics do not list "
            f"({view.unique} distinct values in all)"
        )
    long = (
        f"Examples contain values missing from the schema: {shown}. The domain {name} has "
        f"{len(allowed)} values: {quoted(sorted(allowed))}."
    )
    if max_off > 0:
        long += f" Up to {pct(max_off)} of the values may be outside it (min_domain_mass)."
    if unlisted:
        feature.ClearField(feature.WhichOneof("domain_info"))
    else:
        domain.value.extend(off)
    count = len(off) + unlisted
    return [
        Violation(
            AnomalyType.ENUM_TYPE_UNEXPECTED_STRING_VALUES,
            f"{count} unexpected string value{'s' if count > 1 else ''}",
            long,
        )
    ]


def _bool(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    if view.stats_type == StatsType.INT and view.has_finite:
        low, high = view.min, view.max
        if low < 0 or high > 1:
            kind = AnomalyType.BOOL_TYPE_SMALL_INT if low < 0 else AnomalyType.BOOL_TYPE_BIG_INT
            example = low if low < 0 else high
            feature.int_domain.min, feature.int_domain.max = int64(low), int64(high)
            return [
                Violation(
                    kind,
                    f"Integer {num(example)} in a bool feature",
                    f"Integers (such as {num(example)}; range {num(low)} to {num(high)}) are "
                    "not in {0, 1}, which the bool domain allows.",
                )
            ]
        return []
    if view.stats_type == StatsType.FLOAT and view.has_numbers:
        reason = _non_bool_floats(view)
        if reason is None:
            return []
        feature.float_domain.min = float32(view.min)
        feature.float_domain.max = float32(view.max)
        return [
            Violation(
                AnomalyType.BOOL_TYPE_UNEXPECTED_FLOAT,
                "Floats other than 0 and 1",
                f"{reason}; the bool domain allows only 0 and 1.",
            )
        ]
    if view.stats_type == StatsType.STRING and view.has_strings:
        bool_domain = feature.bool_domain
        fields = ("true_value", "false_value")
        valid = [getattr(bool_domain, f) for f in fields if bool_domain.HasField(f)]
        bad = sorted(v for v in view.values() if v not in valid)
        if bad:
            feature.ClearField("bool_domain")
            return [
                Violation(
                    AnomalyType.BOOL_TYPE_UNEXPECTED_STRING,
                    f'Unexpected bool string "{bad[0]}"',
                    f"Saw unexpected values {quoted(bad)} instead of "
                    f"{{{quoted(valid) if valid else ''}}}.",
                )
            ]
    return []


def _non_bool_floats(view: FeatureView) -> str | None:
    if view.num_nan:
        return f"{view.num_nan} values are NaN"
    if view.has_finite:
        for bound in (view.min, view.max):
            if bound not in (0.0, 1.0):
                return f"Floats such as {num(bound)} (range {num(view.min)} to {num(view.max)})"
    # As TFDV: only a quantiles bucket proves values strictly between 0 and 1 (its edges are
    # values of the data); an equi-width histogram spreads counts over the buckets between
    # 0 and 1 by interpolation (TFDV writes fractional counts there for 0/1 data).
    for histogram in view.stats.num_stats.histograms:
        if histogram.type != HistogramType.QUANTILES:
            continue
        for bucket in histogram.buckets:
            if bucket.sample_count > 0 and bucket.low_value > 0 and bucket.high_value < 1:
                return (
                    f"Floats between {num(bucket.low_value)} and {num(bucket.high_value)} were seen"
                )
    return None


def _int(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    int_domain = feature.int_domain
    if view.stats_type == StatsType.INT and view.has_finite:
        low, high = view.min, view.max
    elif view.has_strings:
        values = view.values()
        bad = sorted(v for v in values if parse_int(v) is None)
        if bad:
            feature.ClearField("int_domain")
            return [
                Violation(
                    AnomalyType.INT_TYPE_NOT_INT_STRING,
                    f'Non-integer string "{bad[0]}"',
                    f"String values that are not integers were found: {quoted(bad)}; the int "
                    "domain expects every value to spell an int64.",
                )
            ]
        numbers = [parse_int(v) for v in values]
        known = [n for n in numbers if n is not None]
        if not known:
            return []
        low, high = min(known), max(known)
    else:
        return []
    found = []
    # Statistics hold floats, so compare as floats: 2**63 - 1 reads as 2**63 in them, and an
    # int comparison would find it above a domain that ends at 2**63 - 1.
    if int_domain.HasField("min") and low < float(int_domain.min):
        found.append(
            Violation(
                AnomalyType.INT_TYPE_SMALL_INT,
                f"Value {num(low)} below minimum {int_domain.min}",
                f"Unexpectedly small value: {num(low)}; the schema's int domain starts at "
                f"{int_domain.min}.",
            )
        )
        int_domain.min = int64(low)
    if int_domain.HasField("max") and high > float(int_domain.max):
        found.append(
            Violation(
                AnomalyType.INT_TYPE_BIG_INT,
                f"Value {num(high)} above maximum {int_domain.max}",
                f"Unexpectedly large value: {num(high)}; the schema's int domain ends at "
                f"{int_domain.max}.",
            )
        )
        int_domain.max = int64(high)
    return found


def _float(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    float_domain = feature.float_domain
    low = high = None
    if view.stats_type == StatsType.FLOAT and view.has_numbers:
        nan, inf = view.num_nan, view.num_inf
        if view.has_finite:
            low, high = view.min, view.max
    elif view.stats_type == StatsType.STRING and view.has_strings:
        values = view.values()
        bad = sorted(v for v in values if parse_float(v) is None)
        if bad:
            feature.ClearField("float_domain")
            return [
                Violation(
                    AnomalyType.FLOAT_TYPE_STRING_NOT_FLOAT,
                    f'Non-float string "{bad[0]}"',
                    f"String values that are not floats were found: {quoted(bad)}; the float "
                    "domain expects every value to spell a number.",
                )
            ]
        parsed = {v: float(v) for v in values}
        nan = int(sum(c for v, c in values.items() if math.isnan(parsed[v])))
        inf = int(sum(c for v, c in values.items() if math.isinf(parsed[v])))
        finite = [x for x in parsed.values() if math.isfinite(x)]
        if finite:
            low, high = min(finite), max(finite)
    else:
        return []
    found = []
    # The bounds are float32: compare the observed values as float32 too, as TFDV does.
    if low is not None and float_domain.HasField("min") and float32(low) < float_domain.min:
        found.append(
            Violation(
                AnomalyType.FLOAT_TYPE_SMALL_FLOAT,
                f"Value {num(low)} below minimum {num(float_domain.min)}",
                f"Unexpectedly low value: {num(low)}; the schema's float domain starts at "
                f"{num(float_domain.min)}.",
            )
        )
        float_domain.min = float32(low)
    if high is not None and float_domain.HasField("max") and float32(high) > float_domain.max:
        found.append(
            Violation(
                AnomalyType.FLOAT_TYPE_BIG_FLOAT,
                f"Value {num(high)} above maximum {num(float_domain.max)}",
                f"Unexpectedly high value: {num(high)}; the schema's float domain ends at "
                f"{num(float_domain.max)}.",
            )
        )
        float_domain.max = float32(high)
    if float_domain.disallow_nan and nan:
        found.append(
            Violation(
                AnomalyType.FLOAT_TYPE_HAS_NAN,
                f"{nan} NaN values",
                f"{nan} values are NaN ({pct(nan / (view.common.tot_num_values or 1))} of the "
                "values); the schema disallows NaN.",
            )
        )
        float_domain.disallow_nan = False
    if float_domain.disallow_inf and inf:
        found.append(
            Violation(
                AnomalyType.FLOAT_TYPE_HAS_INF,
                f"{inf} infinite values",
                f"{inf} values are +inf or -inf; the schema disallows infinities.",
            )
        )
        float_domain.disallow_inf = False
    return found
