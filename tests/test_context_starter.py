"""The bundled starter documents (context/) state what the templates do.

The AI fill step sends these documents with every fill, so a document that contradicts the
template (a line length, a layout, a flag, an error or log format) makes the model write
code that fights the project. Each template is rendered with its defaults and every fact
the documents state about it is checked on the render; each fact is also looked up in the
document, so that rewording a document without checking the templates fails here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, render_template

# Five Copier renders: 15-20 s on a busy 2-core machine.
pytestmark = pytest.mark.slow

CONTEXT = REPO_ROOT / "context"
# What style.md says every Python template's ruff selects, and what each adds.
COMMON_RULES = {"F", "W", "I", "B", "UP", "SIM", "RUF", "PT"}
EXTRA_RULES = {"service": {"C4", "ASYNC", "S"}, "api": {"C4", "PTH", "RET"}, "script": {"PTH", "RET"}}


def doc(name: str) -> str:
    return " ".join((CONTEXT / name).read_text(encoding="utf-8").split())


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("starter")
    yield {
        "service": render_template("service", base / "orders"),
        "api": render_template("api", base / "shop"),
        "infra": render_template("infra", base / "bucket"),
        "script": render_template("script", base / "prune-logs"),
        "bash": render_template("script", base / "prune-files", {"language": "bash"}),
    }


def ruff(project: Path) -> dict[str, object]:
    config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    section: dict[str, object] = config["tool"]["ruff"]
    return section


def test_style_states_the_ruff_line_length_and_rule_sets(renders: dict[str, Path]) -> None:
    style = doc("style.md")
    assert "`ruff format` (line length 100)" in style
    assert (
        "selects `F, W, I, B, UP, SIM, RUF` and `PT`, plus pycodestyle errors (`E`, or `E4, E7, E9` in scripts" in style
    )
    assert "services add `C4`, `ASYNC` (blocking calls in async code) and `S` (bandit)" in style
    assert "APIs add `C4`, `PTH` and `RET`; scripts add `PTH` and `RET`" in style
    for kind in ("service", "api", "script"):
        config = ruff(renders[kind])
        assert config["line-length"] == 100, kind
        lint = config["lint"]
        assert isinstance(lint, dict)
        selected = set(lint["select"])
        pycodestyle = {"E"} if kind != "script" else {"E4", "E7", "E9"}
        assert selected == COMMON_RULES | EXTRA_RULES[kind] | pycodestyle, kind


def test_patterns_state_the_service_and_api_layouts(renders: dict[str, Path]) -> None:
    patterns = doc("patterns.md")
    assert (
        "`app.py` (the app factory), `settings.py` (`pydantic-settings`), `routes.py` (HTTP only), `domain.py` "
        "(pure logic, no I/O), `resources.py` (the clients and pools it opens), `errors.py`, `health.py`, "
        "`log.py` and `middleware.py`"
    ) in patterns
    # Where a service opens its clients, as patterns.md's example shows it.
    assert "async def open_resources(settings: Settings) -> AsyncIterator[Resources]:" in patterns
    assert "the API template has `routers.py`, `models.py`, `repository.py` and `problems.py`" in patterns
    service = renders["service"] / "src" / "orders"
    for name in (
        "app.py",
        "settings.py",
        "routes.py",
        "domain.py",
        "resources.py",
        "errors.py",
        "health.py",
        "log.py",
        "middleware.py",
    ):
        assert (service / name).is_file(), name
    assert "async def open_resources(settings: Settings) -> AsyncIterator[Resources]:" in (
        service / "resources.py"
    ).read_text(encoding="utf-8")
    api = renders["api"] / "src" / "shop"
    for name in ("app.py", "settings.py", "routers.py", "models.py", "repository.py", "problems.py"):
        assert (api / name).is_file(), name
    assert not (api / "routes.py").exists() and not (api / "domain.py").exists()


def test_the_error_formats(renders: dict[str, Path]) -> None:
    assert 'is answered with 422 and FastAPI\'s own shape, `{"detail": "..."}`' in doc("patterns.md")
    assert "as RFC 9457 problem details in contract-first APIs (ADR 0004, the API template)" in doc(
        "decisions/0002-fastapi-for-http-services.md"
    )
    app = (renders["service"] / "src" / "orders" / "app.py").read_text()
    assert re.search(r'status_code=422, content=\{"detail": str\(exc\)\}', app)
    problems = (renders["api"] / "src" / "shop" / "problems.py").read_text()
    assert 'PROBLEM_MEDIA_TYPE = "application/problem+json"' in problems


def test_the_log_formats(renders: dict[str, Path]) -> None:
    adr = doc("decisions/0006-structured-json-logging.md")
    assert "Every line has `timestamp` (UTC, ISO 8601), `level`, `logger` and `message`" in adr
    assert "`<PACKAGE>_LOG_JSON=false`" in adr
    assert "the script templates log `prog: LEVEL: message` lines to stderr" in adr
    assert "the API template still logs uvicorn's plain text" in adr

    log = (renders["service"] / "src" / "orders" / "log.py").read_text()
    for field in ('"timestamp"', '"level"', '"logger"', '"message"', '"request_id"'):
        assert field in log, field
    assert "log_json: bool = True" in (renders["service"] / "src" / "orders" / "settings.py").read_text()
    assert 'ENV_PREFIX = "ORDERS_"' in (renders["service"] / "src" / "orders" / "settings.py").read_text()
    assert 'REQUEST_ID_HEADER = "x-request-id"' in (renders["service"] / "src" / "orders" / "middleware.py").read_text()

    api_sources = "".join(path.read_text() for path in (renders["api"] / "src").rglob("*.py"))
    assert "JsonFormatter" not in api_sources, "the API template logs JSON now: update ADR 0006 and patterns.md"

    cli = (renders["script"] / "src" / "prune_logs" / "cli.py").read_text()
    assert 'format=f"{PROG}: %(levelname)s: %(message)s"' in cli and "stream=sys.stderr" in cli
    script = (renders["bash"] / "bin" / "prune-files").read_text()
    assert 'printf \'%s: %s: %s\\n\' "${PROG}" "${level}" "$*" >&2' in script


def test_the_script_flags_and_shell_conventions(renders: dict[str, Path]) -> None:
    assert "takes `-n`/`--dry-run`, which reports what it would do and changes nothing" in doc("patterns.md")
    assert "--apply" not in doc("patterns.md")
    cli = (renders["script"] / "src" / "prune_logs" / "cli.py").read_text()
    assert '"-n",\n        "--dry-run",' in cli
    assert "def main(argv: Sequence[str] | None = None) -> int:" in cli
    script = (renders["bash"] / "bin" / "prune-files").read_text()
    assert "-n | --dry-run) DRY_RUN=true ;;" in script

    style = doc("style.md")
    assert "`#!/usr/bin/env bash` and `set -euo pipefail` on the first lines" in style
    assert 'with `main "$@"` at the bottom' in style
    assert "Usage text on `-h`/`--help`, to stdout, exit code 0; on bad arguments an error and a pointer to `--help` on stderr, exit code 2" in style  # fmt: skip
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:10]
    assert lines[-1].strip() in ('main "$@"', "fi")
    assert 'main "$@"' in "\n".join(lines[-4:])
    assert "trap cleanup EXIT" in script
    assert "readonly EXIT_USAGE=2" in script


def test_the_terraform_module_structure_and_provider_constraints(renders: dict[str, Path]) -> None:
    patterns = doc("patterns.md")
    assert (
        "`main.tf`, `variables.tf`, `outputs.tf`, `versions.tf`, `README.md`, `examples/<name>/`, `tests/*.tftest.hcl`"
    ) in patterns
    assert "`required_providers` with a version range in `versions.tf`, no `provider` blocks, no backend" in patterns
    assert 'the next major it was not tested with (`version = ">= 5.80, < 7.0"`)' in doc("style.md")
    module = renders["infra"]
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / name).is_file(), name
    assert list((module / "examples").glob("*/main.tf"))
    assert list((module / "tests").glob("*.tftest.hcl"))
    versions = (module / "versions.tf").read_text()
    assert re.search(r'version\s*=\s*">= [\d.]+, < [\d.]+"', versions)
    assert "~>" not in versions
    for path in module.glob("*.tf"):
        text = path.read_text()
        assert not re.search(r'^provider\s+"', text, re.MULTILINE), path.name
        assert not re.search(r"^\s*backend\s+\"", text, re.MULTILINE), path.name
