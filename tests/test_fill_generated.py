"""Files derived from the code (`make generated`) are regenerated with the fills and committed with them.

The project is the rendered service with a Makefile of the test's own: `generated` writes
derived.txt from the region files (as the api's writes openapi.json from its models), so what it
holds tells whether it ran with the fills in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.fill import regenerate
from generator.fill.record import RECORD_FILE
from generator.fill.regions import find_regions
from tests.fakeapi import FakeAnthropic
from tests.fillfakes import valid_reply, worktree
from tests.helpers import GIT_IDENTITY, run

# How many lines of the sources carry the fake model's tag: 0 on the fallbacks.
GENERATE = "grep -rc 'filled by the fake' src | awk -F: '{n += $$2} END {print n}' > derived.txt"


def _makefile(project: Path, *, generated: bool, check: str = "true") -> None:
    rules = f"install:\n\ttrue\n\ncheck: install\n\t{check}\n"
    if generated:
        rules += f"\ngenerated: install\n\t{GENERATE}\n"
    (project / "Makefile").write_text(rules)
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a Makefile for the test"])


def _fill_commit_files(project: Path) -> set[str]:
    out = run(["git", "show", "--name-only", "--format=", "HEAD"], cwd=project).stdout
    return set(out.split())


@pytest.fixture
def make_gate(monkeypatch: pytest.MonkeyPatch, fake: FakeAnthropic, project: Path) -> FakeAnthropic:
    """The gate is the project's own `make check`, and the fake model fills every region validly."""
    monkeypatch.delenv("SCAFFOLD_VERIFY_COMMAND")
    fake.responder = valid_reply(project)
    return fake


