"""Slices: statistics per group of examples, beside those of the whole dataset.

A slice is named by its key. Slicing by features gives one slice per combination of values,
named ``feature=value`` (crosses join with ``,``: ``country=DE,device=phone``; a backslash,
comma or equals sign inside a name or value is escaped with a backslash, and a value spelled
``<missing>`` gets a backslash before it, so two different slices never share a key); an example
whose slicing feature is missing falls in ``feature=<missing>``, so every example is in
exactly one slice of each slicing of scalar features. A list-valued feature (as every
TFRecord feature is) puts an example in the slice of each of its distinct values, as TFDV
does; crossing needs at most one value per example. A slicing function
``RecordBatch -> [(key, RecordBatch)]`` may put an example in any number of slices. The
whole dataset is always computed too.

Partitioning a batch is vectorised: the slicing columns are dictionary-encoded, their codes
combined into one group id per row, rows sorted once by it (stable) and cut into slices.
Each slice keeps one accumulator, so memory grows with the number of slices: slice by
categorical features, not by ids. ``SlicingSpec.max_slices`` bounds them: a run that makes
more distinct slice keys raises :class:`~beam_stats.errors.InvalidInputError` naming the
slicing and the setting, and logs a warning when half of the bound is reached
(:class:`SliceCounter`). One batch with more slices than the bound raises before any of
them is made (a vectorised count of its groups); beyond that the check is a set lookup per
slice of a batch, never per row. ``docs/SCALING.md`` has the measured sizes behind the
default.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.errors import InvalidInputError
from beam_stats.pandas_free import python_values
from beam_stats.stats.privacy import PrivacySpec

SliceFunction = Callable[[pa.RecordBatch], Iterable[tuple[str, pa.RecordBatch]]]
MISSING = "<missing>"
#: The name of the whole dataset beside its slices when no name is given (as in TFDV).
WHOLE_DATASET = "All Examples"
#: The default of ``SlicingSpec.max_slices``. Measured (docs/SCALING.md): a small slice of
#: 10 mixed features is 69 KB in the shuffle, 115 KB of worker memory and 80 KB of output,
#: so 10,000 slices are 0.7 GB per bundle, 1.15 GB per worker and 0.8 GB of output (a file
#: over 2 GiB cannot be read back); a feature with more values is an id, not a category.
DEFAULT_MAX_SLICES = 10_000

#: The whole dataset is merged from its slices' accumulators (rather than accumulated again
#: from every row) when the first batch the slices partition has at least this many rows per
#: slice; decided once for the run, so no slice keeps two accumulators. Merging 1,001 slices
#: of 1M rows of 20 features at once (``DatasetAccumulator.merge_all``) takes 0.53-0.72 s
#: against 1.2-1.3 s to add their rows (about 0.5 ms a slice, 1.2 us a row), so it pays from
#: about 500 rows a slice, which a first batch of 131,072 rows with 100 a slice reaches after five
#: batches like it (benchmarks/RESULTS.md, "Workloads of issue 16 after session 30").
WHOLE_FROM_SLICES_ROWS = 100

_LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SlicingSpec:
    """Which slices to compute.

    Args:
        features: each entry is one slicing: a feature name, or a tuple of names to cross.
        functions: slicing functions, ``RecordBatch -> iterable of (key, RecordBatch)``;
            they must be picklable (module-level functions) to run on distributed runners.
        max_slices: the most distinct slice keys a run may make (the whole dataset is not
            counted). Each slice holds a full accumulator, so a slicing feature with many
            values (an id) would exhaust the workers' memory: more raises
            :class:`~beam_stats.errors.InvalidInputError`, half as many logs a warning.
    """

    features: tuple[str | tuple[str, ...], ...] = ()
    functions: tuple[SliceFunction, ...] = ()
    max_slices: int = DEFAULT_MAX_SLICES

    def __post_init__(self) -> None:
        crosses = []
        for entry in self.features:
            names = (entry,) if isinstance(entry, str) else tuple(entry)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise InvalidInputError(
                    f"a slicing is a feature name or a tuple of names, got {entry!r}"
                )
            crosses.append(names)
        object.__setattr__(self, "features", tuple(crosses))
        for function in self.functions:
            if not callable(function):
                raise InvalidInputError(f"slicing functions must be callable, got {function!r}")
        if not crosses and not self.functions:
            raise InvalidInputError("a SlicingSpec needs at least one feature or function")
        limit = self.max_slices
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"max_slices must be a positive int, got {limit!r}")

    def check_privacy(self, privacy: PrivacySpec) -> None:
        """Refuses slicings that would name slices by values the policy keeps out: a
        redacted or hashed feature, or any feature under ``min_count`` (a slice of fewer
        examples would be named by its value).

        Raises:
            InvalidInputError: such a slicing.
        """
        hidden = {path[0] for path in privacy.redact | privacy.hash if len(path) == 1}
        for names in self.features:
            named = ",".join(names)
            if hidden.intersection(names):
                raise InvalidInputError(
                    f"cannot slice by {named!r}: slices are named by values the privacy "
                    "policy redacts or hashes"
                )
            if privacy.min_count > 1:
                raise InvalidInputError(
                    f"cannot slice by {named!r} with min_count={privacy.min_count}: a slice "
                    "of fewer examples would be named by its value"
                )

    def describe(self) -> str:
        """The slicings, as messages name them: ``'country', 'country,device', f()``."""
        names = [repr(",".join(names)) for names in self.features]
        return ", ".join(names + [f"{_function_name(f)}()" for f in self.functions])


def _function_name(function: SliceFunction) -> str:
    return str(getattr(function, "__name__", function))


def too_many_slices(
    slicing: SlicingSpec, count: int, by_slicing: Mapping[str, int] | None = None, where: str = ""
) -> InvalidInputError:
    """The error of a run that made `count` > ``max_slices`` slices.

    Args:
        slicing: the run's slicings.
        count: the number of distinct slice keys seen.
        by_slicing: how many each slicing made, when known (by :meth:`SlicingSpec.describe`
            names); otherwise the message names every slicing.
        where: where they were counted, e.g. " in one batch of 5,000 rows".
    """
    if by_slicing and len(by_slicing) > 1:
        ranked = sorted(by_slicing.items(), key=lambda item: -item[1])
        culprits = ", ".join(f"{name} ({n:,} slices)" for name, n in ranked)
    else:
        culprits = ", ".join(by_slicing) if by_slicing else slicing.describe()
    return InvalidInputError(
        f"slicing by {culprits} made {count:,} slices{where}, more than max_slices="
        f"{slicing.max_slices:,}. Each slice keeps an accumulator of every feature, so "
        "memory grows with the number of slices (docs/SCALING.md): slice by a feature with "
        "fewer distinct values, or raise max_slices (SlicingSpec(max_slices=...), "
        "beam-stats stats --max-slices) if the workers have the memory"
    )


def warn_many_slices(slicing: SlicingSpec, count: int, so_far: bool = False) -> None:
    """Logs that `count` slices reached half of ``max_slices`` (`so_far`: the run goes on)."""
    _LOG.warning(
        "slicing by %s %s %s slices, at least half of max_slices=%s; each slice keeps an "
        "accumulator of every feature (docs/SCALING.md), and more than max_slices fail the run",
        slicing.describe(),
        "has made" if so_far else "made",
        f"{count:,}",
        f"{slicing.max_slices:,}",
    )


def check_gathered(slicing: SlicingSpec, count: int) -> None:
    """The check once all `count` slices of a run are gathered (the whole dataset is no
    slice): more than ``max_slices`` raise :func:`too_many_slices`, half of it warns.

    Raises:
        InvalidInputError: more slices than ``slicing.max_slices``.
    """
    if count > slicing.max_slices:
        raise too_many_slices(slicing, count)
    if 2 * count >= slicing.max_slices:
        warn_many_slices(slicing, count)


def _separators_escaped(text: str) -> str:
    """`text` (its backslashes already doubled) with ``,`` and ``=`` escaped, and a value
    spelled ``<missing>`` told apart from a missing one."""
    text = text.replace(",", "\\,").replace("=", "\\=")
    return "\\" + text if text == MISSING else text


def _label(value: object) -> str:
    """A slicing value as it appears in a slice key: unambiguous, whatever its text."""
    if value is None:
        return MISSING
    if isinstance(value, bytes):  # a TFRecord bytes feature, or a binary column
        # Backslashes doubled first, so that an invalid byte's \xNN cannot be a value's text.
        text = value.replace(b"\\", b"\\\\").decode("utf-8", errors="backslashreplace")
        return _separators_escaped(text)
    return _separators_escaped(str(value).replace("\\", "\\\\"))


def _codes(batch: pa.RecordBatch, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The slice memberships of one slicing column: (row, code) pairs and each code's label.

    A scalar column gives one pair per row. A list column (every TFRecord feature is one)
    gives a pair per distinct value of a row, as in TFDV: an example with two values is in
    both slices, and one with no value is in ``<missing>``.
    """
    index = batch.schema.get_field_index(name)
    rows = np.arange(batch.num_rows, dtype=np.int64)
    if index < 0:
        return rows, np.zeros(batch.num_rows, dtype=np.int64), [MISSING]
    column = batch.column(index)
    if (
        pa.types.is_struct(column.type)
        or (pa.types.is_list(column.type) or pa.types.is_large_list(column.type))
        and pa.types.is_nested(column.type.value_type)
    ):
        raise InvalidInputError(
            f"slicing feature {name!r} must be a scalar or a list of scalars, got {column.type}"
        )
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
        values = pc.list_flatten(column)
        value_rows = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
        empty = np.flatnonzero(lengths == 0)
        encoded = pc.dictionary_encode(values, null_encoding="encode")
        labels = [_label(v) for v in python_values(encoded.dictionary)]
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        missing = labels.index(MISSING) if MISSING in labels else len(labels)
        if missing == len(labels) and len(empty):
            labels.append(MISSING)
        rows = np.concatenate([value_rows.astype(np.int64), empty])
        codes = np.concatenate([codes, np.full(len(empty), missing, dtype=np.int64)])
        # A value repeated within one example puts it in that slice once.
        pairs = np.unique(np.stack([rows, codes], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1], labels
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    labels = [_label(v) for v in python_values(encoded.dictionary)]
    return rows, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), labels


