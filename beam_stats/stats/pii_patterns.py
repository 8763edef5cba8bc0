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

Cost: each detector first selects candidates with numpy over the values' bytes (digit,
``@``, ``.``, ``:`` counts per value from one cumulative sum each), then runs its RE2
pattern (``pyarrow.compute.match_substring_regex``) and checksum on the candidates only, so
values that cannot match (most text, most ids) cost a few byte operations.

Checksums (Luhn, mod 97) are computed on fixed-width digit matrices, one row per candidate:
no Python loop over values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Mask = npt.NDArray[np.bool_]

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


def _as_text(values: pa.Array) -> pa.Array:
    """Values as large_binary (their bytes; nulls stay null)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values.cast(pa.large_binary())


class _Profile:
    """Per value: its length and how many digits, ``@``, ``.`` and ``:`` it has, counted with
    numpy over the values' bytes (the positions of the matching bytes, then each value's
    range among them)."""

    def __init__(self, values: pa.Array) -> None:
        raw = _as_text(values)
        self.values = raw
        n = len(raw)
        buffers = raw.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64)[raw.offset : raw.offset + n + 1]
        data = (
            np.frombuffer(buffers[2], dtype=np.uint8)
            if buffers[2] is not None
            else np.zeros(0, np.uint8)
        )
        start, end = offsets[:-1], offsets[1:]
        self.length = end - start
        valid = np.ones(n, dtype=bool) if raw.null_count == 0 else raw.is_valid().to_numpy(False)
        self.valid = valid
        data = data[int(offsets[0]) : int(offsets[-1])] if n else data[:0]
        start = start - (offsets[0] if n else 0)  # into `data`, cut to these values

        bounds = offsets - offsets[0] if n else offsets[:1] * 0  # values are contiguous

        def count(positions: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            # Each value's share of the positions of the matching bytes (few, mostly).
            return np.diff(np.searchsorted(positions, bounds))

        self.digits = count(np.flatnonzero((data - np.uint8(48)) < 10))  # wraps below '0'
        self.at = count(np.flatnonzero(data == 64))
        self.dots = count(np.flatnonzero(data == 46))
        self.colons = count(np.flatnonzero(data == 58))
        lead = data[np.minimum(start, max(len(data) - 1, 0))] if len(data) else start * 0
        lead = np.where(self.length > 0, lead, 0)
        #: Whether the value starts with a digit, "+" or "(" (what numbers start with).
        self.numeric_start = ((lead - np.uint8(48)) < 10) | (lead == 43) | (lead == 40)

    def matching(self, candidates: Mask, pattern: str) -> Mask:
        """Which values are candidates and match `pattern` (RE2) in full."""
        candidates = candidates & self.valid
        out = np.zeros(len(candidates), dtype=bool)
        index = np.flatnonzero(candidates)
        if index.size:
            picked = self.values.take(pa.array(index))
            hit = pc.match_substring_regex(picked, pattern)
            out[index] = np.asarray(pc.fill_null(hit, False), dtype=bool)
        return out


def _digit_matrix(values: pa.Array, width: int) -> npt.NDArray[np.int64]:
    """Each value's characters, right-aligned in `width` columns (zero-padded on the left), as
    their code points minus ``'0'`` (digits 0-9; letters 17-42); one row per value."""
    padded = pc.utf8_lpad(values.cast(pa.large_string()), width, padding="0")
    raw = padded.cast(pa.large_binary())
    data = np.frombuffer(raw.buffers()[2], dtype=np.uint8)
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int64)[
        raw.offset : raw.offset + len(raw) + 1
    ]
    rows = data[offsets[0] : offsets[-1]].reshape(len(raw), width)
    return rows.astype(np.int64) - 48


def _luhn(numbers: pa.Array) -> Mask:
    """The Luhn checksum of digit strings (13-19 digits, no separators)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=bool)
    digits = _digit_matrix(numbers, 19)
    doubled = digits[:, -2::-2] * 2  # every second digit from the right, check digit last
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = digits[:, ::-2].sum(axis=1) + doubled.sum(axis=1)
    return np.asarray(total % 10 == 0)


def _mod97(ibans: pa.Array) -> Mask:
    """ISO 7064 mod 97-10 of IBANs without spaces: the first four characters moved to the end,
    letters as 10-35, the number mod 97 must be 1."""
    if len(ibans) == 0:
        return np.zeros(0, dtype=bool)
    text = ibans.cast(pa.large_string())
    head, tail = pc.utf8_slice_codeunits(text, 0, 4), pc.utf8_slice_codeunits(text, 4)
    moved = pc.binary_join_element_wise(tail, head, pa.scalar("", pa.large_string()))
    chars = _digit_matrix(moved, 34)  # left padding with '0' leaves the number unchanged
    letters = chars >= 17  # 'A' - '0' = 17
    remainder = np.zeros(len(chars), dtype=np.int64)
    for column in range(chars.shape[1]):
        c = chars[:, column]
        value = np.where(letters[:, column], c - 7, c)  # 'A' -> 10
        scale = np.where(letters[:, column], 100, 10)
        remainder = (remainder * scale + value) % 97
    return np.asarray(remainder == 1)