def test_without_the_target_nothing_is_regenerated(
    project: Path, make_gate: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    _makefile(project, generated=False)

    assert main(["fill", str(project)]) == 0

    err, out = capsys.readouterr()[::-1]
    assert "regenerating" not in err
    assert "regenerated" not in out and "may be stale" not in out
    assert _fill_commit_files(project) == {r.path for r in find_regions(project)} | {RECORD_FILE}


def test_files_the_target_changes_are_committed_with_the_fills(
    project: Path, make_gate: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    _makefile(project, generated=True)

    assert main(["fill", str(project)]) == 0

    regions = find_regions(project)
    in_src = [r for r in regions if r.path.startswith("src/")]
    assert (project / "derived.txt").read_text() == f"{len(in_src)}\n"  # made with the fills in place
    assert _fill_commit_files(project) == {r.path for r in regions} | {RECORD_FILE, "derived.txt"}
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    captured = capsys.readouterr()
    assert "regenerating the files derived from the code: make generated" in captured.err
    assert "regenerated with the fills: derived.txt" in captured.out
    for entry in yaml.safe_load((project / RECORD_FILE).read_text())["regions"].values():
        assert "stale" not in entry


def test_a_refused_fill_leaves_the_derived_files_as_they_were(project: Path, make_gate: FakeAnthropic) -> None:
    _makefile(project, generated=True, check="! grep -q '^[1-9]' derived.txt 2>/dev/null")

    assert main(["fill", str(project)]) == 3

    assert len(make_gate.requests) == 3  # the check saw the regenerated file every time
    assert not (project / "derived.txt").exists()
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


def test_no_verify_names_the_files_that_may_be_stale(
    project: Path, make_gate: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    _makefile(project, generated=True)

    assert main(["fill", str(project), "--no-verify"]) == 0

    assert not (project / "derived.txt").exists()
    assert (
        "may be stale: derived.txt ('make generated' did not run (--no-verify)); "
        "run 'make generated' and commit the result"
    ) in capsys.readouterr().out
    for entry in yaml.safe_load((project / RECORD_FILE).read_text())["regions"].values():
        assert entry["stale"] == ["derived.txt"]


def test_a_failing_target_is_reported_and_its_output_not_taken(
    project: Path, make_gate: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    _makefile(project, generated=True)
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text().replace(GENERATE, f"{GENERATE}; echo cannot import app; exit 4"))
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a failing generated target"])

    assert main(["fill", str(project)]) == 0

    out = capsys.readouterr().out
    assert "may be stale: derived.txt ('make generated' failed with exit 2: " in out
    assert "derived.txt" not in _fill_commit_files(project)
    assert not (project / "derived.txt").exists()


def test_an_interrupt_while_it_runs_leaves_no_derived_file(project: Path, make_gate: FakeAnthropic) -> None:
    _makefile(project, generated=True)
    makefile = project / "Makefile"
    interrupt = f"{GENERATE}; kill -INT {os.getpid()}; sleep 10"
    makefile.write_text(makefile.read_text().replace(GENERATE, interrupt))
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a generated target that is interrupted"])
    before = worktree(project)

    assert main(["fill", str(project)]) == 130

    assert worktree(project) == before


def test_a_generated_file_that_is_not_text_is_committed_byte_for_byte(project: Path, make_gate: FakeAnthropic) -> None:
    _makefile(project, generated=True)
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text().replace(GENERATE, f"{GENERATE}; printf '\\377\\000x' > blob.bin"))
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a generated binary file"])

    assert main(["fill", str(project)]) == 0

    assert (project / "blob.bin").read_bytes() == b"\xff\x00x"
    assert {"blob.bin", "derived.txt"} <= _fill_commit_files(project)
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


CURRENT = f"if [ -f derived.txt ]; then {GENERATE.removesuffix(' > derived.txt')} | diff -q - derived.txt; fi"


def test_a_refill_checks_the_fallbacks_with_their_own_derived_files(project: Path, make_gate: FakeAnthropic) -> None:
    # The check fails when derived.txt is stale, as the api's drift check does for openapi.json.
    _makefile(project, generated=True, check=CURRENT)
    assert main(["fill", str(project)]) == 0
    region = next(r for r in find_regions(project) if r.path.startswith("src/"))

    # The baseline puts the template's fallbacks back: derived.txt must be regenerated for them, or the
    # project looks broken before any call and the refill is refused.
    assert main(["fill", str(project), "--refill", f"{region.path}#{region.id}"]) == 0

    assert len(make_gate.requests) == 2
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


def test_a_file_the_target_deletes_comes_back_and_is_never_deleted_by_the_fill(
    project: Path, make_gate: FakeAnthropic
) -> None:
    (project / "keep.txt").write_text("the team's\n")
    run(["git", "-C", str(project), "add", "keep.txt"])
    _makefile(project, generated=True)
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text().replace(GENERATE, f"{GENERATE}; rm -f keep.txt"))
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a generated target that deletes a file"])

    assert main(["fill", str(project)]) == 0

    assert (project / "keep.txt").read_text() == "the team's\n"
    assert "keep.txt" not in _fill_commit_files(project)
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


def test_an_uncommitted_edit_of_a_derived_file_is_kept_and_named_stale(
    project: Path, make_gate: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "derived.txt").write_text("0\n")
    run(["git", "-C", str(project), "add", "derived.txt"])
    _makefile(project, generated=True)
    (project / "derived.txt").write_text("my own edit, not committed\n")

    assert main(["fill", str(project)]) == 0

    assert (project / "derived.txt").read_text() == "my own edit, not committed\n"
    assert "derived.txt" not in _fill_commit_files(project)
    assert "may be stale: derived.txt (they have uncommitted changes" in capsys.readouterr().out


def test_only_the_declared_files_are_taken_and_the_rest_is_put_back(
    project: Path, make_gate: FakeAnthropic, capsys: pytest.CaptureFixture[str]
) -> None:
    # The recipe runs the fills' code (the api's imports its models): here it also disables the check, edits a
    # file of the team's and writes into an untracked one; none of that may be committed or seen by the check.
    (project / "NOTES.md").write_text("the team's notes\n")
    run(["git", "-C", str(project), "add", "NOTES.md"])
    (project / "scratch.txt").write_text("untracked, mine\n")
    _makefile(project, generated=True, check="grep -q '^check: install' Makefile")
    makefile = project / "Makefile"
    hostile = (
        f"{GENERATE}; sed -i 's/^check: install/check:/' Makefile; echo x >> NOTES.md; echo y > scratch.txt; "
        "echo 'GENERATED += Makefile NOTES.md scratch.txt' >> Makefile"  # declaring them afterwards changes nothing
    )
    makefile.write_text("GENERATED := derived.txt\n" + makefile.read_text().replace(GENERATE, hostile))
    run(["git", "-C", str(project), *GIT_IDENTITY, "commit", "-qam", "a generated target that does too much"])

    assert main(["fill", str(project)]) == 0

    out = capsys.readouterr().out
    assert "changed files it does not declare in the Makefile's GENERATED (Makefile, NOTES.md, scratch.txt)" in out
    assert (project / "NOTES.md").read_text() == "the team's notes\n"
    assert (project / "scratch.txt").read_text() == "untracked, mine\n"
    assert "check: install" in makefile.read_text()
    assert _fill_commit_files(project) == {r.path for r in find_regions(project)} | {RECORD_FILE}


def test_the_command_and_the_dry_run_name_the_same_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One constant names the target: the command the ladder runs and the recipe stale_files reads must agree.
    (tmp_path / "Makefile").write_text("derived:\n\techo x > derived.txt\n\ngenerated:\n\techo y > other.txt\n")
    assert regenerate.regenerate_for(tmp_path) == "make generated"
    assert regenerate.stale_files(tmp_path) == ("other.txt",)
    monkeypatch.setattr(regenerate, "TARGET", "derived")
    assert regenerate.regenerate_for(tmp_path) == "make derived"
    assert regenerate.stale_files(tmp_path) == ("derived.txt",)
    (tmp_path / "Makefile").write_text("check:\n\ttrue\n")
    assert regenerate.regenerate_for(tmp_path) is None
