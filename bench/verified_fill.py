"""Time to a verified project: `scaffold new-service ... --defaults` with the AI fill and its `make check` gate,
against the peer, `copier copy` followed by the project's own `make check` (what a Copier user does by hand).

    python bench/verified_fill.py [--rounds 3]

The model is the fake Messages API of tests/fakeapi.py answering with the realistic service answer of
tests/answers/service-payouts.json (written from the real request, 8k output tokens), streamed at a realistic
rate: 4-character deltas (about one token) at 80 tokens/s. scaffold runs as a user runs it, one process from
a fresh folder; its progress lines (`fill: ...` on stderr) are timestamped as they arrive, which splits the
run into its stages: render and commit, building the project's environment (`make install`), the baseline
`make check` on the fallbacks, the model call, the fast checks, `make check` with the fills, writing and
committing. The peer side runs `copier copy --defaults` of the same template, then `make check` (which
builds the same environment itself).

Round 1 starts with an empty pip cache in a private folder (`cold`: every package downloaded); later rounds
reuse it (`warm`: what a developer's machine sees). Needs network for the project's packages, as the gate does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakeapi import FakeAnthropic, Reply  # noqa: E402

ANSWER = json.loads((REPO / "tests" / "answers" / "service-payouts.json").read_text(encoding="utf-8"))
TOKENS_PER_SECOND = 80
STAGES = {
    "fill: building the environment": "environment (make install)",
    "fill: running the project's checks before any fill": "baseline make check",
    "fill: first call": "model call (streamed)",
    "fill: checking": "fast checks",
    "fill: running the project's checks with the fills": "make check with fills",
    "fill: writing the fills": "write + commit",
}


def _timed_lines(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, list[tuple[float, str]], int]:
    """Run `argv`; the wall time, each stderr/stdout line with its arrival time, and the exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[tuple[float, str]] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append((time.perf_counter() - start, line.rstrip("\n")))
    code = process.wait()
    return time.perf_counter() - start, lines, code


def _stages(total: float, lines: list[tuple[float, str]]) -> dict[str, float]:
    marks = [("render + commit", 0.0)]
    for at, line in lines:
        for prefix, name in STAGES.items():
            if line.startswith(prefix):
                marks.append((name, at))
    durations: dict[str, float] = {}
    for (name, at), (_next, until) in zip(marks, [*marks[1:], ("end", total)], strict=True):
        durations[name] = durations.get(name, 0.0) + until - at
    return durations


def _round(scratch: Path, env: dict[str, str], fake: FakeAnthropic) -> dict[str, float]:
    description = ANSWER["command"][3].removeprefix("description=")
    for side in ("scaffold", "copier"):
        shutil.rmtree(scratch / side, ignore_errors=True)
        (scratch / side).mkdir()
    scaffold = shutil.which("scaffold", path=str(Path(sys.executable).parent)) or "scaffold"
    argv = [scaffold, "new-service", "payouts", "--defaults", "-d", f"description={description}"]
    total, lines, code = _timed_lines(argv, scratch / "scaffold", {**env, **fake.env("sk-bench")})
    if code != 0 or not any("verified: the fills pass 'make check'" in line for _, line in lines):
        raise SystemExit("scaffold did not end with a verified project:\n" + "\n".join(line for _, line in lines))
    result = {"new-service, total": total, **{f"  {name}": value for name, value in _stages(total, lines).items()}}

    copier = shutil.which("copier", path=str(Path(sys.executable).parent)) or "copier"
    copy = [copier, "copy", "--defaults", "--vcs-ref", "HEAD", "-d", "template=service", "-d", "project_name=payouts"]
    copy += ["-d", f"description={description}", str(REPO), "payouts"]
    rendered, _lines, code = _timed_lines(copy, scratch / "copier", env)
    checked, check_lines, check_code = _timed_lines(["make", "check"], scratch / "copier" / "payouts", env)
    if code or check_code:
        raise SystemExit("copier copy + make check failed:\n" + "\n".join(line for _, line in check_lines[-30:]))
    result.update({"copier copy + make check": rendered + checked, "  copier copy": rendered, "  make check": checked})
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    delay = 1 / TOKENS_PER_SECOND
    reply = Reply.message(json.dumps(ANSWER["answer"]), chunk_size=4, chunk_delay=delay)
    with tempfile.TemporaryDirectory(prefix="scaffold-bench-") as tmp, FakeAnthropic(responder=lambda _: reply) as fake:
        scratch = Path(tmp)
        home = scratch / "home"
        home.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "PIP_CACHE_DIR": str(scratch / "pip-cache"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.invalid",
            "SCAFFOLD_AI_TIMEOUT": "600",
            # The fill as it was measured before the re-rank became its default: the fake's one answer is a
            # fill's. The re-rank adds one short call (a few seconds with the real model) before the fill's.
            "SCAFFOLD_RERANK": "0",
        }
        results = []
        for number in range(1, args.rounds + 1):
            results.append(_round(scratch, env, fake))
            print(f"round {number} ({'cold' if number == 1 else 'warm'} pip cache) done", file=sys.stderr)
    print(f"{'seconds (wall)':<32} {'cold':>8} {'warm median':>12}")
    for key in results[0]:
        warm = [result[key] for result in results[1:]]
        shown = f"{statistics.median(warm):12.1f}" if warm else f"{'-':>12}"
        print(f"{key:<32} {results[0][key]:8.1f} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
