"""What redaction finds in a corpus of markdown, side by side with another revision.

    python bench/redaction_corpus.py [--baseline REV] [--corpus DIR ...] [--verbose]

(The default baseline, f436991, is the revision before the named-value and reference rules.)

Every finding removes its value from every text of a request, so a false positive costs the
model a word everywhere (a URL example `postgres://app:password@db` once took "password" out
of every runbook), and a miss sends a secret. This script scans each markdown file of the
corpus on its own, as a request holding that one document would be, with this checkout and with
the baseline (`git archive REV` of this repository, run in a child process from its own folder),
and prints the findings per kind for both, then, with `--verbose`, each finding only one side
has, with its line: the lines to read to tell the fixed leaks from the new false positives.

The default corpus is the three evaluation homes (`bench/eval`, `bench/holdout`,
`bench/holdout2`) and the bundled `context/`: documents written the way teams write them, where
every finding is a false positive. `--corpus DIR` adds the markdown files under DIR (on a development
machine the docs of installed packages, `/usr/share/doc`, are a large corpus of prose about
passwords and tokens with almost no secrets).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import REPO, unpack_revision

HERE = Path(__file__).resolve().parent

DEFAULT_CORPUS = [HERE / "eval" / "home", HERE / "holdout" / "home", HERE / "holdout2" / "home", REPO / "context"]
# Run in the child, with the checkout to measure first on its path: one finding per line of output.
_SCAN = """
import json, sys
from pathlib import Path
from generator.context.redact import Piece, Redactor

for name in sys.stdin.read().split("\\n"):
    if not name:
        continue
    text = Path(name).read_bytes().decode("utf-8", errors="replace")
    [result] = Redactor(None).redact([Piece(name, 1, text)])
    lines = text.replace("\\r\\n", "\\n").split("\\n")
    for finding in result.findings:
        line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        print(json.dumps([finding.path, finding.line, finding.kind, line.strip()[:160]]))
"""


def markdown_files(folders: list[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        if folder.is_file():
            files.append(folder)
            continue
        for path in sorted(folder.rglob("*.md")):
            if path.is_file() and not path.is_symlink():
                files.append(path)
    return files


def scan(checkout: Path, files: list[Path]) -> list[tuple[str, int, str, str]]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}  # Redactor(None): no cache is read or written
    names = "\n".join(str(path) for path in files)
    done = subprocess.run(
        [sys.executable, "-c", _SCAN], input=names, capture_output=True, text=True, env=env, cwd=checkout, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"scanning with {checkout} failed:\n{done.stderr[-2000:]}")
    found = []
    for row in done.stdout.splitlines():
        path, line, kind, text = json.loads(row)
        found.append((str(path), int(line), str(kind), str(text)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="f436991", help="git revision to compare with (default f436991)")
    parser.add_argument("--corpus", type=Path, nargs="*", default=[], help="more folders of markdown to scan")
    parser.add_argument("--verbose", "-v", action="store_true", help="list each finding only one side has")
    args = parser.parse_args(argv)
    files = markdown_files(DEFAULT_CORPUS + list(args.corpus))
    with tempfile.TemporaryDirectory(prefix="scaffold-rc-") as scratch:
        sides = {
            "baseline": scan(unpack_revision(args.baseline, Path(scratch) / "baseline"), files),
            "now": scan(REPO, files),
        }
    print(f"{len(files)} markdown files, each scanned alone; baseline {args.baseline}")
    kinds = sorted({kind for found in sides.values() for _, _, kind, _ in found})
    print(f"{'kind':<34}{'baseline':>10}{'now':>8}")
    for kind in kinds:
        counts = [sum(1 for _, _, found_kind, _ in sides[side] if found_kind == kind) for side in sides]
        print(f"{kind:<34}{counts[0]:>10}{counts[1]:>8}")
    print(f"{'all':<34}{len(sides['baseline']):>10}{len(sides['now']):>8}")
    if args.verbose:
        before, now = (collections.Counter(found) for found in sides.values())
        for label, only in (("only baseline", before - now), ("only now", now - before)):
            print(f"\n{label}:")
            for path, line, kind, text in sorted(only.elements()):
                print(f"  {path}:{line}: {kind} | {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
