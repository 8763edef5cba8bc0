"""pyarrow without pandas: a command's start-up without a 0.3 s import, and the same values.

pyarrow imports pandas, if it is installed (Beam requires it), the first time it converts
anything (``to_numpy``, ``pa.array``, ``pa.scalar``, a compute function given a Python
value), to look for pandas objects; it looks only once. A beam-stats command never hands
pyarrow a pandas object, so :func:`pyarrow_without_pandas` lets that one look fail: the
``beam-stats`` command calls it first thing, and a 10-row run takes about 0.3 s less.

The one difference pandas makes to what beam-stats reads back from Arrow is a nanosecond
timestamp or duration as a Python object (``pandas.Timestamp`` with pandas; without it,
``datetime`` when it is a whole microsecond and an error when it is not). Every place that
turns user data into Python objects (slice keys, rows of examples, skew samples) does it with
:func:`python_values`, which gives pandas to pyarrow back first for such types: the objects,
and so the text, are the same whether or not the command started without pandas.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa


class _NoPandas(importlib.abc.MetaPathFinder):
    """An import finder that finds no pandas (a module already imported is not affected)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


@contextlib.contextmanager
def _pandas_hidden() -> Iterator[None]:
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def pyarrow_without_pandas() -> bool:
    """Make pyarrow's one look for pandas now, with pandas hidden; whether it was hidden.

    Nothing changes (False) when pandas is already imported. Afterwards pandas imports as
    usual for whoever imports it, and pyarrow's explicit pandas conversions (``to_pandas``)
    still import it; only pyarrow's own, implicit look is spent. For a process that runs
    beam-stats' code alone (the ``beam-stats`` command), not for a library call inside a
    user's program, whose pandas objects pyarrow should keep recognising.
    """
    if "pandas" in sys.modules:
        return False
    with _pandas_hidden():
        pa.array([0]).to_numpy()  # a conversion: pyarrow's look (later ones do not look)
    return "pandas" not in sys.modules


def _pandas_typed(type_: pa.DataType) -> bool:
    """Whether pyarrow makes pandas objects of some of this type's values (when it has pandas)."""
    if pa.types.is_timestamp(type_) or pa.types.is_duration(type_):
        return bool(type_.unit == "ns")
    if pa.types.is_dictionary(type_):
        return _pandas_typed(type_.value_type)
    return any(_pandas_typed(type_.field(i).type) for i in range(type_.num_fields))


def python_values(data: pa.Array | pa.ChunkedArray | pa.RecordBatch | pa.Table) -> list[Any]:
    """``data.to_pylist()``, the same objects whether or not pyarrow was started without pandas.

    For nanosecond timestamps and durations pyarrow is first made to load pandas (by an
    explicit pandas conversion of one value, ~20 us once pandas is imported), so they come
    back as ``pandas.Timestamp`` and ``pandas.Timedelta`` as always; other types never
    touch pandas.
    """
    types = data.schema.types if isinstance(data, pa.RecordBatch | pa.Table) else [data.type]
    if any(_pandas_typed(t) for t in types):
        # An explicit conversion: pyarrow imports pandas again (without pandas installed,
        # pyarrow's objects are the ones it always makes).
        with contextlib.suppress(ImportError):
            pa.array([0]).to_pandas()
    values: list[Any] = data.to_pylist()
    return values
