"""Which strings look like personal data: vectorised detectors, one per kind.

`detect` takes a string (or binary) Arrow array and returns, per kind, a boolean numpy mask of
the values that *look like* it, on the whole value but for whitespace around it (a value that
merely contains an e-mail address in a sentence is not matched; free text is the redaction
policy's concern):

============  ==============================================================================
kind          rule
============  ==============================================================================
``email``     ``local@domain.tld``: RFC 5322's common subset (letters, digits, ``._%+-`` in the
              local part; labels of letters, digits and ``-``; a top-level domain of letters,
              not an image or document file's extension: ``icon@2x.png`` is a file name)
``phone``     7 to 15 digits (E.164's range, an extension ``ext. 12``, ``x12``, ``#12`` not
              counted) as written in the US and in countries with a trunk prefix (DIN 5008,
              France, the UK): ``+`` and a country code then groups of 1-8 digits (a ``(0)``
              allowed); or a national number starting with the trunk ``0`` (its area code
              maybe in parentheses or followed by ``/``) then groups of 1-8 digits; or groups
              of 2-5 digits by spaces or dashes after an optional area code in parentheses;
              or ``ddd.ddd.dddd``. At least one separator or a ``+``. Not a date, an IPv4
              address, a US SSN, a ZIP+4 code (``02134-1234``) or a MAC address of digits
              (``00-12-34-56-78-90``, ``0012.3456.7890``)
``card``      13 to 19 digits, plain or in groups (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4) by
              spaces or dashes, passing the Luhn checksum (ISO/IEC 7812), in a card network's
              number range and length (Visa, Mastercard, American Express, Discover, Diners
              Club, JCB, UnionPay); a plain 13 or 14 digit number with a valid GS1 check digit
              is a barcode (EAN-13, GTIN-14), not a card
``ipv4``      four decimal octets 0-255 separated by dots, no leading zeros (a version
              ``1.2.3.4`` is one: nothing in the value tells them apart)
``ipv6``      RFC 3986's grammar of RFC 4291 text: eight groups of 1-4 hex digits, or fewer
              around one ``::``, the last two maybe an IPv4 address (``::ffff:192.0.2.1``)
``iban``      ISO 13616: a country of the IBAN registry, two check digits and the country's
              length of letters or digits (spaces every four allowed), passing the mod-97
              check (ISO 7064)
``us_ssn``    US social security number ``AAA-GG-SSSS`` with the ranges the SSA never issues
              left out (area 000, 666, 900-999; group 00; serial 0000)
============  ==============================================================================

Cost: each detector narrows the values down before any per-byte work (:mod:`.pii_profile`):
from the length and the first and last bytes (a phone number ends in a digit, an e-mail
address in a letter, an IBAN starts with two capitals), then for the few values left bytes at
fixed positions and counts of bytes (digits, letters, ``@``, ``.``, ``:``); only those that
pass reach the detector's RE2 pattern (``pyarrow.compute.match_substring_regex``) and its
checksum. Near-unique ids and free text (``user-000123456``, sentences), the costly columns,
mostly stop at the first step. Every step is a necessary condition of the pattern (the test
``test_the_detectors_follow_their_rules_on_every_value`` checks it), so the answers are those
of the patterns and checks alone.

Checksums and registries (:mod:`.pii_checks`) are computed on fixed-width digit matrices, one
row per candidate: no Python loop over values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from beam_stats.stats.pii_checks import digit_matrix, gs1, iban_length, issued, luhn, mod97
from beam_stats.stats.pii_profile import (
    DIGITS,
    HEX,
    LETTERS,
    UPPER,
    Ints,
    Profile,
    Shape,
    Shapes,
    is_digit,
    is_upper,
)
from beam_stats.stats.pii_profile import Mask as Mask  # (what `detect` returns, per kind)

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_EMAIL = rf"^[A-Za-z0-9._%+\-]{{1,64}}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,24}}$"
#: File names' extensions after an "@" (Apple's ``name@2x.png``), none of them a TLD.
_NOT_EMAIL = r"\.(?i:png|jpe?g|gif|svg|webp|bmp|ico|tiff?|heic|pdf)$"
_EXT = r"(?:,? ?(?i:ext\.?|x|#) ?\d{1,5})?$"
_EXTENSION = r"(?i:ext\.?|x|#) ?(?P<ext>\d{1,5})$"
_PHONE = (
    # US style: groups of 2-5 digits by spaces or dashes, maybe "+1" or "1" and "(415)"
    r"^(?:\+\d{1,3}[ \-]?|1[ \-])?(?:\(\d{1,4}\)[ \-]?)?"
    rf"\d{{2,5}}(?:[ \-]\d{{2,5}}){{1,5}}{_EXT}"
    rf"|^(?:\+?1[ .\-]?)?\d{{3}}\.\d{{3}}\.\d{{4}}{_EXT}"
    # international: +49 30 12345678, +49 (0)30 1234567, +33 6 12 34 56 78
    rf"|^\+\d{{1,3}}(?:[ .\-]?\(0\)[ .\-]?\d{{1,5}})?(?:[ .\-]\d{{1,8}}){{1,6}}{_EXT}"
    # national with the trunk 0: 030 1234567, 030/1234567, (020) 7946 0958, 01.23.45.67.89
    rf"|^(?:0[1-9]\d{{0,3}}[ .\-/]|\(0[1-9]\d{{0,3}}\) ?)\d{{1,8}}(?:[ .\-]\d{{1,8}}){{0,4}}{_EXT}"
    rf"|^\+\d{{7,15}}{_EXT}"
)
_DATE_LIKE = r"^\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|^\d{1,2}[\-./]\d{1,2}[\-./]\d{4}$"
_CARD = (
    r"^\d{13,19}$"
    r"|^\d{4}(?:[ \-]?\d{4}){2,3}(?:[ \-]?\d{1,4})?$"  # 4-4-4-4, 4-4-4-4-3, ...
    r"|^\d{4}[ \-]?\d{6}[ \-]?\d{4,5}$"  # American Express 4-6-5, Diners Club 4-6-4
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"


def _ipv6_pattern() -> str:
    """RFC 3986's ``IPv6address`` rule."""
    h16 = r"[0-9A-Fa-f]{1,4}"
    ls32 = rf"(?:{h16}:{h16}|{_OCTET}(?:\.{_OCTET}){{3}})"
    forms = [rf"(?:{h16}:){{6}}{ls32}", rf"::(?:{h16}:){{5}}{ls32}"]
    for before, after in ((0, 4), (1, 3), (2, 2), (3, 1), (4, 0)):
        forms.append(rf"(?:(?:{h16}:){{0,{before}}}{h16})?::(?:{h16}:){{{after}}}{ls32}")
    forms.append(rf"(?:(?:{h16}:){{0,5}}{h16})?::{h16}")
    forms.append(rf"(?:(?:{h16}:){{0,6}}{h16})?::")
    return "^(?:" + "|".join(forms) + ")$"


