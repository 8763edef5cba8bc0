"""Generated personal data and look-alikes, labelled by independent checks (Python's
``ipaddress``, the Luhn, GS1 and mod-97 checksums in plain integers, the card networks' ranges
written at their own prefix lengths): the reference of the PII tests and of
``benchmarks/pii_quality.py``.

Every value comes from a *family* (``phone/de``, ``version``, ...). A value of a personal-data
family is of its kind by construction. A look-alike is labelled by `reference_kind`, which
decides the cases no detector can tell apart by the value alone:

* a dotted quad of octets 0-255 (a version ``1.2.3.4`` too) is an IPv4 address, as
  ``ipaddress`` says; a version with a part over 255 or a leading zero is not;
* a plain 14-19 digit number (an order or tracking id too) that is in a card network's range
  and length and passes Luhn is a card number: nothing in the value tells it from one, and a
  leaked one is as bad (PCI DSS data discovery treats such numbers as card numbers); a 13 or
  14 digit number with a valid GS1 check digit is a barcode (EAN-13, GTIN-14), never a card:
  barcodes are common in product tables, and 13-digit Visa numbers nearly extinct.
"""

from __future__ import annotations

import ipaddress
import random
import string
import uuid
from collections.abc import Callable

Maker = Callable[[random.Random], str]


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number][::-1]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


def gs1_ok(number: str) -> bool:
    """The GS1 check digit (EAN, UPC, GTIN): weights 3 and 1 alternating from the right."""
    digits = [int(c) for c in number][::-1]
    return sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0


#: (lowest prefix, highest prefix, lengths) of the numbers card networks issue, each at its own
#: prefix length: Visa, Mastercard (two ranges), Amex, Discover, Diners Club, JCB, UnionPay.
CARD_RANGES = (
    ("4", "4", (13, 16, 19)),
    ("51", "55", (16,)),
    ("2221", "2720", (16,)),
    ("34", "34", (15,)),
    ("37", "37", (15,)),
    ("6011", "6011", (16, 17, 18, 19)),
    ("644", "649", (16, 17, 18, 19)),
    ("65", "65", (16, 17, 18, 19)),
    ("300", "305", (14, 15, 16, 17, 18, 19)),
    ("36", "36", (14, 15, 16, 17, 18, 19)),
    ("38", "39", (16, 17, 18, 19)),
    ("3528", "3589", (16, 17, 18, 19)),
    ("62", "62", (16, 17, 18, 19)),
)


def card_number(digits: str) -> bool:
    """Whether a plain digit string counts as a card number (see the module docstring)."""
    issued = any(
        low <= digits[: len(low)] <= high and len(digits) in lengths
        for low, high, lengths in CARD_RANGES
    )
    barcode = len(digits) in (13, 14) and gs1_ok(digits)
    return issued and luhn_ok(digits) and not barcode


def reference_kind(value: str) -> str:
    """The kind of personal data a look-alike value is after all ("" for none)."""
    try:
        ipaddress.IPv4Address(value)
        return "ipv4"
    except ValueError:
        pass
    try:
        if "%" not in value:
            ipaddress.IPv6Address(value)
            return "ipv6"
    except ValueError:
        pass
    if value.isascii() and value.isdigit() and card_number(value):
        return "card"
    return ""


def _digits(rng: random.Random, n: int, first: str = string.digits) -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def _grouped(number: str, sizes: tuple[int, ...], sep: str) -> str:
    out, at = [], 0
    for size in sizes:
        out.append(number[at : at + size])
        at += size
    return sep.join(out)


# --- personal data, by kind and format ------------------------------------------------------

#: (prefix, length, groupings when printed) of generated cards.
_CARDS = (
    ("4", 16, (4, 4, 4, 4)),
    ("4", 19, (4, 4, 4, 4, 3)),
    ("4", 13, ()),
    ("52", 16, (4, 4, 4, 4)),
    ("2500", 16, (4, 4, 4, 4)),
    ("37", 15, (4, 6, 5)),
    ("34", 15, (4, 6, 5)),
    ("6011", 16, (4, 4, 4, 4)),
    ("65", 16, (4, 4, 4, 4)),
    ("3530", 16, (4, 4, 4, 4)),
    ("36", 14, (4, 6, 4)),
    ("62", 19, (4, 4, 4, 4, 3)),
)


