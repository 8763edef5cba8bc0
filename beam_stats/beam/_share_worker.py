"""The second process of :mod:`beam_stats.beam.sharing`, started as ``python -c`` with the
parent's import path (see ``sharing._BOOT``); its task comes on standard input."""

from __future__ import annotations

import sys


def main() -> int:
    from beam_stats.beam.sharing import serve

    return serve(sys.stdin.buffer, user_code="--user-code" in sys.argv[2:])
