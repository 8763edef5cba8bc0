"""A statistics fact that breaks a schema constraint, and how the descriptions are written.

Descriptions put user text (feature names, values) in as it is: nothing is escaped here,
and user text is only ever substituted into a message, never used as a format template.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

AnomalyType = anomalies_pb2.AnomalyInfo.Type


@dataclasses.dataclass(frozen=True)
class Violation:
    """One reason a feature (or the dataset) breaks the schema.

    Attributes:
        type: an ``AnomalyInfo.Type`` value.
        short: a few words, naming the observed and the expected value where they fit.
        long: a sentence or two naming both.
    """

    type: int
    short: str
    long: str

    @property
    def type_name(self) -> str:
        return str(AnomalyType.Name(self.type))


def num(value: float) -> str:
    """A number as people read it: ints without a fraction, else six significant digits."""
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 2**63:
        return str(int(value))
    return f"{value:.6g}"


def pct(fraction: float) -> str:
    return f"{100 * fraction:.4g}%"


def quoted(values: Iterable[str], limit: int = 10) -> str:
    """The first `limit` values in double quotes, comma-separated, with a count of the rest."""
    items = list(values)
    shown = ", ".join(f'"{v}"' for v in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def type_name(feature_type: int) -> str:
    return str(schema_pb2.FeatureType.Name(feature_type))
