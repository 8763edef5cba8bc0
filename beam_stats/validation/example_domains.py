"""Per-example domain checks: each value of a row against the feature's domain.

``int_domain`` -> ``INT_TYPE_SMALL/BIG_INT``, strings that are not int64 ->
``INT_TYPE_NOT_INT_STRING``; ``float_domain`` (in float32, as TFDV keeps the bounds) ->
``FLOAT_TYPE_SMALL/BIG_FLOAT``, ``HAS_NAN``, ``HAS_INF``, strings that are not floats ->
``FLOAT_TYPE_STRING_NOT_FLOAT``; ``string_domain`` or ``domain: "name"`` ->
``ENUM_TYPE_UNEXPECTED_STRING_VALUES``, ``ENUM_TYPE_INVALID_UTF8``; ``bool_domain`` ->
``BOOL_TYPE_SMALL/BIG_INT``, ``UNEXPECTED_FLOAT``, ``UNEXPECTED_STRING``. Vectorised:
numpy and Arrow compute over one feature's values, never a loop over rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import anomalies_pb2

from beam_stats.arrow import FeatureColumn, Kind
from beam_stats.stats.utf8 import invalid_utf8_mask

if TYPE_CHECKING:
    from beam_stats.validation.examples import Rule

AnomalyInfo = anomalies_pb2.AnomalyInfo
_INT64_MAX = "9223372036854775807"  # compared as text with the same number of digits
_FLOAT = r"^[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|(?i:nan|inf|infinity))$"


def as_utf8(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """String or binary values as strings ("" where not UTF-8), and which are UTF-8."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    try:
        return values.cast(pa.string()), np.ones(len(values), dtype=bool)
    except pa.ArrowInvalid:  # some invalid UTF-8: find which (vectorised, nulls as valid)
        binary = values.cast(pa.binary())
        valid = np.ones(len(binary), dtype=bool)
        present = np.asarray(binary.is_valid(), dtype=bool)
        valid[present] = ~invalid_utf8_mask(binary.filter(pa.array(present)))
        return pc.if_else(pa.array(valid), values, b"").cast(pa.string()), valid


def _parse_ints(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which strings are int64s (as absl::SimpleAtoi reads them: spaces, sign), and values."""
    trimmed = pc.utf8_trim_whitespace(pc.fill_null(text, ""))
    digits = pc.replace_substring_regex(trimmed, r"^[-+]?0*", "")
    length = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    negative = pc.fill_null(pc.starts_with(trimmed, "-"), False)
    limit = pc.if_else(negative, _INT64_MAX[:-1] + "8", _INT64_MAX)
    fits = (length < 19) | ((length == 19) & np.asarray(pc.less_equal(digits, limit), bool))
    syntax = pc.fill_null(pc.match_substring_regex(trimmed, r"^[-+]?[0-9]+$"), False)
    ok = np.asarray(syntax, dtype=bool) & fits
    signed = pc.replace_substring_regex(trimmed, r"^\+", "")
    return ok, pc.if_else(pa.array(ok), signed, "0").cast(pa.int64()).to_numpy()


def _parse_floats(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which strings are floats (decimal, nan, inf, infinity), and their values."""
    trimmed = pc.utf8_trim_whitespace(text)
    ok = np.asarray(pc.fill_null(pc.match_substring_regex(trimmed, _FLOAT), False), dtype=bool)
    return ok, pc.if_else(pa.array(ok), trimmed, "0").cast(pa.float64()).to_numpy()


def domain_checks(rule: Rule, column: FeatureColumn) -> Iterator[tuple[np.ndarray, int]]:
    """(bad-value mask, anomaly type) pairs of one feature's values."""
    values, kind, domain, a = column.values, column.kind, rule.domain, AnomalyInfo
    numeric = kind in (Kind.INT, Kind.FLOAT)
    if domain == "string_domain" or (domain == "bool_domain" and not numeric):
        text, valid = as_utf8(values)
        allowed = pa.array(sorted(rule.strings), pa.string())
        unknown = ~np.asarray(pc.is_in(text, value_set=allowed), dtype=bool)
        if domain == "bool_domain":
            yield unknown, a.BOOL_TYPE_UNEXPECTED_STRING
        else:
            yield valid & unknown, a.ENUM_TYPE_UNEXPECTED_STRING_VALUES
            yield ~valid, a.ENUM_TYPE_INVALID_UTF8
        return
    if domain is None:
        return
    parsed = np.ones(len(values), dtype=bool)
    if numeric:
        numbers = values.to_numpy(zero_copy_only=False)
    elif domain == "int_domain":
        parsed, numbers = _parse_ints(as_utf8(values)[0])
        yield ~parsed, a.INT_TYPE_NOT_INT_STRING
    else:
        parsed, numbers = _parse_floats(as_utf8(values)[0])
        yield ~parsed, a.FLOAT_TYPE_STRING_NOT_FLOAT
    if domain == "bool_domain" and kind is Kind.INT:
        yield numbers < 0, a.BOOL_TYPE_SMALL_INT
        yield numbers > 1, a.BOOL_TYPE_BIG_INT
    elif domain == "bool_domain":
        yield (numbers != 0) & (numbers != 1), a.BOOL_TYPE_UNEXPECTED_FLOAT
    elif domain == "int_domain":
        if rule.low is not None:
            yield parsed & (numbers < rule.low), a.INT_TYPE_SMALL_INT
        if rule.high is not None:
            yield parsed & (numbers > rule.high), a.INT_TYPE_BIG_INT
    else:  # float_domain: TFDV keeps the bounds, and compares, in float32
        single = numbers.astype(np.float32)
        if rule.low is not None:
            yield parsed & (single < np.float32(rule.low)), a.FLOAT_TYPE_SMALL_FLOAT
        if rule.high is not None:
            yield parsed & (single > np.float32(rule.high)), a.FLOAT_TYPE_BIG_FLOAT
        if rule.disallow_nan:
            yield parsed & np.isnan(numbers), a.FLOAT_TYPE_HAS_NAN
        if rule.disallow_inf:
            yield parsed & np.isinf(numbers), a.FLOAT_TYPE_HAS_INF
