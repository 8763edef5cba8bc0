"""Semantic domains (image, natural language, URL, time, MID, ...) and derived features.

The semantic domains describe what values mean; TFDV validates two of them, from statistics
its semantic-domain generators write, and so does beam-stats:

* ``image_domain``: ``max_image_byte_size`` against the largest value's bytes
  (``bytes_stats.max_num_bytes_int``, which beam-stats writes too) ->
  MAX_IMAGE_BYTE_SIZE_EXCEEDED; ``minimum_supported_image_fraction`` against TFDV's
  ``image_format_histogram`` custom statistic -> LOW_SUPPORTED_IMAGE_FRACTION (not checked
  without it; beam-stats does not decode images).
* ``natural_language_domain``: coverage and token constraints against TFDV's
  ``nl_statistics`` -> FEATURE_COVERAGE_TOO_LOW, FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH,
  SEQUENCE_VALUE_TOO_SMALL/LARGE_FRACTION, SEQUENCE_VALUE_TOO_FEW/MANY_OCCURRENCES. A
  constraint the statistics cannot answer is STATS_NOT_AVAILABLE and clears the domain, as
  in TFDV (beam-stats does not tokenize text).
* Every other semantic domain is understood and not checked (as TFDV).

A feature without a domain whose statistics carry TFDV's ``domain_info`` custom statistic (a
text ``Feature`` with one domain, e.g. ``image_domain {}``) gets that domain:
SEMANTIC_DOMAIN_UPDATE. New columns take it silently. A feature whose statistics name a
``validation_derived_source`` (TFDV's derived features) that the schema lacks gets it:
DERIVED_FEATURE_INVALID_SOURCE. Each check relaxes the feature to accept the statistics.
"""

from __future__ import annotations

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.schema.view import FeatureView
from beam_stats.schema.violations import AnomalyType, Violation, num

NaturalLanguageStatistics = statistics_pb2.NaturalLanguageStatistics


