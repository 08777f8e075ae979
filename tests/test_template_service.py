"""The `service` template: what it renders, and (slow) that the rendered project passes its own checks."""

from __future__ import annotations

import ast
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.fill.regions import find_regions
from tests.helpers import (
    AGENTS_REGION,
    ASSISTANT_FILES,
    DEPENDENCIES_REGION,
    ci_checks,
    markdown_texts,
    render_template,
    run,
    venv_bin,
    wait_until,
)

# Quotes, a backslash and a length past any line limit: the answer must survive TOML, docstrings and comments.
AWKWARD_DESCRIPTION = (
    'Settles "card" and bank payments \\ refunds for the checkout, keeping a ledger of every '
    "movement so that finance can reconcile the day's totals against the processors' reports, "
    "and it ends without a full stop"
)
CUSTOM_ANSWERS: dict[str, Any] = {
    "description": AWKWARD_DESCRIPTION,
    "python_version": "3.13",
    "port": 9090,
    "include_docker": False,
    "service_log_level": "WARNING",
    "owner": "payments-team",
}
PROJECT_FILES = {
    ".copier-answers.yml",
    ".github/CODEOWNERS",
    ".github/workflows/ci.yml",
    ".github/workflows/template-update.yml",
    ".gitignore",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "tests/conftest.py",
    "tests/test_dependencies.py",
    "tests/test_domain.py",
    "tests/test_health.py",
    "tests/test_logging.py",
    "tests/test_main.py",
    "tests/test_resources.py",
    "tests/test_routes.py",
    "tests/test_settings.py",
} | ASSISTANT_FILES
PACKAGE_FILES = {
    "__init__.py",
    "__main__.py",
    "app.py",
    "domain.py",
    "errors.py",
    "health.py",
    "log.py",
    "middleware.py",
    "py.typed",
    "resources.py",
    "routes.py",
    "settings.py",
}
DOCKER_FILES = {"Dockerfile", ".dockerignore"}


def expected_files(package: str, docker: bool) -> set[str]:
    return PROJECT_FILES | {f"src/{package}/{name}" for name in PACKAGE_FILES} | (DOCKER_FILES if docker else set())


