"""Benchmark `scaffold context` on synthetic knowledge homes, against the previous implementation.

    python bench/context_bench.py [--sizes 2000,10000] [--cold 3] [--runs 3] [--baseline REV] [--keep DIR]

For each size it builds a home (the bundled core documents and context.yml, plus generated
decisions, incidents, runbooks and anti-patterns of about 5.3 KB each, with realistic
headings and a large vocabulary: 2,000 documents are 10.6 MB, 10,000 are 53 MB), then runs
`python -m generator context TASK --home HOME` as a user would, with a private cache, for
this checkout and for the baseline side by side:

- cold: empty cache (scans, parses and indexes every document), `--cold` times per side, the
  sides alternating; the median is shown with the range (one cold sample on this kind of VM
  varies by a second or more);
- warm, same task: the command run again;
- warm, new task: a task not seen before (the index is warm; ranking and scanning the newly
  chosen sections for secrets are done afresh); after the table, each task's time per side;
- touched: the first task again once every file's times have moved on and one file in ten
  was copied over itself (a new inode), no byte changed, as after a checkout beside a cache
  restored in CI, or a copy that does not keep times: `--touched` runs per side, each after
  touching anew, printed after the table.

The baseline is `git archive REV` of this repository (default: the commit before the SQLite
index, whose index was bm25s over JSON files), run from its own folder; it needs bm25s and
PyStemmer importable (`pip install 'bm25s<0.4' PyStemmer`), else it is skipped. Cold runs of
the two implementations alternate, then the warm runs are interleaved round by round.

Times are for the whole process, Python start-up included: wall-clock, and CPU (user +
system), which is what the wall time would be on an idle machine. Peak memory is the
process's peak resident set size, measured by _timing.py like every benchmark (POSIX only);
the warm columns show the largest of their runs. Each run is isolated as
_timing.isolated_env describes. Targets (issue 12, 10,000 documents, 2 cores): cold <= 3 s,
warm new task <= 0.2 s, peak <= 100 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _timing import REPO, Case, Sample, isolated_env, load_average, measure, peak_cell, unpack_revision

FOLDERS = ("decisions", "incidents", "runbooks", "anti-patterns")
DOMAIN = [
    "service",
    "api",
    "endpoint",
    "deploy",
    "rollback",
    "terraform",
    "module",
    "bucket",
    "database",
    "postgres",
    "migration",
    "timeout",
    "retry",
    "latency",
    "queue",
    "worker",
    "cache",
    "redis",
    "kafka",
    "event",
    "schema",
    "contract",
    "openapi",
    "pagination",
    "cursor",
    "idempotency",
    "authentication",
    "token",
    "oauth",
    "session",
    "tenant",
    "billing",
    "invoice",
    "payment",
    "refund",
    "checkout",
    "catalogue",
    "inventory",
    "search",
    "index",
    "shipping",
    "notification",
    "email",
    "webhook",
    "scheduler",
    "cron",
    "backup",
    "restore",
    "replica",
    "failover",
    "region",
    "network",
    "vpc",
    "subnet",
    "dns",
    "tls",
    "certificate",
    "kubernetes",
    "pod",
    "container",
    "image",
    "registry",
    "helm",
    "canary",
    "feature",
    "flag",
    "metrics",
    "tracing",
    "logging",
    "alert",
    "slo",
    "error",
    "budget",
    "incident",
    "outage",
    "postmortem",
    "capacity",
    "autoscaling",
]
SECTIONS = {
    "decisions": ("Context", "Decision", "Consequences", "Alternatives considered"),
    "incidents": ("Summary", "Impact", "Timeline (UTC)", "Root cause", "Contributing factors", "Action items"),
    "runbooks": ("When to use", "Before you start", "Steps", "Verify", "If something goes wrong"),
    "anti-patterns": ("What it looks like", "Why it fails", "Do this instead"),
}
TASKS = (
    "add cursor pagination to the invoices endpoint",
    "debug the checkout timeout after the payment deploy",
    "terraform module for a replicated postgres database with backups",
    "roll back the notification worker release",
    "write a script to backfill refund events into the warehouse",
    "review the webhook retry logic for idempotency",
    # Many documents score close to the best, and the check that each shares two of the task's
    # words looks up each word among their sections: added to catch those lookups turning costly
    # (run once per section id, they were 0.2 s of this task's 0.5 s; 99b7471).
    "move the audit consumer to the new queue broker",
)


def build_home(root: Path, documents: int, megabytes: float, seed: int = 4) -> tuple[int, int]:
    """Write the synthetic home; return (documents, bytes) of markdown written."""
    rng = random.Random(seed)
    shutil.copytree(REPO / "context", root / "context", ignore=shutil.ignore_patterns(*FOLDERS))
    vocabulary = DOMAIN + [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 11))) for _ in range(30_000)
    ]
    per_document = int(megabytes * 1_000_000 / documents)
    total = 0
    for number in range(documents):
        folder = FOLDERS[number % len(FOLDERS)]
        title = " ".join(rng.choices(DOMAIN, k=3) + rng.choices(vocabulary, k=2)).capitalize()
        lines = [f"# {number // len(FOLDERS) + 1:04d}. {title}", "", f"Date: 2025-{number % 12 + 1:02d}-01", ""]
        size = len(lines[0])
        headings = SECTIONS[folder]
        while size < per_document:
            heading = headings[len(lines) % len(headings)]
            paragraph = " ".join(
                rng.choice(DOMAIN) if rng.random() < 0.25 else rng.choice(vocabulary)
                for _ in range(rng.randint(40, 90))
            )
            block = f"## {heading}\n\n{paragraph}.\n"
            lines.append(block)
            size += len(block)
        text = "\n".join(lines) + "\n"
        path = root / "context" / folder / f"{number // len(FOLDERS) + 1:04d}-{folder[:-1]}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        total += len(text.encode())
    return documents, total


def add_home_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of a script measuring one synthetic home (`sqlite_threads.py`, `bm25_row_cost.py`)."""
    parser.add_argument("--documents", type=int, default=10_000, help="documents in the home (default 10,000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per measure (default 5)")
    parser.add_argument("--keep", type=Path, help="build the home and what indexes it here, and leave them")


