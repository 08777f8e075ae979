"""The template history packed into wheels: derived version tags and the dirty-tree snapshot."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import pytest

from generator.template.bundle import build_bundle, derive_tags
from tests.helpers import REPO_ROOT, build_file_tree, run

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@t"]


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    build_file_tree(repo, files)
    run(["git", *IDENTITY, "add", "-A"], cwd=repo)
    run(["git", *IDENTITY, "commit", "-q", "-m", message], cwd=repo)
    return run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()


def _version(value: str) -> dict[str, str]:
    return {"generator/__init__.py": f'"""doc"""\n\n__version__ = "{value}"\n'}


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo)
    commits = [
        _commit(repo, {"README.md": "start\n"}, "before any version"),
        _commit(repo, _version("1.0.0"), "release 1.0.0"),
        _commit(repo, {"copier.yml": "a: 1\n"}, "work"),
        _commit(repo, {"generator/__init__.py": '"""doc, edited"""\n\n__version__ = "1.0.0"\n'}, "docstring only"),
        _commit(repo, _version("1.1.0"), "release 1.1.0"),
        _commit(repo, {"copier.yml": "a: 2\n"}, "more work"),
    ]
    return repo, commits


def test_tags_mark_releases_and_count_commits_after_them(history: tuple[Path, list[str]]) -> None:
    repo, commits = history
    assert derive_tags(repo) == {
        "1.0.0": commits[1],
        "1.0.0.post1": commits[2],
        "1.0.0.post2": commits[3],
        "1.1.0": commits[4],
        "1.1.0.post1": commits[5],
    }


def test_bundle_carries_history_tags_and_uncommitted_changes(history: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, commits = history
    (repo / "copier.yml").write_text("a: 3\n")
    (repo / "NEW.md").write_text("untracked but not ignored\n")
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "debug.log").write_text("ignored\n")
    tags = build_bundle(repo, tmp_path / "out" / "t.bundle")
    snapshot = tags.pop("1.1.0.post2+dirty")
    assert tags == derive_tags(repo)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", tmp_path / "out" / "t.bundle", clone])
    assert run(["git", "rev-parse", "HEAD"], cwd=clone).stdout.strip() == snapshot
    assert (clone / "copier.yml").read_text() == "a: 3\n"
    # Untracked files are not part of a build (issue 14: a demo rendered in the checkout made it "dirty").
    assert not (clone / "NEW.md").exists()
    assert not (clone / "debug.log").exists()
    assert run(["git", "rev-parse", "HEAD~1"], cwd=clone).stdout.strip() == commits[-1]
    listed = run(["git", "tag", "--list"], cwd=clone).stdout.split()
    assert "1.0.0" in listed and "1.1.0.post2+dirty" in listed
    assert run(["git", "status", "--porcelain"], cwd=repo).stdout != "", "the source repository was not touched"
    assert run(["git", "tag", "--list"], cwd=repo).stdout == ""


def test_untracked_files_make_no_snapshot(history: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, commits = history
    build_file_tree(repo, {"demo/README.md": "a project rendered inside the checkout\n"})
    tags = build_bundle(repo, tmp_path / "t.bundle")
    assert not any("dirty" in tag for tag in tags)
    assert [tag for tag, commit in tags.items() if commit == commits[-1]] == ["1.1.0.post1"]


def test_clean_tree_makes_no_snapshot(history: tuple[Path, list[str]], tmp_path: Path) -> None:
    repo, commits = history
    tags = build_bundle(repo, tmp_path / "t.bundle")
    assert [tag for tag, commit in tags.items() if commit == commits[-1]] == ["1.1.0.post1"]
    assert not any("dirty" in tag for tag in tags)


@pytest.mark.slow  # two wheel builds of this checkout, each in pip's isolated build environment
def test_wheel_builds_leave_no_temporary_folder(tmp_path: Path) -> None:
    scratch, dist = tmp_path / "tmp", tmp_path / "dist"
    scratch.mkdir()
    for _ in range(2):
        run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, REPO_ROOT],
            env={**os.environ, "TMPDIR": str(scratch)},
        )
    (wheel,) = dist.glob("*.whl")
    assert "generator/_data/templates.bundle" in zipfile.ZipFile(wheel).namelist()
    assert sorted(path.name for path in scratch.glob("scaffold-build-*")) == []
