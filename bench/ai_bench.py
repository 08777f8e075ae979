"""The AI fill step against a fake Messages API: calls, tokens, client overhead, end-to-end time, peak memory.

    python bench/ai_bench.py [--runs 10]

The fake is tests/fakeapi.py, served from this process on 127.0.0.1. `scaffold fill` reaches it
through ANTHROPIC_BASE_URL and drives the real SDK over real HTTP. A service is generated once
with `scaffold new-service bench --defaults --no-ai`, and every run gets a fresh copy of it, git
history included. The fake answers like tests/fillfakes.py: each region's fallback plus one comment
line, so every check passes. It streams the answer as text deltas of 4 characters, about one token
each, and reports a usage derived from the request:

- input: the user message's characters / 4;
- the system prompt up to its `cache_control` block, characters / 4: a cache read when an earlier
  call of the run had exactly those blocks and exactly the same `output_config` for that model (a
  structured-output schema is compiled into the prompt, and a changed schema is a cache miss),
  else a cache write; below 1,024 tokens nothing is cached;
- output: the answer's characters / 4.

Scenarios, interleaved round by round after one warm-up round, each command in a fresh copy:

- zero-latency fake, every fill valid: must take exactly one call, or the script stops with exit 1;
- zero-latency fake, the first answer's `domain` region has a syntax error: one repair call, which
  must send the same system prompt (the script stops otherwise; a changed schema is reported);
- a fake streaming 80 output tokens/s (one 4-character delta every 1/80 s), every fill valid;
- zero-latency fake, every fill valid, with SCAFFOLD_AI_STREAM=0: one JSON answer instead of a
  stream, which shows what the SDK's handling of each streamed delta costs.

The first three run `scaffold fill bench --yes` as a user would: one whole process, with wall and CPU
time and peak RSS measured as in _timing.py. The zero-latency scenarios also run an instrumented copy
of the command, `python bench/ai_bench.py --child OUT PROJECT`. It is a fresh process that imports
the SDK first (timed), wraps generator functions in that process only, calls `generator.cli.main`
and writes the time of each part to OUT. The client's own overhead is the time of `run.fill` (the
ladder) minus validation (`check_project`: compile, ruff), minus writing and committing (`_finish`),
minus the time the fake spent answering (measured in this process around its handler). What is left
is building the prompts, constructing the SDK client, the SDK's request and stream handling, parsing
the answer and the ladder's bookkeeping. A separate `python -c "import anthropic"` per round times
the SDK import in a fresh interpreter. Each run's output is checked: every region filled, one
commit of fills on top of the render, a clean tree, and the expected number of calls. Every
process writes its bytecode to a private PYTHONPYCACHEPREFIX, so after the warm-up round no run
compiles source, whatever the checkout's __pycache__ holds or PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _timing import REPO, Case, Spread, isolated_env, load_average, machine, measure, peak_cell, rounds, tool

if TYPE_CHECKING:
    from generator.fill.regions import Region
    from tests.fakeapi import Recorded, Reply

NAME = "bench"
CHARS_PER_TOKEN = 4
CHUNK_CHARS = 4  # one text delta: about one token
TOKEN_RATE = 80.0  # output tokens per second of the streaming fake
CACHE_MINIMUM = 1024  # tokens: a shorter prefix is not cached
OVERHEAD_LIMIT = 0.3  # seconds: the target for the client's own overhead
BROKEN_REGION = "domain"  # the region the repair scenario's first answer gets wrong
SDK_IMPORT = "import time; t = time.perf_counter(); import anthropic; print(time.perf_counter() - t)"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    calls: int
    chunk_delay: float = 0.0
    repair: bool = False
    stream: bool = True
    # "plain": `scaffold fill` itself; "child": the instrumented copy.
    modes: tuple[str, ...] = ("plain", "child")


SCENARIOS = (
    Scenario("valid", "zero-latency fake, every fill valid", calls=1),
    Scenario("repair", f"zero-latency fake, `{BROKEN_REGION}` repaired", calls=2, repair=True),
    Scenario(
        "stream",
        f"fake streaming {TOKEN_RATE:g} tokens/s, every fill valid",
        calls=1,
        chunk_delay=CHUNK_CHARS / CHARS_PER_TOKEN / TOKEN_RATE,
        modes=("plain",),
    ),
    Scenario(
        "nostream",
        "zero-latency fake, every fill valid, SCAFFOLD_AI_STREAM=0",
        calls=1,
        stream=False,
        modes=("child",),
    ),
)


@dataclass(frozen=True)
class Answered:
    """One request as the fake saw and answered it."""

    model: str
    regions: int
    input: int
    output: int
    cache_write: int
    cache_read: int
    deltas: int
    # Whether an earlier call of the run had the same system prefix, and the same output schema.
    same_system: bool
    same_schema: bool

    @property
    def tokens(self) -> tuple[int, int, int, int]:
        return (self.input, self.output, self.cache_write, self.cache_read)


class Responder:
    """The fake's answers for one scenario; remembers what it answered and how long that took, per run."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.project = Path()
        self.seen: set[str] = set()
        self.answered: list[Answered] = []
        self.seconds: list[float] = []

    def reset(self, project: Path) -> None:
        """A new run: a new project, and a cache that has forgotten everything (as after its 5-minute TTL)."""
        self.project = project
        self.seen.clear()
        self.answered.clear()
        self.seconds.clear()

    def __call__(self, request: Recorded) -> Reply:
        from tests.fakeapi import Reply, Usage
        from tests.fillfakes import answer, asked_for, broken, requested, tagged

        wrong = self.scenario.repair and not self.answered

        def make(region: Region) -> str:
            return broken(region) if wrong and region.id == BROKEN_REGION else tagged(region)

        body = request.body
        # Every region the schema names, so the answer fits the schema; a repair call may want fewer.
        text = answer(self.project, requested(request), make)
        model = str(body["model"])
        system: list[dict[str, Any]] = list(body.get("system") or [])
        marks = [number for number, block in enumerate(system) if "cache_control" in block]
        prefix = system[: marks[-1] + 1] if marks else []
        prefix_tokens = _tokens("".join(str(block.get("text", "")) for block in prefix))
        rest = system[len(prefix) :]
        user = "".join(str(message.get("content", "")) for message in body["messages"])
        input_tokens = _tokens(user + "".join(str(block.get("text", "")) for block in rest))
        # The cached prefix is the model's: the output schema (compiled into the prompt), then the system blocks.
        system_key = json.dumps([model, prefix])
        schema_key = json.dumps([model, body.get("output_config")])
        same_system, same_schema = system_key in self.seen, schema_key in self.seen
        self.seen.update((system_key, schema_key))
        cache_write = cache_read = 0
        if prefix_tokens < CACHE_MINIMUM:
            input_tokens += prefix_tokens
        elif same_system and same_schema:
            cache_read = prefix_tokens
        else:
            cache_write = prefix_tokens
        output = _tokens(text)
        deltas = -(-len(text) // CHUNK_CHARS) if request.streaming else 0
        self.answered.append(
            Answered(
                model,
                len(asked_for(request)),
                input_tokens,
                output,
                cache_write,
                cache_read,
                deltas,
                same_system,
                same_schema,
            )
        )
        usage = Usage(
            input_tokens=input_tokens,
            output_tokens=output,
            cache_creation_input_tokens=cache_write,
            cache_read_input_tokens=cache_read,
        )
        return Reply.message(text, usage=usage, chunk_size=CHUNK_CHARS, chunk_delay=self.scenario.chunk_delay)


def _tokens(text: str) -> int:
    return round(len(text) / CHARS_PER_TOKEN)


def time_fake_answers() -> None:
    """Time the fake's handler from a complete request to the last byte of its answer (in this process only)."""
    from tests import fakeapi

    original = fakeapi._Handler._answer_messages

    def timed(handler: fakeapi._Handler, fake: fakeapi.FakeAnthropic, request: Recorded) -> None:
        started = time.perf_counter()
        try:
            original(handler, fake, request)
        finally:
            if isinstance(fake.responder, Responder):
                fake.responder.seconds.append(time.perf_counter() - started)

    # A plain function put in as the method: mypy types the two differently.
    fakeapi._Handler._answer_messages = timed  # type: ignore[method-assign, assignment]


# --- the instrumented child --------------------------------------------------------------------------------------


def child(out: Path, project: Path) -> int:
    """Run `scaffold fill PROJECT --yes` in this fresh process with its parts timed; write them to OUT.

    `entered` and `left` are `perf_counter` readings. On Linux that is CLOCK_MONOTONIC, one clock for
    every process, so the parent can subtract them from its own readings around the process.
    """
    entered = started = time.perf_counter()
    import anthropic  # noqa: F401

    sdk_import = time.perf_counter() - started
    started = time.perf_counter()
    import generator.cli
    from generator.fill import client, ladder, plan, prepare, validate
    from generator.plumbing import gitutil

    modules_import = time.perf_counter() - started
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    counts: dict[str, int] = {}
    results: list[Any] = []

    missing: list[str] = []

    def wrap(owner: Any, name: str, label: str, keep: bool = False) -> None:
        original = getattr(owner, name, None)
        if original is None:
            # The generator code moved on: say so in the results rather than fail.
            missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, used = time.perf_counter(), time.process_time()
            try:
                value = original(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - wall
                cpu[label] = cpu.get(label, 0.0) + time.process_time() - used
                counts[label] = counts.get(label, 0) + 1
            if keep:
                results.append(value)
            return value

        setattr(owner, name, timed)

    wrap(plan, "make_plan", "plan")
    wrap(ladder, "check_tree", "tree")
    wrap(prepare, "prepare", "context")
    wrap(ladder, "fill", "fill", keep=True)
    for name in ("system_blocks", "first_message", "repair_message"):
        wrap(ladder, name, "prompt")
    wrap(client.Client, "__init__", "client")
    wrap(client.Client, "ask_safely", "call")
    wrap(validate, "check_project", "validation")
    wrap(validate, "_run", "tools")
    wrap(ladder, "_finish", "write")
    wrap(gitutil, "git", "git")

    started = time.perf_counter()
    code = generator.cli.main(["fill", str(project), "--yes"])
    main_seconds = time.perf_counter() - started
    calls = [
        {
            "model": call.model,
            "purpose": call.purpose,
            "regions": len(call.keys),
            "tokens": [call.usage.input, call.usage.output, call.usage.cache_write, call.usage.cache_read],
            "error": call.error,
        }
        for call in (results[0].calls if results else [])
    ]
    record = {
        "entered": entered,
        "left": time.perf_counter(),
        "sdk_import": sdk_import,
        "modules_import": modules_import,
        "main": main_seconds,
        "seconds": seconds,
        "cpu": cpu,
        "counts": counts,
        "calls": calls,
        "missing": missing,
    }
    out.write_text(json.dumps(record), encoding="utf-8")
    return code


# --- running ------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One sample of one job."""

    wall: float
    cpu: float
    peak_mb: float
    answered: list[Answered] = field(default_factory=list)
    fake_seconds: float = 0.0
    child: dict[str, Any] | None = None
    sdk_import: float | None = None
    # perf_counter readings in this process: just before the command started, just after it ended.
    ready: float = 0.0
    exited: float = 0.0


@dataclass(frozen=True)
class Job:
    key: str
    label: str
    scenario: Scenario | None
    run: Callable[[], Run]


def run_env(env: Mapping[str, str], pycache: Path) -> dict[str, str]:
    """`env` (already without ANTHROPIC_* variables and PYTHONDONTWRITEBYTECODE: `isolated_env`), with
    bytecode compiled once.

    Bytecode goes to a private folder: the warm-up round compiles every module, as installing a
    package does, and a checkout's stale __pycache__ cannot make every run compile from source.
    """
    cleaned = dict(env)
    cleaned["PYTHONPYCACHEPREFIX"] = str(pycache)
    # The fill's own calls, as measured before the context's re-rank became the fill's default: the
    # scenarios script the fill's answers, and the re-rank is one short call before them.
    cleaned["SCAFFOLD_RERANK"] = "0"
    return cleaned


def render(dest: Path, env: Mapping[str, str]) -> Path:
    """The service every run copies, generated once (render committed, no AI step)."""
    dest.mkdir(parents=True)
    done = subprocess.run(
        [tool("scaffold"), "new-service", NAME, "--defaults", "--no-ai"],
        cwd=dest,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"scaffold new-service {NAME} --defaults --no-ai exited with {done.returncode}:\n{done.stderr}"
        )
    return dest / NAME


def check_filled(project: Path, scenario: Scenario, responder: Responder) -> None:
    """Stop the benchmark unless the run did the whole job with the expected number of calls."""
    from generator.fill.regions import find_regions
    from tests.fillfakes import TAG

    calls = len(responder.answered)
    if calls != scenario.calls:
        raise SystemExit(f"{scenario.title}: {calls} calls to the API, expected exactly {scenario.calls}")
    if scenario.repair:
        repair = responder.answered[1]
        if repair.regions != 1:
            raise SystemExit(f"{scenario.title}: the repair call asked for {repair.regions} regions, not 1")
        if not repair.same_system:
            raise SystemExit(f"{scenario.title}: the repair call's system prompt differs from the first call's")
    unfilled = [region.key for region in find_regions(project) if TAG not in region.body]
    if unfilled:
        raise SystemExit(f"{scenario.title}: regions not filled: {', '.join(unfilled)}")
    subject = subprocess.run(
        ["git", "log", "-1", "--format=%s"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    ).stdout
    if not subject.startswith("Fill ") or status.strip():
        raise SystemExit(f"{scenario.title}: no commit of the fills, or a dirty tree: {subject!r} {status!r}")


def fill_job(
    scenario: Scenario,
    responder: Responder,
    env: Mapping[str, str],
    template: Path,
    folder: Path,
    mode: str,
) -> Job:
    project = folder / NAME
    instrumented = mode == "child"
    out = folder.with_suffix(".json")
    stamps: dict[str, float] = {}

    def prepare() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copytree(template, project, symlinks=True)
        out.unlink(missing_ok=True)
        responder.reset(project)
        stamps["ready"] = time.perf_counter()

    def check() -> None:
        stamps["exited"] = time.perf_counter()
        check_filled(project, scenario, responder)

    if instrumented:
        argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(out), str(project)]
        label = f"python bench/ai_bench.py --child OUT {NAME} (instrumented scaffold fill)"
    else:
        argv = [tool("scaffold"), "fill", NAME, "--yes"]
        label = f"scaffold fill {NAME} --yes"
    case = Case(
        label,
        argv,
        cwd=folder,
        prepare=prepare,
        check=check,
    )

    def run() -> Run:
        sample = measure(case, env)
        record = json.loads(out.read_text(encoding="utf-8")) if instrumented else None
        return Run(
            sample.wall,
            sample.cpu,
            sample.peak_mb,
            answered=list(responder.answered),
            fake_seconds=sum(responder.seconds),
            child=record,
            ready=stamps["ready"],
            exited=stamps["exited"],
        )

    return Job(folder.name, label, scenario, run)


def sdk_import_job(env: Mapping[str, str]) -> Job:
    argv = [sys.executable, "-c", SDK_IMPORT]

    def run() -> Run:
        started = time.perf_counter()
        done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, check=True)
        return Run(time.perf_counter() - started, 0.0, 0.0, sdk_import=float(done.stdout))

    return Job("sdk-import", 'python -c "import anthropic"', None, run)


# --- statistics and tables ----------------------------------------------------------------------------------------


def end_to_end_table(jobs: Sequence[Job], samples: Mapping[str, list[Run]]) -> str:
    lines = [
        "| scenario | command | runs | calls | median wall s | IQR s | min-max s | median CPU s | peak RSS MB "
        "| fake answering s (median) | wall minus fake s (median) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for job in jobs:
        if job.scenario is None:
            continue
        runs = samples[job.key]
        fake = statistics.median(run.fake_seconds for run in runs)
        minus = statistics.median(run.wall - run.fake_seconds for run in runs)
        calls = "/".join(sorted({str(len(run.answered)) for run in runs}))
        wall = Spread.of([run.wall for run in runs])
        peak = peak_cell(max(run.peak_mb for run in runs))
        lines.append(
            f"| {job.scenario.title} | `{job.label}` | {len(runs)} | {calls} | {wall.cells()} "
            f"| {statistics.median(run.cpu for run in runs):.3f} | {peak} | {fake:.3f} | {minus:.3f} |"
        )
    return "\n".join(lines)


def tokens_table(jobs: Sequence[Job], samples: Mapping[str, list[Run]]) -> tuple[str, list[str]]:
    """Tokens per call as the fake reported them, and notes where the client's own totals disagree."""
    lines = [
        "| scenario | call | model | regions asked | input | output | cache write | cache read | text deltas "
        "| prefix vs earlier calls |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    notes: list[str] = []
    seen: set[str] = set()
    for job in jobs:
        scenario = job.scenario
        if scenario is None or scenario.key in seen:
            continue
        seen.add(scenario.key)
        runs = [run for other in jobs if other.scenario == scenario for run in samples[other.key]]
        shapes = {tuple(answered.tokens for answered in run.answered) for run in runs}
        if len(shapes) > 1:
            notes.append(f"{scenario.title}: the token counts differed between runs; the table shows the first run")
        for number, answered in enumerate(runs[0].answered, start=1):
            purpose = "first" if number == 1 else ("repair" if number == 2 else "escalation")
            lines.append(
                f"| {scenario.title} | {number} ({purpose}) | {answered.model} | {answered.regions} "
                f"| {answered.input:,} | {answered.output:,} | {answered.cache_write:,} | {answered.cache_read:,} "
                f"| {answered.deltas:,} | {_prefix(number, answered)} |"
            )
        for run in runs:
            if run.child is None:
                continue
            reported = [tuple(call["tokens"]) for call in run.child["calls"]]
            if reported != [answered.tokens for answered in run.answered]:
                notes.append(f"{scenario.title}: the client's totals {reported} differ from the fake's")
                break
    return "\n".join(lines), notes


def _prefix(number: int, answered: Answered) -> str:
    if number == 1:
        return "first call"
    system = "same" if answered.same_system else "changed"
    schema = "same" if answered.same_schema else "changed"
    return f"system {system}, schema {schema}"


def schema_notes(jobs: Sequence[Job], samples: Mapping[str, list[Run]]) -> list[str]:
    """Calls after the first that kept the system prompt but changed the output schema: a cache miss."""
    notes: list[str] = []
    for job in jobs:
        runs = samples[job.key]
        if job.scenario is None or not runs:
            continue
        for number, answered in enumerate(runs[0].answered[1:], start=2):
            if answered.same_system and not answered.same_schema:
                notes.append(
                    f"{job.scenario.title}, call {number}: same system prompt, but a different output schema, so "
                    f"it writes the {answered.cache_write:,}-token prefix to the cache again instead of reading it"
                )
    return list(dict.fromkeys(notes))


BREAKDOWN_ROWS = (
    "whole process (instrumented copy of `scaffold fill`)",
    "Python start-up and the harness's imports",
    "`import anthropic` (the SDK)",
    "importing scaffold's CLI and fill modules",
    "reading the project (answers, regions, file tree)",
    "clean-tree check (git status)",
    "context selection (`step.prepare`)",
    "fill ladder (`run.fill`), all of it:",
    "- building the prompts",
    "- constructing the SDK client",
    "- SDK request, stream handling, parsing (call minus fake)",
    "- fake answering (this process, around its handler)",
    "- validation (`check_project`)",
    "-- of which tool subprocesses (ruff format, ruff check)",
    "- writing files and fills.yml, git commit (`_finish`)",
    "- ladder bookkeeping (hashes, merging results, progress lines)",
    "summary and the rest of the CLI",
    "interpreter exit (after `main` returned)",
    "**client overhead** (prompts + client + SDK call + bookkeeping)",
)
CLIENT_OVERHEAD = BREAKDOWN_ROWS[-1]
OVERHEAD_PARTS = tuple(
    row for row in BREAKDOWN_ROWS if row.startswith(("- building", "- constructing", "- SDK request", "- ladder"))
)


def breakdown(run: Run) -> dict[str, float]:
    record = run.child or {}
    part: dict[str, float] = {key: 0.0 for key in ("plan", "tree", "context", "fill", "prompt", "client", "call")}
    part.update({key: 0.0 for key in ("validation", "tools", "write")})
    part.update(record["seconds"])
    fake = run.fake_seconds
    ladder = part["fill"]
    inside = part["prompt"] + part["client"] + part["call"] + part["validation"] + part["write"]
    values = (
        run.wall,
        record["entered"] - run.ready,
        record["sdk_import"],
        record["modules_import"],
        part["plan"],
        part["tree"],
        part["context"],
        ladder,
        part["prompt"],
        part["client"],
        part["call"] - fake,
        fake,
        part["validation"],
        part["tools"],
        part["write"],
        ladder - inside,
        record["main"] - part["plan"] - part["tree"] - part["context"] - ladder,
        run.exited - record["left"],
        ladder - part["validation"] - part["write"] - fake,
    )
    return dict(zip(BREAKDOWN_ROWS, values, strict=True))


def breakdown_table(columns: Mapping[str, list[Run]], sdk_fresh: Spread) -> str:
    titles = list(columns)
    head = " | ".join(f"{title}: median s | IQR s | min-max s" for title in titles)
    lines = [f"| part of the run | {head} |", "|---" + "|--:|--:|--:" * len(titles) + "|"]
    split = {title: [breakdown(run) for run in runs] for title, runs in columns.items()}
    for row in BREAKDOWN_ROWS:
        cells = " | ".join(Spread.of([values[row] for values in split[title]]).cells() for title in titles)
        lines.append(f"| {row} | {cells} |")
    fresh = " | ".join(sdk_fresh.cells() for _ in titles)
    lines.append(f'| `import anthropic` in a fresh interpreter (`python -c "..."`, same rounds) | {fresh} |')
    return "\n".join(lines)


def counts_line(runs: Sequence[Run]) -> str:
    records = [run.child or {} for run in runs]
    counts = records[0].get("counts", {})
    cpu = statistics.median(record.get("cpu", {}).get("call", 0.0) for record in records)
    return (
        f"{counts.get('tools', 0)} validation tool subprocesses, {counts.get('git', 0)} git commands, "
        f"API calls: {counts.get('call', 0)}, client process CPU during them {cpu:.3f} s (median)"
    )


def _met(seconds: float) -> str:
    return "met" if seconds <= OVERHEAD_LIMIT else "NOT met"


def source() -> str:
    """Which generator code ran: the commit, and whether generator/ had uncommitted changes."""
    import generator

    where = Path(generator.__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return f"{where} (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "generator")
    return f"{where} at {commit}, generator/ {'with uncommitted changes' if dirty else 'clean'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--child", nargs=2, metavar=("OUT", "PROJECT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(Path(args.child[0]), Path(args.child[1]))

    sys.path.insert(0, str(REPO))
    from tests.fakeapi import FakeAnthropic

    time_fake_answers()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as tmp, contextlib.ExitStack() as stack:
        scratch = Path(tmp)
        env = run_env(isolated_env(scratch / "home"), scratch / "pycache")
        print("rendering the service once (--no-ai)", file=sys.stderr, flush=True)
        template = render(scratch / "rendered", env)
        jobs: list[Job] = []
        for scenario in SCENARIOS:
            responder = Responder(scenario)
            fake = stack.enter_context(FakeAnthropic(responder=responder))
            fake_env = {**env, **fake.env()}
            if not scenario.stream:
                fake_env["SCAFFOLD_AI_STREAM"] = "0"
            for mode in scenario.modes:
                folder = scratch / "runs" / f"{scenario.key}-{mode}"
                jobs.append(fill_job(scenario, responder, fake_env, template, folder, mode))
        jobs.append(sdk_import_job(env))
        samples = dict(zip((job.key for job in jobs), rounds(jobs, args.runs, lambda job: job.run()), strict=True))

    def runs_of(key: str, mode: str) -> list[Run]:
        return samples[f"{key}-{mode}"]

    sdk_fresh = Spread.of([run.sdk_import or 0.0 for run in samples["sdk-import"]])
    columns = {
        "all valid": runs_of("valid", "child"),
        "repair": runs_of("repair", "child"),
        "all valid, not streamed": runs_of("nostream", "child"),
    }
    overhead = Spread.of([breakdown(run)[CLIENT_OVERHEAD] for run in columns["all valid"]])
    unstreamed = Spread.of([breakdown(run)[CLIENT_OVERHEAD] for run in columns["all valid, not streamed"]])
    parts = {row: statistics.median(breakdown(run)[row] for run in columns["all valid"]) for row in OVERHEAD_PARTS}
    biggest = max(parts, key=lambda row: parts[row])
    tokens, notes = tokens_table(jobs, samples)
    plain = runs_of("valid", "plain")
    plain_minus_fake = statistics.median(run.wall - run.fake_seconds for run in plain)
    stream = runs_of("stream", "plain")

    print(f"### AI fill step, end to end ({args.runs} interleaved rounds after 1 warm-up)\n")
    print(end_to_end_table(jobs, samples))
    print()
    print("#### Tokens per call, as the fake reported them\n")
    print(tokens)
    print()
    print(f"#### Where the time goes (instrumented runs, {args.runs} each)\n")
    print(breakdown_table(columns, sdk_fresh))
    print()
    calls = {len(run.answered) for run in plain + runs_of("valid", "child")}
    shown = "/".join(map(str, sorted(calls)))
    print(f"- target one call when all fills validate: {shown} call(s) -> {'met' if calls == {1} else 'NOT met'}")
    print(
        f"- target client overhead beyond the SDK import, streamed (median, all valid): {overhead.median:.3f} s "
        f"(limit {OVERHEAD_LIMIT:.2f}, slowest run {overhead.high:.3f}) -> {_met(overhead.median)}"
    )
    shares = ", ".join(f"{row.lstrip('- ')} {value:.3f} s" for row, value in parts.items())
    print(f"- client overhead by part (medians): {shares}; largest: {biggest.lstrip('- ')}")
    print(
        f"- the same, not streamed (SCAFFOLD_AI_STREAM=0): {unstreamed.median:.3f} s "
        f"(slowest run {unstreamed.high:.3f}) -> {_met(unstreamed.median)}"
    )
    broad = plain_minus_fake - sdk_fresh.median
    print(
        f"- broader: whole `scaffold fill` wall minus fake minus `import anthropic` in a fresh interpreter "
        f"(medians, all valid): {plain_minus_fake:.3f} - {sdk_fresh.median:.3f} = {broad:.3f} s -> {_met(broad)}"
    )
    print(
        f"- streaming at {TOKEN_RATE:g} tokens/s: {statistics.median(run.fake_seconds for run in stream):.3f} s of "
        f"pure streaming; `scaffold fill` adds {statistics.median(run.wall - run.fake_seconds for run in stream):.3f}"
        f" s on top of it, against {plain_minus_fake:.3f} s at zero latency (medians; CPU "
        f"{statistics.median(run.cpu for run in stream):.3f} s streamed, {statistics.median(r.cpu for r in plain):.3f}"
        " s at zero latency)"
    )
    for title, runs in columns.items():
        print(f"- per instrumented run, {title}: {counts_line(runs)}")
    for note in notes:
        print(f"- WARNING {note}")
    if not notes:
        print("- the client's own token totals (its summary) match the fake's usage on every instrumented run")
    for note in schema_notes(jobs, samples):
        print(f"- WARNING {note}")
    unwrapped = sorted({name for runs in columns.values() for run in runs for name in (run.child or {})["missing"]})
    if unwrapped:
        print(f"- WARNING not timed, no longer in generator/: {', '.join(unwrapped)} (their rows read 0)")
    print(f"- machine: {machine(load_before)}")
    print(f"- the fake: tests/fakeapi.py, {CHUNK_CHARS}-character text deltas")
    print(f"- scaffold: {source()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
