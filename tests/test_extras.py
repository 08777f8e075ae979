"""The optional parts: a missing one stops only what needs it, with one line naming the pip command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.cli import main
from generator.context.api import count_tokens
from generator.errors import ExitCode, MissingExtraError
from generator.plumbing import extras
from tests.fillfakes import KEY

Cli = Callable[..., tuple[int, str, str]]


def hide(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Make `module` look uninstalled: find_spec answers None, import fails."""
    monkeypatch.setitem(sys.modules, module, None)


def test_both_parts_are_installed_for_the_tests() -> None:
    assert all(extras.installed(extra) for extra in extras.EXTRAS)


def test_scaffold_mcp_without_its_part_names_the_install_command(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "mcp")
    code, out, err = cli("mcp")
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.strip().splitlines() == [
        "scaffold: error: scaffold mcp needs scaffold's optional 'mcp' part; install it: pip install 'scaffold-generator[mcp]'"
    ]


@pytest.mark.parametrize("missing", ["mcp.server.mcpserver", "mcp.types"])
def test_scaffold_mcp_with_an_sdk_that_does_not_load_names_the_install_command(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    # An `mcp` is installed (another tool's 1.x, or a half-removed one) but lacks what the server imports.
    monkeypatch.delitem(sys.modules, "generator.assist.mcp_server", raising=False)
    hide(monkeypatch, missing)
    code, out, err = cli("mcp")
    assert code == ExitCode.USAGE
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("scaffold: error: scaffold mcp needs scaffold's optional 'mcp' part, and the installed one")
    assert missing in line and line.endswith("reinstall it: pip install 'scaffold-generator[mcp]'")


def test_a_broken_dependency_of_the_sdk_is_the_extras_trouble(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # A half-removed anyio under an installed mcp: scaffold's code is fine, the part is not.
    for name in [name for name in sys.modules if name == "mcp" or name.startswith(("mcp.", "anyio"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "generator.assist.mcp_server", raising=False)
    hide(monkeypatch, "anyio")
    code, out, err = cli("mcp")
    assert code == ExitCode.USAGE
    [line] = err.strip().splitlines()
    assert "the installed one does not load" in line and "anyio" in line


def test_scaffolds_own_import_error_stays_a_bug(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "generator.assist.mcp_server")
    code, _, err = cli("mcp")
    assert code == ExitCode.INTERNAL
    assert "internal error" in err


def test_fill_without_the_sdk_names_the_install_command_before_any_question(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    hide(monkeypatch, "anthropic")
    assert main(["fill", str(project)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert (
        "the AI fill step needs scaffold's optional 'ai' part; install it: pip install 'scaffold-generator[ai]'" in err
    )


def test_exact_token_counts_without_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    hide(monkeypatch, "anthropic")
    with pytest.raises(MissingExtraError, match=r"scaffold-generator\[ai\]"):
        count_tokens("hello")


def test_doctor_says_which_parts_are_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hide(monkeypatch, "mcp")
    assert main(["doctor", "--json"]) == ExitCode.OK
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["'ai' part"]["status"] == "ok"
    assert checks["'mcp' part"]["status"] == "warn"
    assert checks["'mcp' part"]["fix"] == "pip install 'scaffold-generator[mcp]'"


def test_new_project_without_the_sdk_is_created_with_its_fallbacks_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    hide(monkeypatch, "anthropic")
    project = tmp_path / "payouts"

    assert main(["new-service", "payouts", "--defaults", "--dest", str(project)]) == ExitCode.FILLS_FELL_BACK

    captured = capsys.readouterr()
    assert "pip install 'scaffold-generator[ai]'" in captured.err + captured.out
    assert (project / ".copier-answers.yml").is_file()  # the project is there, with the template's fallbacks


def test_without_a_key_or_the_sdk_the_skip_line_names_both_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    hide(monkeypatch, "anthropic")

    assert main(["new-service", "payouts", "--defaults", "--dest", str(tmp_path / "payouts")]) == 0

    out = capsys.readouterr().out
    assert "Install the fill step (pip install 'scaffold-generator[ai]'), set $ANTHROPIC_API_KEY" in out
