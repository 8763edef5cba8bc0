"""The validity masks of beam_stats.arrow, read from the bitmap (issue 16), against Arrow's
own ``is_valid`` and ``filter`` on every layout of nulls."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from beam_stats.arrow import _drop_nulls, _valid_mask


def _layouts() -> dict[str, pa.Array]:
    rng = np.random.default_rng(11)
    n = 1003
    nulls = rng.random(n) < 0.3
    floats = pa.array(rng.normal(size=n), mask=nulls)
    words = pa.array([None if m else f"w{i % 7}" for i, m in enumerate(nulls)])
    return {
        "floats": floats,
        "sliced by 3": floats.slice(3, 900),  # an offset inside a byte of the bitmap
        "sliced by 16": floats.slice(16),
        "strings": words,
        "large strings": words.cast(pa.large_string()).slice(5),
        "dictionary": pa.DictionaryArray.from_arrays(
            pa.array([None if m else i % 3 for i, m in enumerate(nulls)], pa.int32()),
            pa.array(["a", None, "c"]),  # a null in the dictionary: not a null index
        ),
        "struct": pa.StructArray.from_arrays(
            [floats, words], names=["x", "s"], mask=pa.array(rng.random(n) < 0.2)
        ).slice(7),
        "list": pa.array([None if m else [1, 2] for m in nulls]).slice(1),
        "booleans": pa.array([None if m else bool(i % 2) for i, m in enumerate(nulls)]),
        "all null": pa.nulls(10, pa.int64()),
        "null type": pa.nulls(9),
        "no nulls": pa.array(range(20)),
        "union": pa.UnionArray.from_sparse(
            pa.array([0, 1, 0, 1], pa.int8()),
            [pa.array([1, None, 3, 4]), pa.array(["a", "b", None, "d"])],
        ),
        "run-end encoded": pc.run_end_encode(pa.array([1, 1, None, None, 2])),
    }


@pytest.mark.parametrize("name", list(_layouts()))
def test_valid_mask_and_drop_nulls_are_arrows(name: str) -> None:
    array = _layouts()[name]
    expected = np.asarray(array.is_valid(), dtype=bool)
    valid = _valid_mask(array)
    assert valid.dtype == bool
    np.testing.assert_array_equal(valid, expected)
    if name in ("union", "run-end encoded"):
        return  # not filtered by the statistics (plain_layout decodes run ends first)
    dropped = _drop_nulls(array, valid)
    assert dropped.equals(array.filter(pa.array(expected))), name
