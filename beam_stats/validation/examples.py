"""Per-example validation: which rows of a record batch break a TFMD schema, and why.

:func:`check_batch` splits a ``pyarrow.RecordBatch`` into the rows that satisfy a
``tensorflow_metadata`` ``Schema`` and the others, which gain a last column ``reasons``:
``list<struct<feature, anomaly, value>>``, the feature's dotted path, the ``AnomalyInfo.Type``
name and the offending value as text (null if none). Every row lands on exactly one side.
Checks are vectorised (numpy and Arrow compute over :func:`beam_stats.arrow.flatten_batch`
columns), looping over features and constraints, never over rows.

Checked per row, for each schema feature (struct fields through ``struct_domain``) in the
environment (TFDV's rule) and not deprecated (``deprecated``, or lifecycle PLANNED, ALPHA,
DEPRECATED, DEBUG_ONLY or DISABLED, as TFDV):

* presence: missing though ``presence.min_fraction`` is 1 -> ``FEATURE_TYPE_NOT_PRESENT``; a
  column absent from the batch is missing in every row; a struct field only counts as missing
  where its parent is present. ``min_count`` and lower fractions are dataset properties.
* values per row (non-null leaves, as the statistics count them): ``value_count`` ->
  ``FEATURE_TYPE_LOW/HIGH_NUMBER_VALUES``; ``shape``: missing, or not the product of the
  dimensions -> ``INVALID_FEATURE_SHAPE``. ``value_counts`` (per nesting level) is not checked.
* type, in rows with values -> ``UNEXPECTED_DATA_TYPE`` (and no domain checks): INT takes
  integer, boolean and temporal columns; FLOAT also integers (JSON and CSV readers type whole
  numbers as int64); BYTES takes strings and binary, and the numbers a type-guessing reader
  made of strings that the domain says are numbers (int_domain: ints; float_domain: ints and
  floats; bool_domain: ints and booleans).
* domains: ``int_domain`` -> ``INT_TYPE_SMALL/BIG_INT``, strings that are not int64 ->
  ``INT_TYPE_NOT_INT_STRING``; ``float_domain`` (in float32, as TFDV keeps the bounds) ->
  ``FLOAT_TYPE_SMALL/BIG_FLOAT``, ``HAS_NAN``, ``HAS_INF``, strings that are not floats ->
  ``FLOAT_TYPE_STRING_NOT_FLOAT``; ``string_domain`` or ``domain: "name"`` ->
  ``ENUM_TYPE_UNEXPECTED_STRING_VALUES``, ``ENUM_TYPE_INVALID_UTF8``; ``bool_domain`` ->
  ``BOOL_TYPE_SMALL/BIG_INT``, ``UNEXPECTED_FLOAT``, ``UNEXPECTED_STRING``
  (:mod:`beam_stats.validation.example_domains`). Semantic domains
  (image, URL, time, ...) are not checked per row.

A column the schema does not know is a schema problem, not a row problem: it makes no row bad.
:meth:`ExampleChecks.check` reports it once per batch as a :class:`ColumnAnomaly`
(``SCHEMA_NEW_COLUMN``, with the number of rows that have it), and so a schema feature present
in the data but excluded from the environment. Sparse and weighted features' components are
known columns; their rows are checked by :mod:`beam_stats.validation.example_composites`.

Each reason names a (row, feature, anomaly) once, with the row's first offending value, cut at
:data:`MAX_VALUE_CHARS` characters; bytes as :func:`escape_bytes` writes them. Only when Arrow
finds invalid UTF-8, Python tells which of the distinct values are valid.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from beam_stats._types import FeaturePath, path_str
from beam_stats.arrow import FeatureColumn, Kind, flatten_batch, kind_of
from beam_stats.errors import InvalidInputError
from beam_stats.pandas_free import python_values
from beam_stats.schema.checks.specification import check_specification
from beam_stats.schema.composite import known_paths
from beam_stats.schema.features import in_environment, is_deprecated
from beam_stats.validation.example_composites import active_composites, check_composites
from beam_stats.validation.example_domains import as_utf8, domain_checks

REASONS = "reasons"
REASON_TYPE = pa.struct(
    [("feature", pa.string()), ("anomaly", pa.string()), ("value", pa.string())]
)
MAX_VALUE_CHARS = 200
_ANOMALY = anomalies_pb2.AnomalyInfo


def _name(anomaly: int) -> str:
    return str(_ANOMALY.Type.Name(anomaly))


def escape_bytes(value: bytes) -> str:
    """Bytes as text: UTF-8 where valid, other bytes as ``\\xNN``, backslashes doubled.

    The doubling makes the escape reversible: a text ``\\x41`` cannot be mistaken for a byte.
    """
    return value.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


@dataclasses.dataclass(frozen=True)
class ColumnAnomaly:
    """A column-level schema problem of one batch (see the module docstring)."""

    feature: str
    anomaly: str
    num_rows: int  # rows of the batch in which the column is present
    description: str


class CheckResult(NamedTuple):
    """What :meth:`ExampleChecks.check` returns."""

    good: pa.RecordBatch  # the rows that pass, columns as read
    bad: pa.RecordBatch  # the other rows, columns as read plus the reasons column (last)
    new_columns: list[ColumnAnomaly]
    anomaly_rows: dict[str, int]  # anomaly type name -> number of bad rows with it


@dataclasses.dataclass(frozen=True)
class Rule:
    """The per-row constraints of one schema feature."""

    path: FeaturePath
    kinds: frozenset[Kind]  # value kinds the type accepts; empty: any
    required: bool
    shape_size: int | None
    min_values: int | None
    max_values: int | None
    domain: str | None  # int_domain, float_domain, bool_domain, string_domain or None
    low: float | None
    high: float | None
    disallow_nan: bool
    disallow_inf: bool
    strings: frozenset[str]  # string_domain values, or bool_domain true and false values


class _Found(NamedTuple):
    rows: np.ndarray  # sorted, distinct
    feature: str
    anomaly: str
    values: pa.Array | None  # text, one per row; None: no value


def _kinds(feature_type: int, domain: str | None) -> frozenset[Kind]:
    numbers = {"int_domain": {Kind.INT}, "float_domain": {Kind.INT, Kind.FLOAT}}
    return frozenset(
        {
            schema_pb2.INT: {Kind.INT},
            schema_pb2.FLOAT: {Kind.INT, Kind.FLOAT},
            schema_pb2.STRUCT: {Kind.STRUCT},
            schema_pb2.BYTES: {Kind.STRING, Kind.BYTES}
            | numbers.get(domain or "", {Kind.INT} if domain == "bool_domain" else set()),
        }.get(feature_type, set())
    )


def _rule(feature: schema_pb2.Feature, schema: schema_pb2.Schema, path: FeaturePath) -> Rule:
    domain = feature.WhichOneof("domain_info")
    strings: frozenset[str] = frozenset()
    bounds = getattr(feature, domain) if domain in ("int_domain", "float_domain") else None
    if domain == "domain":
        named = [d for d in schema.string_domain if d.name == feature.domain]
        if not named:
            raise InvalidInputError(
                f"feature {path_str(path)!r} names string domain {feature.domain!r}, "
                "which the schema does not define"
            )
        domain, strings = "string_domain", frozenset(named[0].value)
    elif domain == "string_domain":
        strings = frozenset(feature.string_domain.value)
    elif domain == "bool_domain":
        bools = feature.bool_domain
        strings = frozenset(
            getattr(bools, f) for f in ("true_value", "false_value") if bools.HasField(f)
        )
    elif bounds is None:
        domain = None  # struct_domain is checked through its fields; semantic domains not
    count = feature.value_count
    return Rule(
        path,
        _kinds(feature.type, domain),
        required=feature.presence.min_fraction >= 1.0,
        shape_size=math.prod(d.size for d in feature.shape.dim)
        if feature.HasField("shape")
        else None,
        min_values=count.min if count.HasField("min") else None,
        max_values=count.max if count.HasField("max") else None,
        domain=domain,
        low=bounds.min if bounds is not None and bounds.HasField("min") else None,
        high=bounds.max if bounds is not None and bounds.HasField("max") else None,
        disallow_nan=feature.float_domain.disallow_nan,
        disallow_inf=feature.float_domain.disallow_inf,
        strings=strings,
    )


def _text(values: pa.Array) -> pa.Array:
    """Values as strings of at most MAX_VALUE_CHARS characters, bytes escaped."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if kind_of(values.type) is Kind.BYTES:
        text, valid = as_utf8(values)
        text = pc.replace_substring(text, "\\", "\\\\")
        if not valid.all():  # escape_bytes, per distinct value
            uniques = values.cast(pa.binary()).dictionary_encode()
            text = pa.array([escape_bytes(v) for v in uniques.dictionary.to_pylist()])
            text = text.take(uniques.indices)
    else:
        try:
            text = values.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # structs, maps, ...
            text = pa.array([str(v) for v in python_values(values)], pa.string())
    cut = pc.utf8_slice_codeunits(text, 0, MAX_VALUE_CHARS)
    long = pc.greater(pc.utf8_length(text), MAX_VALUE_CHARS)
    return pc.if_else(long, pc.binary_join_element_wise(cut, "\N{HORIZONTAL ELLIPSIS}", ""), text)


