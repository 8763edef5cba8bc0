"""Checksums and registries of the personal-data detectors (:mod:`.pii_patterns`).

Computed on fixed-width digit matrices, one row per value, so no Python loop over values:

* Luhn (ISO/IEC 7812-1, annex B): every second digit from the right doubled (its digits
  summed), the total a multiple of 10. One random number in ten passes.
* The GS1 check digit (EAN-13, GTIN-14 barcodes): digits weighted 1 and 3 alternately from
  the right, the total a multiple of 10.
* ISO 7064 mod 97-10 (IBAN, ISO 13616): the first four characters moved to the end, letters
  as 10-35, the number mod 97 is 1.
* The card networks' number ranges (leading digits) and lengths.
* The IBAN registry (SWIFT, ISO 13616): the countries that issue IBANs and their length.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]


def digit_matrix(values: pa.Array, width: int) -> Ints:
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


def luhn(numbers: pa.Array) -> Mask:
    """The Luhn checksum of digit strings (13-19 digits, no separators)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=bool)
    digits = digit_matrix(numbers, 19)
    doubled = digits[:, -2::-2] * 2  # every second digit from the right, check digit last
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = digits[:, ::-2].sum(axis=1) + doubled.sum(axis=1)
    return np.asarray(total % 10 == 0)


def gs1(numbers: pa.Array) -> Mask:
    """The GS1 check digit of digit strings (up to 19 digits, no separators)."""
    if len(numbers) == 0:
        return np.zeros(0, dtype=bool)
    digits = digit_matrix(numbers, 19)  # left padding with '0' adds nothing
    total = digits[:, ::-2].sum(axis=1) + 3 * digits[:, -2::-2].sum(axis=1)
    return np.asarray(total % 10 == 0)


def mod97(ibans: pa.Array) -> Mask:
    """ISO 7064 mod 97-10 of IBANs without spaces."""
    if len(ibans) == 0:
        return np.zeros(0, dtype=bool)
    text = ibans.cast(pa.large_string())
    head, tail = pc.utf8_slice_codeunits(text, 0, 4), pc.utf8_slice_codeunits(text, 4)
    moved = pc.binary_join_element_wise(tail, head, pa.scalar("", pa.large_string()))
    chars = digit_matrix(moved, 34)  # left padding with '0' leaves the number unchanged
    letters = chars >= 17  # 'A' - '0' = 17
    remainder = np.zeros(len(chars), dtype=np.int64)
    for column in range(chars.shape[1]):
        c = chars[:, column]
        value = np.where(letters[:, column], c - 7, c)  # 'A' -> 10
        scale = np.where(letters[:, column], 100, 10)
        remainder = (remainder * scale + value) % 97
    return np.asarray(remainder == 1)


#: Card networks' number ranges (leading digits, inclusive, as 4-digit prefixes) and lengths:
#: Visa, Mastercard (51-55, 2221-2720), American Express, Discover, Diners Club, JCB,
#: UnionPay. A number outside them is not taken for a card, whatever its checksum (one random
#: number in ten passes Luhn).
NETWORKS = (
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


def issued(prefix: Ints, length: Ints) -> Mask:
    """Which numbers, by their first four digits and their number of digits, are in a card
    network's range and length."""
    ok = np.zeros(len(prefix), dtype=bool)
    if len(prefix) == 0:
        return ok
    for low, high, lengths in NETWORKS:
        allowed = sum(1 << n for n in lengths)  # a bit per length (under 64)
        ok |= (prefix >= low) & (prefix <= high) & ((allowed >> np.minimum(length, 63)) & 1 == 1)
    return ok


#: IBAN length per country, from the SWIFT IBAN registry (release 2024), and the territories
#: the registry lists under a country (Aland under Finland; the French overseas departments
#: and collectivities under France; Guernsey, Jersey and the Isle of Man under the UK).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    "AX": 18, "GF": 27, "GP": 27, "MQ": 27, "RE": 27, "PF": 27, "TF": 27, "YT": 27, "NC": 27,
    "BL": 27, "MF": 27, "PM": 27, "WF": 27, "GG": 22, "JE": 22, "IM": 22,
}  # fmt: skip


def _iban_table() -> Ints:
    table = np.zeros(26 * 26, np.int64)
    for country, length in IBAN_LENGTHS.items():
        table[(ord(country[0]) - 65) * 26 + ord(country[1]) - 65] = length
    return table


_IBAN_TABLE = _iban_table()


def iban_length(first: npt.NDArray[np.uint8], second: npt.NDArray[np.uint8]) -> Ints:
    """The IBAN length of the countries whose code is these two capital letters (0 for a code
    that issues none)."""
    code = (first.astype(np.int64) - 65) * 26 + (second.astype(np.int64) - 65)
    return np.asarray(_IBAN_TABLE[code])
