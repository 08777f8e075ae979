"""Shared by the comparison benchmarks: run commands interleaved, measure each process, print tables.

Every sample is one whole process, interpreter start-up included, as a user would run it:
wall-clock from `perf_counter`, CPU (user + system) from the `rusage` that `os.wait4` returns
for exactly that child (its waited-for descendants, git for instance, included), and peak
resident memory (`ru_maxrss`, the largest of the process and those descendants).

The peak comes from GNU time (`/usr/bin/time -f %M`) when it is installed: Linux starts a
child's peak at its parent's resident size when it execs, so measured from this Python
process every command would show at least this process's ~17 MB. GNU time is a small C
program, so its floor is about 1 MB. Without it, peaks below this process's own are
reported as `<=` that size. POSIX only.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent

T = TypeVar("T")
S = TypeVar("S")


@dataclass(frozen=True)
class Case:
    """One side of a comparison; `prepare` and `check` run around every sample, untimed."""

    label: str
    argv: Sequence[str]
    cwd: Path | None = None
    prepare: Callable[[], None] | None = None
    check: Callable[[], None] | None = None
    stdin: Path | None = None  # a file the process reads as its input (else none)


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    peak_mb: float


@dataclass(frozen=True)
class Spread:
    """Median, quartiles and range of one measure over the timed rounds."""

    median: float
    q1: float
    q3: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        ordered = sorted(values)
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else ordered * 3
        return cls(statistics.median(ordered), q1, q3, ordered[0], ordered[-1])

    def cells(self) -> str:
        return f"{self.median:.3f} | {self.q1:.3f}-{self.q3:.3f} | {self.low:.3f}-{self.high:.3f}"


@dataclass(frozen=True)
class Summary:
    label: str
    runs: int
    wall: Spread
    cpu: float
    peak_mb: float

    @classmethod
    def of(cls, label: str, samples: Sequence[Sample]) -> Summary:
        return cls(
            label=label,
            runs=len(samples),
            wall=Spread.of([sample.wall for sample in samples]),
            cpu=statistics.median(sample.cpu for sample in samples),
            peak_mb=max(sample.peak_mb for sample in samples),
        )


def tool(name: str) -> str:
    """The executable installed beside this interpreter, so both sides come from the same environment."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed beside {sys.executable} nor on PATH; install it into that venv")
    return found


def isolated_env(home: Path) -> dict[str, str]:
    """The caller's environment with an empty HOME, no scaffold or Anthropic settings and a fixed git identity.

    Neither side may pick up a user's config, templates or git hooks, commits must work on
    machines without a configured identity, and no benchmark may call the real API.
    """
    prefixes = ("SCAFFOLD_", "XDG_", "GIT_", "ANTHROPIC_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    # A user's scaffold runs from byte code (pip compiles it at install; the warm-up round writes
    # it for a checkout). With the caller's PYTHONDONTWRITEBYTECODE every sample of a side run
    # from source would compile its modules again: 0.25 s more for a warm `scaffold context`.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@localhost",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@localhost",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


@functools.cache
def gnu_time() -> str | None:
    path = shutil.which("time", path="/usr/bin:/bin")
    if path is None:
        return None
    probe = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return path if "GNU" in probe.stdout + probe.stderr else None


@functools.cache
def own_peak_mb() -> float:
    """This process's own peak, the floor of children's `ru_maxrss` when GNU time is missing."""
    return _mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _mb(maxrss: int) -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def measure(case: Case, env: Mapping[str, str]) -> Sample:
    if case.prepare is not None:
        case.prepare()
    timer = gnu_time()
    with tempfile.TemporaryDirectory(prefix="bench-run-") as scratch:
        errors_path, peak_path = Path(scratch) / "stderr", Path(scratch) / "peak"
        argv = [timer, "-f", "%M", "-o", str(peak_path), *case.argv] if timer else list(case.argv)
        with errors_path.open("wb") as errors, contextlib.ExitStack() as stack:
            stdin = stack.enter_context(case.stdin.open("rb")) if case.stdin else subprocess.DEVNULL
            start = time.perf_counter()
            process = subprocess.Popen(
                argv, cwd=case.cwd, env=dict(env), stdin=stdin, stdout=subprocess.DEVNULL, stderr=errors
            )
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
        # Popen never saw the exit: record it so the object does not try to reap the pid again.
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            tail = errors_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise SystemExit(f"{case.label} exited with {process.returncode}: {' '.join(case.argv)}\n{tail}")
        peak = _mb(int(peak_path.read_text().split()[-1])) if timer else _mb(usage.ru_maxrss)
    if case.check is not None:
        case.check()
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_mb=peak)