def check_feature_rows(
    rule: Rule, column: FeatureColumn | None, parent: np.ndarray, num_rows: int
) -> Iterator[_Found]:
    """The reasons one feature gives, in rows where its parent (if any) is present."""
    feature = path_str(rule.path)
    none = np.zeros(num_rows, dtype=bool)
    present = parent & column.present if column is not None else none
    counts = column.num_values if column is not None else none.astype(np.int64)
    missing = parent & ~present
    by_count = [(missing if rule.required else none, _ANOMALY.FEATURE_TYPE_NOT_PRESENT)]
    if rule.shape_size is not None:
        shape = missing | (present & (counts != rule.shape_size))
        by_count.append((shape, _ANOMALY.INVALID_FEATURE_SHAPE))
    if rule.min_values is not None:
        low = present & (counts < rule.min_values)
        by_count.append((low, _ANOMALY.FEATURE_TYPE_LOW_NUMBER_VALUES))
    if rule.max_values is not None:
        high = present & (counts > rule.max_values)
        by_count.append((high, _ANOMALY.FEATURE_TYPE_HIGH_NUMBER_VALUES))
    for mask, anomaly in by_count:  # the value is the number of values, if present
        if mask.any():
            rows = np.flatnonzero(mask)
            text = pc.if_else(present[rows], pa.array(counts[rows]).cast(pa.string()), None)
            yield _Found(rows, feature, _name(anomaly), text)
    if column is None or not len(column.values):
        return
    checks: Iterable[tuple[np.ndarray, int]] = domain_checks(rule, column)
    if rule.kinds and column.kind not in rule.kinds:  # and then no domain checks
        checks = [(np.ones(len(column.values), dtype=bool), _ANOMALY.UNEXPECTED_DATA_TYPE)]
    value_rows = np.repeat(np.arange(num_rows), counts)  # values are in row order
    for bad, anomaly in checks:
        if bad.any():
            rows, first = np.unique(value_rows[bad], return_index=True)
            values = _text(column.values.filter(pa.array(bad)).take(pa.array(first)))
            yield _Found(rows, feature, _name(anomaly), values)


