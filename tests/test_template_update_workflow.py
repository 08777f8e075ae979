"""The rendered .github/workflows/template-update.yml: a valid workflow whose steps, run here against a local
template source, produce the update commit and the pull request a runner would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from tests.helpers import GIT_IDENTITY, GREET_TEMPLATE, REPO_ROOT, init_template_repo, release_template, run

WORKFLOW = ".github/workflows/template-update.yml"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    if not Path(found).exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return found


@pytest.mark.parametrize(
    ("template", "answers"),
    [
        ("service", []),
        ("api", []),
        ("infra", []),
        ("script", ["-d", "language=python"]),
        ("script", ["-d", "language=bash"]),
    ],
)
def test_every_template_renders_valid_workflows(tmp_path: Path, template: str, answers: list[str]) -> None:
    dest = tmp_path / "p"
    assert main([f"new-{template}", "p", "--defaults", "--no-ai", "--no-git", "--dest", str(dest), *answers]) == 0
    workflows = sorted((dest / ".github" / "workflows").glob("*.yml"))
    assert [path.name for path in workflows] == ["ci.yml", "template-update.yml"]
    run([_check_jsonschema(), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)])
    assert "keep it current" in (dest / "README.md").read_text()


def _evaluate(expression: str, outputs: dict[str, dict[str, str]]) -> str:
    if expression.startswith("steps."):
        _, step, _, name = expression.split(".")
        return outputs.get(step, {}).get(name, "")
    return {"github.token": "token-for-tests"}.get(expression, "")


def _condition(text: str | None, outputs: dict[str, dict[str, str]]) -> bool:
    if text is None:
        return True
    left, operator, right = re.fullmatch(r"(\S+) (==|!=) '(.*)'", text.strip()).groups()  # type: ignore[union-attr]
    value = _evaluate(left, outputs)
    return value == right if operator == "==" else value != right


def _run_steps(project: Path, workflow: dict[str, Any], bin_dir: Path, temp: Path) -> dict[str, dict[str, str]]:
    """Run the job's `run:` steps as a runner would (checkout and setup are the clone and this venv)."""
    outputs: dict[str, dict[str, str]] = {}
    for step in workflow["jobs"]["update"]["steps"]:
        if "run" not in step or step.get("name") == "Install scaffold" or not _condition(step.get("if"), outputs):
            continue
        output_file = temp / f"output-{step.get('id', 'x')}"
        output_file.write_text("")
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(output_file),
        }
        for name, value in (step.get("env") or {}).items():
            env[name] = _EXPRESSION.sub(lambda match: _evaluate(match.group(1), outputs), str(value))
        result = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step["run"]], cwd=project, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"{step['name']}:\n{result.stdout}\n{result.stderr}"
        if "id" in step:
            pairs = (line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
            outputs[step["id"]] = dict(pairs)
    return outputs


def test_the_workflow_steps_make_the_update_commit_and_the_pull_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    includes = REPO_ROOT / "includes"
    repo = init_template_repo(
        tmp_path / "templates",
        {
            "includes/regions.jinja": (includes / "regions.jinja").read_text(),
            "includes/template-update.yml.jinja": (includes / "template-update.yml.jinja").read_text(),
            "templates/mini/app.py.jinja": GREET_TEMPLATE,
            "templates/mini/.github/workflows/template-update.yml.jinja": (
                '{% include "includes/template-update.yml.jinja" %}\n'
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    assert main(["new", "mini", "demo", "--defaults", "--templates", str(repo)]) == 0
    demo = tmp_path / "demo"
    origin = tmp_path / "origin.git"
    run(["git", "clone", "-q", "--bare", str(demo), str(origin)])
    runner = tmp_path / "runner" / "demo"
    run(["git", "clone", "-q", str(origin), str(runner)])
    release_template(repo, {"templates/mini/CHANGELOG.md": "new in 1.1.0\n"}, "1.1.0")

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh_log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{gh_log}"\n'
        'if [ "$1 $2" = "pr view" ]; then exit 1; fi\n'
        'while [ $# -gt 0 ]; do if [ "$1" = "--body-file" ]; then cat "$2" >> '
        f'"{gh_log}"; fi; shift; done\n'
    )
    (bin_dir / "gh").chmod(0o755)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    workflow = yaml.safe_load((runner / WORKFLOW).read_text())

    outputs = _run_steps(runner, workflow, bin_dir, temp)

    assert outputs["check"] == {"behind": "true", "current": "1.0.0", "newest": "1.1.0"}
    branch = "template-update/1.1.0"
    pushed = run(["git", "log", "--format=%s", branch], cwd=origin).stdout.splitlines()
    assert pushed[0] == "Update the template from 1.0.0 to 1.1.0 (scaffold update)"
    files = run(["git", "show", "--name-only", "--format=", branch], cwd=origin).stdout.split()
    assert "CHANGELOG.md" in files and ".copier-answers.yml" in files
    log = gh_log.read_text()
    assert f"pr create --head {branch} --title Update the template to 1.1.0" in log
    assert "from 1.0.0 to 1.1.0" in log and "- A\tCHANGELOG.md" in log

    # Up to date now (on the branch): the same steps make nothing.
    run(["git", *GIT_IDENTITY, "checkout", "-q", branch], cwd=runner)
    assert _run_steps(runner, workflow, bin_dir, temp)["check"]["behind"] == "false"
