"""The weight of each example of a batch (``StatisticsSpec.weight_feature``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats._types import FeaturePath, path_str
from beam_stats.errors import InvalidInputError


def _numeric(data_type: pa.DataType) -> bool:
    return bool(pa.types.is_integer(data_type) or pa.types.is_floating(data_type))


def weight_values(column: pa.Array, path: FeaturePath) -> np.ndarray:
    """One float per example: a numeric column, or a list column (a TFRecord feature) of one
    value per example, where an example with none or several gets NaN (an invalid weight)."""
    if _numeric(column.type):
        weights: np.ndarray = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        return weights.copy()
    is_list = pa.types.is_list(column.type) or pa.types.is_large_list(column.type)
    if not (is_list and _numeric(column.type.value_type)):
        raise InvalidInputError(
            f"the weight feature {path_str(path)!r} must be a numeric column with one "
            f"value per example, got {column.type}"
        )
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
    values = pc.cast(pc.list_flatten(column), pa.float64()).to_numpy(zero_copy_only=False)
    weights = np.full(len(column), np.nan)
    single = lengths[parents] == 1
    weights[parents[single]] = values[single]
    return weights