def check_semantic(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    """The semantic-domain anomalies of one present feature, relaxing `feature`."""
    which = feature.WhichOneof("domain_info")
    if which == "image_domain":
        return _image(feature, view)
    if which == "natural_language_domain":
        return _natural_language(feature, view)
    if which is None and apply_domain_info(feature, view):
        which = feature.WhichOneof("domain_info")
        return [
            Violation(
                AnomalyType.SEMANTIC_DOMAIN_UPDATE,
                "Updated semantic domain",
                f"The statistics describe the feature as {which}; the schema gives it none.",
            )
        ]
    return []


def apply_domain_info(feature: schema_pb2.Feature, view: FeatureView) -> bool:
    """Sets the domain a ``domain_info`` custom statistic names, when `feature` has none."""
    texts = [c.str for c in view.stats.custom_stats if c.name == "domain_info"]
    if len(texts) != 1 or feature.WhichOneof("domain_info") is not None:
        return False
    parsed = schema_pb2.Feature()
    try:
        text_format.Parse(texts[0], parsed)
    except text_format.ParseError:
        return False
    fields = parsed.ListFields()
    oneof = schema_pb2.Feature.DESCRIPTOR.oneofs_by_name["domain_info"]
    if len(fields) != 1 or fields[0][0].containing_oneof is not oneof:
        return False
    feature.MergeFrom(parsed)
    return True


def derived_source(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    """DERIVED_FEATURE_INVALID_SOURCE when the statistics say the feature is derived and
    the schema does not; `feature` is marked derived."""
    if not view.stats.HasField("validation_derived_source"):
        return []
    if feature.HasField("validation_derived_source"):
        return []
    mark_derived(feature, view)
    return [
        Violation(
            AnomalyType.DERIVED_FEATURE_INVALID_SOURCE,
            "Derived source not set in schema.",
            "The statistics describe the feature as derived (validation_derived_source), "
            "but the schema does not.",
        )
    ]


def mark_derived(feature: schema_pb2.Feature, view: FeatureView) -> None:
    if view.stats.HasField("validation_derived_source"):
        feature.validation_derived_source.CopyFrom(view.stats.validation_derived_source)
        feature.lifecycle_stage = schema_pb2.VALIDATION_DERIVED


def _image(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    found = []
    domain = feature.image_domain
    formats = next((c for c in view.stats.custom_stats if c.name == "image_format_histogram"), None)
    if domain.HasField("minimum_supported_image_fraction") and formats is not None:
        counts = {b.label: b.sample_count for b in formats.rank_histogram.buckets}
        total = sum(counts.values())
        supported = (total - counts.get("UNKNOWN", 0.0)) / total if total else 1.0
        if supported < domain.minimum_supported_image_fraction:
            expected = domain.minimum_supported_image_fraction
            domain.minimum_supported_image_fraction = supported
            found.append(
                Violation(
                    AnomalyType.LOW_SUPPORTED_IMAGE_FRACTION,
                    "Low supported image fraction",
                    f"Fraction of values containing TensorFlow supported images: "
                    f"{num(supported)}, below the schema's minimum {num(expected)}.",
                )
            )
    largest = int(view.stats.bytes_stats.max_num_bytes_int)
    if domain.HasField("max_image_byte_size") and largest > domain.max_image_byte_size:
        allowed = domain.max_image_byte_size
        domain.max_image_byte_size = largest
        found.append(
            Violation(
                AnomalyType.MAX_IMAGE_BYTE_SIZE_EXCEEDED,
                "Num bytes exceeds the max byte size.",
                f"The largest image has {largest} bytes; the schema allows at most {allowed}.",
            )
        )
    return found


def _natural_language(feature: schema_pb2.Feature, view: FeatureView) -> list[Violation]:
    domain = feature.natural_language_domain
    custom = next((c for c in view.stats.custom_stats if c.name == "nl_statistics"), None)
    stats = NaturalLanguageStatistics()
    if custom is not None and not custom.any.Unpack(stats):
        return []  # another message under TFDV's name: nothing to read (as TFDV)
    coverage = domain.coverage
    constrained = (
        coverage.HasField("min_coverage")
        or coverage.HasField("min_avg_token_length")
        or len(domain.token_constraints) > 0
    )
    if not constrained:
        return []
    tokens: dict[str | int, statistics_pb2.NaturalLanguageStatistics.TokenStatistics] = {}
    for token in stats.token_statistics:
        which = token.WhichOneof("token")
        if which is not None:
            tokens[getattr(token, which)] = token
    wanted = [
        c.int_value if c.HasField("int_value") else c.string_value
        for c in domain.token_constraints
        if c.HasField("int_value") or c.HasField("string_value")
    ]
    if custom is None or any(key not in tokens for key in wanted):
        feature.ClearField("natural_language_domain")
        return [
            Violation(
                AnomalyType.STATS_NOT_AVAILABLE,
                "Natural language stats are not computed.",
                "Constraints specified in natural language domain cannot be verified because "
                "natural language stats have not been computed.",
            )
        ]
    found = []
    if coverage.HasField("min_coverage") and stats.feature_coverage < coverage.min_coverage:
        found.append(
            Violation(
                AnomalyType.FEATURE_COVERAGE_TOO_LOW,
                "Feature coverage is too low.",
                f"Fraction of tokens in the vocabulary: {num(stats.feature_coverage)}, below "
                f"the schema's minimum {num(coverage.min_coverage)}.",
            )
        )
        coverage.min_coverage = stats.feature_coverage
    if (
        coverage.HasField("min_avg_token_length")
        and stats.avg_token_length < coverage.min_avg_token_length
    ):
        found.append(
            Violation(
                AnomalyType.FEATURE_COVERAGE_TOO_SHORT_AVG_TOKEN_LENGTH,
                "Average token length is too short.",
                f"Average token length: {num(stats.avg_token_length)}, below the schema's "
                f"minimum {num(coverage.min_avg_token_length)}.",
            )
        )
        coverage.min_avg_token_length = stats.avg_token_length
    for constraint in domain.token_constraints:
        if constraint.HasField("int_value") or constraint.HasField("string_value"):
            key = (
                constraint.int_value
                if constraint.HasField("int_value")
                else constraint.string_value
            )
            found += _token(constraint, tokens[key], str(key))
    return found


_TOKEN_CHECKS = (
    # (constraint field, statistic, below the bound is bad, anomaly, short, what)
    (
        "min_fraction_of_sequences",
        "fraction_of_sequences",
        True,
        AnomalyType.SEQUENCE_VALUE_TOO_SMALL_FRACTION,
        "Value occurs in too small a fraction of sequences.",
        "fraction of sequences with the value",
    ),
    (
        "max_fraction_of_sequences",
        "fraction_of_sequences",
        False,
        AnomalyType.SEQUENCE_VALUE_TOO_LARGE_FRACTION,
        "Value occurs in too large a fraction of sequences.",
        "fraction of sequences with the value",
    ),
    (
        "min_per_sequence",
        "per_sequence_min_frequency",
        True,
        AnomalyType.SEQUENCE_VALUE_TOO_FEW_OCCURRENCES,
        "Value has too few per-sequence occurrences.",
        "fewest occurrences in a sequence",
    ),
    (
        "max_per_sequence",
        "per_sequence_max_frequency",
        False,
        AnomalyType.SEQUENCE_VALUE_TOO_MANY_OCCURRENCES,
        "Value has too many per-sequence occurrences.",
        "most occurrences in a sequence",
    ),
)


def _token(
    constraint: schema_pb2.SequenceValueConstraints,
    token: statistics_pb2.NaturalLanguageStatistics.TokenStatistics,
    name: str,
) -> list[Violation]:
    found = []
    for field, statistic, lower, anomaly, short, what in _TOKEN_CHECKS:
        if not constraint.HasField(field):
            continue
        bound, observed = getattr(constraint, field), getattr(token, statistic)
        if (observed < bound) if lower else (observed > bound):
            found.append(
                Violation(
                    anomaly,
                    short,
                    f'Value "{name}": {what} is {num(observed)}, '
                    f"{'below' if lower else 'above'} the schema's bound {num(bound)}.",
                )
            )
            setattr(constraint, field, type(bound)(observed))
    return found
