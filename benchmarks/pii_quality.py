"""Personal-data detection: precision and recall per kind on generated values.

Usage::

    .venv/bin/python benchmarks/pii_quality.py [--per-kind 20000] [--others 300000] [--seeds 3]

The values come from ``tests/pii_reference.py`` (the reference of the PII tests): ``--per-kind``
values of each kind of personal data (e-mail, phone in US, extension, German, French, UK and
other countries' formats, cards of seven networks plain and grouped, IPv4, IPv6 in five forms,
IBANs of eight countries plain and spaced, US SSN; each also padded with whitespace) and
``--others`` look-alikes from fifteen families (order numbers, 13-19 digit ids, barcodes,
versions, timestamps, dates, UUIDs, hex hashes, amounts, MAC addresses, e-mail look-alikes,
SKUs, postal codes, invalid SSNs, words), each labelled by the reference's independent
checks (a look-alike that *is* an IPv4 address or a card number by the reference's rules
counts as one). The detectors of this checkout
(``beam_stats.stats.pii_patterns.detect``) run on all of them at once, per seed.

Printed: per kind, true and false positives, false negatives, precision and recall, summed
over the seeds; then per family, how many values it had and how many were taken for each kind
(``kind*`` when that is the value's true kind), so a false positive can be traced to its
family. Last, values that no detector can tell from personal data (``AMBIGUOUS`` in the
reference: digits grouped like phone numbers, four-part versions of small numbers, random
16-digit ids), not in the mix, and how often each kind takes them.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's beam_stats, not an installed one
sys.path.insert(0, str(ROOT / "tests"))

from pii_reference import AMBIGUOUS, samples  # noqa: E402

from beam_stats.stats.pii_patterns import DETECTORS, detect  # noqa: E402


def measure(
    seeds: int, per_kind: int, others: int
) -> tuple[dict[str, collections.Counter[str]], dict[str, collections.Counter[str]], float]:
    """Per kind: tp, fp, fn counts; per family: values and flags per kind; detect seconds."""
    kinds: dict[str, collections.Counter[str]] = {k: collections.Counter() for k in DETECTORS}
    families: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    seconds = 0.0
    for seed in range(seeds):
        values, truth, family = samples(seed, per_kind, others)
        start = time.perf_counter()
        found = detect(pa.array(values))
        seconds += time.perf_counter() - start
        for name in family:
            families[name]["values"] += 1
        for kind, mask in found.items():
            for hit, true, name in zip(mask.tolist(), truth, family, strict=True):
                is_kind = true == kind
                if hit:
                    kinds[kind]["tp" if is_kind else "fp"] += 1
                    families[name][kind + ("*" if is_kind else "")] += 1
                elif is_kind:
                    kinds[kind]["fn"] += 1
    return kinds, families, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--per-kind", type=int, default=20_000)
    parser.add_argument("--others", type=int, default=300_000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    kinds, families, seconds = measure(args.seeds, args.per_kind, args.others)
    total = args.seeds * (args.per_kind * len(DETECTORS) + args.others)
    print(f"{total:,} values ({args.seeds} seeds), detect: {seconds:.2f} s\n")
    print("| kind | true pos. | false pos. | false neg. | precision | recall |")
    print("|---|---|---|---|---|---|")
    for kind, c in kinds.items():
        precision = c["tp"] / max(c["tp"] + c["fp"], 1)
        recall = c["tp"] / max(c["tp"] + c["fn"], 1)
        counts = f"{c['tp']:,} | {c['fp']:,} | {c['fn']:,}"
        print(f"| {kind} | {counts} | {precision:.4f} | {recall:.4f} |")
    print("\n| family | values | taken for (`*`: rightly) |")
    print("|---|---|---|")
    for name in sorted(families):
        c = families[name]
        flags = ", ".join(f"{k} {n:,}" for k, n in sorted(c.items()) if k != "values") or "-"
        print(f"| {name} | {c['values']:,} | {flags} |")
    print("\n| not in the mix, taken by decision | values | taken for |")
    print("|---|---|---|")
    rng = random.Random(0)
    for name, make in AMBIGUOUS.items():
        values = [make(rng) for _ in range(args.others // 10)]
        found = detect(pa.array(values))
        flags = ", ".join(f"{k} {m.mean():.1%}" for k, m in found.items() if m.any()) or "-"
        print(f"| {name} | {len(values):,} | {flags} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
