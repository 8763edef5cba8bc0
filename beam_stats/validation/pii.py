"""Personal data suspected in a feature: the ``PII_SUSPECTED`` warning; and anomalies made
before a privacy policy applied, withheld where they may quote protected values.

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
from beam_stats.schema.privacy import treated_paths, without_values
from beam_stats.schema.violations import Violation, pct
from beam_stats.stats.pii import KINDS, MIN_FRACTION, PREFIX

SHORT = "PII_SUSPECTED"
#: What replaces a description that may quote values a privacy policy removes.
WITHHELD = "description withheld: the privacy policy protects this feature's values"


def check_pii(
    dataset: statistics_pb2.DatasetFeatureStatistics, min_fraction: float = MIN_FRACTION
) -> dict[FeaturePath, list[Violation]]:
    """The ``PII_SUSPECTED`` reason of each feature of `dataset` that has one; none for a
    feature a privacy policy already redacts or hashes."""
    found: dict[FeaturePath, list[Violation]] = {}
    protected = treated_paths(dataset, folded=False)
    for feature in dataset.features:
        path = tuple(feature.path.step) or (feature.name,)
        if path in protected:
            continue
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
        found[path] = [Violation(anomalies_pb2.AnomalyInfo.CUSTOM_VALIDATION, SHORT, long)]
    return found


def withhold_values(
    anomalies: anomalies_pb2.Anomalies,
    *datasets: statistics_pb2.DatasetFeatureStatistics,
    folded: bool = True,
) -> anomalies_pb2.Anomalies:
    """`anomalies` as they may be shown under a privacy policy, beside the protected
    `datasets`: for every feature the policy redacts or hashes in one of them (also those
    whose rare values it folds, if `folded`: anomalies made before the policy may quote
    them), descriptions become their short descriptions (they may quote values, from the
    statistics or the schema) and the baseline schema keeps no value of it
    (:func:`~beam_stats.schema.privacy.without_values`)."""
    treated = treated_paths(*datasets, folded=folded)
    shown = anomalies_pb2.Anomalies()
    shown.CopyFrom(anomalies)
    for name, info in shown.anomaly_info.items():
        if (tuple(info.path.step) or tuple(name.split("."))) not in treated:
            continue
        info.description = info.short_description = WITHHELD
        for reason in info.reason:
            reason.description = f"{reason.short_description} ({WITHHELD})"
    if shown.HasField("baseline"):
        shown.baseline.CopyFrom(without_values(shown.baseline, treated))
    return shown