_IPV6 = _ipv6_pattern()
_IBAN = r"^[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}$"
_SSN = r"^\d{3}-\d{2}-\d{4}$"
#: What a phone-shaped value is not: a date, an IPv4 address, a US SSN, a ZIP+4 code, a MAC
#: address that happens to have decimal digits only (six pairs, or Cisco's three fours).
_MAC = r"^\d\d(?:[:\-]\d\d){5}$|^\d{4}\.\d{4}\.\d{4}$"
_NOT_PHONE = rf"{_DATE_LIKE}|{_IPV4}|{_SSN}|^\d{{5}}-\d{{4}}$|{_MAC}"


#: Kind -> (bytes its values can start with, bytes they can end with, shortest and longest
#: length in bytes): what each pattern above implies, checked before anything else.
_SHAPES: dict[str, Shape] = {
    "email": (LETTERS + DIGITS + b"._%+-", LETTERS, 6, 254),
    "phone": (DIGITS + b"+(", DIGITS, 7, 40),
    "card": (DIGITS, DIGITS, 13, 23),
    "ipv4": (DIGITS, DIGITS, 7, 15),
    "ipv6": (HEX + b":", HEX + b":", 2, 45),
    "iban": (UPPER, UPPER + DIGITS, 15, 42),
    "us_ssn": (DIGITS, DIGITS, 11, 11),
}


_SHAPES_TABLES = Shapes.of(_SHAPES)


