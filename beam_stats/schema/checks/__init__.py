"""Checks of statistics against a schema, one module per family of anomaly types.

Each check returns :class:`~beam_stats.schema.violations.Violation` s and relaxes the schema
(a copy the caller owns) to accept the statistics, as TFDV does;
:func:`beam_stats.schema.conformance.check_statistics` runs them in TFDV's order.

=====================  ===================================================================
module                 anomaly types
=====================  ===================================================================
``specification``      the schema's own problems (INVALID_SCHEMA_SPECIFICATION, ...)
``columns``            SCHEMA_NEW_COLUMN, SCHEMA_MISSING_COLUMN
``presence``           FEATURE_TYPE_NOT_PRESENT, FEATURE_TYPE_LOW_NUMBER/FRACTION_PRESENT
``valency``            FEATURE_TYPE_LOW/HIGH_NUMBER_VALUES, VALUE_NESTEDNESS_MISMATCH,
                       INVALID_FEATURE_SHAPE
``data_type``          UNEXPECTED_DATA_TYPE
``domains``            ENUM_TYPE_*, BOOL_TYPE_*, INT_TYPE_*, FLOAT_TYPE_*,
                       DOMAIN_INVALID_FOR_TYPE (binary values)
``semantic``           image and natural-language domains, SEMANTIC_DOMAIN_UPDATE,
                       DERIVED_FEATURE_INVALID_SOURCE
``uniqueness``         FEATURE_TYPE_NO/LOW/HIGH_UNIQUE
``sparse_weighted``    SPARSE_FEATURE_*, WEIGHTED_FEATURE_*
``dataset``            DATASET_LOW/HIGH_NUM_EXAMPLES
=====================  ===================================================================

Comparisons with other statistics are in :mod:`beam_stats.validation.comparators` (drift and
skew comparators) and :mod:`beam_stats.drift.schema_skew`; per-example checks in
:mod:`beam_stats.validation.examples`. :mod:`beam_stats.validation.catalogue` lists every
anomaly type with the function that raises it.
"""
