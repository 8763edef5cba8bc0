"""Public names of a package imported on first use (PEP 562).

A package lists each public name with the module it lives in; importing the package then
costs nothing more, and a module of it (``beam_stats.drift.series_limits``) comes without
its siblings. This is how the commands that need neither Beam nor, say, the drift measures
start in a fraction of a second.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_names(
    package: str,
    public: Mapping[str, str],
    names: Iterable[str],
    moved: Mapping[str, str] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of `package`, whose `public` names (name: the
    module it comes from) are imported when first asked for, then kept in the package.
    `names` is the package's ``__all__``; `moved` maps names no longer public there to
    where they are now (still found, with a ``DeprecationWarning``)."""
    listed = frozenset(names)
    moved = moved or {}

    def getattr_(name: str) -> Any:
        if name in public:
            value = getattr(importlib.import_module(public[name]), name)
            setattr(sys.modules[package], name, value)  # found once
            return value
        if name not in moved:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        message = f"{package}.{name} moved to {moved[name]}.{name}"
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(moved[name]), name)

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | listed)

    return getattr_, dir_