@contextlib.contextmanager
def synthetic_home(documents: int, keep: Path | None, prefix: str) -> Iterator[tuple[Path, Path]]:
    """A scratch folder (`keep`, or a new one removed after) and the home of `documents` in it, built
    unless `keep` holds it from an earlier run with as many."""
    scratch = keep or Path(tempfile.mkdtemp(prefix=prefix))
    try:
        home, built = scratch / "home", scratch / "documents"
        if not home.exists() or not built.exists() or built.read_text() != str(documents):
            shutil.rmtree(home, ignore_errors=True)  # none, or one of another size: built again
            build_home(home, documents, documents * BYTES_PER_DOCUMENT / 1_000_000)
            built.write_text(str(documents))
        yield scratch, home
    finally:
        if keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


BASELINE = "70f70b6"  # the last commit with the bm25s index
BYTES_PER_DOCUMENT = 5_000  # the generator overshoots: 2,000 documents are 10.6 MB, 10,000 are 53 MB


@dataclass(frozen=True)
class Side:
    """One implementation: a label and the folder `python -m generator` runs from."""

    label: str
    root: Path


def baseline_side(rev: str, scratch: Path) -> Side | None:
    """The baseline implementation, unpacked from git, or None if it cannot run here."""
    root = unpack_revision(
        rev, scratch / f"baseline-{rev}", "generator", "context", "templates", "includes", "copier.yml"
    )
    uses_bm25s = "import bm25s" in (root / "generator" / "context" / "documents.py").read_text(encoding="utf-8")
    if not uses_bm25s:
        return Side(f"before ({rev})", root)
    probe = subprocess.run([sys.executable, "-c", "import bm25s, Stemmer"], capture_output=True, check=False)
    if probe.returncode != 0:
        print(f"baseline {rev} skipped: it needs bm25s and PyStemmer (pip install 'bm25s<0.4' PyStemmer)")
        return None
    return Side(f"before ({rev}, bm25s)", root)


def run_context(side: Side, home: Path, cache: Path, task: str) -> Sample:
    """One `scaffold context` process, isolated like every benchmark, with this home and cache."""
    env = isolated_env(cache.parent / "user-home")
    env.update(XDG_CACHE_HOME=str(cache), SCAFFOLD_HOME=str(home))
    argv = [sys.executable, "-m", "generator", "context", task]
    return measure(Case(f"{side.label} context {task!r}", argv, cwd=side.root), env)


@dataclass(frozen=True)
class Result:
    side: Side
    cold: list[Sample]
    warm_same: list[Sample]
    warm_new: list[Sample]
    touched: list[Sample]


def touch_every_file(home: Path, round_number: int) -> None:
    """Move every document's times on by a second and copy one in ten over itself: stamps change,
    bytes do not. (The sides' homes start as hard links of one another: each side's is touched
    before its own run.)"""
    for number, path in enumerate(sorted((home / "context").rglob("*.md"))):
        if number % 10 == round_number % 10:
            copy = path.with_name(path.name + ".copy")
            shutil.copyfile(path, copy)
            copy.replace(path)
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))


def side_home(side: Side, home: Path) -> Path:
    """The home as `side` reads it: the same documents (hard links), and its own context.yml.

    The previous implementation rejects the keys context.yml has gained since.
    """
    if side.root == REPO:
        return home
    copy = home.with_name(home.name + "-" + side.root.name)
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(home, copy, copy_function=os.link)
    (copy / "context" / "context.yml").unlink()
    shutil.copy(side.root / "context" / "context.yml", copy / "context" / "context.yml")
    return copy