def _card(rng: random.Random, grouped: bool) -> str:
    prefix, length, groups = rng.choice([c for c in _CARDS if c[2] or not grouped])
    while True:
        body = prefix + _digits(rng, length - len(prefix) - 1)
        number = body + next(d for d in string.digits if luhn_ok(body + d))
        if card_number(number):  # not a GS1 barcode (a 13-digit Visa, one time in ten)
            break
    return _grouped(number, groups, rng.choice(" -")) if grouped else number


def _d(rng: random.Random) -> Callable[[int], str]:
    return lambda n: "".join(rng.choice(string.digits) for _ in range(n))


def rng_choice(rng: random.Random, *formats: Callable[[Callable[[int], str]], str]) -> str:
    return rng.choice(formats)(_d(rng))


PHONES: dict[str, Maker] = {
    "us": lambda r: rng_choice(
        r,
        lambda d: f"+1 {d(3)} {d(3)} {d(4)}",
        lambda d: f"({d(3)}) {d(3)}-{d(4)}",
        lambda d: f"{d(3)}.{d(3)}.{d(4)}",
        lambda d: f"{d(3)}-{d(3)}-{d(4)}",
        lambda d: f"+1-{d(3)}-{d(3)}-{d(4)}",
        lambda d: f"1-800-{d(3)}-{d(4)}",
        lambda d: f"+1{d(10)}",
    ),
    "extension": lambda r: rng_choice(
        r,
        lambda d: f"({d(3)}) {d(3)}-{d(4)} ext. {d(2)}",
        lambda d: f"{d(3)}-{d(3)}-{d(4)} x{d(3)}",
        lambda d: f"+1 {d(3)} {d(3)} {d(4)} ext {d(4)}",
    ),
    "de": lambda r: rng_choice(
        r,
        lambda d: f"+49 30 {d(8)}",
        lambda d: f"030 {d(8)}",
        lambda d: f"+49 (0)30 {d(7)}",
        lambda d: f"030/{d(7)}",
        lambda d: f"0171 {d(7)}",
        lambda d: f"+49 171 {d(7)}",
        lambda d: f"030 {d(6)}-{d(2)}",
        lambda d: f"+49{d(11)}",
    ),
    "fr": lambda r: rng_choice(
        r,
        lambda d: f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",
        lambda d: f"01 {d(2)} {d(2)} {d(2)} {d(2)}",
        lambda d: f"06.{d(2)}.{d(2)}.{d(2)}.{d(2)}",
        lambda d: f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
    ),
    "uk": lambda r: rng_choice(
        r,
        lambda d: f"+44 20 {d(4)} {d(4)}",
        lambda d: f"020 {d(4)} {d(4)}",
        lambda d: f"(020) {d(4)} {d(4)}",
        lambda d: f"07700 {d(6)}",
        lambda d: f"+44 (0)20 {d(4)} {d(4)}",
        lambda d: f"0{d(2)} {d(4)} {d(4)}",
    ),
    "world": lambda r: rng_choice(
        r,
        lambda d: f"+91 9{d(4)} {d(5)}",  # India
        lambda d: f"9{d(4)} {d(5)}",
        lambda d: f"03-{d(4)}-{d(4)}",  # Japan
        lambda d: f"+81 90-{d(4)}-{d(4)}",
        lambda d: f"13{d(1)} {d(4)} {d(4)}",  # China
        lambda d: f"+86 13{d(1)} {d(4)} {d(4)}",
        lambda d: f"(11) 9{d(4)}-{d(4)}",  # Brazil
        lambda d: f"(02) {d(4)} {d(4)}",  # Australia
        lambda d: f"+61 4{d(2)} {d(3)} {d(3)}",
        lambda d: f"06-{d(8)}",  # the Netherlands
        lambda d: f"+31 6 {d(8)}",
    ),
}


