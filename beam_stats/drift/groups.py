"""Groups: each group's share of examples, label distribution and label-rate disparity.

A *group feature* (``StatisticsSpec(groups=...)``, ``--group``) splits the examples by its
value: a country, an age band, a device. Everything here is read from one dataset's
statistics file, from the state the statistics already keep (no state of its own), so it
merges like every other statistic: the tables of merged files are the tables of the union.

Per value v of the group feature g, in a dataset of N examples:

- ``examples(v)``: the count of v in g's frequent-items state (its string statistics; a
  group feature is summarised as categorical, so int values count by their text). For a
  feature with one value per example, what a group feature should be, that is the number of
  examples of the group; an example with several values counts in each (once per value).
- ``share(v) = examples(v) / N``. The examples without g form the row ``(missing)``
  (:data:`MISSING`, ``share = num_missing / N``), listed when there are any.
- With label-aware statistics (``StatisticsSpec(label=...)``): ``n(v, y)``, the examples of
  group v whose label is of class y (g's label-conditional pair counts,
  :mod:`beam_stats.stats.labels`: each example once per distinct value), the group's label
  distribution ``p(y | v) = n(v, y) / n(v)`` over its labeled examples ``n(v)``, the whole
  dataset's ``p(y) = n(y) / n`` (the label feature's examples per class), and the
  disparity of the group's label rate against the whole::

      disparity(v) = max_y |p(y | v) - p(y)|

  the L-infinity distance of the two label distributions: for a binary label, the
  difference of the group's label rate and the dataset's. ``disparity_class`` is the class
  where the maximum is reached (the rarest class on ties), and ``standard_error`` the
  standard error of ``p(y | v)`` for that class were the group labeled like the whole,
  ``sqrt(p(y) (1 - p(y)) / n(v))``. The ``(missing)`` row's label counts are the label's
  examples per class minus those of g's present examples.

Exactness: the counts per group are exact while g had at most ``frequent_items.capacity``
distinct values (2,048 by default, :data:`beam_stats.sketches.FrequentItemsSpec`), the label
counts while g had at most ``LabelSpec.pair_capacity`` distinct (class, value) pairs (1,024
by default: 512 groups of a binary label). Beyond, the table gives no rows (or no label
columns) and its ``note`` says why: such a feature is not a grouping, and an inexact count
would be read as a share. Files without sketch state (TFDV's, ``--no-sketch-state``) give
shares from the finished rank histogram (exact when it lists every value) and no label
columns. Counts are unweighted (a weight feature's weights are not used).

Share moved (the comparator ``group_share``, :func:`group_share_shift`): the largest change
of a group's share between two datasets, ``max_v |share_test(v) - share_base(v)|`` over the
groups of either (a group one side lacks has share 0 there), the ``(missing)`` row left out
(``missing_fraction`` measures it). Error 0 when both tables are exact.

Anomalies of one dataset (:mod:`beam_stats.validation.groups`): a group whose share is below
``min_share`` (GROUP_SHARE_LOW), a group whose disparity is above ``max_label_disparity``
and more than :data:`Z` standard errors (GROUP_LABEL_DISPARITY_HIGH), so that a group of a
few examples cannot raise it by chance. The ``(missing)`` row is not a group: shown, never
an anomaly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from beam_stats._types import FeaturePath, path_str
from beam_stats.drift.measure import Distance
from beam_stats.stats.labels import split_pair

if TYPE_CHECKING:
    from beam_stats.drift.compare import FeatureData

#: The row of the examples without the group feature.
MISSING = "(missing)"
#: Standard errors a label disparity must exceed to be an anomaly.
Z = 3.0


@dataclasses.dataclass(frozen=True)
class GroupRow:
    """One group of a group feature (see the module docstring).

    Attributes:
        group: the feature's value (:data:`MISSING` for the examples without it).
        examples: examples in the group.
        share: ``examples`` over the dataset's examples.
        labeled: the group's examples with a label class (0 without label columns).
        label_shares: label class -> its share among the group's labeled examples.
        disparity: ``max_y |p(y | group) - p(y)|``; None without labeled examples.
        disparity_class: the class where the disparity is reached ("" without).
        standard_error: that class share's standard error under no disparity (None without).
    """

    group: str
    examples: int
    share: float
    labeled: int = 0
    label_shares: Mapping[str, float] = dataclasses.field(default_factory=dict)
    disparity: float | None = None
    disparity_class: str = ""
    standard_error: float | None = None

    @property
    def is_group(self) -> bool:
        """False for the row of the examples without the feature."""
        return self.group != MISSING

    @property
    def significant(self) -> bool:
        """Whether the disparity exceeds :data:`Z` standard errors."""
        if self.disparity is None or self.standard_error is None:
            return False
        return self.disparity > Z * self.standard_error


@dataclasses.dataclass(frozen=True)
class GroupTable:
    """The groups of one group feature in one dataset (see the module docstring).

    Attributes:
        feature: the group feature's path.
        num_examples: the dataset's examples.
        rows: the groups, most examples first (ties by value), then :data:`MISSING`.
        label: the label's dotted path ("" without label columns).
        label_shares: label class -> its share of the dataset's labeled examples.
        note: why rows or label columns are missing, or what is approximate ("": none).
        exact: whether every count is exact.
        source: what the counts were read from (``sketch`` or finished statistics).
    """

    feature: FeaturePath
    num_examples: int
    rows: tuple[GroupRow, ...]
    label: str = ""
    label_shares: Mapping[str, float] = dataclasses.field(default_factory=dict)
    note: str = ""
    exact: bool = True
    source: str = "sketch"

    @property
    def groups(self) -> tuple[GroupRow, ...]:
        """The rows of real groups (without :data:`MISSING`)."""
        return tuple(r for r in self.rows if r.is_group)


def _num_missing(data: FeatureData) -> int:
    which = data.stats.WhichOneof("stats")
    if which is None:
        return 0
    return int(getattr(data.stats, which).common_stats.num_missing)


def group_table(data: FeatureData, label: FeatureData | None, num_examples: int) -> GroupTable:
    """The table of the group feature `data` in a dataset of `num_examples` examples, with
    label columns when `label` (the label feature) and `data` have label-aware state."""
    path = data.path
    counts = data.categorical()
    name = path_str(path)
    if counts is None:
        return GroupTable(
            path, num_examples, (), note=f"{name} has no value counts (not a categorical feature)"
        )
    if not counts.exact:
        limit = "more distinct values than the counts keep"
        acc = data.accumulator
        if acc is not None and acc.string is not None:
            limit = f"more than {acc.string.top_values.spec.capacity} distinct values"
        return GroupTable(
            path,
            num_examples,
            (),
            note=f"{name} has {limit}: too many for exact group counts",
            exact=False,
            source=counts.source,
        )
    values = sorted(counts.counts, key=lambda v: (-counts.counts[v], v))
    examples = {v: int(counts.counts[v]) for v in values}
    missing = _num_missing(data)
    if missing:
        examples[MISSING] = missing
    per_class, whole, note = _label_counts(data, label, list(examples))
    total = float(sum(whole.values()))
    whole_shares = {y: n / total for y, n in whole.items()} if total else {}
    rows = []
    for value, n in examples.items():
        share = n / num_examples if num_examples else math.nan
        classes = per_class.get(value)
        if classes is None or not sum(classes.values()):
            rows.append(GroupRow(value, n, share))
            continue
        labeled = sum(classes.values())
        shares = {y: classes.get(y, 0) / labeled for y in whole_shares}
        gaps = {y: abs(shares[y] - p) for y, p in whole_shares.items()}
        # Ties (both classes of a binary label) go to the rarer class: the "label rate".
        worst = max(whole_shares, key=lambda y: (round(gaps[y], 12), -whole_shares[y], y))
        p = whole_shares[worst]
        error = math.sqrt(p * (1.0 - p) / labeled)
        rows.append(GroupRow(value, n, share, labeled, shares, gaps[worst], worst, error))
    label_path = ""
    if whole_shares and data.accumulator is not None and data.accumulator.spec.label:
        label_path = data.accumulator.spec.label.feature
    return GroupTable(
        path, num_examples, tuple(rows), label_path, whole_shares, note, not note, counts.source
    )


def _label_counts(
    data: FeatureData, label: FeatureData | None, values: list[str]
) -> tuple[dict[str, dict[str, int]], dict[str, int], str]:
    """(group value -> class -> examples, class -> examples of the whole, note)."""
    acc = data.accumulator
    state = acc.label if acc is not None else None
    label_acc = label.accumulator if label is not None else None
    whole = label_acc.label if label_acc is not None else None
    if state is None or whole is None:
        return {}, {}, ""
    if state.off or whole.off:
        return {}, {}, f"no label columns: {state.off or whole.off}"
    if state.pairs is not None and state.pairs.max_error > 0:
        return (
            {},
            {},
            (
                f"no label columns: more than {state.spec.pair_capacity} (group, label class) "
                "pairs (LabelSpec.pair_capacity)"
            ),
        )
    per_class: dict[str, dict[str, int]] = {}
    if state.pairs is not None:
        for key, count, _ in state.pairs.result(state.spec.pair_capacity):
            name, value = split_pair(key)
            text = value.decode("utf-8", "backslashreplace")
            row = per_class.setdefault(text, {})
            row[name] = row.get(name, 0) + int(count)
    if MISSING in values:
        per_class[MISSING] = {
            y: n - state.class_counts.get(y, 0)
            for y, n in whole.class_counts.items()
            if n - state.class_counts.get(y, 0) > 0
        }
    return per_class, dict(whole.class_counts), ""


def group_share_shift(base: GroupTable, test: GroupTable) -> Distance | None:
    """The largest change of a group's share between two datasets (module docstring);
    None when either table has no groups."""
    a = {r.group: r.share for r in base.groups}
    b = {r.group: r.share for r in test.groups}
    if not a or not b:
        return None
    moved = {v: abs(b.get(v, 0.0) - a.get(v, 0.0)) for v in a.keys() | b.keys()}
    worst = max(sorted(moved), key=lambda v: moved[v])
    detail = (
        f'most moved: group "{worst}", share {a.get(worst, 0.0):.4g} in base, '
        f"{b.get(worst, 0.0):.4g} in test"
    )
    error = 0.0 if base.exact and test.exact else None
    return Distance(moved[worst], error, base.source, detail)