def bench_size(sides: list[Side], home: Path, scratch: Path, colds: int, runs: int, touches: int) -> list[Result]:
    caches = {side.label: scratch / f"cache-{index}" for index, side in enumerate(sides)}
    homes = {side.label: side_home(side, home) for side in sides}

    def run(side: Side, task: str) -> Sample:
        return run_context(side, homes[side.label], caches[side.label], task)

    for side in sides:  # as pip does at install: no sample pays for compiling scaffold's modules
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(side.root / "generator")], check=True)
    cold: dict[str, list[Sample]] = {side.label: [] for side in sides}
    for round_number in range(colds):
        order = sides[round_number % len(sides) :] + sides[: round_number % len(sides)]
        for side in order:
            shutil.rmtree(caches[side.label], ignore_errors=True)
            cold[side.label].append(run(side, TASKS[0]))
    same: dict[str, list[Sample]] = {side.label: [] for side in sides}
    new: dict[str, list[Sample]] = {side.label: [] for side in sides}
    for round_number in range(runs):
        order = sides[round_number % len(sides) :] + sides[: round_number % len(sides)]
        for side in order:
            same[side.label].append(run(side, TASKS[0]))
    for number, task in enumerate(TASKS[1:]):
        order = sides[number % len(sides) :] + sides[: number % len(sides)]
        for side in order:
            new[side.label].append(run(side, task))
    touched: dict[str, list[Sample]] = {side.label: [] for side in sides}
    for round_number in range(touches):
        for side in sides:
            touch_every_file(homes[side.label], round_number)
            touched[side.label].append(run(side, TASKS[0]))
    return [Result(side, cold[side.label], same[side.label], new[side.label], touched[side.label]) for side in sides]


def cold_cells(samples: list[Sample]) -> str:
    """The table cells of cold runs: wall-clock median and range, CPU median, largest peak."""
    walls = [sample.wall for sample in samples]
    cpu = statistics.median(sample.cpu for sample in samples)
    peak = max(sample.peak_mb for sample in samples)
    return f"{statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) | {cpu:.2f} | {peak_cell(peak)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,10000", help="generated documents per home (default 2000,10000)")
    parser.add_argument("--cold", type=int, default=3, help="cold runs per side (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs of the same task per side (default 3)")
    parser.add_argument("--touched", type=int, default=2, help="runs per side after touching every file (default 2)")
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with (default {BASELINE})")
    parser.add_argument("--no-baseline", action="store_true", help="time this checkout only")
    parser.add_argument("--keep", type=Path, help="build the homes under this folder and keep them")
    args = parser.parse_args(argv)
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size.strip()]

    scratch = Path(tempfile.mkdtemp(prefix="scaffold-bench-"))
    try:
        sides = [Side("now (this checkout)", REPO)]
        if not args.no_baseline:
            baseline = baseline_side(args.baseline, scratch)
            if baseline is not None:
                sides.insert(0, baseline)
        load = load_average()
        rows = []
        for size in sizes:
            home = (args.keep or scratch) / f"home-{size}"
            if (home / "context").exists():
                shutil.rmtree(home / "context")
            count, total = build_home(home, size, size * BYTES_PER_DOCUMENT / 1e6)
            print(f"home: {count:,} documents, {total / 1e6:.1f} MB of markdown", file=sys.stderr)
            for result in bench_size(sides, home, scratch, max(args.cold, 1), args.runs, args.touched):
                rows.append((count, total, result))

        print(
            "| documents | implementation | cold wall s (median, range) | cold cpu s | cold peak MB "
            "| warm same task s | warm new task s (median / slowest) | warm peak MB |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for count, total, result in rows:
            warm_peak = max(sample.peak_mb for sample in result.warm_same + result.warm_new)
            same = statistics.median(sample.wall for sample in result.warm_same)
            new = [sample.wall for sample in result.warm_new]
            print(
                f"| {count:,} ({total / 1e6:.1f} MB) | {result.side.label} | {cold_cells(result.cold)} | {same:.2f} "
                f"| {statistics.median(new):.2f} / {max(new):.2f} | {peak_cell(warm_peak)} |"
            )
        # A median over the new tasks hides a change in one: each task's wall time, side by side.
        print("\nwarm new task, each (wall s):")
        for count in dict.fromkeys(count for count, _, _ in rows):
            results = [result for size, _, result in rows if size == count]
            print(f"  {count:,} documents: " + " | ".join(result.side.label for result in results))
            for number, task in enumerate(TASKS[1:]):
                times = " | ".join(f"{result.warm_new[number].wall:.2f}" for result in results)
                print(f"    {times}  {task}")
        if args.touched > 0:
            print("\nevery file touched, no byte changed (wall s, each run; cpu s median; peak MB):")
            for count, _, result in rows:
                walls = ", ".join(f"{sample.wall:.2f}" for sample in result.touched)
                cpu = statistics.median(sample.cpu for sample in result.touched)
                peak = max(sample.peak_mb for sample in result.touched)
                print(f"  {count:,} documents, {result.side.label}: {walls}; cpu {cpu:.2f}; {peak_cell(peak)}")
        print(f"\nload average {load:.1f} before, {load_average():.1f} after, on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
