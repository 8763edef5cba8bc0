"""Schema files: TFDV's schema.pbtxt loads unchanged, ours load without beam-stats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from anomaly_helpers import by_feature, stats
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from beam_stats.beam import load_schema, write_schema
from beam_stats.errors import DeserializationError, InvalidInputError, SchemaError
from beam_stats.proto import schema_pb2 as bs_schema_pb2
from beam_stats.schema import (
    get_feature,
    infer_schema,
    severity_overrides,
    with_severity_overrides,
)
from beam_stats.schema.extras import provenance
from beam_stats.validation import validate_statistics

TFDV_SCHEMA = Path(__file__).parent / "testdata" / "tfdv_schema.pbtxt"
TRIPS: dict[str, list[Any]] = {
    "company": ["Flash Cab", None, "Taxi Affiliation"],
    "payment_type": ["Cash", "Credit Card", "Cash"],
    "trip_start_hour": [0, 13, 23],
    "trip_miles": [0.0, 3.5, 17.25],
    "tips": [0.0, 2.5, 4.0],
    "is_cash": [1, 0, 1],
}


def test_a_tfdv_schema_loads_unchanged() -> None:
    schema = load_schema(TFDV_SCHEMA)
    assert schema == text_format.Parse(TFDV_SCHEMA.read_text(), schema_pb2.Schema())
    assert [f.name for f in schema.feature][:3] == ["company", "payment_type", "trip_start_hour"]
    assert get_feature(schema, "payment_type").domain == "payment_type"
    assert list(schema.default_environment) == ["TRAINING", "SERVING"]


def test_a_tfdv_schema_validates() -> None:
    schema = load_schema(TFDV_SCHEMA)
    assert by_feature(validate_statistics(stats(TRIPS), schema, "TRAINING")) == {}
    serving = {k: v for k, v in TRIPS.items() if k != "tips"}
    assert by_feature(validate_statistics(stats(serving), schema, "SERVING")) == {}
    assert by_feature(validate_statistics(stats(serving), schema, "TRAINING")) == {
        "tips": {"SCHEMA_MISSING_COLUMN"}
    }
    changed = {
        **TRIPS,
        "payment_type": ["Cash", "Bitcoin", "Cash"],
        "trip_start_hour": [0, 13, 24],
        "is_cash": [1, 0, 2],
        "pickup_census_tract": ["17031081500", None, None],  # deprecated: not checked
    }
    assert by_feature(validate_statistics(stats(changed), schema, "TRAINING")) == {
        "payment_type": {"ENUM_TYPE_UNEXPECTED_STRING_VALUES"},
        "trip_start_hour": {"INT_TYPE_BIG_INT"},
        "is_cash": {"BOOL_TYPE_BIG_INT"},
    }
    too_few = {k: v[:2] for k, v in TRIPS.items()}
    assert by_feature(validate_statistics(stats(too_few), schema, "TRAINING")) == {
        "": {"DATASET_LOW_NUM_EXAMPLES"}
    }


@pytest.mark.parametrize("name", ["schema.pbtxt", "schema.pb"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    schema = with_severity_overrides(infer_schema(stats(TRIPS)), {"SCHEMA_NEW_COLUMN": "WARNING"})
    path = tmp_path / "sub" / name
    assert write_schema(schema, path) == str(path)
    assert load_schema(path) == schema
    assert load_schema(str(path)) == schema


def test_written_text_loads_without_beam_stats(tmp_path: Path) -> None:
    schema = with_severity_overrides(infer_schema(stats(TRIPS)), {"INT_TYPE_BIG_INT": "WARNING"})
    path = write_schema(schema, tmp_path / "schema.pbtxt")
    text = Path(path).read_text()
    assert text.startswith("# beam-stats annotations")
    assert '# beam_stats.AnomalySeverities { overrides { anomaly_type: "INT_TYPE_BIG_INT"' in text
    assert 'type_url: "type.googleapis.com/beam_stats.InferenceProvenance"' in text
    # A reader that knows only tensorflow-metadata (as TFDV does) parses the file.
    code = (
        "import sys\n"
        "from google.protobuf import text_format\n"
        "from tensorflow_metadata.proto.v0 import schema_pb2\n"
        "s = text_format.Parse(open(sys.argv[1]).read(), schema_pb2.Schema())\n"
        "assert 'beam_stats' not in sys.modules\n"
        "print(len(s.feature), len(s.annotation.extra_metadata))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [str(len(schema.feature)), "2"]


def test_expanded_annotations_written_by_hand_load() -> None:
    text = (
        'feature { name: "x" type: INT }\n'
        "annotation { extra_metadata {\n"
        "  [type.googleapis.com/beam_stats.AnomalySeverities] {\n"
        '    overrides { anomaly_type: "SCHEMA_NEW_COLUMN" severity: WARNING } } } }\n'
    )
    schema = text_format.Parse(text, schema_pb2.Schema())
    assert severity_overrides(schema) == {36: 1}


def test_severity_override_names_are_checked() -> None:
    with pytest.raises(SchemaError, match="unknown anomaly type 'NO_SUCH_TYPE'"):
        with_severity_overrides(schema_pb2.Schema(), {"NO_SUCH_TYPE": "WARNING"})
    with pytest.raises(SchemaError, match="WARNING or ERROR"):
        with_severity_overrides(schema_pb2.Schema(), {"SCHEMA_NEW_COLUMN": "INFO"})
    bad = schema_pb2.Schema()
    message = bs_schema_pb2.AnomalySeverities()
    message.overrides.add(anomaly_type="BOGUS", severity=bs_schema_pb2.AnomalySeverities.ERROR)
    bad.annotation.extra_metadata.add().Pack(message)
    with pytest.raises(SchemaError, match="BOGUS"):
        severity_overrides(bad)


def test_replacing_overrides_keeps_other_annotations() -> None:
    schema = infer_schema(stats(TRIPS))
    schema.annotation.tag.append("kept")
    once = with_severity_overrides(schema, {"SCHEMA_NEW_COLUMN": "WARNING"})
    twice = with_severity_overrides(once, {"INT_TYPE_BIG_INT": "ERROR"})
    assert severity_overrides(twice) == {28: 2}
    assert len(twice.annotation.extra_metadata) == 2 and provenance(twice) is not None
    assert list(twice.annotation.tag) == ["kept"]
    assert severity_overrides(schema) == {}  # the argument is not modified


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no schema file"):
        load_schema(tmp_path / "missing.pbtxt")
    empty = tmp_path / "empty.pb"
    empty.write_bytes(b"")
    with pytest.raises(DeserializationError, match="empty"):
        load_schema(empty)
    corrupt = tmp_path / "corrupt.pbtxt"
    corrupt.write_text("feature { name: ")
    with pytest.raises(DeserializationError, match="not a Schema"):
        load_schema(corrupt)
    foreign = tmp_path / "stats.pb"
    foreign.write_bytes(stats(TRIPS).SerializeToString())
    with pytest.raises(DeserializationError):
        load_schema(foreign)
    with pytest.raises(InvalidInputError, match="expected a Schema"):
        write_schema(stats(TRIPS), tmp_path / "x.pbtxt")
