"""Thresholds in the schema: TFMD comparators plus beam-stats' own, TFDV-loadable."""

from __future__ import annotations

from pathlib import Path

import pytest
from anomaly_helpers import schema
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.beam import load_schema, write_schema
from beam_stats.drift import Thresholds, set_drift_thresholds, set_skew_thresholds, thresholds
from beam_stats.errors import InvalidInputError, SchemaError
from beam_stats.proto import drift_pb2
from beam_stats.schema import get_feature

BASE = schema(
    """
    feature { name: "x" type: BYTES }
    feature { name: "n" type: FLOAT }
    feature { name: "s" type: STRUCT struct_domain { feature { name: "y" type: INT } } }
    """
)


def test_tfmd_measures_go_to_the_feature_comparator() -> None:
    updated = set_drift_thresholds(BASE, "x", l_infinity=0.1, jensen_shannon=0.2)
    updated = set_skew_thresholds(updated, "x", normalized_abs_difference=0.3)
    x = get_feature(updated, "x")
    assert x.drift_comparator.infinity_norm.threshold == 0.1
    assert x.drift_comparator.jensen_shannon_divergence.threshold == 0.2
    assert x.skew_comparator.normalized_abs_difference.threshold == 0.3
    assert not x.annotation.extra_metadata  # nothing of our own needed
    assert thresholds(x, "drift") == Thresholds(l_infinity=0.1, jensen_shannon=0.2)
    assert thresholds(x, "skew") == Thresholds(normalized_abs_difference=0.3)
    assert BASE.feature[0] == schema_pb2.Feature(name="x", type=schema_pb2.BYTES)  # a copy


def test_other_measures_go_to_the_annotation() -> None:
    updated = set_drift_thresholds(
        BASE, "n", psi=0.2, ks=0.1, wasserstein=0.5, hellinger=0.3, missing_fraction=0.05
    )
    updated = set_skew_thresholds(updated, "n", chi_squared=1e-3, psi=0.25)
    n = get_feature(updated, "n")
    (extra,) = n.annotation.extra_metadata
    message = drift_pb2.FeatureComparators()
    assert extra.Unpack(message)
    assert message.drift.population_stability_index.threshold == 0.2
    assert message.drift.kolmogorov_smirnov.threshold == 0.1
    assert message.skew.chi_squared.min_p_value == 1e-3
    assert thresholds(n, "drift") == Thresholds(
        psi=0.2, ks=0.1, wasserstein=0.5, hellinger=0.3, missing_fraction=0.05
    )
    assert thresholds(n, "skew") == Thresholds(chi_squared=1e-3, psi=0.25)
    again = set_drift_thresholds(updated, "n", psi=0.3)  # replaces, keeps the others
    assert thresholds(get_feature(again, "n"), "drift").psi == 0.3
    assert thresholds(get_feature(again, "n"), "drift").ks == 0.1
    assert len(get_feature(again, "n").annotation.extra_metadata) == 1


def test_every_feature_at_once_and_nested_ones() -> None:
    updated = set_drift_thresholds(BASE, None, missing_fraction=0.1)
    for name in ("x", "n", "s.y"):
        assert thresholds(get_feature(updated, name), "drift").missing_fraction == 0.1
    assert thresholds(get_feature(updated, "s"), "drift").empty  # STRUCT: no values
    nested = set_skew_thresholds(BASE, ("s", "y"), ks=0.2)
    assert thresholds(get_feature(nested, "s.y"), "skew").ks == 0.2


def test_the_schema_file_round_trips_and_stays_tfmd(tmp_path: Path) -> None:
    updated = set_drift_thresholds(BASE, "n", psi=0.2, l_infinity=0.1)
    path = tmp_path / "schema.pbtxt"
    write_schema(updated, str(path))
    assert load_schema(str(path)) == updated
    # A plain tensorflow-metadata parser (what TFDV uses) reads the file: the annotation is
    # an Any it keeps without knowing the type.
    plain = text_format.Parse(path.read_text(), schema_pb2.Schema())
    extra = get_feature(plain, "n").annotation.extra_metadata[0]
    assert extra.type_url == "type.googleapis.com/beam_stats.FeatureComparators"


def test_bad_thresholds() -> None:
    with pytest.raises(InvalidInputError, match="unknown measure 'kl'"):
        set_drift_thresholds(BASE, "x", kl=0.1)
    with pytest.raises(InvalidInputError, match="finite and >= 0"):
        set_drift_thresholds(BASE, "x", psi=-1)
    with pytest.raises(InvalidInputError, match="p-value in"):
        set_skew_thresholds(BASE, "x", chi_squared=2)
    with pytest.raises(InvalidInputError, match="no feature nope"):
        set_drift_thresholds(BASE, "nope", psi=0.1)
    broken = schema_pb2.Schema()
    broken.CopyFrom(BASE)
    extra = broken.feature[0].annotation.extra_metadata.add()
    extra.type_url = "type.googleapis.com/beam_stats.FeatureComparators"
    extra.value = b"\xff"
    with pytest.raises(SchemaError, match="unreadable"):
        thresholds(broken.feature[0], "drift")
