"""`scaffold update` (and plain `copier update`) on projects made from a versioned template repository."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
import yaml

import generator.template.update as update_module
from generator.cli import main
from tests.fillfakes import worktree
from tests.helpers import (
    GIT_IDENTITY,
    GREET_TEMPLATE,
    build_file_tree,
    init_template_repo,
    release_template,
    run,
    scaffold_interrupted,
    sigterm_at,
    terminate_self,
    tree_snapshot,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A project generated from version 1.0.0 of a template repo, with a user edit and an edited region."""
    includes = (Path(__file__).parent.parent / "includes" / "regions.jinja").read_text()
    repo = init_template_repo(
        tmp_path / "templates",
        {"includes/regions.jinja": includes, "templates/mini/app.py.jinja": GREET_TEMPLATE},
    )
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mini", "demo", "--defaults", "--templates", str(repo)]) == 0
    capsys.readouterr()
    demo = tmp_path / "demo"
    app = demo / "app.py"
    app.write_text(app.read_text().replace('return "hello"', 'return "hello, edited by the user"'))
    (demo / "README.md").write_text((demo / "README.md").read_text() + "\nMy own notes.\n")
    run(["git", *GIT_IDENTITY, "commit", "-q", "-am", "my edits"], cwd=demo)
    return repo, demo