def _email(rng: random.Random) -> str:
    lower = string.ascii_lowercase
    user = "".join(rng.choice(lower) for _ in range(rng.randint(1, 10)))
    domain = rng.choice(["example.com", "mail.co.uk", "x.org", "uni-bonn.de", "a.museum"])
    return rng.choice(
        [
            f"{user}.{rng.randint(1, 99)}@{domain}",
            f"{user}+news@{domain}",
            f"{user.capitalize()}.{user[::-1].capitalize()}@{domain.upper()}",
            f"{user}_{user}@sub.{domain}",
            f"{user}@{domain}",
            f"{rng.randint(1, 10**6)}@{domain}",
            f"{user}-{user}@xn--bcher-kva.{rng.choice(['de', 'ch', 'technology'])}",
        ]
    )


#: (country, length, BBAN alphabet per position: "n" digits, "a" letters, "c" either).
_IBANS = (
    ("DE", 22, "n" * 18),
    ("GB", 22, "aaaa" + "n" * 14),
    ("FR", 27, "n" * 10 + "c" * 11 + "nn"),
    ("NL", 18, "aaaa" + "n" * 10),
    ("NO", 15, "n" * 11),
    ("BE", 16, "n" * 12),
    ("IT", 27, "a" + "n" * 10 + "c" * 12),
    ("MT", 31, "aaaa" + "n" * 5 + "c" * 18),
)


def _iban(rng: random.Random, spaced: bool) -> str:
    country, length, shape = rng.choice(_IBANS)
    pool = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits + "ABCXYZ"}
    bban = "".join(rng.choice(pool[c]) for c in shape)
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    iban = f"{country}{98 - number % 97:02d}{bban}"
    assert len(iban) == length
    return " ".join(iban[i : i + 4] for i in range(0, length, 4)) if spaced else iban


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def _ipv6(rng: random.Random) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(rng.getrandbits(128))


#: Kind -> format -> maker of values of that kind.
FORMATS: dict[str, dict[str, Maker]] = {
    "email": {"plain": _email},
    "phone": PHONES,
    "card": {"plain": lambda r: _card(r, False), "grouped": lambda r: _card(r, True)},
    "ipv4": {"dotted": lambda r: str(ipaddress.IPv4Address(r.getrandbits(32)))},
    "ipv6": {
        "compressed": lambda r: str(_ipv6(r)),  # "::" when it can
        "exploded": lambda r: _ipv6(r).exploded,
        "upper": lambda r: str(_ipv6(r)).upper(),
        "ipv4_mapped": lambda r: f"::ffff:{ipaddress.IPv4Address(r.getrandbits(32))}",
        "link_local": lambda r: str(ipaddress.IPv6Address((0xFE80 << 112) | r.getrandbits(64))),
    },
    "iban": {"compact": lambda r: _iban(r, False), "spaced": lambda r: _iban(r, True)},
    "us_ssn": {"plain": _ssn},
}


def _any_format(formats: dict[str, Maker]) -> Maker:
    makers = list(formats.values())
    return lambda rng: rng.choice(makers)(rng)


#: Kind -> a maker of values of that kind in any of its formats (not padded).
MAKERS: dict[str, Maker] = {kind: _any_format(formats) for kind, formats in FORMATS.items()}


def _padded(make: Maker) -> Maker:
    """Values with spaces or a tab around them (fixed-width exports): still personal data."""
    return lambda r: r.choice([" ", "", "\t"]) + make(r) + r.choice([" ", "  ", "\n"])


for _kind, _formats in FORMATS.items():
    _formats["padded"] = _padded(MAKERS[_kind])


# --- look-alikes, by family ------------------------------------------------------------------


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _digit_id(rng: random.Random) -> str:
    """A 13-19 digit id, half of them made to pass Luhn (inside card ranges or not)."""
    number = _digits(rng, rng.randint(13, 19), first="123456789")
    if rng.random() < 0.5:
        number = number[:-1] + next(d for d in string.digits if luhn_ok(number[:-1] + d))
    return number


def _barcode(rng: random.Random) -> str:
    """An EAN-13 (GS1 prefixes of Germany, Japan, France, a UPC), a GTIN-14 or an ISBN."""
    body = rng.choice(["400", "419", "440", "450", "300", "370", "080"]) + _d(rng)(9)
    if rng.random() < 0.3:
        body = rng.choice("123") + body  # GTIN-14: a packaging level before the EAN's 12
    code = body + next(d for d in string.digits if gs1_ok(body + d))
    if rng.random() < 0.2:  # an ISBN-13, printed with hyphens
        return f"978-{code[3]}-{code[4:7]}-{code[7:12]}-{code[12]}"
    return code


