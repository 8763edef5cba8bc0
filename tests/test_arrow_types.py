"""Arrow types beyond the common ones (issue 11, item 13): read properly, or counted as
unsupported with a clear custom statistic; never a raw Arrow error or an empty STRING."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats import generate_statistics_from_table
from beam_stats.arrow import flatten_batch
from beam_stats.errors import InvalidInputError

FeatureType = statistics_pb2.FeatureNameStatistics.Type


def _feature(array: pa.Array) -> statistics_pb2.FeatureNameStatistics:
    batch = pa.RecordBatch.from_arrays([array], names=["x"])
    (feature,) = generate_statistics_from_table(batch, include_state=False).datasets[0].features
    return feature


def _custom(feature: statistics_pb2.FeatureNameStatistics) -> dict[str, float]:
    return {c.name: c.num for c in feature.custom_stats}


def test_string_and_binary_views_read_as_strings() -> None:
    for view, plain in ((pa.string_view(), pa.string()), (pa.binary_view(), pa.binary())):
        values = ["a", "b", None, "a"] if view == pa.string_view() else [b"a", b"b", None, b"a"]
        assert _feature(pa.array(values, view)) == _feature(pa.array(values, plain))


def test_run_end_encoded_reads_as_its_values() -> None:
    encoded = pa.RunEndEncodedArray.from_arrays([2, 5], pa.array([1, 7]))
    assert _feature(encoded) == _feature(pa.array([1, 1, 7, 7, 7]))


def test_uuid_reads_as_its_16_bytes() -> None:
    ids = [uuid.UUID(bytes=b"\xff" * 15 + bytes([i])).bytes for i in range(3)]  # not UTF-8
    feature = _feature(pa.ExtensionArray.from_storage(pa.uuid(), pa.array(ids, pa.binary(16))))
    assert feature.type == FeatureType.BYTES
    assert feature.bytes_stats.unique == 3


@pytest.mark.parametrize(
    "array",
    [
        pa.UnionArray.from_sparse(
            pa.array([0, 1, 0], pa.int8()), [pa.array([1, 2, 3]), pa.array(["a", "b", "c"])]
        ),
        pa.array([pa.MonthDayNano([1, 2, 3])] * 3, pa.month_day_nano_interval()),
        pa.array([[("k", 1)], [("k", 2)], [("j", 3)]], pa.map_(pa.string(), pa.int64())),
    ],
    ids=["union", "interval", "map"],
)
def test_unsupported_types_are_counted_as_such(array: pa.Array) -> None:
    feature = _feature(array)
    assert _custom(feature)["unsupported_values"] == 3
    assert feature.string_stats.common_stats.num_non_missing == 3


def test_mixed_type_pandas_object_column_is_a_clear_error() -> None:
    frame = pd.DataFrame({"m": [1, "a", 2.5, None]})
    with pytest.raises(InvalidInputError, match="astype"):
        generate_statistics_from_table(frame)


@pytest.mark.parametrize("levels", [64, 3000])
def test_columns_nested_deeper_than_64_levels_are_counted_not_walked(levels: int) -> None:
    # Found by tests/beam/test_fuzz_inputs.py: Arrow's filter crashed the process at 3,000
    # levels of structs.
    deep = pa.array([1, None, 3])
    for _ in range(levels):
        deep = pa.StructArray.from_arrays([deep], names=["b"])
    feature = _feature(deep)
    assert list(feature.path.step) == ["x"]
    assert _custom(feature)["unsupported_values"] == 3  # struct nulls: none at the top


def test_numbers_are_int64_or_float64_and_those_pass_as_they_are() -> None:
    """Narrow types are cast (values equal numpy's); int64 and float64 without nulls are
    the column itself, not a copy."""
    ints, floats = np.arange(-3, 7, dtype=np.int64), np.linspace(-1.0, 1.0, 10)
    batch = pa.record_batch(
        {
            "i64": pa.array(ints),
            "i16": pa.array(ints.astype(np.int16)),
            "f64": pa.array(floats),
            "f32": pa.array(floats.astype(np.float32)),
            "b": pa.array(ints > 0),
        }
    )
    columns = {c.path: c for c in flatten_batch(batch)}
    expected = {
        "i64": ints,
        "i16": ints,
        "f64": floats,
        "f32": floats.astype(np.float32).astype(np.float64),
        "b": (ints > 0).astype(np.int64),
    }
    for name, want in expected.items():
        values = columns[(name,)].values
        assert values.type == (pa.float64() if want.dtype.kind == "f" else pa.int64()), name
        np.testing.assert_array_equal(values.to_numpy(), want)
    for name in ("i64", "f64"):
        values = columns[(name,)].values
        assert values.buffers()[1].address == batch.column(name).buffers()[1].address
