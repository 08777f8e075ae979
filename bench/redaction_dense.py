"""How long redaction takes on a document dense with secrets, found once and then everywhere.

    python bench/redaction_dense.py [--passwords 2000,10000,30000] [--runs 3] [--revert holding,arn,allowlist]

Three shapes, the adversaries' (seeded: runs agree): each password alone under "The admin
password:", a one-line JSON export of users and their passwords, and database URLs with their
passwords on one line. Three costs grew with the square of the text, and each is timed both ways
in one run, rounds interleaved, in this process (no cache: every run scans):

- a value found is redacted wherever it appears, and each was searched for in the whole text:
  past `_Holding.ONE_PASS_VALUES` values one pass over the text looks each place's first
  characters up instead (30,000 passwords under prose, 1.1 MB: 30 s);
- a keyword match is dropped inside an ARN, which was looked for from the line's start for each
  match; now only as far back as an ARN's prefix reaches, `_ARN_REACH` (the JSON line, 300 KB:
  43 s);
- detect-secrets' filter for `pragma: allowlist` comments searched a line again for each value found
  on it; now it is off for a text that holds no `pragma: allowlist` (`redact._needs_allowlist`; a line of
  2,000 URLs with passwords, 0.11 MB: 17 s).

"before" sets the first two past any size and keeps the filter on (the previous implementation;
`--revert` names which of the three it undoes), "now" leaves them. The rest of the time is
detect-secrets reading each line, which grows with the lines alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from collections.abc import Collection
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


def url_line(passwords: int) -> str:
    """`passwords` database URLs, each with its user's password, on one line."""
    rng = random.Random(passwords)
    alphabet = string.ascii_letters + string.digits
    urls = (f"postgres://svc{n}:{''.join(rng.choices(alphabet, k=12))}7aZ@db{n}.internal/app" for n in range(passwords))
    return "Replicas: " + " ".join(urls) + "\n"


SHAPES = {"under prose": under_prose, "one JSON line": json_line, "URLs on one line": url_line}
NEEDS_ALLOWLIST = redact._needs_allowlist


# The changes "before" undoes (`--revert`).
CHANGES = ("holding", "arn", "allowlist")


def timed(text: str, *, before: bool, revert: Collection[str] = CHANGES) -> float:
    redact._Holding.ONE_PASS_VALUES = sys.maxsize if before and "holding" in revert else ONE_PASS_VALUES
    secret_rules._ARN_REACH = sys.maxsize if before and "arn" in revert else ARN_REACH
    redact._needs_allowlist = (lambda given: True) if before and "allowlist" in revert else NEEDS_ALLOWLIST
    start = time.perf_counter()
    redact.Redactor(None).redact([redact.Piece("runbooks/dense.md", 1, text)])
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passwords", default="2000,10000,30000", help="comma-separated document sizes")
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds per size (default 3)")
    parser.add_argument(
        "--revert",
        default=",".join(CHANGES),
        help=f"comma-separated changes 'before' undoes, of {', '.join(CHANGES)} (default all)",
    )
    args = parser.parse_args()
    revert = {change.strip() for change in args.revert.split(",") if change.strip()}
    if not revert <= set(CHANGES):
        parser.error(
            f"--revert: unknown {', '.join(sorted(revert - set(CHANGES)))} (expected some of {', '.join(CHANGES)})"
        )
    timed(under_prose(10), before=False)  # imports detect-secrets and compiles the rules outside the timings
    print("| shape | passwords | document MB | before s (median, range) | now s (median, range) |")
    print("|---|---:|---:|---:|---:|")
    for shape, make in SHAPES.items():
        for count in (int(size) for size in args.passwords.split(",")):
            text = make(count)
            before: list[float] = []
            after: list[float] = []
            for _ in range(args.runs):
                before.append(timed(text, before=True, revert=revert))
                after.append(timed(text, before=False))
            print(f"| {shape} | {count:,} | {len(text) / 1e6:.2f} | {_spread(before)} | {_spread(after)} |", flush=True)
    return 0


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
