"""The mismatch samples of feature skew: values as short JSON text, under a privacy policy.

A sample is ``(key, identifier, base, test)``: the pair's identifier key (its sort order),
and the identifier (an object, id feature -> value) and both values as JSON text, strings
cut at 200 characters and lists at 20 items (:func:`json_text`).

The values are compared as read; what a sample keeps is the policy's
(:class:`~beam_stats.stats.privacy.PrivacySpec`), applied when the sample is taken, so no
merge or shuffle carries more (:func:`kept_samples`, :func:`make_samples`):

* a redacted feature (or one inside a redacted struct) has no samples, its counts stay;
  with ``min_count`` > 1 no feature has any (a pair is one example, no count vouches for
  it);
* a hashed feature's values, and a hashed identifier, are their keyed hashes; a feature
  with hashed or redacted fields shows those fields so
  (:func:`~beam_stats.stats.row_privacy.protect_column`);
* a redacted identifier is left out of the identifier object;
* with ``redact_pii``, a value (or identifier, or list element, struct field) that looks
  like personal data is null.

When the policy can change an identifier, the key (which spells it) is left empty, so
samples are ordered by their protected identifier text instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

from beam_stats.pandas_free import python_values
from beam_stats.stats.privacy import PrivacySpec
from beam_stats.stats.row_privacy import covers, protect_column, touches
from beam_stats.validation.examples import escape_bytes

Sample = tuple[bytes, str, str, str]  # key, identifier JSON, base value JSON, test value JSON
_MAX_CHARS, _MAX_ITEMS = 200, 20  # of a sample value: longer strings and lists are shortened


def _plain(value: Any) -> Any:
    """A value of ``to_pylist()`` as plain, shortened JSON data (see MismatchSample)."""
    if isinstance(value, bytes):
        value = escape_bytes(value)
    if isinstance(value, str):
        return value if len(value) <= _MAX_CHARS else value[:_MAX_CHARS] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        more = [f"… {len(value) - _MAX_ITEMS} more"] if len(value) > _MAX_ITEMS else []
        return [_plain(v) for v in value[:_MAX_ITEMS]] + more
    return value


def json_text(value: Any) -> str:
    """JSON text; dates, times, decimals and durations as their ``str``."""
    return json.dumps(_plain(value), ensure_ascii=False, allow_nan=False, default=str)


def kept_samples(privacy: PrivacySpec, sample_size: int, feature: str) -> int:
    """How many samples of `feature` may be kept (see the module docstring)."""
    hidden = privacy.min_count > 1 or covers(privacy.redact, feature)
    return 0 if hidden else sample_size


def make_samples(
    privacy: PrivacySpec,
    feature: str,
    id_columns: dict[str, pa.Array],
    keys: pa.Array,
    base: pa.Array,
    test: pa.Array,
) -> list[Sample]:
    """The samples of some mismatched pairs of `feature`, as the policy lets them be."""
    if any(touches((i,), privacy) for i in id_columns):
        keys = pa.array([b""] * len(keys), pa.large_binary())
    shown = {
        i: protect_column(column, (i,), privacy)
        for i, column in id_columns.items()
        if not covers(privacy.redact, i)
    }
    identifiers = python_values(pa.Table.from_arrays(list(shown.values()), names=list(shown)))
    if not shown:  # every identifier redacted: an empty object per pair
        identifiers = [{} for _ in range(len(keys))]
    base, test = (protect_column(v, (feature,), privacy) for v in (base, test))
    rows = zip(identifiers, *(python_values(c) for c in (keys, base, test)), strict=True)
    return [(k, json_text(i), json_text(x), json_text(y)) for i, k, x, y in rows]
