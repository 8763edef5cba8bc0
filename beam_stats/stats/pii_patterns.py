"""Which strings look like personal data: vectorised detectors, one per kind.

Each detector takes a string (or binary) Arrow array and returns a boolean numpy mask of the
values that *look like* its kind, on the whole value (a value that merely contains an e-mail
address in a sentence is not matched; free text is the redaction policy's concern):

============  ==============================================================================
kind          rule
============  ==============================================================================
``email``     ``local@domain.tld``: RFC 5322's common subset (letters, digits, ``._%+-`` in the
              local part; labels of letters, digits and ``-``; a top-level domain of letters)
``phone``     7 to 15 digits (E.164's range) written as a phone number: an optional ``+``
              and country code, an optional area code in parentheses, groups of digits
              separated by single spaces, dots or dashes (at least one separator or a leading
              ``+``); values shaped like dates (``2024-01-05``) are not phones
``card``      13 to 19 digits, optionally in groups separated by spaces or dashes, passing the
              Luhn checksum (ISO/IEC 7812), in a card network's number range and length
              (Visa, Mastercard, American Express, Discover, Diners Club, JCB, UnionPay)
``ipv4``      four decimal octets 0-255 separated by dots
``ipv6``      RFC 4291 text: eight groups of 1-4 hex digits, or fewer around one ``::``
``iban``      ISO 13616: a country code, two check digits and 11-30 letters or digits (spaces
              every four allowed), passing the mod-97 check (ISO 7064)
``us_ssn``    US social security number ``AAA-GG-SSSS`` with the ranges the SSA never issues
              left out (area 000, 666, 900-999; group 00; serial 0000)
============  ==============================================================================

Cost: each detector narrows the values down before any per-byte work, from what one gather
per value gives: the length, the first and last bytes (a phone number ends in a digit, an
e-mail address in a letter, an IBAN starts with two capitals) and, for the few values left,
bytes at fixed positions. Only the values still in the running have their bytes counted
(digits, ``@``, ``.``, ``:``: one comparison over those values' bytes, then each value's
share), and only those that pass the counts reach the detector's RE2 pattern
(``pyarrow.compute.match_substring_regex``) and its checksum. Near-unique ids and free text
(``user-000123456``, sentences), the costly columns, mostly stop at the first step. Every
step is a necessary condition of the pattern, so the answers are those of the patterns alone.

Checksums and registries (:mod:`.pii_checks`) are computed on fixed-width digit matrices, one
row per candidate: no Python loop over values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.stats.pii_checks import digit_matrix, issued, luhn, mod97

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_EMAIL = rf"^[A-Za-z0-9._%+\-]{{1,64}}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,24}}$"
_PHONE = (
    r"^(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]\d{2,5}){1,5}$"
    r"|^\+\d{7,15}$"
)
_DATE_LIKE = r"^\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|^\d{1,2}[\-./]\d{1,2}[\-./]\d{4}$"
_CARD = r"^\d{4}(?:[ \-]?\d{4}){2}[ \-]?\d{1,7}$|^\d{13,19}$"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (
    rf"^(?:(?:{_H}:){{7}}{_H}"
    rf"|(?:{_H}:){{1,7}}:"
    rf"|(?:{_H}:){{1,6}}:{_H}"
    rf"|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}"
    rf"|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}"
    rf"|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?::{_H}){{1,6}}"
    rf"|:(?::{_H}){{1,7}})$"
)
_IBAN = r"^[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}$"
_SSN = r"^\d{3}-\d{2}-\d{4}$"
#: What a phone-shaped value is not: a date, an IPv4 address, a US SSN.
_NOT_PHONE = rf"{_DATE_LIKE}|{_IPV4}|{_SSN}"


def _as_text(values: pa.Array) -> pa.Array:
    """Values as large_binary (their bytes; nulls stay null)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values.cast(pa.large_binary())


