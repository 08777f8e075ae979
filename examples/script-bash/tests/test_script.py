"""Tests for bin/rotate-logs, run in subprocesses the way a person or a scheduler runs it."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bin" / "rotate-logs"

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the script with args; never raises on a non-zero exit status."""
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def default_sigint() -> None:
    """Give the child the default SIGINT action: a runner that starts the tests with SIGINT ignored
    (a background job) would pass that on, and bash cannot trap a signal ignored when it started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(flag: str) -> None:
    result = run_script(flag)
    assert result.returncode == EXIT_OK
    assert result.stdout.startswith("Usage: rotate-logs ")
    for option in ("--help", "--version", "--verbose", "--quiet", "--dry-run"):
        assert option in result.stdout
    assert result.stderr == ""


def test_version() -> None:
    result = run_script("--version")
    assert result.returncode == EXIT_OK
    assert result.stdout == "rotate-logs 0.1.0\n"


def test_unknown_option_is_a_usage_error() -> None:
    result = run_script("--no-such-option")
    assert result.returncode == EXIT_USAGE
    assert "rotate-logs: ERROR: unknown option: --no-such-option" in result.stderr
    assert "--help" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("exit 0", EXIT_OK),
        ("exit 3", 3),
        ("kill -INT $$", EXIT_INTERRUPTED),
        ("kill -TERM $$", EXIT_TERMINATED),
    ],
)
def test_work_dir_is_removed_on_exit_and_signals(command: str, status: int) -> None:
    # Sourcing defines the functions without running main, so the trap can be tested alone.
    result = subprocess.run(
        ["bash", "-c", f'source "$1"; init_work_dir; echo "$WORK_DIR"; {command}', "-", SCRIPT],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        preexec_fn=default_sigint,
    )
    assert result.returncode == status, result.stderr
    work_dir = Path(result.stdout.strip())
    assert work_dir.name.startswith("rotate-logs.")
    assert not work_dir.exists()
    if status >= 128:
        assert "interrupted by SIG" in result.stderr


# scaffold:fill action-tests pytest tests for the arguments and do_work of bin/rotate-logs (Rotates and prunes application logs.),
# | through run_script: the success path, --dry-run changing nothing, each invalid input exiting 2 (EXIT_USAGE) with its
# | one-line message, a failure exiting 1, and the temporary directory gone afterwards (point TMPDIR
# | at tmp_path). Work only inside tmp_path, no network; use only the imports above.
DAY = 24 * 60 * 60


def make_file(path: Path, age_days: float) -> Path:
    """Create path (and its parents) last modified age_days ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n", encoding="utf-8")
    mtime = path.stat().st_mtime - age_days * DAY
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "logs"
    return {
        "root": root,
        "old": make_file(root / "app.log.1", age_days=40),
        "old_nested": make_file(root / "nested dir" / "worker.log.3", age_days=90),
        "old_other": make_file(root / "notes.txt", age_days=40),
        "recent": make_file(root / "app.log", age_days=1),
    }


