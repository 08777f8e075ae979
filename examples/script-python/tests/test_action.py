"""Tests of the script's main action (action.py), through main(argv) and a real subprocess."""

from __future__ import annotations

# scaffold:fill action-tests pytest tests for add_arguments and run in src/rotate_logs/action.py (Rotates and prunes application logs.):
# | the success path, --dry-run changing nothing, every validation error exiting 2 with a clear message through main(argv),
# | failures raising ActionError (exit 1), and one end-to-end run of `python -m rotate_logs` in a subprocess.
# | Work only inside tmp_path, no network. This region holds the whole test module, imports included.
import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rotate_logs import action
from rotate_logs.cli import ExitCode, main

DAY = 24 * 60 * 60
# What `python -m` runs (its __main__ calls cli.main); a name, so that calls fit a line at any length.
PACKAGE = "rotate_logs"


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
        "old_nested": make_file(root / "nested" / "worker.log.3", age_days=90),
        "old_other": make_file(root / "notes.txt", age_days=40),
        "recent": make_file(root / "app.log", age_days=1),
    }


def test_removes_only_files_older_than_the_limit(tree: dict[str, Path]) -> None:
    assert main([str(tree["root"]), "--older-than", "30"]) == ExitCode.OK
    assert not tree["old"].exists()
    assert not tree["old_nested"].exists()
    assert not tree["old_other"].exists()
    assert tree["recent"].exists()


def test_pattern_limits_the_files(tree: dict[str, Path]) -> None:
    assert main([str(tree["root"]), "--pattern", "*.log.*"]) == ExitCode.OK
    assert not tree["old"].exists()
    assert not tree["old_nested"].exists()
    assert tree["old_other"].exists()
    assert tree["recent"].exists()


def test_default_limit_is_thirty_days(tree: dict[str, Path]) -> None:
    borderline = make_file(tree["root"] / "borderline.log", age_days=29)
    assert main([str(tree["root"])]) == ExitCode.OK
    assert borderline.exists()
    assert not tree["old"].exists()


def test_dry_run_changes_nothing_and_reports(
    tree: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tree["root"]), "--dry-run"]) == ExitCode.OK
    assert all(path.exists() for path in tree.values())
    err = capsys.readouterr().err
    assert f"would remove {tree['old']}" in err
    assert f"would remove {tree['recent']}\n" not in err
    assert "would remove 3 file(s)" in err


def test_symlinks_are_neither_followed_nor_removed(tmp_path: Path) -> None:
    outside = make_file(tmp_path / "outside" / "keep.log", age_days=100)
    root = tmp_path / "logs"
    root.mkdir()
    (root / "link.log").symlink_to(outside)
    (root / "linked-dir").symlink_to(outside.parent, target_is_directory=True)
    assert main([str(root), "--older-than", "1"]) == ExitCode.OK
    assert outside.exists()
    assert (root / "link.log").is_symlink()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: directory"),
        (["{missing}"], "not a directory"),
        (["{root}", "--older-than", "abc"], "not a whole number: 'abc'"),
        (["{root}", "--older-than", "0"], "must be at least 1, got 0"),
        (["{root}", "--older-than"], "expected one argument"),
        (["{root}", "{root}"], "unrecognized arguments"),
    ],
)
def test_invalid_input_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    paths = {"root": str(tmp_path), "missing": str(tmp_path / "missing")}
    assert main([arg.format(**paths) for arg in argv]) == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_filesystem_root_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="filesystem root"):
        action.cleanable_directory(Path.cwd().anchor)


def refuse_unlink(self: Path, missing_ok: bool = False) -> None:
    raise PermissionError(13, "Permission denied", str(self))


def test_files_that_cannot_be_removed_fail_the_run(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(Path, "unlink", refuse_unlink)
    assert main([str(tree["root"])]) == ExitCode.FAILURE
    err = capsys.readouterr().err
    assert f"could not remove {tree['old']}: Permission denied" in err
    last_line = err.strip().splitlines()[-1]
    assert last_line.endswith(f"could not remove 3 of 3 file(s) under {tree['root']}")


def test_run_raises_action_error_for_the_cli(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "unlink", refuse_unlink)
    args = argparse.Namespace(
        directory=tree["root"],
        older_than=30,
        pattern="*",
        dry_run=False,
    )
    with pytest.raises(action.ActionError, match="could not remove 3 of 3"):
        action.run(args)


def test_end_to_end_in_a_subprocess(tree: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", PACKAGE, str(tree["root"]), "--older-than", "30"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert f"removed {tree['old']}" in result.stderr
    assert not tree["old"].exists()
    assert tree["recent"].exists()


# scaffold:end action-tests
