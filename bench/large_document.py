"""Benchmark `scaffold context` on a home holding one log saved as markdown, against a revision.

    python bench/large_document.py [--megabytes 115] [--runs 3] [--baseline 5344b89]

The home is the bundled context plus `incidents/pager-export.md`: a pager export of the given
size, a heading and a two-line page each, as someone might commit one. Each run is cold (an
empty cache: the file is read, split and indexed) and isolated as `_timing.isolated_env`
describes; the two sides alternate. The default baseline is the last revision that read such a
file whole; this checkout reads at most `MAX_DOCUMENT_BYTES` of it (docs/context.md).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import REPO, Sample, load_average, machine
from context_bench import Side, baseline_side, cold_cells, run_context

BASELINE = "5344b89"  # the last commit that read a document whole, however large
TASK = "roll back the gateway deploy after the pager alert"


def build_home(root: Path, megabytes: float, seed: int = 7) -> int:
    """The bundled context and one pager export of about `megabytes` MB; its size in bytes."""
    rng = random.Random(seed)
    shutil.copytree(REPO / "context", root / "context")
    log = root / "context" / "incidents" / "pager-export.md"
    with log.open("w", encoding="utf-8") as handle:
        handle.write("# Pager export\n\n")
        page = 0
        while handle.tell() < megabytes * 1_000_000:
            page += 1
            node = rng.randint(1, 999)
            handle.write(
                f"## Page {page}\n\nalert gateway-5xx fired on node-{node} at 2025-03-{page % 28 + 1:02d}\n"
                f"acknowledged by on-call, resolved after {rng.randint(1, 90)} minutes\n\n"
            )
    return log.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=115, help="size of the log (default 115)")
    parser.add_argument("--runs", type=int, default=3, help="cold runs per side (default 3)")
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with (default {BASELINE})")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as folder:
        scratch = Path(folder)
        sides = [Side("now (this checkout)", REPO)]
        baseline = baseline_side(args.baseline, scratch)
        if baseline is not None:
            sides.insert(0, baseline)
        size = build_home(scratch / "home", args.megabytes)
        load = load_average()
        samples: dict[str, list[Sample]] = {side.label: [] for side in sides}
        for number in range(max(args.runs, 1)):
            for side in sides[number % len(sides) :] + sides[: number % len(sides)]:
                cache = scratch / f"cache-{sides.index(side)}"
                shutil.rmtree(cache, ignore_errors=True)
                samples[side.label].append(run_context(side, scratch / "home", cache, TASK))
    print(f"home: the bundled context and a {size / 1e6:.1f} MB pager export; task {TASK!r}\n")
    print("| implementation | cold wall s (median, range) | cold cpu s | peak MB |")
    print("|---|---:|---:|---:|")
    print("\n".join(f"| {side.label} | {cold_cells(samples[side.label])} |" for side in sides))
    print(f"\n{machine(load)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