def test_removes_only_files_older_than_the_limit(tree: dict[str, Path], tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run_script(str(tree["root"]), "--older-than", "30", env={"TMPDIR": str(scratch)})
    assert result.returncode == EXIT_OK, result.stderr
    assert not tree["old"].exists()
    assert not tree["old_nested"].exists()
    assert not tree["old_other"].exists()
    assert tree["recent"].exists()
    assert f"removed {tree['old_nested']}" in result.stderr
    assert "removed 3 file(s)" in result.stderr
    assert list(scratch.iterdir()) == []


def test_pattern_limits_the_files(tree: dict[str, Path]) -> None:
    result = run_script(str(tree["root"]), "--pattern=*.log.*")
    assert result.returncode == EXIT_OK, result.stderr
    assert not tree["old"].exists()
    assert not tree["old_nested"].exists()
    assert tree["old_other"].exists()
    assert tree["recent"].exists()


def test_default_limit_is_thirty_days(tree: dict[str, Path]) -> None:
    borderline = make_file(tree["root"] / "borderline.log", age_days=29)
    result = run_script(str(tree["root"]))
    assert result.returncode == EXIT_OK, result.stderr
    assert borderline.exists()
    assert not tree["old"].exists()


@pytest.mark.parametrize("flag", ["-n", "--dry-run"])
def test_dry_run_changes_nothing_and_reports(tree: dict[str, Path], flag: str) -> None:
    result = run_script(flag, str(tree["root"]))
    assert result.returncode == EXIT_OK, result.stderr
    assert all(path.exists() for path in tree.values())
    assert f"would remove {tree['old']}" in result.stderr
    assert f"would remove {tree['recent']}\n" not in result.stderr
    assert "would remove 3 file(s)" in result.stderr


def test_quiet_logs_nothing_on_success(tree: dict[str, Path]) -> None:
    result = run_script("-q", str(tree["root"]))
    assert result.returncode == EXIT_OK
    assert result.stderr == ""


def test_verbose_logs_debug_detail(tree: dict[str, Path]) -> None:
    result = run_script("-v", str(tree["root"]))
    assert result.returncode == EXIT_OK
    assert "DEBUG: working directory:" in result.stderr


def test_symlinks_are_neither_followed_nor_removed(tmp_path: Path) -> None:
    outside = make_file(tmp_path / "outside" / "keep.log", age_days=100)
    root = tmp_path / "logs"
    root.mkdir()
    (root / "link.log").symlink_to(outside)
    (root / "linked-dir").symlink_to(outside.parent, target_is_directory=True)
    result = run_script(str(root), "--older-than", "1")
    assert result.returncode == EXIT_OK, result.stderr
    assert outside.exists()
    assert (root / "link.log").is_symlink()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "missing DIRECTORY"),
        (["{missing}"], "not a directory: {missing}"),
        # Nothing could match even if the guard broke: the pattern and age rule it out.
        (
            ["/", "--pattern=nothing.*.x", "--older-than=99999"],
            "refusing to work on the filesystem root: /",
        ),
        (["{root}", "--older-than", "abc"], "--older-than: not a whole number: 'abc'"),
        (["{root}", "--older-than", "0"], "--older-than: must be at least 1, got 0"),
        (["{root}", "--older-than"], "option --older-than needs a value"),
        (["{root}", "--pattern", "-v"], "option --pattern needs a value"),
        (["{root}", "--pattern="], "--pattern must not be empty"),
        (["{root}", "{root}"], "unexpected argument: {root} (DIRECTORY is already {root})"),
    ],
)
def test_invalid_input_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    paths = {"root": str(tmp_path), "missing": str(tmp_path / "missing")}
    result = run_script(*(arg.format(**paths) for arg in args))
    assert result.returncode == EXIT_USAGE
    assert f"ERROR: {message.format(**paths)}\n" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_leading_zeros_are_decimal(tree: dict[str, Path]) -> None:
    result = run_script(str(tree["root"]), "--older-than", "08")
    assert result.returncode == EXIT_OK, result.stderr
    assert "older than 8 day(s)" in result.stderr


def test_files_that_cannot_be_removed_fail_the_run(tree: dict[str, Path], tmp_path: Path) -> None:
    # A stand-in rm that always fails: permissions cannot be relied on when tests run as root.
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    fake_rm = fake_bin / "rm"
    fake_rm.write_text("#!/bin/sh\necho 'rm: Permission denied' >&2\nexit 1\n", encoding="utf-8")
    fake_rm.chmod(0o755)
    path = f"{fake_bin}{os.pathsep}{os.environ['PATH']}"
    # The fake rm cannot clean up the work dir either, so keep it inside tmp_path.
    result = run_script(str(tree["root"]), env={"PATH": path, "TMPDIR": str(tmp_path)})
    assert result.returncode == EXIT_FAILURE
    assert tree["old"].exists()
    assert f"ERROR: could not remove 3 of 3 file(s) under {tree['root']}\n" in result.stderr


# scaffold:end action-tests
