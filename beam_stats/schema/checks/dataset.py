"""The dataset's number of examples against ``dataset_constraints``.

Fewer examples than ``min_examples_count`` -> DATASET_LOW_NUM_EXAMPLES, more than
``max_examples_count`` -> DATASET_HIGH_NUM_EXAMPLES; the bound moves to the observed count.
(The ratio to a previous span's count, ``num_examples_drift_comparator``, is a comparator:
:mod:`beam_stats.validation.comparators`.)
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from beam_stats.schema.violations import AnomalyType, Violation


def dataset_violations(
    schema: schema_pb2.Schema, dataset: statistics_pb2.DatasetFeatureStatistics
) -> list[Violation]:
    """The dataset-level violations of `dataset`, relaxing `schema`'s constraints."""
    if not schema.HasField("dataset_constraints"):
        return []
    constraints = schema.dataset_constraints
    n = int(dataset.num_examples)
    found = []
    if constraints.HasField("min_examples_count") and n < constraints.min_examples_count:
        found.append(
            Violation(
                AnomalyType.DATASET_LOW_NUM_EXAMPLES,
                f"{n} examples, expected >= {constraints.min_examples_count}",
                f"The dataset has {n} examples; the schema expects at least "
                f"{constraints.min_examples_count}.",
            )
        )
        constraints.min_examples_count = n
    if constraints.HasField("max_examples_count") and n > constraints.max_examples_count:
        found.append(
            Violation(
                AnomalyType.DATASET_HIGH_NUM_EXAMPLES,
                f"{n} examples, expected <= {constraints.max_examples_count}",
                f"The dataset has {n} examples; the schema expects at most "
                f"{constraints.max_examples_count}.",
            )
        )
        constraints.max_examples_count = n
    return found
