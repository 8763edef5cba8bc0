"""Schemas: inference from statistics, relaxation, environments (no Beam, no files).

Schemas are tensorflow-metadata ``Schema`` messages, so TFDV's ``schema.pbtxt`` files load
unchanged and ours load in TFDV. What beam-stats adds travels in
``Schema.annotation.extra_metadata`` (:mod:`beam_stats.schema.extras`).
"""

from beam_stats.schema.composite import composite_specs
from beam_stats.schema.conformance import Conformance, check_statistics
from beam_stats.schema.extras import severity_overrides, with_severity_overrides
from beam_stats.schema.features import add_environments, get_feature
from beam_stats.schema.infer import infer_schema
from beam_stats.schema.spec import RangeInferenceSpec, SchemaInferenceSpec, UniqueInferenceSpec
from beam_stats.schema.update import update_schema
from beam_stats.schema.violations import Violation

__all__ = [
    "Conformance",
    "RangeInferenceSpec",
    "SchemaInferenceSpec",
    "UniqueInferenceSpec",
    "Violation",
    "add_environments",
    "check_statistics",
    "composite_specs",
    "get_feature",
    "infer_schema",
    "severity_overrides",
    "update_schema",
    "with_severity_overrides",
]
