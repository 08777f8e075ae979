"""The command line's contract (options, logging, exit codes), independent of the action.

The action's own arguments and work are replaced by stubs here, so these tests keep holding
whatever `action.py` does; tests/test_action.py covers the action itself.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys

import pytest

from rotate_logs import (
    __version__,
    action,
    cli,
)
from rotate_logs.cli import ExitCode, main

# What `python -m` runs (its __main__ calls cli.main); a name, so that calls fit a line at any length.
PACKAGE = "rotate_logs"


@pytest.fixture
def no_action_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(action, "add_arguments", lambda parser: None)


def stub_run(
    monkeypatch: pytest.MonkeyPatch, effect: BaseException | None = None
) -> list[argparse.Namespace]:
    """Replace action.run; it records its arguments and raises `effect` if given."""
    calls: list[argparse.Namespace] = []

    def fake_run(args: argparse.Namespace) -> None:
        calls.append(args)
        logging.getLogger(action.__name__).debug("debug detail")
        logging.getLogger(action.__name__).info("info line")
        if effect is not None:
            raise effect

    monkeypatch.setattr(action, "run", fake_run)
    return calls


def test_help_exits_ok_and_describes_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {cli.PROG}")
    # argparse rewraps the description to the terminal width.
    assert " ".join(cli.DESCRIPTION.split()) in " ".join(out.split())
    assert "--dry-run" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == ExitCode.OK
    assert capsys.readouterr().out.strip() == f"{cli.PROG} {__version__}"


@pytest.mark.usefixtures("no_action_arguments")
def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-option"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "--no-such-option" in err
    assert err.startswith("usage:")


@pytest.mark.usefixtures("no_action_arguments")
def test_success_runs_the_action_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = stub_run(monkeypatch)
    assert main([]) == ExitCode.OK
    assert len(calls) == 1


@pytest.mark.usefixtures("no_action_arguments")
@pytest.mark.parametrize(("argv", "expected"), [([], False), (["--dry-run"], True), (["-n"], True)])
def test_dry_run_flag_reaches_the_action(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: bool
) -> None:
    calls = stub_run(monkeypatch)
    assert main(argv) == ExitCode.OK
    assert calls[0].dry_run is expected


@pytest.mark.usefixtures("no_action_arguments")
@pytest.mark.parametrize(
    ("argv", "shown", "hidden"),
    [
        ([], ["info line"], ["debug detail"]),
        (["-v"], ["info line", "debug detail"], []),
        (["-q"], [], ["info line", "debug detail"]),
    ],
)
def test_verbosity_counts_v_and_q(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    shown: list[str],
    hidden: list[str],
) -> None:
    stub_run(monkeypatch)
    assert main(argv) == ExitCode.OK
    err = capsys.readouterr().err
    for text in shown:
        assert text in err
    for text in hidden:
        assert text not in err


@pytest.mark.usefixtures("no_action_arguments")
@pytest.mark.parametrize(
    ("effect", "status", "message"),
    [
        (action.ActionError("disk is full"), ExitCode.FAILURE, f"{cli.PROG}: ERROR: disk is full"),
        (PermissionError(13, "Permission denied", "/srv/x"), ExitCode.FAILURE, "Permission denied"),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED, f"{cli.PROG}: WARNING: interrupted"),
    ],
)
def test_failures_become_exit_codes_and_one_line_messages(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    effect: BaseException,
    status: ExitCode,
    message: str,
) -> None:
    stub_run(monkeypatch, effect)
    assert main(["-q"]) == status
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_exit_codes_are_stable() -> None:
    assert [int(code) for code in ExitCode] == [0, 1, 2, 130]


def test_module_entry_point_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", PACKAGE, "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stdout.startswith(f"usage: {cli.PROG}")

    result = subprocess.run(
        [sys.executable, "-m", PACKAGE, "--no-such-option"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == ExitCode.USAGE
