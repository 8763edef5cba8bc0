"""Comparing statistics protos up to floating-point rounding."""

from __future__ import annotations

import math
from typing import Any

from google.protobuf import descriptor, message


def _repeated(field: descriptor.FieldDescriptor) -> bool:
    # `label` is deprecated (a DeprecationWarning, an error here) where is_repeated exists.
    if hasattr(descriptor.FieldDescriptor, "is_repeated"):
        return bool(field.is_repeated)
    return bool(field.label == descriptor.FieldDescriptor.LABEL_REPEATED)


def plain(msg: message.Message) -> dict[str, Any]:
    """`msg` as nested dicts and lists (set fields only)."""
    out: dict[str, Any] = {}
    for field, v in msg.ListFields():
        if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
            if _repeated(field):
                out[field.name] = [plain(x) for x in v]
            else:
                out[field.name] = plain(v)
        elif _repeated(field):
            out[field.name] = list(v)
        else:
            out[field.name] = v
    return out


def assert_close(a: Any, b: Any, rel: float = 1e-9, abs_: float = 1e-6, where: str = "") -> None:
    """Equal structure and values; floats equal within `rel` relative or `abs_` absolute."""
    if isinstance(a, message.Message):
        a, b = plain(a), plain(b)
    if isinstance(a, dict) and isinstance(b, dict):
        # A float field at 0 is unset in proto3: compare missing keys as 0.
        for key in sorted(set(a) | set(b)):
            assert_close(a.get(key, 0.0), b.get(key, 0.0), rel, abs_, f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, rel, abs_, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=rel, abs_tol=abs_) or (math.isnan(a) and math.isnan(b)), (
            f"{where}: {a} != {b}"
        )
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"
