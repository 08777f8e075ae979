"""Start-up stays cheap: the CLI's quick commands import neither Copier, the Anthropic SDK nor the MCP SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import __version__

PROBE = """
import contextlib, io, json, sys
from generator.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
heavy = sorted(name for name in ("copier", "anthropic", "mcp", "pydantic", "questionary", "jinja2", "bm25s", "detect_secrets")
               if name in sys.modules)
# Light, but only some commands need them (see test_a_warm_context_run_and_help_leave_out_...).
others = sorted(name for name in ("platform", "subprocess", "generator.plumbing.gitutil", "datetime") if name in sys.modules)
print(json.dumps({"code": code, "heavy": heavy, "others": others, "out": out.getvalue()}))
"""


def _probe(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["new-service", "--help"],
        ["update", "--help"],
        ["fill", "--help"],
        ["mcp", "--help"],
        ["list"],
        ["list", "--questions", "service"],
        ["doctor", "--help"],
        ["doctor"],
    ],
    ids=" ".join,
)
def test_quick_commands_import_neither_copier_nor_anthropic(args: list[str]) -> None:
    result = _probe(*args)
    assert result["code"] in (0, None)
    assert "copier" not in result["heavy"]  # type: ignore[operator]
    assert "anthropic" not in result["heavy"]  # type: ignore[operator]
    assert "mcp" not in result["heavy"]  # type: ignore[operator]
    if args[0] != "list":
        assert result["heavy"] == []


def test_version_and_help_text() -> None:
    assert _probe("--version")["out"] == f"scaffold {__version__}\n"
    help_text = str(_probe("--help")["out"])
    for command in ("new-service", "new-api", "new-infra", "new-script", "list", "update", "fill", "doctor", "mcp"):
        assert command in help_text
    assert "exit codes:" in help_text and "130" in help_text


def test_saying_a_run_was_interrupted_imports_nothing_an_interrupt_may_have_half_imported() -> None:
    """The KeyboardInterrupt handler imports generator.cli.report; an interrupt that landed while PyYAML (or a
    fill module) was importing leaves it half-initialised, and importing it again from the handler raised
    AttributeError: a traceback and exit 1 instead of exit 130 (seen once in 200 interrupted runs)."""
    code = "import sys, generator.cli.report; print(sorted(m for m in sys.modules if m == 'yaml' or m.startswith('generator.fill.') and m != 'generator.fill.pricing'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "expected"),
    # A context run imports `datetime` anyway: `sqlite3` does.
    [(["--help"], []), (["context", "add a refunds endpoint"], ["datetime"])],
    ids=["--help", "context"],
)
def test_a_warm_context_run_and_help_leave_out_what_only_other_commands_need(
    tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    """`platform` (for doctor's first line; it compiles nine regular expressions), git's module with
    `subprocess` (only `scaffold init` runs git) and `datetime` (the new-* documents' --date): 2-3 ms
    of every run. (A run that scans new text for secrets imports detect-secrets, which imports
    `subprocess`: the second run is the one looked at.)"""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("SCAFFOLD_", "XDG_"))}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    _probe(*args, env=env)  # warms the index and the redaction cache
    result = _probe(*args, env=env)
    assert (result["code"], result["others"]) == (0, expected)
