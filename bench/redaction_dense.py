"""How long redaction takes on a document dense with secrets, found once and then everywhere.

    python bench/redaction_dense.py [--passwords 2000,10000,30000] [--runs 3]

Two shapes, the adversaries' (seeded: runs agree): each password alone under "The admin
password:", and a one-line JSON export of users and their passwords. Two costs grew with the
square of the text, and each is timed both ways in one run, rounds interleaved, in this process
(no cache: every run scans):

- a value found is redacted wherever it appears, and each was searched for in the whole text:
  past `_Holding.ONE_PASS_VALUES` values one pass over the text looks each place's first
  characters up instead (30,000 passwords under prose, 1.1 MB: 30 s);
- a keyword match is dropped inside an ARN, which was looked for from the line's start for each
  match; now only as far back as an ARN's prefix reaches, `_ARN_REACH` (the JSON line, 300 KB:
  43 s).

"before" sets both past any size (the previous implementation), "now" leaves them. The rest of
the time is detect-secrets reading each line, which grows with the lines alone.
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

from generator.context import redact, secret_rules

ONE_PASS_VALUES = redact._Holding.ONE_PASS_VALUES
ARN_REACH = secret_rules._ARN_REACH


def under_prose(passwords: int) -> str:
    """`passwords` random passwords, each alone under prose naming it."""
    rng = random.Random(passwords)
    alphabet = string.ascii_letters + string.digits
    return "".join(f"The admin password:\n{''.join(rng.choices(alphabet, k=12))}7aZ\n\n" for _ in range(passwords))


def json_line(passwords: int) -> str:
    """`passwords` users and their passwords on one line."""
    rng = random.Random(passwords)
    alphabet = string.ascii_letters + string.digits
    users = (f'{{"user":"svc{n}","password":"{"".join(rng.choices(alphabet, k=12))}7aZ"}}' for n in range(passwords))
    return "[" + ",".join(users) + "]\n"


SHAPES = {"under prose": under_prose, "one JSON line": json_line}


def timed(text: str, *, before: bool) -> float:
    redact._Holding.ONE_PASS_VALUES = sys.maxsize if before else ONE_PASS_VALUES
    secret_rules._ARN_REACH = sys.maxsize if before else ARN_REACH
    start = time.perf_counter()
    redact.Redactor(None).redact([redact.Piece("runbooks/dense.md", 1, text)])
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passwords", default="2000,10000,30000", help="comma-separated document sizes")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds per size (default 3)")
    args = parser.parse_args()
    timed(under_prose(10), before=False)  # imports detect-secrets and compiles the rules outside the timings
    print("| shape | passwords | document MB | before s (median, range) | now s (median, range) |")
    print("|---|---:|---:|---:|---:|")
    for shape, make in SHAPES.items():
        for count in (int(size) for size in args.passwords.split(",")):
            text = make(count)
            before: list[float] = []
            after: list[float] = []
            for _ in range(args.runs):
                before.append(timed(text, before=True))
                after.append(timed(text, before=False))
            print(f"| {shape} | {count:,} | {len(text) / 1e6:.2f} | {_spread(before)} | {_spread(after)} |", flush=True)
    return 0


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
