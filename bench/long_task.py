"""Benchmark `scaffold context` on long tasks (a log or a diff pasted in), against a revision.

    python bench/long_task.py [--kilobytes 20,100,300,1000] [--runs 3] [--baseline 349e4c1]

The home is the bundled context, its index warm. Each task is a pasted deploy log of the given
size followed by one line asking about it, read from stdin (`scaffold context -`, as `git diff |
scaffold context -` would), with a budget it fits in. The sides are interleaved round by round
after a warm-up round, each run isolated as `_timing.isolated_env` describes. The default
baseline is the last revision that looked for every kind's keywords by scanning the whole task.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

from _timing import REPO, Case, Sample, isolated_env, load_average, machine, measure, rounds
from context_bench import Side, baseline_side, cold_cells, side_home

BASELINE = "349e4c1"  # the last commit that scanned the whole task for each keyword
QUESTION = "\nwhy did the payments deploy roll back after this, and what should the script check first?\n"
LINES = (
    "{time} INFO  deploy payments-api image={tag} replicas={count} strategy=rolling",
    "{time} WARN  healthcheck /healthz took {ms}ms on pod payments-api-{pod}",
    "{time} ERROR upstream timeout after {ms}ms calling ledger-service /v1/entries (attempt {count})",
    "{time} INFO  migration 20{count:04d}_add_index applied in {ms}ms",
    "{time} INFO  canary {pod} error rate {rate}% over the last 5 minutes",
)


def write_task(path: Path, kilobytes: int, seed: int = 11) -> int:
    """A pasted deploy log of about `kilobytes` KB and the question after it; its size in bytes."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        while handle.tell() < kilobytes * 1000:
            line = rng.choice(LINES).format(
                time=f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}Z",
                tag=f"v{rng.randint(1, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}",
                count=rng.randint(1, 12),
                ms=rng.randint(5, 30_000),
                pod=f"{rng.getrandbits(24):06x}",
                rate=round(rng.random() * 5, 2),
            )
            handle.write(line + "\n")
        handle.write(QUESTION)
    return path.stat().st_size


def context_case(side: Side, task: Path, kilobytes: int) -> Case:
    """`scaffold context -` for one side, the task on stdin, its budget the task's size in tokens and more."""
    budget = str(max(kilobytes * 1000, 200_000))  # a token is about four bytes: ample room
    argv = [sys.executable, "-m", "generator", "context", "--budget", budget, "-"]
    return Case(f"{side.label} {kilobytes} KB", argv, cwd=side.root, stdin=task)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kilobytes", default="20,100,300,1000", help="task sizes (default 20,100,300,1000)")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with (default {BASELINE})")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.kilobytes.split(",") if size.strip()]

    scratch = Path(tempfile.mkdtemp(prefix="scaffold-bench-"))
    try:
        sides = [Side("now (this checkout)", REPO)]
        baseline = baseline_side(args.baseline, scratch)
        if baseline is not None:
            sides.insert(0, baseline)
        home = scratch / "home"
        shutil.copytree(REPO / "context", home / "context")
        tasks = {size: scratch / f"task-{size}.txt" for size in sizes}
        written = {size: write_task(path, size) for size, path in tasks.items()}
        items: list[tuple[Side, int, Case, dict[str, str]]] = []
        for index, side in enumerate(sides):
            cache = scratch / f"cache-{index}"
            env = isolated_env(scratch / f"user-home-{index}")
            env.update(XDG_CACHE_HOME=str(cache), SCAFFOLD_HOME=str(side_home(side, home)))
            items += [(side, size, context_case(side, tasks[size], size), env) for size in sizes]
        load = load_average()
        taken: list[list[Sample]] = rounds(items, args.runs, lambda item: measure(item[2], item[3]))

        print(machine(load))
        print("\n| task | implementation | wall s (median, range) | cpu s | peak MB |")
        print("|---:|---|---:|---:|---:|")
        for (side, size, _, _), samples in sorted(zip(items, taken, strict=True), key=lambda pair: pair[0][1]):
            print(f"| {written[size] / 1000:,.0f} KB | {side.label} | {cold_cells(samples)} |")  # warm, same cells
        print(f"\nload average {load:.1f} before, {load_average():.1f} after")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
