"""The fill step's gate: the generated project's own checks, run with the fills in place.

The command is the project's `make check` (its whole CI, building its own .venv first with
`make install`) or the user's (`--verify-command`). It runs code the model just wrote, so it gets
no API credentials, its output is scrubbed of the key before it can reach a prompt or the report,
and a timeout stops its whole process group. A check the command could not run (no terraform, no
network for the providers) is announced by a `make check: skipped WHAT` line, which is collected.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from generator.fill.client import configured_secrets, scrub

VERIFY_TIMEOUT = 1800
_OUTPUT_TAIL = 40
# What a failure report says instead of an output line when the command printed nothing (or only blank lines).
NOTHING_PRINTED = "it printed nothing"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SKIPPED = re.compile(r"^make check: skipped (.+)$", re.M)
# GNU make's last word on a failed recipe: "make: *** [Makefile:42: typecheck] Error 1".
_MAKE_LINE = re.compile(r"make(?:\[\d+\])?: ")
_MAKE_FAILED = re.compile(r"^make(?:\[\d+\])?: \*\*\* \[(?:[^\]]*?:\d+: )?([^\]]+)\] Error", re.M)


@dataclass(frozen=True)
class Gate:
    """The command the fills must pass, and the one that builds its environment first (once per run)."""

    command: str
    setup: str | None = None


@dataclass(frozen=True)
class CheckRun:
    code: int
    # The whole output, key and colours removed: where the failures are (`failure.implicated`) may be above the
    # `tail` a report shows.
    output: str = field(repr=False)
    # What the command said it could not run ("terraform validate (terraform is not installed)").
    skipped: tuple[str, ...] = ()

    @property
    def tail(self) -> str:
        """The output's last lines."""
        return "\n".join(self.output.strip().splitlines()[-_OUTPUT_TAIL:])

    @property
    def last_line(self) -> str:
        """The output's last non-blank line, or a plain "it printed nothing" (stdout and stderr are one stream).

        make's own closing lines (`make: *** [Makefile:42: test] Error 1`) say only which target
        failed, which the report says already: the line before them is the one that explains.
        """
        lines = [line for line in self.tail.splitlines() if line.strip()]
        told = [line for line in lines if not _MAKE_LINE.match(line)]
        return (told or lines or [NOTHING_PRINTED])[-1]

    @property
    def failed_check(self) -> str | None:
        """The make target that failed, when make says so."""
        found = _MAKE_FAILED.findall(self.tail)
        return found[-1] if found else None


def make_targets(project: Path) -> set[str]:
    """The targets the project's Makefile defines (lowercase names at the start of a line); none without one."""
    makefile = project / "Makefile"
    if not makefile.is_file():
        return set()
    lines = makefile.read_text(encoding="utf-8", errors="replace").splitlines()
    return {line.split(":", 1)[0] for line in lines if re.match(r"^[a-z][a-z-]*:", line)}


def gate_for(project: Path, given: str | None) -> Gate | None:
    """--verify-command when given; else the project's `make check` (after `make install` when it has one)."""
    if given:
        return Gate(given)
    targets = make_targets(project)
    if "check" not in targets:
        return None
    return Gate("make check", "make install" if "install" in targets else None)


def project_env() -> dict[str, str]:
    """The environment for running the project's own code (its checks, its python): ours without the API key
    or any other ANTHROPIC_ setting, which that code has no business reading."""
    return {name: value for name, value in os.environ.items() if not name.startswith("ANTHROPIC_")}


def run_tests(project: Path, command: str, api_key: str) -> CheckRun:
    """Run one of the project's commands with no API credentials; see CheckRun."""
    # The tests are code the model just wrote: they get no API credentials.
    env = project_env()
    process = subprocess.Popen(
        command,
        shell=True,
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=VERIFY_TIMEOUT)
        code = process.returncode
    except BaseException as error:
        # A timeout or Ctrl-C: stop the whole process group, grandchildren included.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if not isinstance(error, subprocess.TimeoutExpired):
            raise
        output, code = f"timed out after {VERIFY_TIMEOUT} s", -1
    text = _ANSI.sub("", output or "")
    if api_key:
        text = scrub(text, configured_secrets(api_key))
    skipped = tuple(dict.fromkeys(match.strip() for match in _SKIPPED.findall(text)))
    return CheckRun(code, text, skipped)