def _bytes_and_bounds(raw: pa.Array) -> tuple[Bytes, Ints]:
    """The data bytes of large_binary values and each value's start in them (and the end)."""
    n = len(raw)
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int64)[raw.offset : raw.offset + n + 1]
    data = raw.buffers()[2]
    if data is None or n == 0:
        return np.zeros(0, np.uint8), np.zeros(n + 1, np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    return np.frombuffer(data, dtype=np.uint8)[first:last], offsets - first


_DIGITS = b"0123456789"
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTERS = _UPPER + _UPPER.lower()
_HEX = _DIGITS + b"abcdefABCDEF"

#: Kind -> (bytes its values can start with, bytes they can end with, shortest and longest
#: length in bytes): what each pattern below implies, checked before anything else.
_SHAPES = {
    "email": (_LETTERS + _DIGITS + b"._%+-", _LETTERS, 6, 254),
    "phone": (_DIGITS + b"+(", _DIGITS, 7, 24),
    "card": (_DIGITS, _DIGITS, 13, 23),
    "ipv4": (_DIGITS, _DIGITS, 7, 15),
    "ipv6": (_HEX + b":", _HEX + b":", 3, 39),
    "iban": (_UPPER, _UPPER + _DIGITS, 15, 42),
    "us_ssn": (_DIGITS, _DIGITS, 11, 11),
}


def _tables() -> tuple[Bytes, Bytes, Bytes]:
    """Per first byte, last byte and length (up to 255): the bits of the kinds it allows."""
    first, last, length = (np.zeros(256, np.uint8) for _ in range(3))
    for bit, (starts, ends, shortest, longest) in enumerate(_SHAPES.values()):
        first[np.frombuffer(starts, np.uint8)] |= 1 << bit
        last[np.frombuffer(ends, np.uint8)] |= 1 << bit
        length[shortest : longest + 1] |= 1 << bit
    return first, last, length


_FIRST, _LAST, _LENGTH = _tables()
_BIT = {kind: np.uint8(1 << bit) for bit, kind in enumerate(_SHAPES)}


def _is_digit(b: Bytes) -> Mask:
    return np.asarray((b - np.uint8(48)) < 10)  # wraps below '0'


def _is_upper(b: Bytes) -> Mask:
    return np.asarray((b - np.uint8(65)) < 26)


def _count(raw: pa.Array, cls: bytes) -> Ints:
    """How many bytes of class `cls` (`_DIGITS` or one byte) each of `raw` (large_binary)
    holds."""
    data, bounds = _bytes_and_bounds(raw)
    hit = (data - np.uint8(48)) < 10 if cls == _DIGITS else data == cls[0]  # wraps below '0'
    hits = int(np.count_nonzero(hit))
    if hits == 0:
        return np.zeros(len(raw), np.int64)
    if hits <= len(raw):  # few: each value's share of the hits' positions
        return np.diff(np.searchsorted(np.flatnonzero(hit), bounds)).astype(np.int64)
    running = np.zeros(len(data) + 1, np.int64)  # many (the digits of ids): a running count
    np.cumsum(hit, out=running[1:])
    return np.diff(running[bounds])


class _Profile:
    """What the detectors look at. For every value, from its length and its first and last
    bytes (one gather each, then a table lookup), the kinds whose shape it has
    (`candidates`); for the candidates of a kind only, bytes at fixed positions (`byte`) and
    how many bytes of a class they hold (`count`, once per value and class)."""

    def __init__(self, values: pa.Array) -> None:
        raw = _as_text(values)
        self.values = raw
        self.size = n = len(raw)
        self._data, bounds = _bytes_and_bounds(raw)
        self._start, self._end = bounds[:-1], bounds[1:]
        self.length = self._end - self._start
        kinds = np.zeros(n, np.uint8)
        if len(self._data):  # (an empty value's bits are 0 whatever bytes it is given)
            first = self._data.take(self._start, mode="clip")
            last = self._data.take(self._end - 1, mode="clip")
            kinds = _FIRST[first] & _LAST[last] & _LENGTH.take(self.length, mode="clip")
            if raw.null_count:
                kinds[~raw.is_valid().to_numpy(zero_copy_only=False)] = 0
        self._kinds = kinds
        #: The kinds any value has the shape of (one bit each).
        self._present = int(np.bitwise_or.reduce(kinds)) if n else 0
        self._counts: dict[bytes, tuple[Mask | None, Ints]] = {}

    def candidates(self, kind: str) -> Ints:
        """The values with the length, first and last byte a value of `kind` can have."""
        bit = _BIT[kind]
        if not self._present & bit:
            return np.zeros(0, np.int64)
        return np.flatnonzero(self._kinds & bit)

    def byte(self, position: int, index: Ints) -> Bytes:
        """The byte at `position` (from the end when negative) of values `index`, which are
        longer than that."""
        at = self._start[index] + position if position >= 0 else self._end[index] + position
        return self._data[at]

    def count(self, cls: bytes, index: Ints) -> Ints:
        """How many bytes of class `cls` (`_DIGITS` or one byte) values `index` hold."""
        n = self.size
        known, counts = self._counts.get(cls, (np.zeros(n, bool), np.zeros(n, np.int64)))
        if known is not None:  # (None: every value counted)
            missing = index[~known[index]]
            if missing.size * 2 > n:  # most values: over all the bytes, no copy
                counts, known = _count(self.values, cls), None
            elif missing.size:
                counts[missing] = _count(self.values.take(pa.array(missing)), cls)
                known[missing] = True
            self._counts[cls] = (known, counts)
        return counts[index]

    def take(self, index: Ints) -> pa.Array:
        return self.values.take(pa.array(index, pa.int64()))

    def matching(self, index: Ints, pattern: str) -> Ints:
        """The values of `index` that match `pattern` (RE2) in full."""
        if index.size == 0:
            return index
        hit = pc.match_substring_regex(self.take(index), pattern)
        matched: Mask = np.asarray(pc.fill_null(hit, False), dtype=bool)
        return index[matched]


def _email(p: _Profile) -> Ints:
    index = p.candidates("email")
    return p.matching(index[p.count(b"@", index) == 1], _EMAIL)


def _phone(p: _Profile) -> Ints:
    index = p.candidates("phone")
    digits = p.count(_DIGITS, index)
    index = index[(digits >= 7) & (digits <= 15)]
    shaped = p.matching(index, _PHONE)
    # a "+" or a separator: not a bare number; not a date, an IPv4 address or a US SSN
    separated = shaped[p.length[shaped] > p.count(_DIGITS, shaped)]
    return np.setdiff1d(separated, p.matching(separated, _NOT_PHONE), assume_unique=True)


def _card(p: _Profile) -> Ints:
    index = p.candidates("card")
    digits = p.count(_DIGITS, index)
    keep = (digits >= 13) & (digits <= 19)
    index, digits = index[keep], digits[keep]
    # The pattern starts with four digits: the network's range is known before it runs.
    prefix = np.zeros(len(index), np.int64)
    for i in range(4):
        prefix = prefix * 10 + (p.byte(i, index).astype(np.int64) - 48)
    shaped = p.matching(index[issued(prefix, digits)], _CARD)
    if shaped.size == 0:
        return shaped
    numbers = pc.replace_substring_regex(p.take(shaped), r"[ \-]", b"")
    return shaped[luhn(numbers)]


def _ipv4(p: _Profile) -> Ints:
    index = p.candidates("ipv4")
    return p.matching(index[p.count(b".", index) == 3], _IPV4)


def _ipv6(p: _Profile) -> Ints:
    index = p.candidates("ipv6")
    return p.matching(index[p.count(b":", index) >= 2], _IPV6)


def _iban(p: _Profile) -> Ints:
    index = p.candidates("iban")
    index = index[_is_upper(p.byte(1, index))]
    index = index[_is_digit(p.byte(2, index)) & _is_digit(p.byte(3, index))]
    shaped = p.matching(index, _IBAN)
    if shaped.size == 0:
        return shaped
    compact = pc.replace_substring(p.take(shaped), b" ", b"")
    lengths = np.asarray(pc.binary_length(compact))
    ok: Mask = (lengths >= 15) & (lengths <= 34)
    ok[ok] = mod97(compact.filter(pa.array(ok)))
    return shaped[ok]


def _us_ssn(p: _Profile) -> Ints:
    index = p.candidates("us_ssn")
    index = index[(p.byte(3, index) == 45) & (p.byte(6, index) == 45)]
    shaped = p.matching(index, _SSN)
    if shaped.size == 0:
        return shaped
    digits = digit_matrix(p.take(shaped).cast(pa.large_string()), 11)
    area = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    group = digits[:, 4] * 10 + digits[:, 5]
    serial = digits[:, 7] * 1000 + digits[:, 8] * 100 + digits[:, 9] * 10 + digits[:, 10]
    issued_ssn: Mask = (area != 0) & (area != 666) & (area < 900) & (group != 0) & (serial != 0)
    return shaped[issued_ssn]


#: Every kind and its detector (the values of that kind, as positions), in the order they
#: are reported.
DETECTORS: dict[str, Callable[[_Profile], Ints]] = {
    "email": _email,
    "phone": _phone,
    "card": _card,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "iban": _iban,
    "us_ssn": _us_ssn,
}


def detect(values: pa.Array) -> dict[str, Mask]:
    """Kind -> which of `values` (strings or bytes) look like it (nulls never)."""
    profile = _Profile(values)
    out = {}
    for kind, detector in DETECTORS.items():
        mask = np.zeros(profile.size, dtype=bool)
        mask[detector(profile)] = True
        out[kind] = mask
    return out
