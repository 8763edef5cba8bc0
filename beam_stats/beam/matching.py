"""The files a pattern matches: a local pattern here, as Beam's local file system matches it,
without importing apache_beam (about 1.4 s); any other (``gs://``, ``s3://``, ``file://``
URLs, ...) through Beam's ``FileSystems``.

Beam's rules, which a local pattern follows here too (tests/beam/test_matching.py checks the
two agree): a pattern without a wildcard (``*``, ``?``, ``[``) names one path, matched if it
exists (a directory too: reading it is then reported); a pattern ending in ``/`` is that
folder's ``*``; otherwise every file below the folder before the first wildcard is listed
(recursively, links to folders not followed, dangling links left out) and kept if its path
matches the whole pattern, where ``*`` is any run of characters but ``/`` and ``\\``, ``**``
any run at all, ``?`` one character and ``[...]`` (``[!...]``) a set of characters.
"""

from __future__ import annotations

import functools
import os
import re

from beam_stats.beam.formats import scheme

_WILDCARDS = re.compile(r"[\[*?]")


def match(pattern: str) -> list[str]:
    """The paths of the files `pattern` matches (none: an empty list), as Beam's
    ``FileSystems.match`` lists them.

    Raises:
        Exception: what Beam raises for a pattern it cannot match (a remote file system).
    """
    if scheme(pattern) is not None:
        from apache_beam.io.filesystems import FileSystems  # other file systems need Beam

        (result,) = FileSystems.match([pattern])
        return [m.path for m in result.metadata_list]
    if pattern.endswith(("/", "\\")):
        pattern += "*"
    wildcard = _WILDCARDS.search(pattern)
    if wildcard is None:
        return [pattern] if os.path.exists(pattern) else []
    folder = os.path.dirname(pattern[: wildcard.start()])
    matches = _regex(pattern).match
    return [path for path in _files_below(folder) if matches(path)]


def _files_below(folder: str) -> list[str]:
    if not os.path.exists(folder):  # "" too: a bare relative pattern lists nothing
        return []
    found = []
    for directory, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.exists(path):  # a dangling link is no file
                found.append(path)
    return found


@functools.lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    """`pattern` as a regular expression of the whole path."""
    parts, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        i += 1
        if c == "*":
            double = pattern.startswith("*", i)
            parts.append(".*" if double else r"[^/\\]*")
            i += double
        elif c == "?":
            parts.append(".")
        elif c == "[":
            chars, i = _character_set(pattern, i)
            parts.append(chars)
        else:
            parts.append(re.escape(c))
    return re.compile("(?ms)" + "".join(parts) + r"\Z")


def _character_set(pattern: str, start: int) -> tuple[str, int]:
    """The set that opens at ``pattern[start - 1]`` (``[``) as a regular expression, and
    where the pattern goes on; an unclosed ``[`` is the character itself."""
    end = start
    if pattern.startswith("!", end):
        end += 1
    if pattern.startswith("]", end):  # a leading "]" is one of the set
        end += 1
    end = pattern.find("]", end)
    if end < 0:
        return re.escape("["), start
    inside = pattern[start:end].replace("\\", "\\\\").replace("[", "\\[")
    if inside.startswith("!"):
        inside = "^" + inside[1:]
    elif inside.startswith("^"):
        inside = "\\" + inside
    return f"[{inside}]", end + 1
