"""Filled projects pass their own checks: the fill step formats what it splices and --verify runs the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cli import main
from generator.fill.regions import find_regions
from tests.fakeapi import FakeAnthropic
from tests.fillfakes import TAG, valid_reply
from tests.helpers import run, venv_bin

PYTHON_TEMPLATES = {
    "service": ["new-service", "payments"],
    "api": ["new-api", "shop", "-d", "resources=orders,customers"],
    "script": ["new-script", "rotate-logs"],
}


@pytest.mark.slow
@pytest.mark.parametrize("template", list(PYTHON_TEMPLATES))
def test_filled_python_project_passes_ruff_and_its_tests(
    tmp_path: Path, fake: FakeAnthropic, python_project_venv: Path, template: str
) -> None:
    command = PYTHON_TEMPLATES[template]
    project = tmp_path / command[1]
    assert main([*command, "--defaults", "--no-ai", "--dest", str(project)]) == 0
    python = venv_bin(python_project_venv, "python")
    run([python, "-m", "pip", "install", "-q", "--no-deps", "-e", project])
    fake.responder = valid_reply(project)

    # --verify runs the project's tests with the fills in place, before they are kept.
    verify = f"{python} -m pytest -q -p no:cacheprovider"
    assert main(["fill", str(project), "--verify-command", verify]) == 0

    assert len(fake.requests) == 1
    assert all(TAG in region.body for region in find_regions(project))
    ruff = venv_bin(python_project_venv, "ruff")
    run([ruff, "check", "--no-cache", "."], cwd=project)
    run([ruff, "format", "--check", "--no-cache", "."], cwd=project)
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_filled_terraform_module_stays_formatted(tmp_path: Path, fake: FakeAnthropic) -> None:
    project = tmp_path / "net"
    assert main(["new-infra", "net", "--defaults", "-d", "cloud=aws", "--no-ai", "--dest", str(project)]) == 0
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    assert all(TAG in region.body for region in find_regions(project))
    run(["terraform", "fmt", "-check", "-recursive"], cwd=project)


@pytest.mark.slow
def test_filled_bash_script_still_parses(tmp_path: Path, fake: FakeAnthropic) -> None:
    project = tmp_path / "tidy"
    assert main(["new-script", "tidy", "--defaults", "-d", "language=bash", "--no-ai", "--dest", str(project)]) == 0
    fake.responder = valid_reply(project)
    assert main(["fill", str(project)]) == 0
    run(["bash", "-n", project / "bin" / "tidy"])
    assert (project / "bin" / "tidy").stat().st_mode & 0o111, "the script must stay executable"
