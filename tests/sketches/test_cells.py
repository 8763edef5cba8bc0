"""Tests of beam_stats.sketches.cells: exact cell counts whose state depends only on the data."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beam_stats.errors import DeserializationError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.sketches.cells import MAX_CELLS, CellCounts, exponent_for

values = st.lists(
    st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.integers(-50, 50).map(float)
    | st.floats(-1e-300, 1e-300),
    min_size=1,
    max_size=200,
)


def cells_of(data: np.ndarray) -> CellCounts:
    cells = CellCounts()
    cells.add(np.sort(data))
    return cells


@settings(max_examples=200, deadline=None)
@given(data=values, cut=st.integers(0, 200))
def test_state_depends_only_on_the_values(data: list[float], cut: int) -> None:
    arr = np.array(data) + 0.0
    whole = cells_of(arr)
    left, right = cells_of(arr[:cut]), cells_of(arr[cut:])
    ab, ba = CellCounts(), CellCounts()
    ab.merge(left)
    ab.merge(right)
    ba.merge(right)
    ba.merge(left)
    assert ab.to_proto() == ba.to_proto() == whole.to_proto()
    assert CellCounts.from_proto(whole.to_proto()).to_proto() == whole.to_proto()
    # Each cell holds exactly the values of its interval, and the grid is the finest that fits.
    e = whole.exponent
    assert whole.index[-1] - whole.index[0] < MAX_CELLS
    assert whole.total == arr.size
    assert e == exponent_for(arr.min(), arr.max())
    # The cell of each value in exact rational arithmetic (no float underflow).
    cell = np.array([math.floor(Fraction(v) / Fraction(2) ** e) for v in arr.tolist()])
    for i, count, low, high in zip(whole.index, whole.count, whole.low, whole.high, strict=True):
        inside = arr[cell == i]
        assert (inside.size, inside.min(), inside.max()) == (count, low, high)
    assert set(cell.tolist()) == set(whole.index.tolist())


@settings(max_examples=200, deadline=None)
@given(data=values, points=st.lists(st.floats(-1e6, 1e6), max_size=20))
def test_split_is_exact_outside_straddling_cells(data: list[float], points: list[float]) -> None:
    arr = np.sort(np.array(data) + 0.0)
    cells = cells_of(arr)
    x = np.sort(np.array(points + [float(arr[0]), float(arr[-1])]))
    exact, straddle, where = cells.split(x)
    below = np.searchsorted(arr, x, side="left")
    for j in range(x.size):
        if where[j] < 0:
            assert straddle[j] == 0 and exact[j] == below[j]
        else:
            cell = where[j]
            assert cells.low[cell] < x[j] <= cells.high[cell]
            assert exact[j] < below[j] < exact[j] + straddle[j]


def test_extreme_ranges_and_signs() -> None:
    for data in (
        [-1.7976931348623157e308, 1.7976931348623157e308],
        [-5e-324, 0.0, 5e-324],
        [1.0, np.nextafter(1.0, 2.0)],
        [-3.0, -3.0, -3.0],
        [1e300, 1e300 * (1 + 2**-52)],
    ):
        arr = np.array(data)
        cells = cells_of(arr)
        assert cells.total == arr.size
        assert cells.low[0] == arr.min() and cells.high[-1] == arr.max()
        assert np.abs(cells.index).max() < 2**55


def test_add_rejects_unsorted_or_non_finite() -> None:
    with pytest.raises(InvalidInputError):
        CellCounts().add(np.array([2.0, 1.0]))
    with pytest.raises(InvalidInputError):
        CellCounts().add(np.array([1.0, np.inf]))


def test_from_proto_rejects_inconsistent_cells() -> None:
    good = cells_of(np.arange(100.0)).to_proto()
    for change in (
        lambda m: setattr(m, "max_cells", 7),
        lambda m: m.count.append(1),
        lambda m: m.index.__setitem__(0, m.index[1]),
        lambda m: m.low.__setitem__(1, m.low[1] + 50.0),
        lambda m: setattr(m, "exponent", m.exponent - 1),
    ):
        bad = sketches_pb2.CellCounts()
        bad.CopyFrom(good)
        change(bad)
        with pytest.raises(DeserializationError):
            CellCounts.from_proto(bad)