def _email(p: _Profile) -> Mask:
    return p.matching((p.at == 1) & (p.length >= 6) & (p.length <= 254), _EMAIL)


def _phone(p: _Profile) -> Mask:
    candidates = p.numeric_start & (p.digits >= 7) & (p.digits <= 15) & (p.length <= 24)
    shaped = p.matching(candidates, _PHONE)
    separated = shaped & (p.length > p.digits)  # a "+" or a separator: not a bare number
    if not separated.any():
        return separated
    index = np.flatnonzero(separated)
    dated = pc.match_substring_regex(p.values.take(pa.array(index)), _DATE_LIKE)
    separated[index[np.asarray(pc.fill_null(dated, False), dtype=bool)]] = False
    return separated & ~_ipv4(p) & ~p.matching(p.length == 11, _SSN)


def _card(p: _Profile) -> Mask:
    candidates = p.numeric_start & (p.digits >= 13) & (p.digits <= 19) & (p.length <= 23)
    shaped = p.matching(candidates, _CARD)
    index = np.flatnonzero(shaped)
    if index.size == 0:
        return shaped
    numbers = pc.replace_substring_regex(p.values.take(pa.array(index)), r"[ \-]", b"")
    ok = _luhn(numbers) & _issued(numbers)
    out = np.zeros(len(shaped), dtype=bool)
    out[index[ok]] = True
    return out


#: Card networks' number ranges (leading digits, inclusive, as 4-digit prefixes) and lengths:
#: Visa, Mastercard (51-55, 2221-2720), American Express, Discover, Diners Club, JCB,
#: UnionPay. A number outside them is not taken for a card, whatever its checksum (one random
#: number in ten passes Luhn).
_NETWORKS = (
    (4000, 4999, (13, 16, 19)),
    (5100, 5599, (16,)),
    (2221, 2720, (16,)),
    (3400, 3499, (15,)),
    (3700, 3799, (15,)),
    (6011, 6011, (16, 17, 18, 19)),
    (6440, 6599, (16, 17, 18, 19)),
    (3000, 3059, (14, 15, 16, 17, 18, 19)),
    (3600, 3699, (14, 15, 16, 17, 18, 19)),
    (3800, 3999, (16, 17, 18, 19)),
    (3528, 3589, (16, 17, 18, 19)),
    (6200, 6299, (16, 17, 18, 19)),
)


def _issued(numbers: pa.Array) -> Mask:
    """Which digit strings (no separators) are in a card network's range and length."""
    text = numbers.cast(pa.large_string())
    prefix = np.asarray(pc.utf8_slice_codeunits(text, 0, 4).cast(pa.int64()))
    length = np.asarray(pc.utf8_length(text))
    ok = np.zeros(len(prefix), dtype=bool)
    for low, high, lengths in _NETWORKS:
        ok |= (prefix >= low) & (prefix <= high) & np.isin(length, lengths)
    return ok


def _ipv4(p: _Profile) -> Mask:
    return p.matching((p.dots == 3) & (p.digits >= 4) & (p.length <= 15), _IPV4)


def _ipv6(p: _Profile) -> Mask:
    return p.matching((p.colons >= 2) & (p.length <= 39) & (p.length >= 3), _IPV6)


def _iban(p: _Profile) -> Mask:
    shaped = p.matching((p.digits >= 2) & (p.length >= 15) & (p.length <= 42), _IBAN)
    index = np.flatnonzero(shaped)
    if index.size == 0:
        return shaped
    compact = pc.replace_substring(p.values.take(pa.array(index)), b" ", b"")
    lengths = np.asarray(pc.binary_length(compact))
    ok = (lengths >= 15) & (lengths <= 34)
    ok[ok] = _mod97(compact.filter(pa.array(ok)))
    out = np.zeros(len(shaped), dtype=bool)
    out[index[ok]] = True
    return out


def _us_ssn(p: _Profile) -> Mask:
    shaped = p.matching((p.digits == 9) & (p.length == 11), _SSN)
    index = np.flatnonzero(shaped)
    if index.size == 0:
        return shaped
    digits = _digit_matrix(p.values.take(pa.array(index)).cast(pa.large_string()), 11)
    area = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    group = digits[:, 4] * 10 + digits[:, 5]
    serial = digits[:, 7] * 1000 + digits[:, 8] * 100 + digits[:, 9] * 10 + digits[:, 10]
    ok = (area != 0) & (area != 666) & (area < 900) & (group != 0) & (serial != 0)
    out = np.zeros(len(shaped), dtype=bool)
    out[index[ok]] = True
    return out


#: Every kind and its detector, in the order they are reported.
DETECTORS: dict[str, Callable[[_Profile], Mask]] = {
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
    return {kind: detector(profile) for kind, detector in DETECTORS.items()}
