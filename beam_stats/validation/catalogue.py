"""Every anomaly beam-stats raises: the check that raises it, its severity, when, and TFDV's.

:data:`CATALOGUE` is plain data, read by ``docs/ANOMALIES.md`` (written by
``python -m beam_stats.validation.catalogue docs/ANOMALIES.md``, ``make docs``) and by the
tests, which check it against the source (every anomaly name the checks use is here, with
the module that uses it) and against validation (what validation reports, and at which
severity). An entry is named by its ``AnomalyInfo.Type`` name, or, for the comparators
tensorflow-metadata has no type for (``CUSTOM_VALIDATION``), by the stable short
description that tells them apart (``COMPARATOR_PSI_HIGH``, ``GROUP_SHARE_LOW``, ...).

Severity: validation gives every anomaly type ERROR unless overridden, first by the
schema's ``AnomalySeverities`` annotation (:func:`beam_stats.with_severity_overrides`,
``infer-schema --severity``), then by ``ValidationSpec.severity_overrides`` (``validate
--severity``). Inferred schemas carry no override unless asked, so the defaults below are
what a user sees. An override of ``CUSTOM_VALIDATION`` applies to all six comparators that
share it. Per-example validation has no severity: every reason makes its row bad.
"""

from __future__ import annotations

import dataclasses
import sys

