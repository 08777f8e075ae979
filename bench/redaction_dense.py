"""How long redaction takes on a document dense with secrets, found once and then everywhere.

    python bench/redaction_dense.py [--passwords 2000,10000,30000] [--runs 3]

A value a rule finds is redacted wherever it appears, in every text scanned with it. Looking
for each value in the whole text costs the text's length per value: the second adversary's
1.1 MB document of 30,000 passwords, each under "The admin password:", took 30 s. Past
`_Holding.ONE_PASS_VALUES` values one pass over the text looks each place's first characters
up instead. This script times the redaction of such documents both ways in one run, rounds
interleaved, in this process (no cache: every run scans): "one search per value" is the
previous implementation (`ONE_PASS_VALUES` set past any count), "now" the current one. The
rest of the time is detect-secrets reading each line, which grows with the lines alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.context import redact


def document(passwords: int) -> str:
    """`passwords` random passwords, each alone under prose naming it (seeded: runs agree)."""
    rng = random.Random(passwords)
    alphabet = string.ascii_letters + string.digits
    return "".join(f"The admin password:\n{''.join(rng.choices(alphabet, k=12))}7aZ\n\n" for _ in range(passwords))


def timed(text: str, one_pass_values: int) -> float:
    redact._Holding.ONE_PASS_VALUES = one_pass_values
    start = time.perf_counter()
    redact.Redactor(None).redact([redact.Piece("runbooks/dense.md", 1, text)])
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passwords", default="2000,10000,30000", help="comma-separated document sizes")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds per size (default 3)")
    args = parser.parse_args()
    now = redact._Holding.ONE_PASS_VALUES
    timed(document(10), now)  # imports detect-secrets and compiles the rules outside the timings
    print("| passwords | document MB | one search per value s (median, range) | now s (median, range) |")
    print("|---:|---:|---:|---:|")
    for count in (int(size) for size in args.passwords.split(",")):
        text = document(count)
        before: list[float] = []
        after: list[float] = []
        for _ in range(args.runs):
            before.append(timed(text, sys.maxsize))
            after.append(timed(text, now))
        print(f"| {count:,} | {len(text) / 1e6:.2f} | {_spread(before)} | {_spread(after)} |")
    return 0


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
