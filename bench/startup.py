"""Start-up time: `scaffold --help` against `copier --help`.

    python bench/startup.py [--runs 20]

Both commands run in the same process of this script, interleaved round by round, each as
a fresh interpreter. Target (issue 6): scaffold at most 1/3 of copier's median wall time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _timing import Case, interleave, isolated_env, load_average, machine, table, tool, verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="timed rounds (default 20)")
    args = parser.parse_args(argv)

    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as scratch:
        env = isolated_env(Path(scratch) / "home")
        cases = [
            Case("scaffold --help", [tool("scaffold"), "--help"]),
            Case("copier --help", [tool("copier"), "--help"]),
        ]
        scaffold, copier = interleave(cases, args.runs, env)
    print(f"### Start-up ({args.runs} interleaved rounds after 1 warm-up)\n")
    print(table([scaffold, copier], baseline=copier.label, versus="copier"))
    print()
    ratio = scaffold.wall.median / copier.wall.median
    print(f"- {verdict('scaffold --help / copier --help (median wall)', ratio, 1 / 3)}")
    print(f"- machine: {machine(load_before)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