def _slice_by_features(
    batch: pa.RecordBatch, names: tuple[str, ...], slicing: SlicingSpec
) -> Iterator[tuple[str, pa.RecordBatch]]:
    if batch.num_rows == 0:  # e.g. the schema-only batch of an empty file: no slice
        return
    memberships = [_codes(batch, name) for name in names]
    if len(names) == 1:
        rows, group, _ = memberships[0]
    else:
        rows = np.arange(batch.num_rows, dtype=np.int64)
        group = np.zeros(batch.num_rows, dtype=np.int64)
        for name, (member_rows, codes, values) in zip(names, memberships, strict=True):
            if len(member_rows) != batch.num_rows or not np.array_equal(member_rows, rows):
                raise InvalidInputError(
                    f"slicing feature {name!r} has more than one value in some examples; "
                    "a cross of features needs one value (or none) per example"
                )
            group = group * len(values) + codes
    labels = [values for _, _, values in memberships]
    groups = math.prod(len(values) for values in labels)
    # Fewer than 2**16 groups: numpy's stable sort of 16-bit keys is a radix sort, the same
    # order 2.5-10x sooner (131,072 rows in 1,000 groups: 0.7 ms against 7.9 ms).
    order = np.argsort(group.astype(np.uint16) if groups <= 1 << 16 else group, kind="stable")
    sorted_groups = group[order]
    starts = np.flatnonzero(np.diff(sorted_groups, prepend=-1))
    if len(starts) > slicing.max_slices:  # e.g. an id: fail before making any slice
        raise too_many_slices(
            slicing,
            len(starts),
            {repr(",".join(names)): len(starts)},
            f" in one batch of {batch.num_rows:,} rows",
        )
    taken = batch.take(pa.array(rows[order]))
    for start, stop in zip(starts, [*starts[1:], len(order)], strict=True):
        code = int(sorted_groups[start])
        parts = []
        for name, values in zip(reversed(names), reversed(labels), strict=True):
            code, digit = divmod(code, len(values))
            parts.append(f"{_label(name)}={values[digit]}")
        yield ",".join(reversed(parts)), taken.slice(start, stop - start)


