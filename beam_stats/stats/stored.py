"""Statistics that merge after the fact: accumulators back from finished statistics.

Every feature of a beam-stats statistics file carries its lossless sketch state in the custom
statistic ``beam_stats.state`` (a ``StoredFeatureState`` packed in ``CustomStatistic.any``),
so Monday's and Tuesday's statistics merge into the week's without reading the data again:
exact statistics come out identical to a single run over the union, sketched ones within
their stated bounds (see each sketch's module).

Datasets merge by name, so the slices of two sliced runs merge slice by slice. Files made
with different sketch settings, files without state (written with ``include_state=False`` or
by another tool, such as TFDV) and state of a newer format fail with an error naming the
source and the mismatch. ``format_version`` is checked here: state of format 1 (randomized KLL
quantiles) cannot merge with format 2 and fails like state made with other settings; its
finished statistics still load, validate and compare.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import statistics_pb2

from beam_stats._types import path_str
from beam_stats.errors import DeserializationError, IncompatibleMergeError, InvalidInputError
from beam_stats.proto import sketches_pb2
from beam_stats.stats.composite import CompositeAccumulator
from beam_stats.stats.dataset import DatasetAccumulator
from beam_stats.stats.feature import LATEST_FORMAT_VERSION, STATE_NAME, FeatureAccumulator
from beam_stats.stats.integrity import is_intact
from beam_stats.stats.privacy import PrivacySpec, describe_policy
from beam_stats.stats.spec import StatisticsSpec

FIRST_READABLE_FORMAT = 2  # format 1 held randomized KLL quantiles, which cannot merge with 2


def _stored_state(
    feature: statistics_pb2.FeatureNameStatistics, where: str
) -> sketches_pb2.StoredFeatureState:
    name = path_str(tuple(feature.path.step)) or feature.name
    custom = next((c for c in feature.custom_stats if c.name == STATE_NAME), None)
    if custom is None or not custom.HasField("any"):
        raise IncompatibleMergeError(
            f"{where}: feature {name!r} has no sketch state (the file was written without it, "
            "or by another tool such as TFDV), so it cannot be merged"
        )
    stored = sketches_pb2.StoredFeatureState()
    try:
        unpacked = custom.any.Unpack(stored)
    except DecodeError as e:
        raise DeserializationError(
            f"{where}: feature {name!r}: its sketch state is damaged ({e})"
        ) from e
    if not unpacked:
        raise DeserializationError(
            f"{where}: feature {name!r}: {STATE_NAME} holds a {custom.any.type_url}, "
            "not a beam_stats.StoredFeatureState"
        )
    if 0 < stored.format_version < FIRST_READABLE_FORMAT:
        raise IncompatibleMergeError(
            f"{where}: feature {name!r} has sketch state of format {stored.format_version}, "
            "whose randomized KLL quantiles cannot merge with this beam-stats' deterministic "
            "ones; its finished statistics still load, validate and compare: compute the "
            "statistics again to merge them"
        )
    if stored.format_version < 1 or stored.format_version > LATEST_FORMAT_VERSION:
        raise DeserializationError(
            f"{where}: feature {name!r} has sketch state of format {stored.format_version}; "
            f"this beam-stats reads formats {FIRST_READABLE_FORMAT} to {LATEST_FORMAT_VERSION}"
        )
    if not is_intact(stored):
        raise DeserializationError(
            f"{where}: feature {name!r}: its sketch state is damaged (checksum "
            f"{'missing' if not stored.HasField('checksum') else 'mismatch'}); the file was "
            "changed after it was written: compute the statistics again"
        )
    return stored


def accumulator_from_statistics(
    dataset: statistics_pb2.DatasetFeatureStatistics,
    spec: StatisticsSpec | None = None,
    source: str = "statistics",
    *,
    drop_custom: bool = False,
) -> DatasetAccumulator:
    """The accumulator that finished statistics were written from.

    Args:
        dataset: one dataset (or slice) of a beam-stats statistics file.
        spec: the options of the result; by default those stored with the state.
        source: where `dataset` came from, for error messages (e.g. its file name).
        drop_custom: leave out the state of custom statistics (their code is not in the
            file): for reading the built-in sketches, not for merging.

    Raises:
        IncompatibleMergeError: a feature has no state, or state made with sketch settings
            other than `spec`'s.
        DeserializationError: the state is corrupt or of an unknown format.
    """
    where = f"{source} (dataset {dataset.name!r})" if dataset.name else source
    stored = [_stored_state(feature, where) for feature in dataset.features]
    if drop_custom:
        for state in stored:
            del state.settings.custom_statistics[:]
            state.state.custom.clear()
    if spec is None and stored and stored[0].settings.custom_statistics:
        names = ", ".join(stored[0].settings.custom_statistics)
        raise IncompatibleMergeError(
            f"{where} holds the state of custom statistics ({names}); their code is not in "
            "the file: give their specs, e.g. merge_statistics(..., spec=StatisticsSpec("
            "statistics=(...)))"
        )
    if spec is None and stored:
        settings = sketches_pb2.SketchSettings()
        settings.CopyFrom(stored[0].settings)
        spec = StatisticsSpec.from_protos(settings, stored[0].options)
    spec = spec or StatisticsSpec()
    accumulator = DatasetAccumulator(spec)
    accumulator.num_examples = dataset.num_examples
    accumulator.weighted_num_examples = dataset.weighted_num_examples
    composite_index = {c.path: i for i, c in enumerate(spec.composites)}
    for feature, state in zip(dataset.features, stored, strict=True):
        if state.settings != spec.settings():
            raise IncompatibleMergeError(
                f"{where}: feature {path_str(tuple(feature.path.step))!r} was made with "
                f"{_describe(state.settings, spec.settings())}"
            )
        try:
            if state.HasField("state"):  # else the entry of a composite only
                restored = FeatureAccumulator.from_proto(state.state, spec)
                accumulator.features[restored.path] = restored
            for composite in state.composites:
                path = tuple(composite.path.step)
                index = composite_index.get(path)
                if index is None:
                    raise ValueError(f"state of composite {path_str(path)!r} not in the settings")
                accumulator.composites[index] = CompositeAccumulator.from_proto(
                    composite, spec.composites[index]
                )
        except (ValueError, DeserializationError) as e:
            raise DeserializationError(f"{where}: corrupt sketch state: {e}") from e
    return accumulator


def _settings_items(settings: sketches_pb2.SketchSettings) -> list[str]:
    items = [
        f"quantiles capacity={settings.quantiles_capacity}",
        f"quantiles exact limit={settings.quantiles_exact_limit}",
        f"top values capacity={settings.top_k_capacity}",
        f"distinct precision={settings.distinct_precision}",
        f"distinct exact limit={settings.distinct_exact_limit}",
        "sparse and weighted features="
        f"[{', '.join(path_str(tuple(c.path.step)) for c in settings.composites)}]",
        f"custom statistics=[{', '.join(settings.custom_statistics)}]",
        f"privacy policy={describe_policy(settings.privacy)}",
    ]
    if not settings.HasField("label"):
        return [*items, "label=none"]
    label = settings.label
    return [
        *items,
        f"label={label.feature}",
        f"label bins=[{', '.join(repr(edge) for edge in label.bins)}]",
        f"label max classes={label.max_classes}",
        f"label top values={label.top_values}",
        f"label feature bins={label.feature_bins}",
        f"label pair capacity={label.pair_capacity}",
    ]


def _differences(
    settings: sketches_pb2.SketchSettings, expected: sketches_pb2.SketchSettings
) -> tuple[str, str]:
    """The settings that differ: this state's, then the expected ones (all if none differ
    as text, e.g. a field this version does not describe)."""
    got, want = _settings_items(settings), _settings_items(expected)
    differ = [(a, b) for a, b in itertools.zip_longest(got, want, fillvalue="") if a != b] or [
        (", ".join(got), ", ".join(want))
    ]
    return "; ".join(a for a, _ in differ if a), "; ".join(b for _, b in differ if b)


def _describe(settings: sketches_pb2.SketchSettings, expected: sketches_pb2.SketchSettings) -> str:
    got, want = _differences(settings, expected)
    return f"sketch settings ({got}), expected ({want})"


def recorded_settings(
    dataset: statistics_pb2.DatasetFeatureStatistics,
) -> sketches_pb2.SketchSettings | None:
    """The sketch settings (privacy policy included) a dataset's state was made with; None
    without state. Every feature of a dataset records the same."""
    for feature in dataset.features:
        custom = next((c for c in feature.custom_stats if c.name == STATE_NAME), None)
        stored = sketches_pb2.StoredFeatureState()
        if custom is not None and custom.any.Unpack(stored):
            return stored.settings
    return None


def check_same_settings(
    settings: sketches_pb2.SketchSettings,
    reference: statistics_pb2.DatasetFeatureStatistics,
    what: str,
    reference_name: str,
) -> None:
    """Refuses statistics made with `settings` where they must merge with `reference`.

    Raises:
        IncompatibleMergeError: the settings differ; the message names both sides and the
            settings that differ.
    """
    expected = recorded_settings(reference)
    if expected is not None and settings != expected:
        got, want = _differences(settings, expected)
        raise IncompatibleMergeError(
            f"sketch settings differ: {what} ({got}), {reference_name} ({want}); they "
            "could never merge: compute them with the same settings (or use another store)"
        )


def _recorded(dataset: statistics_pb2.DatasetFeatureStatistics) -> sketches_pb2.PrivacyPolicy:
    settings = recorded_settings(dataset)
    return settings.privacy if settings is not None else sketches_pb2.PrivacyPolicy()


def recorded_policy(dataset: statistics_pb2.DatasetFeatureStatistics) -> str:
    """The privacy policy a dataset's sketch state records, in words ("none" without one
    or without state); every feature of a dataset records the same."""
    return describe_policy(_recorded(dataset))


def recorded_privacy(dataset: statistics_pb2.DatasetFeatureStatistics) -> PrivacySpec:
    """The privacy policy a dataset's sketch state records (without the hash key)."""
    return PrivacySpec.from_proto(_recorded(dataset))


