"""Normalized absolute difference of two categorical distributions (TFDV's
``normalized_abs_difference``).

Formula (TFDV ``NormalizedAbsoluteDifference``, counts scaled by the combined total)::

    NAD = max over v of | c_base(v) - c_test(v) | / (S_base + S_test)

where ``c(v)`` is the count of value ``v`` and ``S`` the sum of the dataset's listed counts.
Unlike the L-infinity distance it compares raw counts, so it also reacts to a change in
volume: with twice the test data and the same shares, it is ``c_base(v) / (3 S_base)``.

Bins: the union of the values either dataset lists, as for the L-infinity distance (see
:mod:`beam_stats.drift.categorical`); a one-sided value counts 0 in the other dataset.
Range 0 to 1. Empty input: a dataset without listed counts gives no distance (None).
Error: 0 when both datasets list every value exactly, else not bounded.
"""

from __future__ import annotations

import numpy as np

from beam_stats.drift.categorical import Categorical, aligned_counts, error_of, undercount_note
from beam_stats.drift.measure import Distance, joint_source


def normalized_abs_difference(base: Categorical, test: Categorical) -> Distance | None:
    """TFDV's normalized absolute difference of the two datasets' counts."""
    counts = aligned_counts(base, test, with_rest=False)
    scale = counts.base.sum() + counts.test.sum()
    if counts.base.sum() <= 0 or counts.test.sum() <= 0:
        return None
    difference = np.abs(counts.test - counts.base) / scale
    i = int(np.argmax(difference))
    detail = f'largest difference at "{counts.labels[i]}"'
    note = undercount_note(base, test)
    return Distance(
        float(difference[i]),
        error_of(base, test),
        joint_source(base.source, test.source),
        f"{detail}; {note}" if note else detail,
    )
