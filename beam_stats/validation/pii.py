"""Personal data suspected in a feature: the ``PII_SUSPECTED`` warning.

Raised by validation for every feature whose statistics say that at least
:data:`MIN_FRACTION` of its values look like a kind of personal data (the custom statistics
``pii_<kind>`` of :mod:`beam_stats.stats.pii`, on by default). One ``CUSTOM_VALIDATION``
reason per feature names each such kind and its fraction, never a value. Its severity is
WARNING (the catalogue's default for it; a severity override of ``CUSTOM_VALIDATION`` changes
it with the other custom reasons): personal data is a matter of policy, not a broken schema.
The threshold keeps the rare look-alike (an id that happens to pass a card checksum) quiet.
"""

from __future__ import annotations

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from beam_stats._types import FeaturePath
from beam_stats.schema.violations import Violation, pct
from beam_stats.stats.pii import KINDS, MIN_FRACTION, PREFIX

SHORT = "PII_SUSPECTED"


def check_pii(
    dataset: statistics_pb2.DatasetFeatureStatistics, min_fraction: float = MIN_FRACTION
) -> dict[FeaturePath, list[Violation]]:
    """The ``PII_SUSPECTED`` reason of each feature of `dataset` that has one."""
    found: dict[FeaturePath, list[Violation]] = {}
    for feature in dataset.features:
        fractions = {
            c.name[len(PREFIX) :]: c.num
            for c in feature.custom_stats
            if c.name.startswith(PREFIX) and c.name[len(PREFIX) :] in KINDS
        }
        suspected = [(k, f) for k, f in fractions.items() if f >= min_fraction]
        if not suspected:
            continue
        suspected.sort(key=lambda kf: (-kf[1], kf[0]))
        kinds = ", ".join(f"{kind} ({pct(fraction)} of values)" for kind, fraction in suspected)
        long = (
            f"Values of this feature look like personal data: {kinds}. Check that the data may "
            "hold it, and keep its values out of shared statistics and reports."
        )
        path = tuple(feature.path.step) or (feature.name,)
        found[path] = [Violation(anomalies_pb2.AnomalyInfo.CUSTOM_VALIDATION, SHORT, long)]
    return found