def region_keys(package: str) -> set[str]:
    return {
        f"src/{package}/domain.py#domain",
        f"src/{package}/routes.py#routes",
        f"src/{package}/resources.py#resources",
        f"src/{package}/settings.py#imports",
        f"src/{package}/settings.py#settings",
        "tests/test_domain.py#domain-tests",
        "tests/test_routes.py#route-tests",
        AGENTS_REGION,
        DEPENDENCIES_REGION,
    }


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def default_project(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> Path:
    return render_template("service", tmp_path_factory.mktemp("default") / "payments")


@pytest.fixture(scope="module")
def custom_project(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> Path:
    return render_template("service", tmp_path_factory.mktemp("custom") / "order-api", CUSTOM_ANSWERS)


@pytest.fixture(params=["default", "custom"])
def any_project(request: pytest.FixtureRequest) -> Path:
    project: Path = request.getfixturevalue(f"{request.param}_project")
    return project


def test_default_render_has_exactly_the_expected_files(default_project: Path) -> None:
    assert files_of(default_project) == expected_files("payments", docker=True)


def test_without_docker_there_is_no_image_anywhere(custom_project: Path) -> None:
    assert files_of(custom_project) == expected_files("order_api", docker=False)
    assert "docker" not in (custom_project / "Makefile").read_text()
    assert "## Docker" not in (custom_project / "README.md").read_text()
    workflow = yaml.safe_load((custom_project / ".github/workflows/ci.yml").read_text())
    assert set(workflow["jobs"]) == {"checks"}


def settings_default(project: Path, package: str, field: str) -> object:
    """The literal default of a Settings field, read from the rendered source."""
    tree = ast.parse((project / f"src/{package}/settings.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == field:
            value = node.value
            if isinstance(value, ast.Call):  # Field(default=...)
                value = next(kw.value for kw in value.keywords if kw.arg == "default")
            assert value is not None, f"Settings.{field} has no default"
            return ast.literal_eval(value)
    raise AssertionError(f"Settings has no field {field!r}")


def test_answers_reach_settings_defaults(default_project: Path, custom_project: Path) -> None:
    assert settings_default(default_project, "payments", "port") == 8000
    assert settings_default(default_project, "payments", "log_level") == "INFO"
    assert settings_default(custom_project, "order_api", "port") == 9090
    assert settings_default(custom_project, "order_api", "log_level") == "WARNING"
    assert 'ENV_PREFIX = "ORDER_API_"' in (custom_project / "src/order_api/settings.py").read_text()
    readme = (custom_project / "README.md").read_text()
    assert "| `ORDER_API_PORT` | `9090` |" in readme
    assert "| `ORDER_API_LOG_LEVEL` | `WARNING` |" in readme


def test_pyproject_follows_the_answers(default_project: Path, custom_project: Path) -> None:
    default = tomllib.loads((default_project / "pyproject.toml").read_text())
    custom = tomllib.loads((custom_project / "pyproject.toml").read_text())

    assert default["project"]["name"] == "payments"
    assert default["project"]["requires-python"] == f">={answers_of(default_project)['python_version']}"
    assert default["project"]["scripts"] == {"payments": "payments.__main__:main"}
    assert custom["project"]["name"] == "order-api"
    assert custom["project"]["description"] == AWKWARD_DESCRIPTION
    assert custom["project"]["requires-python"] == ">=3.13"
    assert custom["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/order_api"]
    for dependency in ("fastapi", "uvicorn[standard]", "pydantic-settings"):
        [spec] = [d for d in default["project"]["dependencies"] if d.startswith(f"{dependency}>=")]
        assert ",<" in spec, f"{spec} has no upper bound"
    dev = " ".join(default["project"]["optional-dependencies"]["dev"])
    for tool in ("pytest", "httpx", "ruff", "mypy"):
        assert f"{tool}>=" in dev
    assert {"I", "B", "UP"} <= set(default["tool"]["ruff"]["lint"]["select"])


def test_dockerfile_uses_the_answers(tmp_path: Path) -> None:
    project = render_template("service", tmp_path / "payments", {"port": 9123, "python_version": "3.14"})
    dockerfile = (project / "Dockerfile").read_text()

    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["python:3.14-slim", "python:3.14-slim"]
    assert re.search(r"^EXPOSE 9123$", dockerfile, re.MULTILINE)
    assert "PAYMENTS_PORT=9123" in dockerfile
    assert "PAYMENTS_HOST=0.0.0.0" in dockerfile
    [user] = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user.split(":")[0] not in ("root", "0")
    [healthcheck] = re.findall(r"^HEALTHCHECK .*?CMD (.+)$", dockerfile, re.MULTILINE | re.DOTALL)
    assert "/healthz" in healthcheck
    assert healthcheck.startswith("python ")
    assert "curl" not in healthcheck
    assert "tests/" in (project / ".dockerignore").read_text().splitlines()


def test_regions_carry_instructions_and_working_fallbacks(any_project: Path) -> None:
    answers = answers_of(any_project)
    package = answers["project_name"].replace("-", "_")

    regions = find_regions(any_project)

    assert {region.key for region in regions} == region_keys(package)
    for region in (region for region in regions if region.key not in {AGENTS_REGION, DEPENDENCIES_REGION}):
        assert region.language == "python"
        if region.id != "imports":
            assert " ".join(answers["description"].split()) in region.instruction, region.key
        assert region.body.strip(), region.key
        # Each region is a whole module body, the imports or a class body: its fallback stands on its own.
        compile(textwrap.dedent(region.body), region.key, "exec")
    by_id = {region.id: region for region in regions}
    assert "`router`" in by_id["routes"].instruction
    assert "`open_resources(settings: Settings)" in by_id["resources"].instruction
    assert "Depends(get_resources)" in by_id["routes"].instruction
    assert "resources=Resources(" in by_id["route-tests"].instruction
    assert "DomainError" in by_id["domain"].instruction
    assert "`client` fixture" in by_id["route-tests"].instruction


def test_nothing_is_left_unrendered(any_project: Path) -> None:
    for path in any_project.rglob("*"):
        assert not path.name.endswith(".jinja"), path
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            # GitHub Actions expressions (${{ ... }}) are meant to stay.
            text = re.sub(r"\$\{\{[^}]*\}\}", "", text)
            assert "{{" not in text and "{%" not in text, path


def test_every_python_file_compiles(any_project: Path) -> None:
    sources = sorted(any_project.rglob("*.py"))
    assert len(sources) >= 15
    for path in sources:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_awkward_description_survives_python_and_markdown(custom_project: Path) -> None:
    docstring = ast.get_docstring(ast.parse((custom_project / "src/order_api/__init__.py").read_text()))

    assert docstring is not None
    assert " ".join(docstring.split()) == AWKWARD_DESCRIPTION
    assert AWKWARD_DESCRIPTION in markdown_texts((custom_project / "README.md").read_text(encoding="utf-8"))


def test_ci_runs_the_projects_checks_on_the_chosen_python(default_project: Path, custom_project: Path) -> None:
    for project in (default_project, custom_project):
        version = answers_of(project)["python_version"]
        workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
        steps = workflow["jobs"]["checks"]["steps"]
        [setup] = [step for step in steps if step.get("uses", "").startswith("actions/setup-python")]
        assert setup["with"]["python-version"] == version
        commands = ci_checks(project)
        for check in ("ruff check", "ruff format --check", "mypy", "pytest"):
            assert check in commands
    image = yaml.safe_load((default_project / ".github/workflows/ci.yml").read_text())["jobs"]["image"]
    assert any("docker build" in step.get("run", "") for step in image["steps"])


def test_codeowners_and_answers_file(custom_project: Path) -> None:
    assert "* @payments-team" in (custom_project / ".github/CODEOWNERS").read_text().splitlines()
    answers = answers_of(custom_project)
    assert answers["template"] == "service"
    assert answers["service_log_level"] == "WARNING"


def test_unknown_log_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="service_log_level"):
        render_template("service", tmp_path / "payments", {"service_log_level": "LOUD"})
    assert not (tmp_path / "payments").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile_targets_parse(default_project: Path, custom_project: Path) -> None:
    targets = ["install", "test", "lint", "typecheck", "format", "check", "run"]
    dry_run = run(["make", "-n", *targets, "docker-build"], cwd=default_project)
    assert "pip install -e '.[dev]'" in dry_run.stdout
    assert "docker build -t payments:dev ." in dry_run.stdout
    run(["make", "-n", *targets], cwd=custom_project)
    assert run(["make", "-n", "docker-build"], cwd=custom_project, check=False).returncode != 0


# --- slow: the rendered project's own checks, and the real server --------------------------------


def install(venv: Path, project: Path) -> None:
    command: list[str | Path] = [venv_bin(venv, "python"), "-m", "pip", "install", "-q", "-e", project]
    # The shared venv has one interpreter; code for a newer target has nothing it lacks.
    if tuple(map(int, answers_of(project)["python_version"].split("."))) > sys.version_info[:2]:
        command.append("--ignore-requires-python")
    run(command)


LONG_NAME = "a-very-long-service-name-that-goes-on-and-on-for-sixty-four-char"


@pytest.fixture(scope="module")
def installed_default_project(
    tmp_path_factory: pytest.TempPathFactory, python_project_venv: Path, render_home: None
) -> Path:
    project = render_template("service", tmp_path_factory.mktemp("installed") / "payments")
    install(python_project_venv, project)
    return project


@pytest.fixture(scope="module")
def installed_custom_project(
    tmp_path_factory: pytest.TempPathFactory, python_project_venv: Path, render_home: None
) -> Path:
    project = render_template("service", tmp_path_factory.mktemp("installed") / LONG_NAME, CUSTOM_ANSWERS)
    install(python_project_venv, project)
    return project


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared so that the second project does not type-check FastAPI and pydantic again."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.slow
@pytest.mark.parametrize(
    "project_fixture",
    ["installed_default_project", "installed_custom_project"],
    ids=["defaults", "long-name-no-docker"],
)
def test_rendered_project_passes_its_own_checks(
    request: pytest.FixtureRequest, python_project_venv: Path, mypy_cache: Path, project_fixture: str
) -> None:
    project: Path = request.getfixturevalue(project_fixture)
    python = venv_bin(python_project_venv, "python")
    ruff = venv_bin(python_project_venv, "ruff")

    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert re.search(r"\b\d{2,} passed\b", tests.stdout), tests.stdout
    run([ruff, "check", "."], cwd=project)
    run([ruff, "format", "--check", "."], cwd=project)
    # mypy from this environment, resolving the project's imports in the shared venv.
    run([sys.executable, "-m", "mypy", "--cache-dir", mypy_cache, "--python-executable", python], cwd=project)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(port: int, method: str, path: str, body: object = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.slow
def test_rendered_service_serves_logs_json_and_drains_on_sigterm(
    installed_default_project: Path, python_project_venv: Path
) -> None:
    port = free_port()
    # The drain is the window in which readiness must be seen failing: wide enough for a loaded machine.
    env = {**os.environ, "PAYMENTS_PORT": str(port), "PAYMENTS_SHUTDOWN_DRAIN_SECONDS": "5"}

    # The console script, as the container runs it.
    server = subprocess.Popen(
        [venv_bin(python_project_venv, "payments")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: request(port, "GET", "/readyz")[0] == 200, "the service to report ready")
        item = {"sku": "apple", "unit_price_cents": 120, "quantity": 3}
        assert request(port, "POST", "/v1/quotes", {"items": [item]}) == (
            200,
            {"subtotal_cents": 360, "discount_cents": 0, "total_cents": 360},
        )

        server.send_signal(signal.SIGTERM)
        wait_until(
            lambda: (
                request(port, "GET", "/readyz") == (503, {"status": "not_ready", "phase": "stopping", "checks": {}})
            ),
            "readiness to fail after SIGTERM, during the drain",
        )
        assert request(port, "GET", "/healthz") == (200, {"status": "ok"})
        stdout, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()

    # uvicorn re-raises the signal after a clean shutdown, the Unix convention for "stopped by SIGTERM".
    assert server.returncode in (0, -signal.SIGTERM), stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    messages = [record["message"] for record in records]
    for expected in ("service ready", "SIGTERM received, draining before shutdown", "service stopped"):
        assert expected in messages, messages
    drain = messages.index("SIGTERM received, draining before shutdown")
    assert drain < messages.index("service stopped")
    # The signal may interrupt a request; its id must not leak into the shutdown log.
    assert "request_id" not in records[drain]
    [access] = [record for record in records if record["logger"] == "access"]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/v1/quotes", 200)
    assert re.fullmatch(r"[0-9a-f]{32}", access["request_id"])
