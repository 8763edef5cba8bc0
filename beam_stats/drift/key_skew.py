"""Feature skew by key: the same example in training and serving, feature by feature.

Rows of both datasets are keyed by their identifier features; an identifier with exactly one
row on each side is *joined* and its features compared:

* present on both sides: a match when the values are equal (floats within the tolerance,
  ``|a - b| <= tol * max(1, |a|, |b|)``; NaN equals NaN; lists element by element), else a
  mismatch, of which the smallest identifiers are kept as samples;
* present on one side only: ``base_only`` or ``test_only``.

Identifiers on one side only are counted. An identifier with several rows on a side cannot
be paired unambiguously: it is counted as a duplicate and not compared. A row whose
identifier is (partly) missing is counted and not joined. Nothing is dropped silently.

Keys and rows come from Arrow batches (``RecordBatch.to_pylist``, one dict a row: a join is
per row by nature); the per-key comparison and the merge of results are plain Python over
the joined rows and the features, and the result keeps only counts and a bounded sample.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from beam_stats.proto import skew_pb2

Row = dict[str, Any]
_MAX_TEXT = 200
#: Keys of rows whose identifier is missing: each gets a key of its own, so that they are
#: counted without piling up in one group of the join.
NULL_KEY_PREFIX = "\x00null:"


def key_rows(
    batch: pa.RecordBatch, identifiers: Sequence[str], salt: str = ""
) -> Iterator[tuple[str, Row]]:
    """(key, row) per row: the JSON of the identifier values, or a NULL_KEY_PREFIX key of its
    own (made of `salt` and the row number) when an identifier value is missing."""
    for number, row in enumerate(batch.to_pylist()):
        values = [row.get(name) for name in identifiers]
        if any(v is None for v in values):
            yield f"{NULL_KEY_PREFIX}{salt}:{number}", row
        else:
            yield json.dumps([_text(v) for v in values], ensure_ascii=False), row


def _text(value: Any) -> str:
    """A value as display text; bytes that are not UTF-8 with backslash escapes."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    if isinstance(value, float | int | bool) or value is None:
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def values_equal(a: Any, b: Any, tolerance: float) -> bool:
    """Equality of two row values, floats within `tolerance` (see the module docstring)."""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        return all(values_equal(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))
    return bool(a == b)


def _present(value: Any) -> bool:
    return value is not None


class KeySkewAccumulator:
    """Counts per feature and the mismatch samples; merges by sums and smallest samples."""

    def __init__(self, tolerance: float, sample_size: int) -> None:
        self.result = skew_pb2.FeatureSkewResult(float_tolerance=tolerance)
        self.sample_size = sample_size
        self._features: dict[str, skew_pb2.FeatureSkew] = {}

    def _feature(self, name: str) -> skew_pb2.FeatureSkew:
        if name not in self._features:
            self._features[name] = skew_pb2.FeatureSkew(feature=name)
        return self._features[name]

    def add_key(
        self,
        key: str,
        base: Sequence[Row],
        test: Sequence[Row],
        identifiers: Sequence[str],
        features: Sequence[str] | None,
    ) -> None:
        """Adds one identifier's rows from both sides (see :func:`key_rows` for the keys)."""
        r = self.result
        if key.startswith(NULL_KEY_PREFIX):
            r.base_null_ids += len(base)
            r.test_null_ids += len(test)
            return
        if len(base) > 1 or len(test) > 1:
            r.base_duplicate_ids += len(base) > 1
            r.test_duplicate_ids += len(test) > 1
            return
        if not test:
            r.base_only_ids += 1
            return
        if not base:
            r.test_only_ids += 1
            return
        r.joined += 1
        (b,), (t,) = base, test
        names = features or sorted((set(b) | set(t)) - set(identifiers))
        for name in names:
            bv, tv = b.get(name), t.get(name)
            if not _present(bv) and not _present(tv):
                continue
            feature = self._feature(name)
            feature.base_count += _present(bv)
            feature.test_count += _present(tv)
            if not _present(tv):
                feature.base_only += 1
            elif not _present(bv):
                feature.test_only += 1
            elif values_equal(bv, tv, self.result.float_tolerance):
                feature.match_count += 1
            else:
                feature.mismatch_count += 1
                feature.samples.add(
                    identifier=key,
                    base_value=_text(bv)[:_MAX_TEXT],
                    test_value=_text(tv)[:_MAX_TEXT],
                )
                self._trim(feature)

    def _trim(self, feature: skew_pb2.FeatureSkew) -> None:
        if len(feature.samples) > self.sample_size:
            kept = sorted(feature.samples, key=lambda s: s.identifier)[: self.sample_size]
            del feature.samples[:]
            feature.samples.extend(kept)

    def merge(self, other: KeySkewAccumulator) -> None:
        for field in (
            "joined", "base_only_ids", "test_only_ids", "base_duplicate_ids",
            "test_duplicate_ids", "base_null_ids", "test_null_ids",
        ):  # fmt: skip
            setattr(self.result, field, getattr(self.result, field) + getattr(other.result, field))
        for name, theirs in other._features.items():
            ours = self._feature(name)
            for field in (
                "base_count", "test_count", "match_count", "mismatch_count", "base_only",
                "test_only",
            ):  # fmt: skip
                setattr(ours, field, getattr(ours, field) + getattr(theirs, field))
            ours.samples.extend(theirs.samples)
            self._trim(ours)

    def to_proto(self) -> skew_pb2.FeatureSkewResult:
        out = skew_pb2.FeatureSkewResult()
        out.CopyFrom(self.result)
        out.features.extend(self._features[name] for name in sorted(self._features))
        return out


def feature_skew(
    base: Iterable[pa.RecordBatch],
    test: Iterable[pa.RecordBatch],
    identifiers: Sequence[str],
    features: Sequence[str] | None = None,
    tolerance: float = 1e-6,
    sample_size: int = 10,
) -> skew_pb2.FeatureSkewResult:
    """Feature skew of in-memory batches (the Beam transform does the same at scale)."""
    grouped: dict[str, tuple[list[Row], list[Row]]] = {}
    for side, batches in ((0, base), (1, test)):
        for number, batch in enumerate(batches):
            for key, row in key_rows(batch, identifiers, salt=f"{side}:{number}"):
                grouped.setdefault(key, ([], []))[side].append(row)
    accumulator = KeySkewAccumulator(tolerance, sample_size)
    for key, (base_rows, test_rows) in grouped.items():
        accumulator.add_key(key, base_rows, test_rows, identifiers, features)
    return accumulator.to_proto()