def _fixed(schema: schema_pb2.Schema) -> tuple[schema_pb2.Schema, list[ColumnAnomaly]]:
    """A copy of `schema` with its own problems fixed as validation fixes them, and those."""
    fixed = schema_pb2.Schema()
    fixed.CopyFrom(schema)
    features, dataset = check_specification(fixed)
    problems = [(path_str(p), v) for p, found in features.items() for v in found]
    problems += [("", v) for v in dataset]
    return fixed, [ColumnAnomaly(f, v.type_name, 0, v.long) for f, v in problems]


class ExampleChecks:
    """A schema's per-row checks, prepared once; :meth:`check` applies them to a batch.

    Args:
        schema: the ``tensorflow_metadata`` schema.
        environment: the data's environment (e.g. ``SERVING``); None checks every feature.

    Attributes:
        schema_problems: the schema's own problems (INVALID_SCHEMA_SPECIFICATION, ...), fixed
            before the rows are checked, as validation of statistics fixes them.

    Raises:
        InvalidInputError: `environment` is not one the schema names.
    """

    def __init__(self, schema: schema_pb2.Schema, environment: str | None = None) -> None:
        self.environment = environment
        schema, self.schema_problems = _fixed(schema)
        self._rules: list[Rule] = []
        self._known: set[FeaturePath] = set()  # schema paths, checked or not
        self._skipped: set[FeaturePath] = set()  # deprecated: neither checked nor new
        self._excluded: set[FeaturePath] = set()  # not in the environment
        self._environments = set(schema.default_environment)
        self._add(schema.feature, (), schema)
        if environment is not None and environment not in self._environments:
            # A typo would otherwise leave every feature unchecked.
            raise InvalidInputError(
                f"environment {environment!r} is not in the schema, which names "
                f"{sorted(self._environments)}"
            )
        self._composites = active_composites(schema)
        self._skipped.update(p for p in known_paths(schema) if p not in self._known)

    def _add(
        self, features: Iterable[schema_pb2.Feature], prefix: FeaturePath, schema: schema_pb2.Schema
    ) -> None:
        for feature in features:
            path = (*prefix, feature.name)
            self._known.add(path)
            self._environments.update(feature.in_environment, feature.not_in_environment)
            if is_deprecated(feature):
                self._skipped.add(path)
            elif not in_environment(schema, feature, self.environment):
                self._excluded.add(path)
            else:
                self._rules.append(_rule(feature, schema, path))
                self._add(feature.struct_domain.feature, path, schema)

    def _new_columns(self, columns: dict[FeaturePath, FeatureColumn]) -> list[ColumnAnomaly]:
        found: list[ColumnAnomaly] = []
        reported: set[FeaturePath] = set()
        for path, column in columns.items():  # parents come before their fields
            prefixes = {path[:i] for i in range(1, len(path))}
            if prefixes & (reported | self._skipped | self._excluded) or path in self._skipped:
                continue
            num_rows = int(np.count_nonzero(column.present))
            if path in self._excluded and num_rows:
                description = f"present in the data but not in environment {self.environment}"
            elif path not in self._known:
                description = "in the data but not in the schema"
            else:
                continue
            reported.add(path)
            anomaly = _name(_ANOMALY.SCHEMA_NEW_COLUMN)
            found.append(ColumnAnomaly(path_str(path), anomaly, num_rows, description))
        return found

    def check(self, batch: pa.RecordBatch) -> CheckResult:
        """Splits `batch` into good and bad rows (see the module docstring)."""
        num_rows = batch.num_rows
        columns = {column.path: column for column in flatten_batch(batch)}
        everywhere = np.ones(num_rows, dtype=bool)
        nowhere = np.zeros(num_rows, dtype=bool)
        found: list[_Found] = []
        for rule in self._rules:
            parent = everywhere
            if len(rule.path) > 1:
                parent_column = columns.get(rule.path[:-1])
                parent = parent_column.present if parent_column is not None else nowhere
            found.extend(check_feature_rows(rule, columns.get(rule.path), parent, num_rows))
        found.extend(_Found(*f) for f in check_composites(self._composites, columns, num_rows))
        good, bad, anomaly_rows = _split(batch, found)
        return CheckResult(good, bad, self._new_columns(columns), anomaly_rows)


