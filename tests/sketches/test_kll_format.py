"""Tests of beam_stats.sketches._kll_format: every real KLL serialization validates."""

from __future__ import annotations

import datasketches
import numpy as np
import pytest

from beam_stats.sketches import _kll_format


def _kll(k: int, values: np.ndarray) -> datasketches.kll_doubles_sketch:
    s = datasketches.kll_doubles_sketch(k)
    s.update(np.ascontiguousarray(values, dtype=np.float64))
    return s


@pytest.mark.parametrize("k", [8, 9, 200, 1000])
@pytest.mark.parametrize("n", [0, 1, 2, 8, 9, 1000, 12_345, 100_000])
def test_accepts_sketches_of_all_sizes(k: int, n: int) -> None:
    rng = np.random.default_rng(k * 1_000_003 + n)
    s = _kll(k, rng.normal(size=n))
    _kll_format.validate(s.serialize(), k)
    other = _kll(k, np.append(rng.exponential(size=n // 3), [np.inf, -np.inf]))
    other.merge(s)
    _kll_format.validate(other.serialize(), k)


def test_accepts_long_merge_chains_and_smaller_k_merged_in() -> None:
    rng = np.random.default_rng(0)
    acc = datasketches.kll_doubles_sketch(200)
    for _ in range(200):
        acc.merge(_kll(200, rng.normal(size=int(rng.integers(1, 600)))))
        _kll_format.validate(acc.serialize(), 200)
    acc.merge(_kll(50, rng.normal(size=5000)))  # min_k drops to 50
    _kll_format.validate(acc.serialize(), 200)


def test_total_capacity_matches_datasketches() -> None:
    # The C++ sketch of k items holds one level of capacity k; more levels add ~2k/3 each.
    assert _kll_format.total_capacity(200, 1) == 200
    s = _kll(200, np.arange(100_000.0))
    data = s.serialize()
    num_levels = data[18]
    levels = np.frombuffer(data, dtype="<u4", count=num_levels, offset=20)
    retained = _kll_format.total_capacity(200, num_levels) - int(levels[0])
    assert retained == s.num_retained


def test_rejects_wrong_k_and_bad_levels() -> None:
    data = bytearray(_kll(200, np.arange(5000.0)).serialize())
    with pytest.raises(ValueError, match="k=200"):
        _kll_format.validate(bytes(data), 100)
    bad_count = bytearray(data)
    bad_count[18] = 40  # level count: would read past the buffer in C++
    with pytest.raises(ValueError):
        _kll_format.validate(bytes(bad_count), 200)
    bad_level = bytearray(data)
    bad_level[28] ^= 0x40  # a level offset out of order
    with pytest.raises(ValueError):
        _kll_format.validate(bytes(bad_level), 200)
    bad_n = bytearray(data)
    bad_n[8] ^= 1
    with pytest.raises(ValueError, match="n="):
        _kll_format.validate(bytes(bad_n), 200)