def check_same_policy(
    datasets: Sequence[statistics_pb2.DatasetFeatureStatistics], sources: Sequence[str]
) -> None:
    """Refuses to compare statistics made with different privacy policies (a hashed value
    never equals its plain text, and a redacted feature lists nothing).

    Raises:
        IncompatibleMergeError: two of `datasets` record different policies.
    """
    policies = [recorded_policy(d) for d in datasets]
    if len(set(policies)) > 1:
        made = "; ".join(f"{s}: {p}" for s, p in zip(sources, policies, strict=True))
        raise IncompatibleMergeError(
            f"the statistics were made with different privacy policies ({made}); give each "
            "the same policy (e.g. beam-stats redact, or the same flags) to compare them"
        )


def _with_privacy(accumulator: DatasetAccumulator, privacy: PrivacySpec) -> DatasetAccumulator:
    """`accumulator` with `privacy` on top of its own policy (applied when its result is
    written)."""
    spec = dataclasses.replace(accumulator.spec, privacy=accumulator.spec.privacy.union(privacy))
    state = accumulator.to_proto()
    state.settings.CopyFrom(spec.settings())
    return DatasetAccumulator.from_proto(state, spec)


def protect_statistics(
    statistics: statistics_pb2.DatasetFeatureStatisticsList,
    privacy: PrivacySpec,
    *,
    spec: StatisticsSpec | None = None,
    source: str = "statistics",
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Statistics written before, with `privacy` applied on top of the policy they record
    (``beam-stats redact``: retention and deletion requests; or before showing them).

    Args:
        statistics: beam-stats statistics with sketch state.
        privacy: what to remove; a feature to hash that is not hashed yet needs its key.
        spec: the specs of the file's custom statistics, as for :func:`merge_statistics`.
        source: the file's name, for error messages.

    Raises:
        IncompatibleMergeError: a dataset without sketch state (nothing to rebuild from).
        InvalidInputError: the policies hash with different keys, or no key to hash.
    """
    datasets = []
    for dataset in statistics.datasets:
        try:
            accumulator = accumulator_from_statistics(dataset, spec, source)
        except IncompatibleMergeError as e:
            raise IncompatibleMergeError(
                f"cannot apply a privacy policy: {e} (the policy is applied to the sketch "
                "state: compute these statistics again with the policy)"
            ) from e
        datasets.append(_with_privacy(accumulator, privacy).result(dataset.name))
    return statistics_pb2.DatasetFeatureStatisticsList(datasets=datasets)


def merge_statistics(
    *statistics: statistics_pb2.DatasetFeatureStatisticsList,
    spec: StatisticsSpec | None = None,
    sources: Sequence[str] | None = None,
    include_state: bool = True,
    privacy: PrivacySpec | None = None,
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Merges statistics files of disjoint data into the statistics of their union.

    Args:
        statistics: beam-stats statistics, each with sketch state.
        spec: the options of the result; by default the first file's.
        sources: a name per element of `statistics` (file names), for error messages.
        include_state: keep the merged sketch state in the result, so it merges again.
        privacy: a policy applied to the result on top of the one the files record (they
            must record the same).

    Returns:
        One dataset per dataset name, in order of first appearance.

    Raises:
        IncompatibleMergeError: a file without state, or with other sketch settings.
        DeserializationError: corrupt state.
    """
    if sources is not None and len(sources) != len(statistics):
        raise InvalidInputError(f"{len(sources)} sources for {len(statistics)} statistics")
    names = sources or [f"statistics #{i + 1}" for i in range(len(statistics))]
    merged: dict[str, DatasetAccumulator] = {}
    for source, stats_list in zip(names, statistics, strict=True):
        for dataset in stats_list.datasets:
            first = merged.get(dataset.name)
            part = accumulator_from_statistics(
                dataset, spec or (first.spec if first and first.features else None), source
            )
            if first is None:
                merged[dataset.name] = part
            elif not first.features:  # nothing to check the settings against yet
                part.num_examples += first.num_examples
                part.weighted_num_examples += first.weighted_num_examples
                merged[dataset.name] = part
            else:
                first.merge(part)
    if privacy is not None and privacy.active:
        merged = {name: _with_privacy(acc, privacy) for name, acc in merged.items()}
    return statistics_pb2.DatasetFeatureStatisticsList(
        datasets=[acc.result(name, include_state) for name, acc in merged.items()]
    )