#: Family module -> (title, what its anomalies are about).
FAMILIES: dict[str, tuple[str, str]] = {
    "beam_stats.schema.checks.specification": (
        "Schema specification",
        "the schema's own problems, found (and fixed in the relaxed schema) before the data "
        "is looked at",
    ),
    "beam_stats.schema.checks.columns": (
        "Columns",
        "the data's features against the schema's features and environments",
    ),
    "beam_stats.schema.checks.presence": (
        "Presence",
        "how many examples have a feature, against ``presence``",
    ),
    "beam_stats.schema.checks.valency": (
        "Valency and shape",
        "values per example, nesting and fixed shapes",
    ),
    "beam_stats.schema.checks.data_type": ("Data type", "the values' type against ``type``"),
    "beam_stats.schema.checks.domains": (
        "Domains",
        "values against string, bool, int and float domains",
    ),
    "beam_stats.schema.checks.semantic": (
        "Semantic domains and derived features",
        "image and natural-language domains, from TFDV's semantic statistics",
    ),
    "beam_stats.schema.checks.uniqueness": (
        "Unique values",
        "distinct counts against ``unique_constraints``",
    ),
    "beam_stats.schema.checks.sparse_weighted": (
        "Sparse and weighted features",
        "composites, from their components' statistics or TFDV's custom statistics",
    ),
    "beam_stats.schema.checks.dataset": (
        "Dataset",
        "the number of examples against ``dataset_constraints``",
    ),
    "beam_stats.validation.comparators": (
        "Drift and skew comparators",
        "distances to previous (drift) or serving (skew) statistics against the schema's "
        "thresholds",
    ),
    "beam_stats.validation.groups": (
        "Groups",
        "each group of a group feature against the schema's group thresholds: its share of "
        "the examples and how its labels differ from the whole dataset's",
    ),
    "beam_stats.validation.pii": (
        "Personal data",
        "string features whose values look like personal data (a warning)",
    ),
    "beam_stats.validation.history": (
        "Monitoring over time",
        "a span of a statistics history against the spans before it (``beam-stats monitor``, "
        "``monitor_statistics``): its rolling baseline and its metric series; against the "
        "previous span the comparators above are raised",
    ),
    "beam_stats.drift.schema_skew": (
        "Schema skew",
        "a feature typed, shaped or present differently in training and serving",
    ),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnomalyEntry:
    """One anomaly beam-stats raises.

    Attributes:
        name: the ``AnomalyInfo.Type`` name, or a ``CUSTOM_VALIDATION`` short description.
        anomaly_type: the ``AnomalyInfo.Type`` name validation writes.
        family: the module (a key of :data:`FAMILIES`) whose checks raise it.
        checks: ``"module:function"`` of each function that raises it from statistics.
        example_checks: the same for per-example validation (``check_batch``,
            ``validate-examples``); empty when rows are not checked for it.
        severity: what validation gives it unless overridden (see the module docstring).
        tfdv: whether TFDV's validation raises the same type for the same reason.
        description: one sentence: when it is raised.
    """

    name: str
    anomaly_type: str
    family: str
    checks: tuple[str, ...]
    example_checks: tuple[str, ...]
    severity: str
    tfdv: bool
    description: str


_SPEC = "beam_stats.schema.checks.specification"
_SPEC_CHECKS = "check_specification check_feature_specification"
#: Per example, the schema's own problems are found once, by the same check
#: (``ExampleChecks.schema_problems``).
_SPEC_ROWS = f"beam_stats.validation.examples:ExampleChecks {_SPEC}:check_specification"
_ROWS = "beam_stats.validation.examples:check_feature_rows"
_ROW_DOMAINS = "beam_stats.validation.example_domains:domain_checks"
_ROW_COMPOSITES = "beam_stats.validation.example_composites:check_composites"
_CUSTOM = "CUSTOM_VALIDATION"

_Row = tuple[str, str, str, bool, str]  # name, checks, per-example checks, TFDV, description


def _family(
    module: str, rows: tuple[_Row, ...], anomaly_type: str = "", severity: str = "ERROR"
) -> list[AnomalyEntry]:
    """Entries of one family; checks without ``module:`` are functions of `module`."""
    module = f"beam_stats.{module}"
    return [
        AnomalyEntry(
            name=name,
            anomaly_type=anomaly_type or name,
            family=module,
            checks=tuple(c if ":" in c else f"{module}:{c}" for c in checks.split()),
            example_checks=tuple(example.split()),
            severity=severity,
            tfdv=tfdv,
            description=description,
        )
        for name, checks, example, tfdv, description in rows
    ]


def _breach(measure: str, side: str = "above") -> str:
    return (
        f"The {measure} between the compared statistics is {side} the feature's drift or skew "
        "threshold."
    )


# One entry per line pair: (name, checks, per-example checks, TFDV raises it, when).
# fmt: off
CATALOGUE: tuple[AnomalyEntry, ...] = (
    *_family("schema.checks.specification", (
        ("FEATURE_MISSING_NAME", _SPEC_CHECKS, _SPEC_ROWS, True,
         "An active schema feature has no name (it is deprecated)."),
        ("FEATURE_MISSING_TYPE", _SPEC_CHECKS, _SPEC_ROWS, True,
         "An active schema feature has no type (BYTES is assumed with a string domain, else "
         "the feature is deprecated)."),
        ("INVALID_SCHEMA_SPECIFICATION", _SPEC_CHECKS, _SPEC_ROWS, True,
         "A presence, value-count, shape, distribution, unique or dataset constraint "
         "contradicts itself, or a sparse or weighted feature lacks its components."),
        ("INVALID_DOMAIN_SPECIFICATION", _SPEC_CHECKS, _SPEC_ROWS, True,
         "A named string domain is missing, a string domain repeats values, a bool domain's "
         "true and false values are equal, or an int or float domain's min exceeds its max."),
        ("DOMAIN_INVALID_FOR_TYPE",
         f"{_SPEC_CHECKS} beam_stats.schema.checks.domains:check_domain", _SPEC_ROWS, True,
         "A feature's domain cannot describe its type, or a text domain's values are binary "
         "(mostly not valid UTF-8)."),
        ("DERIVED_FEATURE_BAD_LIFECYCLE", _SPEC_CHECKS, _SPEC_ROWS, True,
         "A feature with a validation_derived_source has a lifecycle other than "
         "VALIDATION_DERIVED."),
    )),
    *_family("schema.checks.columns", (
        ("SCHEMA_NEW_COLUMN", "new_column environment_violations",
         "beam_stats.validation.examples:ExampleChecks._new_columns", True,
         "The data has a feature the schema does not list, or one the schema does not expect "
         "in the data's environment."),
        ("SCHEMA_MISSING_COLUMN", "missing_column", "", True,
         "A feature the schema requires in the data's environment is absent from the "
         "statistics."),
    )),
    *_family("schema.checks.presence", (
        ("FEATURE_TYPE_NOT_PRESENT", "not_present", _ROWS, True,
         "A required feature is present in no example (per example: missing where "
         "presence.min_fraction is 1)."),
        ("FEATURE_TYPE_LOW_NUMBER_PRESENT", "presence_violations", "", True,
         "Fewer examples have the feature than presence.min_count."),
        ("FEATURE_TYPE_LOW_FRACTION_PRESENT", "presence_violations", "", True,
         "A smaller fraction of the examples has the feature than presence.min_fraction."),
    )),
    *_family("schema.checks.valency", (
        ("FEATURE_TYPE_LOW_NUMBER_VALUES", "valency_violations", _ROWS, True,
         "Some example has fewer values than value_count.min (or value_counts at a level)."),
        ("FEATURE_TYPE_HIGH_NUMBER_VALUES", "valency_violations", _ROWS, True,
         "Some example has more values than value_count.max (or value_counts at a level)."),
        ("VALUE_NESTEDNESS_MISMATCH", "valency_violations", "", True,
         "The values are nested more or fewer levels deep than value_counts describes."),
        ("INVALID_FEATURE_SHAPE", "shape_violations", _ROWS, True,
         "A feature with a fixed shape is missing somewhere or has another number of values."),
    )),
    *_family("schema.checks.data_type", (
        ("UNEXPECTED_DATA_TYPE", "type_mismatch mixed_types", _ROWS, True,
         "The values are of another type than the schema's, of several types, or could not "
         "be read as the column's type."),
    )),
    *_family("schema.checks.domains", (
        ("ENUM_TYPE_UNEXPECTED_STRING_VALUES", "_string", _ROW_DOMAINS, True,
         "Values outside the string domain exceed what min_domain_mass allows."),
        ("ENUM_TYPE_INVALID_UTF8", "_string", _ROW_DOMAINS, True,
         "A feature with a string domain has values that are not valid UTF-8."),
        ("BOOL_TYPE_SMALL_INT", "_bool", _ROW_DOMAINS, True,
         "An int feature with a bool domain has values below 0."),
        ("BOOL_TYPE_BIG_INT", "_bool", _ROW_DOMAINS, True,
         "An int feature with a bool domain has values above 1."),
        ("BOOL_TYPE_UNEXPECTED_FLOAT", "_bool", _ROW_DOMAINS, True,
         "A float feature with a bool domain has values other than 0 and 1 (or NaN)."),
        ("BOOL_TYPE_UNEXPECTED_STRING", "_bool", _ROW_DOMAINS, True,
         "A string feature with a bool domain has values other than its true and false ones."),
        ("INT_TYPE_SMALL_INT", "_int", _ROW_DOMAINS, True,
         "A value is below int_domain.min."),
        ("INT_TYPE_BIG_INT", "_int", _ROW_DOMAINS, True,
         "A value is above int_domain.max."),
        ("INT_TYPE_NOT_INT_STRING", "_int", _ROW_DOMAINS, True,
         "A string value of a feature with an int domain does not spell an int64."),
        ("FLOAT_TYPE_SMALL_FLOAT", "_float", _ROW_DOMAINS, True,
         "A value is below float_domain.min (compared in float32)."),
        ("FLOAT_TYPE_BIG_FLOAT", "_float", _ROW_DOMAINS, True,
         "A value is above float_domain.max (compared in float32)."),
        ("FLOAT_TYPE_HAS_NAN", "_float", _ROW_DOMAINS, True,
         "A value is NaN and float_domain.disallow_nan is set."),
        ("FLOAT_TYPE_HAS_INF", "_float", _ROW_DOMAINS, True,
         "A value is +inf or -inf and float_domain.disallow_inf is set."),
        ("FLOAT_TYPE_STRING_NOT_FLOAT", "_float", _ROW_DOMAINS, True,
         "A string value of a feature with a float domain does not spell a number."),
    )),
    *_family("schema.checks.semantic", (
        ("MAX_IMAGE_BYTE_SIZE_EXCEEDED", "_image", "", True,
         "The largest value of an image_domain feature exceeds max_image_byte_size."),
        ("LOW_SUPPORTED_IMAGE_FRACTION", "_image", "", True,
         "TFDV's image_format_histogram shows a smaller fraction of supported images than "
         "minimum_supported_image_fraction."),
        ("STATS_NOT_AVAILABLE", "_natural_language", "", True,
         "A natural_language_domain has constraints but the statistics lack TFDV's "
         "nl_statistics (or the constrained tokens)."),
        ("FEATURE_COVERAGE_TOO_LOW", "_natural_language", "", True,
         "The nl_statistics feature_coverage is below coverage.min_coverage."),
        ("FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH", "_natural_language", "", True,
         "The nl_statistics avg_token_length is below coverage.min_avg_token_length."),
        ("SEQUENCE_VALUE_TOO_SMALL_FRACTION", "_token", "", True,
         "A token is in a smaller fraction of sequences than min_fraction_of_sequences."),
        ("SEQUENCE_VALUE_TOO_LARGE_FRACTION", "_token", "", True,
         "A token is in a larger fraction of sequences than max_fraction_of_sequences."),
        ("SEQUENCE_VALUE_TOO_FEW_OCCURRENCES", "_token", "", True,
         "A token occurs fewer times in some sequence than min_per_sequence."),
        ("SEQUENCE_VALUE_TOO_MANY_OCCURRENCES", "_token", "", True,
         "A token occurs more times in some sequence than max_per_sequence."),
        ("SEMANTIC_DOMAIN_UPDATE", "check_semantic", "", True,
         "A feature without a domain has TFDV's domain_info statistic naming one."),
        ("DERIVED_FEATURE_INVALID_SOURCE", "derived_source", "", True,
         "The statistics give a validation_derived_source that the schema's feature lacks."),
    )),
    *_family("schema.checks.uniqueness", (
        ("FEATURE_TYPE_NO_UNIQUE", "unique_violations", "", True,
         "A feature has unique_constraints but its statistics count no distinct values."),
        ("FEATURE_TYPE_LOW_UNIQUE", "unique_violations", "", True,
         "There are fewer distinct values than unique_constraints.min (beyond 3 standard "
         "errors of an estimate)."),
        ("FEATURE_TYPE_HIGH_UNIQUE", "unique_violations", "", True,
         "There are more distinct values than unique_constraints.max (beyond 3 standard "
         "errors of an estimate)."),
    )),
    *_family("schema.checks.sparse_weighted", (
        ("SPARSE_FEATURE_NAME_COLLISION", "_collision", "", True,
         "A sparse feature has the name of a feature (both are deprecated)."),
        ("WEIGHTED_FEATURE_NAME_COLLISION", "_collision", "", True,
         "A weighted feature has the name of a feature or sparse feature."),
        ("SPARSE_FEATURE_MISSING_VALUE", "_missing", _ROW_COMPOSITES, True,
         "Examples with some part of a sparse feature lack its value feature."),
        ("SPARSE_FEATURE_MISSING_INDEX", "_missing", _ROW_COMPOSITES, True,
         "Examples with some part of a sparse feature lack one of its index features."),
        ("SPARSE_FEATURE_LENGTH_MISMATCH", "_mismatch", _ROW_COMPOSITES, True,
         "Some example has index and value lists of different lengths."),
        ("WEIGHTED_FEATURE_MISSING_VALUE", "_missing", _ROW_COMPOSITES, True,
         "Examples with the weight of a weighted feature lack its value feature."),
        ("WEIGHTED_FEATURE_MISSING_WEIGHT", "_missing", _ROW_COMPOSITES, True,
         "Examples with the value of a weighted feature lack its weight feature."),
        ("WEIGHTED_FEATURE_LENGTH_MISMATCH", "_mismatch", _ROW_COMPOSITES, True,
         "Some example has weight and value lists of different lengths."),
    )),
    *_family("schema.checks.dataset", (
        ("DATASET_LOW_NUM_EXAMPLES", "dataset_violations", "", True,
         "The dataset has fewer examples than dataset_constraints.min_examples_count."),
        ("DATASET_HIGH_NUM_EXAMPLES", "dataset_violations", "", True,
         "The dataset has more examples than dataset_constraints.max_examples_count."),
    )),
    *_family("validation.comparators", (
        ("COMPARATOR_CONTROL_DATA_MISSING", "distribution_comparators", "", True,
         "A feature with drift (skew) thresholds is absent from the previous (serving) "
         "statistics."),
        ("COMPARATOR_L_INFTY_HIGH", "distribution_comparators", "", True,
         _breach("L-infinity distance")),
        ("COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH", "distribution_comparators", "", True,
         _breach("approximate Jensen-Shannon divergence")),
        ("COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH", "distribution_comparators", "", True,
         _breach("normalized absolute difference")),
        ("COMPARATOR_LOW_NUM_EXAMPLES", "num_examples_comparator", "", True,
         "The ratio of example counts, current over previous span, is below "
         "num_examples_drift_comparator.min_fraction_threshold."),
        ("COMPARATOR_HIGH_NUM_EXAMPLES", "num_examples_comparator", "", True,
         "The ratio of example counts, current over previous span, is above "
         "num_examples_drift_comparator.max_fraction_threshold (or the previous span has "
         "no example)."),
    )),
    *_family("validation.comparators", (
        ("COMPARATOR_PSI_HIGH", "distribution_comparators", "", False,
         _breach("population stability index")),
        ("COMPARATOR_KOLMOGOROV_SMIRNOV_HIGH", "distribution_comparators", "", False,
         _breach("Kolmogorov-Smirnov statistic")),
        ("COMPARATOR_WASSERSTEIN_HIGH", "distribution_comparators", "", False,
         _breach("Wasserstein distance (in base standard deviations)")),
        ("COMPARATOR_HELLINGER_HIGH", "distribution_comparators", "", False,
         _breach("Hellinger distance")),
        ("COMPARATOR_CHI_SQUARED_P_VALUE_LOW", "distribution_comparators", "", False,
         _breach("chi-squared test p-value", "below")),
        ("COMPARATOR_MISSING_FRACTION_HIGH", "distribution_comparators", "", False,
         _breach("change of the fraction of examples missing the feature")),
        ("COMPARATOR_CONCEPT_SHIFT_HIGH", "distribution_comparators", "", False,
         _breach("concept shift (change of the label's distribution given the feature)")),
        ("GROUP_SHARE_MOVED", "distribution_comparators", "", False,
         _breach("largest change of a group's share of examples (group features)")),
    ), anomaly_type=_CUSTOM),
    *_family("validation.groups", (
        ("GROUP_SHARE_LOW", "check_groups", "", False,
         "A group of a group feature has a share of the examples below the feature's "
         "min_share."),
        ("GROUP_LABEL_DISPARITY_HIGH", "check_groups", "", False,
         "A group's label distribution differs from the whole dataset's by more than the "
         "feature's max_label_disparity (largest difference of a class share) and by more "
         "than 3 standard errors."),
    ), anomaly_type=_CUSTOM),
    *_family("validation.pii", (
        ("PII_SUSPECTED", "check_pii", "", False,
         "At least 1% of a string feature's values look like one kind of personal data "
         "(e-mail, phone, card, IP address, IBAN, US SSN); the reason names the kinds and "
         "fractions, never a value. Not raised for a feature a privacy policy redacts or "
         "hashes."),
    ), anomaly_type=_CUSTOM, severity="WARNING"),
    *_family("validation.history", (
        ("HISTORY_ROLLING_DRIFT_HIGH", "monitor_statistics", "", False,
         "A drift measure between a span and the exact merge of the spans before it (the "
         "rolling baseline, 28 spans by default) is beyond its threshold (the schema's drift "
         "thresholds, else the defaults)."),
        ("HISTORY_NUM_EXAMPLES_DROP", "monitor_statistics", "", False,
         "A span's number of examples is below its expected range from the spans before it "
         "(by default more than 3.5 robust standard deviations and 30% below)."),
        ("HISTORY_METRIC_OUTLIER", "monitor_statistics", "", False,
         "A feature's missing fraction, mean, standard deviation, distinct count, top value "
         "share or drift distance from the previous span is outside its expected range from "
         "the spans before it (median and MAD, same weekday for dated spans, z-score, or the "
         "previous span with a relative or absolute change; limits per metric and feature in "
         "the schema)."),
    ), anomaly_type=_CUSTOM),
    *_family("drift.schema_skew", (
        ("SCHEMA_TRAINING_SERVING_SKEW", "schema_skew schema_differences", "", False,
         "A feature has another type or fixed valency in serving than in training, or is in "
         "only one of them where the environments expect both."),
    )),
)
# fmt: on
#: The custom reasons whose default severity is not ERROR, by short description.
_CUSTOM_SEVERITIES = {
    e.name: e.severity for e in CATALOGUE if e.anomaly_type == _CUSTOM and e.severity != "ERROR"
}


def default_severity(anomaly_type: str, short_description: str) -> str:
    """The severity validation gives a reason unless overridden: ERROR, or for a custom
    reason its entry's (``PII_SUSPECTED`` is a WARNING)."""
    if anomaly_type == _CUSTOM:
        return _CUSTOM_SEVERITIES.get(short_description, "ERROR")
    return "ERROR"


#: The short descriptions that name beam-stats' own CUSTOM_VALIDATION anomalies (shown in
#: tables in place of the type).
CUSTOM_NAMES = frozenset(e.name for e in CATALOGUE if e.anomaly_type == _CUSTOM)


def _source(function: str) -> str:
    module, name = function.split(":")
    return f"[`{module.rsplit('.', 1)[-1]}.{name}`](../{module.replace('.', '/')}.py)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("``", "`")


def render_markdown() -> str:
    """``docs/ANOMALIES.md``: the catalogue as one table per family."""
    lines = [
        "# Anomalies beam-stats raises",
        "",
        "<!-- Generated from beam_stats/validation/catalogue.py by `make docs`: do not edit. "
        "tests/validation/test_catalogue.py fails when this file is stale. -->",
        "",
        "Every anomaly `beam-stats validate` (`validate_statistics`) and `validate-examples` "
        "(`check_batch`) can report, grouped by the module whose checks raise it. An anomaly "
        "is named by its tensorflow-metadata `AnomalyInfo.Type`, or, for the comparators "
        "that have no such type, by the stable short description of its `CUSTOM_VALIDATION` "
        "reason.",
        "",
        "- **raised by**: the functions that find it in statistics.",
        "- **per example**: the functions that find it in rows; \u2014 where rows are not "
        "checked for it (a dataset property, or statistics TFDV computes).",
        "- **severity**: what validation gives it. Every type is ERROR unless overridden: "
        "first by the schema's `AnomalySeverities` annotation (`with_severity_overrides`, "
        "`infer-schema --severity TYPE=WARNING`), then by `ValidationSpec.severity_overrides` "
        "(`validate --severity`). An override of `CUSTOM_VALIDATION` applies to all six "
        "comparators that share it. Per-example validation has no severity: every reason "
        "makes its row bad.",
        "- **TFDV**: whether TFDV's validation raises the same type for the same reason; "
        "[TFDV.md](TFDV.md) gives the differences.",
    ]
    for family, (title, about) in FAMILIES.items():
        entries = [e for e in CATALOGUE if e.family == family]
        path = family.replace(".", "/") + ".py"
        lines += [
            "",
            f"## {title}",
            "",
            f"[`{path}`](../{path}): {_cell(about)}.",
            "",
            "| anomaly | raised by | per example | severity | TFDV | when |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for e in entries:
            name = f"`{e.name}`"
            if e.name != e.anomaly_type:
                name += f" (`{e.anomaly_type}`)"
            checks = ", ".join(_source(c) for c in e.checks)
            rows = ", ".join(_source(c) for c in e.example_checks) or "\u2014"
            tfdv = "yes" if e.tfdv else "no"
            cells = (name, checks, rows, e.severity, tfdv, _cell(e.description))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """``python -m beam_stats.validation.catalogue``: prints the doc (``make docs`` writes
    it to docs/ANOMALIES.md)."""
    if argv:
        print(f"usage: python -m beam_stats.validation.catalogue, got {argv}", file=sys.stderr)
        return 2
    sys.stdout.write(render_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