def test_update_applies_new_version_and_keeps_user_edits(
    project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, demo = project
    release_template(repo, {"templates/mini/CHANGELOG.md": "new in 1.1.0\n"}, "1.1.0")
    assert main(["update", str(demo)]) == 0
    out = capsys.readouterr().out
    assert "from template version 1.0.0 to 1.1.0" in out
    assert (demo / "CHANGELOG.md").read_text() == "new in 1.1.0\n"
    assert "My own notes." in (demo / "README.md").read_text()
    assert 'return "hello, edited by the user"' in (demo / "app.py").read_text()
    assert yaml.safe_load((demo / ".copier-answers.yml").read_text())["_commit"] == "1.1.0"


def test_plain_copier_update_keeps_edits_too(project: tuple[Path, Path]) -> None:
    repo, demo = project
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    copier = Path(sys.executable).with_name("copier")
    run([copier, "update", "--defaults"], cwd=demo)
    assert (demo / "CHANGELOG.md").is_file()
    assert 'return "hello, edited by the user"' in (demo / "app.py").read_text()


def test_conflicts_are_listed_with_exit_4(project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo, demo = project
    release_template(
        repo, {"templates/mini/app.py.jinja": GREET_TEMPLATE.replace('"{{ greeting }}"', '"{{ greeting }}!"')}, "1.1.0"
    )
    assert main(["update", str(demo), "--defaults"]) == 4
    err = capsys.readouterr().err
    assert "Conflicts to resolve (1)" in err and "app.py" in err
    assert "<<<<<<<" in (demo / "app.py").read_text()


def test_dirty_tree_is_refused_and_untouched(project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo, demo = project
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    (demo / "README.md").write_text("uncommitted\n")
    before = tree_snapshot(demo)
    assert main(["update", str(demo)]) == 2
    err = capsys.readouterr().err
    assert "uncommitted changes (README.md)" in err and "commit or stash" in err
    assert tree_snapshot(demo) == before


def test_not_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["update", str(tmp_path)]) == 2
    assert "has no .copier-answers.yml" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["update", "check", "fill"])
def test_a_path_that_is_missing_or_a_file_says_so(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not a project\n")
    assert main([command, str(tmp_path / "gone")]) == 2
    assert f"{tmp_path / 'gone'} does not exist; give the folder of a generated project" in capsys.readouterr().err
    assert main([command, str(tmp_path / "notes.txt")]) == 2
    assert f"{tmp_path / 'notes.txt'} is not a folder; give the folder" in capsys.readouterr().err
    (tmp_path / "loop").symlink_to("loop")
    assert main([command, str(tmp_path / "loop")]) == 2
    assert f"{tmp_path / 'loop'} is a loop of symlinks; point it at a folder" in capsys.readouterr().err
    assert main([command, str(tmp_path / ("x" * 300))]) == 2
    assert "File name too long" in capsys.readouterr().err
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere")
    assert main([command, str(tmp_path / "broken")]) == 2
    assert (
        f"{tmp_path / 'broken'} is a symlink to {tmp_path / 'nowhere'}, which does not exist" in capsys.readouterr().err
    )
    # An unset shell variable, not the current folder.
    assert main([command, ""]) == 2
    assert "argument PATH: the path is empty; give a folder, or . for the current one" in capsys.readouterr().err


def test_project_without_git(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_file_tree(tmp_path / "p", {".copier-answers.yml": "_src_path: x\n"})
    assert main(["update", str(tmp_path / "p")]) == 2
    assert "is not inside a git repository" in capsys.readouterr().err


def test_update_answers_are_checked_like_new(project: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    repo, demo = project
    release_template(repo, {"templates/mini/CHANGELOG.md": "new\n"}, "1.1.0")
    before = tree_snapshot(demo)
    assert main(["update", str(demo), "--defaults", "-d", "bogus=1"]) == 2
    assert "unknown answer 'bogus' for template 'mini'" in capsys.readouterr().err
    assert tree_snapshot(demo) == before


def test_answers_without_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_file_tree(tmp_path / "p", {".copier-answers.yml": "template: service\n"})
    run(["git", "init", "-q"], cwd=tmp_path / "p")
    run(["git", *GIT_IDENTITY, "add", "-A"], cwd=tmp_path / "p")
    run(["git", *GIT_IDENTITY, "commit", "-q", "-m", "i"], cwd=tmp_path / "p")
    assert main(["update", str(tmp_path / "p")]) == 2
    assert "records no _src_path" in capsys.readouterr().err


def test_terminated_update_restores_the_last_commit(project: tuple[Path, Path]) -> None:
    repo, demo = project
    release_template(repo, {f"templates/mini/file{i}.txt": f"{i}\n" for i in range(200)}, "1.1.0")
    before = worktree(demo)
    interrupted = 0
    # Signalled as Copier starts writing the new release's 200 files, and when it is half-way through.
    for marker in ("file0.txt", "file100.txt"):
        code, err = scaffold_interrupted(
            ["update", str(demo), "--defaults"], demo.parent, 0, signal.SIGTERM, when=(demo / marker).exists
        )
        if code == -signal.SIGTERM:  # landed before scaffold installed its handlers (a slow start): nothing ran
            assert worktree(demo) == before and err == ""
            continue
        if code == 130 and "was updated to template version 1.1.0" not in err:
            interrupted += 1
            assert err == "scaffold: interrupted; nothing partial was left behind\n"
            assert worktree(demo) == before
            assert run(["git", "status", "--porcelain"], cwd=demo).stdout == ""
        else:  # done, or interrupted once the update was in place (and said so)
            assert code in (0, 130), err
            assert yaml.safe_load((demo / ".copier-answers.yml").read_text())["_commit"] == "1.1.0", err
            assert (demo / "file0.txt").is_file(), err
            run(["git", *GIT_IDENTITY, "reset", "-q", "--hard"], cwd=demo)
            run(["git", "clean", "-qfd"], cwd=demo)
    assert interrupted, "no run was interrupted mid-update"


@pytest.mark.parametrize("where", ["before-the-result", "after-the-result"])
def test_interrupt_once_copier_is_done_either_undoes_or_reports_the_update(
    project: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    repo, demo = project
    release_template(repo, {"templates/mini/CHANGELOG.md": "new in 1.1.0\n"}, "1.1.0")
    head = run(["git", "rev-parse", "HEAD"], cwd=demo).stdout
    if where == "before-the-result":  # Copier is done; update() is still reading the result
        real_conflicts = update_module.conflicted_files

        def conflicted_files(project: Path) -> list[str]:
            conflicts = real_conflicts(project)
            terminate_self()
            return conflicts

        monkeypatch.setattr(update_module, "conflicted_files", conflicted_files)
    with sigterm_at("cli.report" if where == "after-the-result" else "none"):  # about to print the result
        assert main(["update", str(demo), "--defaults"]) == 130

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert run(["git", "rev-parse", "HEAD"], cwd=demo).stdout == head
    if where == "before-the-result":
        assert err == "scaffold: interrupted; nothing partial was left behind\n"
        assert not (demo / "CHANGELOG.md").exists()
        assert run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=demo).stdout == ""
    else:
        assert "was updated to template version 1.1.0; review with 'git status' and 'git diff', then commit" in err
        assert (demo / "CHANGELOG.md").read_text() == "new in 1.1.0\n"