def _version(rng: random.Random) -> str:
    part = lambda: str(rng.choice([rng.randint(0, 20), rng.randint(0, 400)]))  # noqa: E731
    return rng.choice(
        [
            f"{part()}.{part()}.{part()}",
            f"v{part()}.{part()}.{part()}",
            f"{part()}.{part()}.{part()}.{part()}",
            f"10.0.{rng.randint(10000, 22631)}.{rng.randint(1, 4000)}",
            f"{part()}.{part()}.{part()}-rc.{rng.randint(1, 9)}",
            f"20{rng.randint(10, 25)}.{rng.randint(1, 12):02d}.{rng.randint(0, 9)}",
        ]
    )


def _timestamp(rng: random.Random) -> str:
    y, mo, dd = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    h, mi, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice(
        [
            f"{y}-{mo:02d}-{dd:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
            f"{y}-{mo:02d}-{dd:02d}T{h:02d}:{mi:02d}:{s:02d}.{rng.randint(0, 999):03d}+01:00",
            f"{y}{mo:02d}{dd:02d}{h:02d}{mi:02d}{s:02d}",
            f"{y}-{mo:02d}-{dd:02d} {h:02d}:{mi:02d}:{s:02d}",
            str(rng.randint(10**9, 2 * 10**9)),
            str(rng.randint(10**12, 2 * 10**12)),
            f"{h:02d}:{mi:02d}:{s:02d}",
            f"{h:02d}:{mi:02d}:{s:02d}.{rng.randint(0, 999999):06d}",
        ]
    )


def _date(rng: random.Random) -> str:
    y, mo, dd = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [f"{y}-{mo:02d}-{dd:02d}", f"{dd:02d}.{mo:02d}.{y}", f"{mo:02d}/{dd:02d}/{y}",
         f"{y}{mo:02d}{dd:02d}", f"{y}/{mo:02d}/{dd:02d}", f"{dd}.{mo}.{y}"]
    )  # fmt: skip


def _amount(rng: random.Random) -> str:
    units, cents = rng.randint(0, 99_999_999), rng.randint(0, 99)
    plain = f"{units}.{cents:02d}"
    us = f"{units:,}.{cents:02d}"
    return rng.choice(
        [plain, us, us.replace(",", "_").replace(".", ",").replace("_", "."),
         us.replace(",", " "), us.replace(",", " ").replace(".", ","), f"-{plain}",
         f"${us}", f"{units:,}".replace(",", ".") + f",{cents:02d} €"]
    )  # fmt: skip


def _mac(rng: random.Random) -> str:
    octets = [f"{rng.randrange(256):02x}" for _ in range(6)]
    if rng.random() < 0.2:  # all decimal digits: the shape of a phone number in pairs
        octets = [_d(rng)(2) for _ in range(6)]
    form = rng.randrange(4)
    if form == 3:
        joined = "".join(octets)
        return ".".join(joined[i : i + 4] for i in range(0, 12, 4))
    return [":", "-", ":"][form].join(octets if form != 2 else [o.upper() for o in octets])


def _email_like(rng: random.Random) -> str:
    user = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 8)))
    return rng.choice(
        [f"{user}@localhost", f"@{user}", f"{user[0]}@{user[-1]}", f"{user}@2x.png",
         f"{user}@3x.jpg", f"git@github.com:{user}/{user}.git", f"{user}@", f"@{user}.com",
         f"{user}@{user}",
         f"meet me @ {rng.randint(0, 23)}:{rng.randint(10, 59)}", f"{user}@{user}.c"]
    )  # fmt: skip


def _sku(rng: random.Random) -> str:
    d, upper = _d(rng), string.ascii_uppercase
    letters = lambda n: "".join(rng.choice(upper) for _ in range(n))  # noqa: E731
    return rng.choice(
        [f"SKU-{d(5)}-{rng.choice(['S', 'M', 'XL'])}", f"{letters(2)}-{d(4)}-{d(4)}",
         f"{letters(2)}{d(2)}{letters(2)}{d(10)}", f"{letters(2)}{d(9)}",
         f"{d(3)}-{letters(3)}-{d(4)}", f"{letters(3)}{d(6)}", f"sku-{d(7)}",
         f"{letters(2)}{d(2)} {d(4)} {d(4)} {d(4)}"]
    )  # fmt: skip