def _split(
    batch: pa.RecordBatch, found: list[_Found]
) -> tuple[pa.RecordBatch, pa.RecordBatch, dict[str, int]]:
    rows = np.concatenate([f.rows for f in found] + [np.zeros(0, dtype=np.int64)])
    which = np.repeat(np.arange(len(found)), [len(f.rows) for f in found])
    order = np.argsort(rows, kind="stable")  # by row, then in schema and check order
    bad_mask = np.zeros(batch.num_rows, dtype=bool)
    bad_mask[rows] = True
    per_row = np.bincount(rows, minlength=batch.num_rows)[bad_mask]
    offsets = np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32)
    index = pa.array(which[order])
    values = pa.concat_arrays(
        [f.values if f.values is not None else pa.nulls(len(f.rows), pa.string()) for f in found]
        + [pa.array([], pa.string())]
    )
    reasons = pa.StructArray.from_arrays(
        [
            pa.array([f.feature for f in found], pa.string()).take(index),
            pa.array([f.anomaly for f in found], pa.string()).take(index),
            values.take(pa.array(order)),
        ],
        fields=list(REASON_TYPE),
    )
    name = REASONS
    while name in batch.schema.names:  # a data column named reasons keeps its name
        name += "_"
    bad = pa.RecordBatch.from_arrays(
        [*batch.filter(pa.array(bad_mask)).columns, pa.ListArray.from_arrays(offsets, reasons)],
        schema=batch.schema.append(pa.field(name, pa.list_(REASON_TYPE))),
    )
    anomaly_rows = {
        anomaly: len(np.unique(np.concatenate([f.rows for f in found if f.anomaly == anomaly])))
        for anomaly in dict.fromkeys(f.anomaly for f in found)
    }
    return batch.filter(pa.array(~bad_mask)), bad, anomaly_rows


def check_batch(
    batch: pa.RecordBatch, schema: schema_pb2.Schema, environment: str | None = None
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    """The rows of `batch` that satisfy `schema`, and the others with their reasons.

    A shortcut for ``ExampleChecks(schema, environment).check(batch)[:2]``; prepare an
    :class:`ExampleChecks` once to check many batches.

    Returns:
        ``(good, bad)``: ``good`` has the columns of `batch`; ``bad`` has them plus a last
        column ``reasons`` (``reasons_`` if the data has a ``reasons`` column), a
        ``list<struct<feature: string, anomaly: string, value: string>>``.
    """
    result = ExampleChecks(schema, environment).check(batch)
    return result.good, result.bad