def rounds(items: Sequence[T], runs: int, sample: Callable[[T], S], warmup: int = 1) -> list[list[S]]:
    """`warmup` untimed rounds, then `runs` rounds of every item; each round starts with the next item.

    Interleaving spreads drifting machine load over all sides alike, and rotating the order
    keeps any "runs right after the other one" effect from favouring one side. Returns the
    timed samples of each item, in the order of `items`.
    """
    samples: list[list[S]] = [[] for _ in items]
    order = list(range(len(items)))
    for round_number in range(-warmup, runs):
        shift = round_number % len(items)
        for index in [*order[shift:], *order[:shift]]:
            taken = sample(items[index])
            if round_number >= 0:
                samples[index].append(taken)
        done = "warm-up" if round_number < 0 else f"{round_number + 1}/{runs}"
        print(f"  round {done}", file=sys.stderr, flush=True)
    return samples


def interleave(cases: Sequence[Case], runs: int, env: Mapping[str, str], warmup: int = 1) -> list[Summary]:
    """Every case measured in `rounds`, summarised."""
    taken = rounds(cases, runs, lambda case: measure(case, env), warmup)
    return [Summary.of(case.label, samples) for case, samples in zip(cases, taken, strict=True)]


def table(summaries: Sequence[Summary], baseline: str, versus: str) -> str:
    """A markdown table; ratios are medians relative to the row labelled `baseline`, called `versus`."""
    base = next(summary for summary in summaries if summary.label == baseline)
    lines = [
        f"| command | runs | median wall s | IQR s | min-max s | median CPU s | peak RSS MB "
        f"| wall vs {versus} | CPU vs {versus} |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for summary in summaries:
        lines.append(
            f"| `{summary.label}` | {summary.runs} | {summary.wall.cells()} | {summary.cpu:.3f} "
            f"| {peak_cell(summary.peak_mb)} | {summary.wall.median / base.wall.median:.2f}x "
            f"| {summary.cpu / base.cpu:.2f}x |"
        )
    return "\n".join(lines)


def peak_cell(peak_mb: float) -> str:
    """A peak for a table; `<=` where only this process's own floor is known."""
    if gnu_time() is None and peak_mb <= own_peak_mb() + 1:
        return f"<= {peak_mb:.0f}"
    return f"{peak_mb:.0f}"


def verdict(name: str, value: float, limit: float) -> str:
    return f"target {name}: {value:.2f} (limit {limit:.2f}) -> {'met' if value <= limit else 'NOT met'}"


def load_average() -> float:
    return os.getloadavg()[0]


def machine(load_before: float) -> str:
    """One line describing where the numbers came from, for the results block."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = []
    for package in ("scaffold-generator", "copier", "cookiecutter", "anthropic"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return (
        f"{model}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {', '.join(versions)}; "
        f"load average (1 min) {load_before:.2f} before, {load_average():.2f} after"
    )


def clean_clone(dest: Path) -> Path:
    """A clone of this repository's HEAD without tags, so every side renders the same committed state."""
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "copier.yml", "includes", "templates"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if dirty.strip():
        print("note: uncommitted template changes are not benchmarked (a clone has HEAD only)", file=sys.stderr)
    subprocess.run(["git", "clone", "--quiet", "--no-tags", str(REPO), str(dest)], check=True)
    return dest


def unpack_revision(revision: str, dest: Path, *paths: str) -> Path:
    """`git archive REVISION [PATHS]` of this repository unpacked into `dest` (made if missing): a
    previous implementation to run side by side with this checkout."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, *paths], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest
