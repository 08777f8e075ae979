"""--verify: the generated project's own test command, run on the fills.

The command is the project's (`make test` when its Makefile has that target) or the user's
(`--verify-command`). It runs tests the model just wrote, so it gets no API credentials, its
output is scrubbed of the key before it can reach a prompt or the report, and a timeout stops
its whole process group.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

from generator.errors import UsageError

VERIFY_TIMEOUT = 1800
_OUTPUT_TAIL = 40
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def verify_command(project: Path, given: str | None) -> str:
    """The project's own test command: --verify-command, else `make test` when its Makefile has one."""
    if given:
        return given
    makefile = project / "Makefile"
    if makefile.is_file() and any(
        line.startswith("test:") for line in makefile.read_text(encoding="utf-8", errors="replace").splitlines()
    ):
        return "make test"
    raise UsageError(f"--verify: {project} has no Makefile with a 'test' target; give --verify-command CMD")


def run_tests(project: Path, command: str, api_key: str) -> tuple[int, str]:
    """Run the project's test command; return its exit code and the tail of its output, key and colours removed."""
    # The tests are code the model just wrote: they get no API credentials.
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANTHROPIC_")}
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
        text = text.replace(api_key, "[API key]")
    return code, "\n".join(text.strip().splitlines()[-_OUTPUT_TAIL:])
