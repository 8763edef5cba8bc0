"""Mergeable sketches behind the statistics: (weighted) quantiles, frequent items, distinct counts.

Each sketch is a frozen ``*Spec`` (settings, ``create()`` gives the empty accumulator) and a
mutable ``*Accumulator`` with ``add``, ``merge``, ``to_proto``/``from_proto`` and a finished
answer. Pure numpy/pyarrow; no Beam. Nothing is random: equal inputs give equal states.
"""

from beam_stats.sketches.distinct import DistinctCountAccumulator, DistinctCountSpec
from beam_stats.sketches.frequent import FrequentItemsAccumulator, FrequentItemsSpec
from beam_stats.sketches.hashing import hash_array
from beam_stats.sketches.quantiles import QuantilesAccumulator, QuantilesSpec
from beam_stats.sketches.weighted_quantiles import (
    WeightedQuantilesAccumulator,
    WeightedQuantilesSpec,
)

__all__ = [
    "DistinctCountAccumulator",
    "DistinctCountSpec",
    "FrequentItemsAccumulator",
    "FrequentItemsSpec",
    "QuantilesAccumulator",
    "QuantilesSpec",
    "WeightedQuantilesAccumulator",
    "WeightedQuantilesSpec",
    "hash_array",
]
