"""Checksums and registries of the personal-data detectors (:mod:`.pii_patterns`).

Computed on fixed-width digit matrices, one row per value, so no Python loop over values:

* Luhn (ISO/IEC 7812-1, annex B): every second digit from the right doubled (its digits
  summed), the total a multiple of 10. One random number in ten passes.
* ISO 7064 mod 97-10 (IBAN, ISO 13616): the first four characters moved to the end, letters
  as 10-35, the number mod 97 is 1.
* The card networks' number ranges (leading digits) and lengths.
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