def _slices(
    batch: pa.RecordBatch, slicing: SlicingSpec
) -> Iterator[tuple[str, str, pa.RecordBatch]]:
    """(slicing's name, slice key, rows) of one batch, for every slicing of `slicing`."""
    for names in slicing.features:
        label = repr(",".join(names))
        for key, part in _slice_by_features(batch, names, slicing):  # type: ignore[arg-type]
            yield label, key, part
    for function in slicing.functions:
        label = f"{_function_name(function)}()"
        for key, part in function(batch):
            if not isinstance(key, str) or not isinstance(part, pa.RecordBatch):
                raise InvalidInputError(
                    f"slicing function {_function_name(function)!r} must yield "
                    f"(str, RecordBatch) pairs, got ({type(key).__name__}, {type(part).__name__})"
                )
            yield label, key, part


def slice_batch(
    batch: pa.RecordBatch, slicing: SlicingSpec
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """The (slice key, rows) pairs of one batch, for every slicing of `slicing`.

    Raises:
        InvalidInputError: the batch alone has more than ``max_slices`` slices of one
            slicing by features, or a slicing is unusable (see the module docstring).
    """
    for _, key, part in _slices(batch, slicing):
        yield key, part


def partitions(
    slicing: SlicingSpec, batch: pa.RecordBatch, parts: list[tuple[str, pa.RecordBatch]]
) -> bool:
    """Whether `parts`, the slices of `batch` by `slicing`, hold every row of it exactly
    once, so that the whole dataset's statistics of the batch are the merge of theirs.

    True for one slicing of features (one feature or a cross, no function) whose slices'
    rows add up to the batch's: every row is in at least one slice of such a slicing (a
    missing value is the ``<missing>`` slice), so the sum is the batch's only when each is
    in exactly one (a list with several distinct values puts its row in several). A batch of
    no rows is not partitioned: it still declares the whole dataset's columns.
    """
    return (
        batch.num_rows > 0
        and len(slicing.features) == 1
        and not slicing.functions
        and sum(part.num_rows for _, part in parts) == batch.num_rows
    )


class SliceCounter:
    """Slices batches like :func:`slice_batch`, counting the distinct keys of a whole run.

    The run fails once more than ``slicing.max_slices`` keys were seen, and a warning is
    logged (once) when half of them were. On a Beam worker a counter sees only that worker's
    batches: its count is a lower bound of the run's, so an error it raises is never wrong.
    """

    def __init__(self, slicing: SlicingSpec) -> None:
        self.slicing = slicing
        # Whether the whole dataset is merged from the slices (see partition): None until
        # the first batch they partition.
        self.through_slices: bool | None = None
        self._keys: set[str] = set()
        self._by_slicing: collections.Counter[str] = collections.Counter()
        self._warned = False

    @property
    def count(self) -> int:
        """The distinct slice keys seen so far."""
        return len(self._keys)

    def slice(self, batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
        """The (slice key, rows) pairs of `batch`.

        Raises:
            InvalidInputError: more than ``max_slices`` distinct keys, counting this batch's.
        """
        for label, key, part in _slices(batch, self.slicing):
            if key not in self._keys:
                self._keys.add(key)
                self._by_slicing[label] += 1
                self._check()
            yield key, part

    def partition(self, batch: pa.RecordBatch) -> tuple[list[tuple[str, pa.RecordBatch]], bool]:
        """The (slice key, rows) pairs of `batch`, and whether the whole dataset may count
        the batch through them (its accumulator then merged from the slices'): they
        :func:`partitions` the batch, and the run counts its whole dataset so (decided on the
        first batch they partition: :data:`WHOLE_FROM_SLICES_ROWS` rows per slice of it).
        A batch for which it is False must be added to the whole dataset itself, and its
        slices' rows kept apart from those merged.

        Raises:
            InvalidInputError: as :meth:`slice`.
        """
        parts = list(self.slice(batch))
        if not partitions(self.slicing, batch, parts):
            return parts, False
        if self.through_slices is None:
            self.through_slices = batch.num_rows >= WHOLE_FROM_SLICES_ROWS * len(parts)
        return parts, self.through_slices

    def _check(self) -> None:
        count, limit = len(self._keys), self.slicing.max_slices
        if count > limit:
            raise too_many_slices(self.slicing, count, self._by_slicing)
        if not self._warned and 2 * count >= limit:
            self._warned = True
            warn_many_slices(self.slicing, count, so_far=True)