def _order(rng: random.Random) -> str:
    d = _d(rng)
    return rng.choice(
        [f"ORD-{rng.randint(2015, 2030)}-{d(6)}", f"INV/{rng.randint(2015, 2030)}/{d(5)}",
         f"{rng.randint(2015, 2030)}-{d(6)}", f"PO {d(10)}", f"#{d(8)}", f"{d(3)}-{d(7)}-{d(7)}",
         f"1Z{d(3)}{rng.choice(['AA', 'XY'])}{d(10)}", f"{d(4)} {d(4)} {d(4)} {d(4)} {d(4)} {d(2)}"]
    )  # fmt: skip


def _postal(rng: random.Random) -> str:
    d = _d(rng)
    return rng.choice([d(5), f"{d(5)}-{d(4)}", f"0{d(4)}-{d(4)}", "SW1A 1AA", f"{d(2)}-{d(3)}"])


def _hash(rng: random.Random) -> str:
    value = _hex(rng, rng.choice([32, 40, 64]))
    return value.upper() if rng.random() < 0.5 else value


def _invalid_ssn(rng: random.Random) -> str:
    area = rng.choice(["000", "666", str(rng.randint(900, 999))])
    return f"{area}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


#: Family -> maker of look-alike values (labelled by `reference_kind`).
LOOKALIKES: dict[str, Maker] = {
    "order_number": _order,
    "digit_id": _digit_id,
    "barcode": _barcode,
    "version": _version,
    "timestamp": _timestamp,
    "date": _date,
    "uuid": lambda r: str(uuid.UUID(int=r.getrandbits(128))),
    "hex_hash": _hash,
    "amount": _amount,
    "mac_address": _mac,
    "email_like": _email_like,
    "sku": _sku,
    "postal_code": _postal,
    "invalid_ssn": _invalid_ssn,
    "word": lambda r: "".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(1, 12))),
}


#: Family -> maker of values no detector can tell from personal data by the value alone,
#: taken for it by decision; not in the mix (``benchmarks/pii_quality.py`` shows how often).
AMBIGUOUS: dict[str, Maker] = {
    # digits alone grouped as phone numbers are (Chinese mobiles, Polish, Spanish numbers)
    "digit_groups": lambda r: rng_choice(
        r,
        lambda d: f"{d(3)}-{d(4)}-{d(3)}",
        lambda d: f"{r.randint(10, 999)} {d(3)} {d(3)}",
        lambda d: f"{d(4)} {d(4)} {d(4)}",
    ),
    # a four-part version whose parts are all 0-255 is a valid IPv4 address
    "version_quad": lambda r: ".".join(str(r.randint(0, 30)) for _ in range(4)),
    # random 16-digit ids: those in a card range that pass Luhn (one in ten) are card numbers
    "random_16_digits": lambda r: _digits(r, 16, first="123456789"),
}


def samples(
    seed: int, per_kind: int = 200, others: int = 2000
) -> tuple[list[str], list[str], list[str]]:
    """Values, their true kind ("" for none) and their family, shuffled: `per_kind` values of
    each kind (its formats in turn) and `others` look-alikes (the families in turn)."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = []
    for kind, formats in FORMATS.items():
        names = list(formats)
        for i in range(per_kind):
            name = names[i % len(names)]
            rows.append((formats[name](rng), kind, f"{kind}/{name}"))
    families = list(LOOKALIKES)
    for i in range(others):
        family = families[i % len(families)]
        value = LOOKALIKES[family](rng)
        rows.append((value, reference_kind(value), family))
    rng.shuffle(rows)
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def mix(seed: int, per_kind: int = 200, others: int = 2000) -> tuple[list[str], list[str]]:
    """Values and their true kind ("" for a look-alike that is none)."""
    values, kinds, _ = samples(seed, per_kind, others)
    return values, kinds
