"""Generated personal data and look-alikes, labelled by independent checks (Python's
``ipaddress``, the Luhn and mod-97 checksums in plain integers): the reference of the PII tests."""

from __future__ import annotations

import ipaddress
import random
import string


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number][::-1]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


#: (prefix, length) of numbers the networks issue: Visa, Mastercard (both ranges), Amex,
#: Discover, JCB, UnionPay.
_NETWORKS = (("4", 16), ("4", 13), ("52", 16), ("2500", 16), ("37", 15), ("6011", 16),
             ("3530", 16), ("62", 19))  # fmt: skip


def _card(rng: random.Random) -> str:
    prefix, length = rng.choice(_NETWORKS)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    check = next(d for d in "0123456789" if luhn_ok(body + d))
    number = body + check
    if length != 16 or rng.random() < 0.4:
        return number
    sep = rng.choice(" -")
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    country = rng.choice(["DE", "GB", "FR", "NL"])
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    iban = f"{country}{98 - number % 97:02d}{bban}"
    return iban if rng.random() < 0.5 else " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"


def _phone(rng: random.Random) -> str:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    return rng.choice(
        [
            f"+1 {d(3)} {d(3)} {d(4)}",
            f"({d(3)}) {d(3)}-{d(4)}",
            f"{d(3)}.{d(3)}.{d(4)}",
            f"+49{d(11)}",
            f"0{d(2)} {d(4)} {d(4)}",
        ]
    )


def _email(rng: random.Random) -> str:
    user = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
    return f"{user}.{rng.randint(1, 99)}@{rng.choice(['example.com', 'mail.co.uk', 'x.org'])}"


def _ipv4(rng: random.Random) -> str:
    return str(ipaddress.IPv4Address(rng.getrandbits(32)))


def _ipv6(rng: random.Random) -> str:
    return str(ipaddress.IPv6Address(rng.getrandbits(128)))  # compressed ("::") when it can


MAKERS = {
    "email": _email,
    "phone": _phone,
    "card": _card,
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "iban": _iban,
    "us_ssn": _ssn,
}


def lookalikes(rng: random.Random, n: int) -> list[str]:
    """Strings that are not personal data but look like some: order numbers, versions,
    timestamps, dates, ids, prices, zip codes, UUIDs, MAC addresses, numbers that fail the
    card checksum, words with an @."""
    out = []
    for _ in range(n):
        d = lambda k: "".join(rng.choice(string.digits) for _ in range(k))  # noqa: E731
        kind = rng.randrange(11)
        if kind == 0:
            out.append(f"ORD-{d(4)}-{d(6)}")
        elif kind == 1:
            out.append(f"v{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 999)}")
        elif kind == 2:
            out.append(
                f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {d(2)}:{d(2)}:{d(2)}"
            )
        elif kind == 3:
            out.append(f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/20{d(2)}")
        elif kind == 4:
            out.append(f"user-{d(9)}")
        elif kind == 5:
            out.append(f"{rng.randint(1, 9)},{d(3)}.{d(2)}")
        elif kind == 6:
            out.append(d(5))
        elif kind == 7:
            out.append(str(__import__("uuid").UUID(int=rng.getrandbits(128))))
        elif kind == 8:
            out.append(":".join(f"{rng.randrange(256):02X}" for _ in range(6)))
        elif kind == 9:
            if rng.random() < 0.5:  # a Visa-like number failing the checksum
                body = "4" + d(15)
                out.append(body if not luhn_ok(body) else body[:-1] + str((int(body[-1]) + 1) % 10))
            else:  # an id passing the checksum, outside every network's range
                body = rng.choice(["59", "63", "29", "56", "1", "9"]) + d(13)
                body += d(15 - len(body))
                out.append(body + next(c for c in "0123456789" if luhn_ok(body + c)))
        else:
            out.append(f"meet me @ {d(2)}:{d(2)}")
    return out


def mix(seed: int, per_kind: int = 200, others: int = 2000) -> tuple[list[str], list[str]]:
    """Values and their true kind ("" for a look-alike)."""
    rng = random.Random(seed)
    values, kinds = [], []
    for kind, make in MAKERS.items():
        for _ in range(per_kind):
            values.append(make(rng))
            kinds.append(kind)
    for value in lookalikes(rng, others):
        values.append(value)
        kinds.append("")
    order = list(range(len(values)))
    rng.shuffle(order)
    return [values[i] for i in order], [kinds[i] for i in order]
