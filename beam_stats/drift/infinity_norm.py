"""L-infinity distance between two categorical distributions (TFDV's ``infinity_norm``).

Formula (TFDV ``LInftyDistance``)::

    L_inf = max over v of | c_base(v) / S_base - c_test(v) / S_test |

where ``c(v)`` is the count of value ``v`` and ``S`` the sum of the dataset's listed counts.

Bins: the union of the values either dataset lists (``listed`` shares of
:mod:`beam_stats.drift.categorical`): the sketch state's frequent items when present, else
the rank histogram or top values of the finished statistics. A value listed by one dataset
only counts 0 in the other, so a value that appears or vanishes contributes its whole share.
The value with the largest difference is named in ``detail``. Range 0 (same shares) to 1.

Empty input: a dataset without listed counts gives no distance (None). Error: 0 when both
datasets list every value with an exact count, else not bounded (counts are Misra-Gries
lower bounds, or the list is truncated).
"""

from __future__ import annotations

import numpy as np

from beam_stats.drift.categorical import Categorical, aligned_shares, error_of, undercount_note
from beam_stats.drift.measure import Distance, joint_source


def l_infinity(base: Categorical, test: Categorical) -> Distance | None:
    """The L-infinity distance of the two datasets' value shares (module docstring)."""
    shares = aligned_shares(base, test, with_rest=False)
    if shares is None:
        return None
    difference = np.abs(shares.test - shares.base)
    i = int(np.argmax(difference))
    detail = f'largest difference at "{shares.labels[i]}"'
    note = undercount_note(base, test)
    return Distance(
        float(difference[i]),
        error_of(base, test),
        joint_source(base.source, test.source),
        f"{detail}; {note}" if note else detail,
    )
