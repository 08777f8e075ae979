"""The promise of issue 'the spine', end to end with real wheels, pip, Copier and git.

A project made with release N (installed from a non-editable wheel, fresh HOME, no git
identity) passes its own checks, and updates with plain `copier update` on a machine
that has only release N+1 - keeping the user's edits and edited fill regions.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from generator.fill.regions import find_regions
from tests.helpers import REPO_ROOT, run, venv_bin

pytestmark = pytest.mark.slow
IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@t"]


def _set_version(repo: Path, version: str) -> None:
    init = repo / "generator" / "__init__.py"
    init.write_text(re.sub(r'__version__ = "[^"]+"', f'__version__ = "{version}"', init.read_text()))


def _commit(repo: Path, message: str) -> None:
    run(["git", *IDENTITY, "add", "-A"], cwd=repo)
    run(["git", *IDENTITY, "commit", "-q", "-m", message], cwd=repo)


def _clean_clone_of_working_tree(dest: Path) -> Path:
    """What a fresh clone of main would hold once this change is committed (tracked + new files)."""
    files = run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT).stdout.split("\0")
    for name in filter(None, files):
        source = REPO_ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    run(["git", "init", "-q", "-b", "main"], cwd=dest)
    return dest


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCAFFOLD_", "XDG_", "ANTHROPIC_"))}
    env.update({"HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"), "GIT_CONFIG_NOSYSTEM": "1"})
    return env


@pytest.fixture
def clean_clone(tmp_path: Path) -> Path:
    """A clean clone of main as it will be, released as 1.0.0."""
    repo = _clean_clone_of_working_tree(tmp_path / "repo")
    _set_version(repo, "1.0.0")
    _commit(repo, "release 1.0.0")
    return repo


def _release_next(repo: Path, out: Path) -> Path:
    """Change the service template, release 1.1.0, and build its wheel."""
    readme = repo / "templates" / "service" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n## Upgraded\n\nThis line arrived with template 1.1.0.\n")
    (repo / "templates" / "service" / "UPGRADED.md").write_text("new file in 1.1.0\n")
    _commit(repo, "template change")
    _set_version(repo, "1.1.0")
    _commit(repo, "release 1.1.0")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", repo, "-w", out])
    (wheel,) = out.glob("*.whl")
    return wheel


def test_install_generate_check_then_update_from_newer_release_only(
    clean_clone: Path, python_project_venv: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv_bin(venv, "python"), "-m", "pip", "install", "-q", "."], cwd=clean_clone)
    scaffold, copier = venv_bin(venv, "scaffold"), venv_bin(venv, "copier")

    # Release 1.0.0, a fresh HOME with no config and no git identity, an empty folder elsewhere.
    home_a, work = tmp_path / "home-a", tmp_path / "work"
    home_a.mkdir()
    work.mkdir()
    run([scaffold, "new-service", "demo", "--defaults"], cwd=work, env=_env(home_a))
    demo = work / "demo"
    answers = yaml.safe_load((demo / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "1.0.0"
    assert answers["_src_path"] == "~/.local/share/scaffold/templates.bundle"
    assert "scaffold.git" not in str(answers)

    # The generated project's own checks.
    python = venv_bin(python_project_venv, "python")
    run([python, "-m", "pip", "install", "-q", "-e", demo])
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=demo)
    run([venv_bin(python_project_venv, "ruff"), "check", "."], cwd=demo)
    run(["git", "clean", "-qfdx"], cwd=demo)

    # The user edits a generated file and a fill region's body, and commits.
    readme = demo / "README.md"
    readme.write_text("Team note: owned by payments.\n\n" + readme.read_text())
    region = find_regions(demo)[0]
    region_file = demo / region.path
    lines = region_file.read_text().splitlines(keepends=True)
    lines.insert(region.body_line - 1, f"{region.indent}{region.comment} edited by the user\n")
    region_file.write_text("".join(lines))
    run(["git", *IDENTITY, "commit", "-q", "-am", "my edits"], cwd=demo)
    backup = tmp_path / "demo-copy"
    shutil.copytree(demo, backup, symlinks=True)

    # Release 1.1.0 only, in a different HOME: one scaffold command places its bundle, then plain Copier.
    wheel_b = _release_next(clean_clone, tmp_path / "dist")
    run([venv_bin(venv, "python"), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel_b])
    home_b = tmp_path / "home-b"
    home_b.mkdir()
    listing = run([scaffold, "list"], cwd=work, env=_env(home_b)).stdout
    assert "version 1.1.0" in listing
    run([copier, "update", "--defaults"], cwd=demo, env=_env(home_b))
    _assert_updated_and_kept(demo, region.path)

    # The original HOME still holds the 1.0.0 bundle: `scaffold update` upgrades it and updates.
    out = run([scaffold, "update", str(backup)], cwd=work, env=_env(home_a)).stdout
    assert "from template version 1.0.0 to 1.1.0" in out
    _assert_updated_and_kept(backup, region.path)


def _assert_updated_and_kept(project: Path, region_path: str) -> None:
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "1.1.0"
    assert (project / "UPGRADED.md").read_text() == "new file in 1.1.0\n"
    readme = (project / "README.md").read_text()
    assert readme.startswith("Team note: owned by payments.")
    assert "This line arrived with template 1.1.0." in readme
    assert "edited by the user" in (project / region_path).read_text()
    assert run(["git", "ls-files", "-u"], cwd=project).stdout == ""