def _email(p: Profile) -> Ints:
    index = p.candidates("email")
    if index.size == 0:
        return index
    found = p.matching(index[p.count(b"@", index) == 1], _EMAIL)
    if found.size == 0:
        return found
    # (those extensions end in c, f, g, o or p)
    ending = found[np.isin(p.byte(-1, found) | np.uint8(32), np.frombuffer(b"cfgop", np.uint8))]
    return np.setdiff1d(found, p.matching(ending, _NOT_EMAIL), assume_unique=True)


def _phone(p: Profile) -> Ints:
    index = p.candidates("phone")
    if index.size == 0:
        return index
    digits = p.count(DIGITS, index)
    index = index[(digits >= 7) & (digits <= 20)]
    index = index[p.count(LETTERS, index) <= 3]  # "ext" at most (UUIDs, hashes: more)
    shaped = p.matching(index, _PHONE)
    # a "+" or a separator: not a bare number
    shaped = shaped[p.length[shaped] > p.count(DIGITS, shaped)]
    shaped = np.setdiff1d(shaped, p.matching(shaped, _NOT_PHONE), assume_unique=True)
    if shaped.size == 0:
        return shaped
    number = p.count(DIGITS, shaped)
    marked = np.flatnonzero((p.count(LETTERS, shaped) > 0) | (p.count(b"#", shaped) > 0))
    if marked.size:  # an extension: its digits are not the number's
        extension = pc.struct_field(pc.extract_regex(p.take(shaped[marked]), _EXTENSION), [0])
        number[marked] -= np.asarray(pc.fill_null(pc.binary_length(extension), 0))
    e164: Mask = (number >= 7) & (number <= 15)
    return shaped[e164]


def _card(p: Profile) -> Ints:
    index = p.candidates("card")
    if index.size == 0:
        return index
    digits = p.count(DIGITS, index)
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
    length = p.length[shaped]
    barcode = (length == p.count(DIGITS, shaped)) & (length <= 14) & gs1(numbers)
    ok: Mask = luhn(numbers) & ~barcode
    return shaped[ok]


def _ipv4(p: Profile) -> Ints:
    index = p.candidates("ipv4")
    if index.size == 0:
        return index
    return p.matching(index[p.count(b".", index) == 3], _IPV4)


def _ipv6(p: Profile) -> Ints:
    index = p.candidates("ipv6")
    if index.size == 0:
        return index
    return p.matching(index[p.count(b":", index) >= 2], _IPV6)


def _iban(p: Profile) -> Ints:
    index = p.candidates("iban")
    if index.size == 0:
        return index
    index = index[is_upper(p.byte(1, index))]
    index = index[is_digit(p.byte(2, index)) & is_digit(p.byte(3, index))]
    registered = iban_length(p.byte(0, index), p.byte(1, index))
    index = index[registered > 0]
    shaped = p.matching(index, _IBAN)
    if shaped.size == 0:
        return shaped
    compact = pc.replace_substring(p.take(shaped), b" ", b"")
    lengths = np.asarray(pc.binary_length(compact))
    ok: Mask = lengths == iban_length(p.byte(0, shaped), p.byte(1, shaped))
    ok[ok] = mod97(compact.filter(pa.array(ok)))
    return shaped[ok]


def _us_ssn(p: Profile) -> Ints:
    index = p.candidates("us_ssn")
    if index.size == 0:
        return index
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
DETECTORS: dict[str, Callable[[Profile], Ints]] = {
    "email": _email,
    "phone": _phone,
    "card": _card,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "iban": _iban,
    "us_ssn": _us_ssn,
}


def positions(values: pa.Array) -> dict[str, Ints]:
    """Kind -> the positions of the values of `values` (strings or bytes) that look like it
    (nulls never)."""
    profile = Profile(values, _SHAPES_TABLES)
    return {kind: detector(profile) for kind, detector in DETECTORS.items()}


def detect(values: pa.Array) -> dict[str, Mask]:
    """Kind -> which of `values` (strings or bytes) look like it (nulls never)."""
    out = {}
    for kind, index in positions(values).items():
        mask = np.zeros(len(values), dtype=bool)
        mask[index] = True
        out[kind] = mask
    return out
