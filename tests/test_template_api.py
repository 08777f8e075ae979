"""The `api` template: what it renders, and (slow) that the rendered project passes its own checks."""

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
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.fill.regenerate import stale_files
from generator.fill.regions import find_regions, splice
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

# Quotes, a backslash, non-ASCII and HTML: the answer must survive Python, TOML, JSON and Markdown.
AWKWARD_DESCRIPTION = 'Keeps the "ledger" of Zoë\'s café \\ bakery <b>&</b> its suppliers — every entry'

# name -> (project name, answers). The first three are the variants the brief asks for.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "shop": ("shop", {"resources": "orders,customers"}),
    "ledger": (
        "ledger-api",
        {
            "resources": "entries, boxes,order_items",
            "auth": "jwt",
            "storage": "sqlite",
            "pagination": "cursor",
            "description": AWKWARD_DESCRIPTION,
            "include_docker": False,
            "port": 9090,
        },
    ),
    "catalog": ("catalog", {"auth": "none"}),
    # Newer syntax (PEP 695 generics) and the longest names the validator allows.
    "modern": (
        "modern",
        {
            "resources": "purchase_order_line_item_lists," + ",".join(f"things{n}s" for n in range(19)),
            "python_version": "3.13",
            "pagination": "cursor",
        },
    ),
}

# package name -> resource names, singular forms and model class names each variant must produce.
RESOURCES = {
    "shop": [("orders", "order", "Order"), ("customers", "customer", "Customer")],
    "ledger": [("entries", "entry", "Entry"), ("boxes", "box", "Box"), ("order_items", "order_item", "OrderItem")],
    "catalog": [("items", "item", "Item")],
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "api-key": {"ApiKey": {"description": "The shared API key", "in": "header", "name": "X-API-Key", "type": "apiKey"}},
    "jwt": {
        "BearerJWT": {
            "bearerFormat": "JWT",
            "description": "An HS256 JWT with `sub` and `exp` claims",
            "scheme": "bearer",
            "type": "http",
        }
    },
    "none": {},
}

PACKAGE_FILES = {
    "__init__.py",
    "__main__.py",
    "app.py",
    "models.py",
    "openapi.py",
    "pagination.py",
    "problems.py",
    "py.typed",
    "repository.py",
    "routers.py",
    "rules.py",
    "settings.py",
}
PROJECT_FILES = {
    ".copier-answers.yml",
    ".env.example",
    ".github/CODEOWNERS",
    ".github/workflows/ci.yml",
    ".github/workflows/template-update.yml",
    ".gitignore",
    "Makefile",
    "README.md",
    "openapi.json",
    "pyproject.toml",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/factories.py",
    "tests/test_dependencies.py",
    "tests/test_openapi.py",
    "tests/test_pagination.py",
    "tests/test_problems.py",
    "tests/test_repository.py",
    "tests/test_resources.py",
    "tests/test_rules.py",
    "tests/test_writes.py",
} | ASSISTANT_FILES


def package_of(project: Path) -> str:
    return project.name.replace("-", "_")


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def ruff(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The ruff next to this interpreter, with the rendered project's own configuration."""
    return run([Path(sys.executable).with_name("ruff"), *args], cwd=cwd, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> dict[str, Path]:
    """Every variant, rendered once for the module."""
    root = tmp_path_factory.mktemp("api")
    return {key: render_template("api", root / key / name, data) for key, (name, data) in VARIANTS.items()}


@pytest.fixture(params=list(VARIANTS))
def project(request: pytest.FixtureRequest, rendered: dict[str, Path]) -> Path:
    return rendered[request.param]


# --- fast: the render itself ----------------------------------------------------------------------


def test_each_variant_has_exactly_the_expected_files(rendered: dict[str, Path]) -> None:
    def expected(package: str, *extra: str) -> set[str]:
        return PROJECT_FILES | {f"src/{package}/{name}" for name in PACKAGE_FILES} | set(extra)

    docker = ("Dockerfile", ".dockerignore")
    assert files_of(rendered["shop"]) == expected("shop", *docker, "src/shop/auth.py", "tests/test_auth.py")
    assert files_of(rendered["ledger"]) == expected(
        "ledger_api", "src/ledger_api/auth.py", "tests/test_auth.py", "tests/tokens.py"
    )
    assert files_of(rendered["catalog"]) == expected("catalog", *docker)


def test_nothing_is_left_unrendered(project: Path) -> None:
    for path in project.rglob("*"):
        assert not path.name.endswith(".jinja"), path
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            # GitHub Actions expressions (${{ ... }}) are meant to stay.
            text = re.sub(r"\$\{\{[^}]*\}\}", "", text)
            assert "{{" not in text and "{%" not in text, path


@pytest.mark.parametrize("key", ["shop", "ledger", "catalog"])
def test_every_python_file_compiles(rendered: dict[str, Path], key: str) -> None:
    sources = sorted(rendered[key].rglob("*.py"))
    assert len(sources) >= 19
    for path in sources:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_lint_and_format_are_clean(project: Path) -> None:
    # Whitespace in the rendered code comes from Jinja, so every variant must already be formatted.
    # ruff also parses the newer syntax of the 3.13 variant that this interpreter cannot compile.
    lint = ruff("check", "--no-cache", ".", cwd=project)
    assert lint.returncode == 0, lint.stdout
    formatted = ruff("format", "--no-cache", "--check", "--diff", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout


def test_a_function_region_may_start_with_a_nested_function(tmp_path: Path, rendered: dict[str, Path]) -> None:
    # ruff format wants a blank line between a docstring and a nested def; inside the region it
    # would be the fill's to give, outside it is not, so the template leaves one there.
    project = tmp_path / "shop"
    shutil.copytree(rendered["shop"], project)
    helper = '    def _why() -> str:\n        return "a helper first"\n\n    assert _why()\n'
    bodies: dict[str, dict[str, str]] = {}
    for region in find_regions(project):
        if region.path.endswith(".py") and region.indent and not region.path.endswith("models.py"):  # fields first
            bodies.setdefault(region.path, {})[region.id] = helper + region.body
    assert sum(len(ids) for ids in bodies.values()) == 5 * 2  # every function region of both resources
    for path, ids in bodies.items():
        (project / path).write_text(splice((project / path).read_text(), path, ids))
    formatted = ruff("format", "--no-cache", "--check", "--diff", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout


@pytest.mark.parametrize("auth", ["jwt", "api-key"])
def test_a_package_that_sorts_after_tests_keeps_the_imports_sorted(
    tmp_path: Path, render_home: None, auth: str
) -> None:
    # isort orders `from warehouse...` after `from tests...`: the template must not put them the other way.
    project = render_template("api", tmp_path / "warehouse", {"auth": auth, "pagination": "offset"})
    lint = ruff("check", "--no-cache", ".", cwd=project)
    assert lint.returncode == 0, lint.stdout


def test_newer_pythons_get_pep_695_generics(rendered: dict[str, Path]) -> None:
    modern = rendered["modern"] / "src/modern"
    assert "class Page[ItemT: BaseModel](BaseModel):" in (modern / "pagination.py").read_text()
    assert "TypeVar" not in (modern / "routers.py").read_text()
    assert "TypeVar" in (rendered["shop"] / "src/shop/routers.py").read_text()


@pytest.mark.parametrize("key", ["shop", "ledger", "catalog"])
def test_one_model_family_and_router_entry_per_resource(rendered: dict[str, Path], key: str) -> None:
    project = rendered[key]
    package = package_of(project)
    models = ast.parse((project / f"src/{package}/models.py").read_text())
    classes = {node.name for node in models.body if isinstance(node, ast.ClassDef)}
    routers = (project / f"src/{package}/routers.py").read_text()

    for name, singular, model in RESOURCES[key]:
        assert {f"{model}{kind}" for kind in ("Fields", "Create", "Update", "Read", "Page")} <= classes
        assert f'name="{name}",\n        singular="{singular}",' in routers
        assert f"check=rules.check_{singular}," in routers
    assert routers.count("    Resource(\n") == len(RESOURCES[key])


@pytest.mark.parametrize("key", ["shop", "ledger", "catalog"])
def test_openapi_document_describes_every_resource(rendered: dict[str, Path], key: str) -> None:
    project = rendered[key]
    answers = answers_of(project)
    text = (project / "openapi.json").read_text(encoding="utf-8")
    document = json.loads(text)

    # The layout `python -m <package>.openapi` prints, so `make openapi` changes nothing.
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert document["info"] == {"title": project.name, "version": "0.1.0", "description": answers["description"]}
    expected_paths = {"/healthz"}
    for name, singular, model in RESOURCES[key]:
        expected_paths |= {f"/{name}", f"/{name}/{{{singular}_id}}"}
        operations = [
            *document["paths"][f"/{name}"].values(),
            *document["paths"][f"/{name}/{{{singular}_id}}"].values(),
        ]
        assert {op["operationId"] for op in operations} == {
            f"list_{name}",
            f"create_{singular}",
            f"get_{singular}",
            f"replace_{singular}",
            f"delete_{singular}",
        }
        create = document["paths"][f"/{name}"]["post"]
        assert create["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}Create"
        }
        assert set(create["responses"]) >= {"201", "409", "422"}
        assert set(document["paths"][f"/{name}/{{{singular}_id}}"]["delete"]["responses"]) >= {"204", "404", "409"}
        for operation in operations:
            assert ("401" in operation["responses"]) == (answers["auth"] != "none")
            # A store too busy to wait for answers 503 on any operation: clients retry what is listed.
            busy = operation["responses"]["503"]
            assert busy["headers"]["Retry-After"]["schema"] == {"type": "integer"}
            assert busy["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "503" not in document["paths"]["/healthz"]["get"]["responses"]
    assert set(document["paths"]) == expected_paths
    assert document["components"].get("securitySchemes", {}) == SECURITY_SCHEMES[answers["auth"]]
    pagination_fields = set(document["components"]["schemas"][f"{RESOURCES[key][0][2]}Page"]["properties"])
    assert pagination_fields == (
        {"items", "total", "limit", "offset", "links"}
        if answers["pagination"] == "offset"
        else {"items", "next_cursor", "links"}
    )


def test_regions_carry_instructions_and_working_fallbacks(project: Path) -> None:
    answers = answers_of(project)
    package = package_of(project)
    names = [name.strip() for name in answers["resources"].split(",")]

    regions = find_regions(project)

    imports = f"src/{package}/models.py#imports"
    per_resource = {
        f"src/{package}/models.py#fields-{{}}",
        f"src/{package}/rules.py#rules-{{}}",
        "tests/factories.py#factory-{}",
        "tests/test_rules.py#rules-tests-{}",
        f"src/{package}/rules.py#removal-rules-{{}}",
        "tests/test_rules.py#removal-tests-{}",
    }
    expected = {key.format(name) for name in names for key in per_resource}
    assert {region.key for region in regions} == expected | {imports, AGENTS_REGION, DEPENDENCIES_REGION}
    for region in regions:
        if region.key in (AGENTS_REGION, imports, DEPENDENCIES_REGION):
            continue
        assert region.language == "python"
        assert region.indent == "    ", region.key  # inside a class or function: fills cannot break the layout
        assert re.search(r"[A-Z]\w*(Fields|Create)\b", region.instruction), region.key  # names its model
        # The body sits in a class or function, at its indentation.
        compile(f"def fallback():\n{region.body}", region.key, "exec")
    shared = (AGENTS_REGION, imports, DEPENDENCIES_REGION)
    described = [r for r in regions if r.key not in shared and "#factory-" not in r.key]
    assert len(described) == 5 * len(names) and all(answers["description"] in r.instruction for r in described)
    rules = [r for r in regions if r.path == f"src/{package}/rules.py"]
    assert all("problems.Conflict" in r.instruction and 'stores["<resource>"]' in r.instruction for r in rules)
    assert all("require_unique(records, " in r.body for r in rules if "#rules-" in r.key)
    # Removal: by default a record stays while another refers to it by the name models.py is told to give it.
    removal = [r for r in regions if "#removal-rules-" in r.key]
    assert all("refuse_while_referenced(record, stores, " in r.body for r in removal) and removal
    # The fallbacks are the fields the template always had: a render without AI behaves as before.
    fields = [r for r in regions if "#fields-" in r.key]
    assert all("name: str = Field(" in r.body and "description: str = Field(" in r.body for r in fields)
    assert all("Keep `name: str`" in r.instruction and "examples=" in r.instruction for r in fields)
    factories = [r for r in regions if r.path == "tests/factories.py"]
    assert all('"description": ""' in r.body and "check_" in r.instruction for r in factories)


def test_awkward_description_survives_every_format(rendered: dict[str, Path]) -> None:
    project = rendered["ledger"]
    app = ast.parse((project / "src/ledger_api/app.py").read_text(encoding="utf-8"))
    [description] = [
        node.value.value
        for node in ast.walk(app)
        if isinstance(node, ast.keyword) and node.arg == "description" and isinstance(node.value, ast.Constant)
    ]

    assert description == AWKWARD_DESCRIPTION
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"] == AWKWARD_DESCRIPTION
    assert json.loads((project / "openapi.json").read_text())["info"]["description"] == AWKWARD_DESCRIPTION
    assert AWKWARD_DESCRIPTION in markdown_texts((project / "README.md").read_text(encoding="utf-8"))


def test_pyproject_dependencies_follow_the_answers(rendered: dict[str, Path]) -> None:
    shop = tomllib.loads((rendered["shop"] / "pyproject.toml").read_text())
    ledger = tomllib.loads((rendered["ledger"] / "pyproject.toml").read_text())
    modern = tomllib.loads((rendered["modern"] / "pyproject.toml").read_text())

    assert not any(d.startswith("PyJWT") for d in shop["project"]["dependencies"])
    assert "PyJWT>=2.8,<3" in ledger["project"]["dependencies"]
    for dependency in shop["project"]["dependencies"]:
        assert ",<" in dependency, f"{dependency} has no upper bound"
    assert shop["project"]["requires-python"] == ">=3.11"
    assert (modern["project"]["requires-python"], modern["tool"]["ruff"]["target-version"]) == (">=3.13", "py313")
    assert ledger["project"]["scripts"] == {"ledger-api": "ledger_api.__main__:main"}
    dev = " ".join(shop["project"]["optional-dependencies"]["dev"])
    for tool in ("pytest", "httpx", "ruff", "mypy"):
        assert f"{tool}>=" in dev


def test_settings_and_env_example_follow_storage_and_auth(rendered: dict[str, Path]) -> None:
    shop_settings = (rendered["shop"] / "src/shop/settings.py").read_text()
    ledger_settings = (rendered["ledger"] / "src/ledger_api/settings.py").read_text()
    catalog_settings = (rendered["catalog"] / "src/catalog/settings.py").read_text()

    assert 'ENV_PREFIX = "SHOP_"' in shop_settings
    assert "api_key: SecretStr | None" in shop_settings
    assert "database_path" not in shop_settings
    assert "jwt_secret: SecretStr | None" in ledger_settings
    assert '"data/ledger_api.sqlite3",' in ledger_settings
    assert "Field(default=9090" in ledger_settings
    assert "SecretStr" not in catalog_settings
    assert "SHOP_API_KEY=" in (rendered["shop"] / ".env.example").read_text().splitlines()
    assert "LEDGER_API_JWT_SECRET=" in (rendered["ledger"] / ".env.example").read_text().splitlines()


def test_auth_module_compares_keys_in_constant_time_and_pins_the_jwt_algorithm(rendered: dict[str, Path]) -> None:
    api_key = (rendered["shop"] / "src/shop/auth.py").read_text()
    jwt = (rendered["ledger"] / "src/ledger_api/auth.py").read_text()

    assert "secrets.compare_digest(" in api_key
    assert "APIKeyHeader(\n    name=API_KEY_HEADER," in api_key
    assert 'ALGORITHM = "HS256"' in jwt
    assert "algorithms=[ALGORITHM]" in jwt


def test_readme_documents_endpoints_auth_pagination_and_the_contract(rendered: dict[str, Path]) -> None:
    shop = (rendered["shop"] / "README.md").read_text()
    ledger = (rendered["ledger"] / "README.md").read_text()
    catalog = (rendered["catalog"] / "README.md").read_text()

    for name, singular, _ in RESOURCES["shop"]:
        assert f"| `GET` | `/{name}` |" in shop
        assert f"| `DELETE` | `/{name}/{{{singular}_id}}` |" in shop
    assert "X-API-Key" in shop
    assert "`limit`" in shop and "`offset`" in shop
    assert "make openapi" in shop
    assert "Authorization: Bearer" in ledger and "`cursor`" in ledger and "LEDGER_API_DATABASE_PATH" in ledger
    assert "## Docker" not in ledger
    assert "every endpoint is open" in catalog
    assert "401" not in catalog


def test_dockerfile_is_slim_non_root_and_checks_health_with_python(rendered: dict[str, Path]) -> None:
    dockerfile = (rendered["shop"] / "Dockerfile").read_text()

    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE) == ["python:3.11-slim", "python:3.11-slim"]
    [user] = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user not in ("root", "0")
    [healthcheck] = re.findall(r"^HEALTHCHECK .*?CMD (.+)$", dockerfile, re.MULTILINE | re.DOTALL)
    assert healthcheck.startswith('["python", "-c"') and "/healthz" in healthcheck
    assert "SHOP_API_KEY" not in re.sub(r"#.*", "", dockerfile)  # secrets come at run time
    assert re.search(r"^EXPOSE 8000$", dockerfile, re.MULTILINE)


def test_ci_runs_every_check_and_the_contract_diff(rendered: dict[str, Path]) -> None:
    for key, jobs in (("shop", {"checks", "image"}), ("ledger", {"checks"})):
        project = rendered[key]
        workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
        assert set(workflow["jobs"]) == jobs
        steps = workflow["jobs"]["checks"]["steps"]
        [setup] = [step for step in steps if step.get("uses", "").startswith("actions/setup-python")]
        assert setup["with"]["python-version"] == answers_of(project)["python_version"]
        commands = ci_checks(project)
        for check in ("ruff check", "ruff format --check", "mypy", "pytest", ".openapi | diff -u openapi.json -"):
            assert check in commands, check


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile_targets(rendered: dict[str, Path]) -> None:
    targets = [
        "install",
        "run",
        "dev",
        "test",
        "lint",
        "format",
        "typecheck",
        "openapi",
        "generated",
        "check-openapi",
        "check",
    ]
    dry_run = run(["make", "-n", *targets, "docker-build"], cwd=rendered["shop"])

    assert "python -m shop.openapi > openapi.json.tmp" in dry_run.stdout
    assert "python -m uvicorn --factory shop.app:create_app --reload --port 8000" in dry_run.stdout
    assert "docker build -t shop:dev ." in dry_run.stdout
    assert run(["make", "-n", "docker-build"], cwd=rendered["ledger"], check=False).returncode != 0
    # What the fill step names as possibly stale when it cannot run `make generated`.
    assert stale_files(rendered["shop"]) == ("openapi.json",)


# `python -m <package>.openapi > openapi.json`: the shell empties the contract before the app runs, so an
# app that fails to import leaves it empty. The Makefile's own `> openapi.json.tmp` is the safe form.
REDIRECT_INTO_CONTRACT = re.compile(r"\.openapi\s*>\s*openapi\.json(?!\.tmp)")


def test_no_rendered_file_advises_redirecting_into_the_contract(project: Path) -> None:
    advising = [
        path.relative_to(project).as_posix()
        for path in sorted(project.rglob("*"))
        if path.is_file() and REDIRECT_INTO_CONTRACT.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert advising == []
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^make openapi +# .*openapi\.json only when", readme, re.M), readme


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_openapi_replaces_the_contract_only_when_the_app_prints_it(
    rendered: dict[str, Path], tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(rendered["shop"], project)
    # A stand-in .venv, installed already (newer than pyproject.toml): its python is the app.
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / ".installed").touch()
    python = venv / "bin" / "python"
    python.write_text('#!/bin/sh\nprintf \'{"openapi": \'\necho "ImportError: broken models" >&2\nexit 1\n')
    python.chmod(0o755)
    contract = (project / "openapi.json").read_bytes()

    failed = run(["make", "openapi", f"VENV={venv}"], cwd=project, check=False)

    assert failed.returncode != 0 and "ImportError: broken models" in failed.stderr
    assert (project / "openapi.json").read_bytes() == contract
    assert not (project / "openapi.json.tmp").exists()

    python.write_text('#!/bin/sh\necho "{}"\n')
    run(["make", "openapi", f"VENV={venv}"], cwd=project)
    assert (project / "openapi.json").read_text() == "{}\n"
    assert not (project / "openapi.json.tmp").exists()


def test_answers_file_records_the_api_answers(rendered: dict[str, Path]) -> None:
    answers = answers_of(rendered["ledger"])

    assert answers["template"] == "api"
    assert (answers["auth"], answers["storage"], answers["pagination"]) == ("jwt", "sqlite", "cursor")
    assert answers["resources"] == "entries, boxes,order_items"
    assert "api_resources" not in answers  # derived, never stored
    assert answers_of(rendered["catalog"])["resources"] == "items"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"resources": ""}, "rejected: \\(empty\\)"),
        ({"resources": "Orders"}, "rejected: Orders"),
        ({"resources": "order-items"}, "rejected: order-items"),
        ({"resources": "order"}, "rejected: order"),
        ({"resources": "orders,address"}, "rejected: address"),
        ({"resources": "docs"}, "rejected: docs"),
        ({"resources": "orders,bodies"}, "rejected: bodies"),  # new_body would be defined twice
        ({"resources": "orders,orders"}, "distinct"),
        ({"resources": "boxes,boxs"}, "distinct"),  # both would be `Box` models
        # check_order_removal would be both the removal rule of orders and the rule of order_removals.
        ({"resources": "orders,order_removals"}, "order_removals: its functions would clash with those of orders"),
        ({"resources": "accounts_removals,account_removals,accounts"}, "account_removals: .* of accounts"),
        ({"resources": ",".join(f"things{n}s" for n in range(21))}, "1 to 20"),
        ({"resources": "a" * 30 + "s"}, "3-30 characters"),
        ({"auth": "basic"}, "Invalid choice for 'auth'"),
    ],
)
def test_bad_answers_are_refused(tmp_path: Path, answers: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_template("api", tmp_path / "shop", answers)
    assert not (tmp_path / "shop").exists()


# --- slow: the rendered projects' own checks, and the real server ---------------------------------

SLOW_VARIANTS = ["shop", "ledger", "catalog"]


@pytest.fixture(scope="module")
def installed(rendered: dict[str, Path], python_project_venv: Path) -> dict[str, Path]:
    """The slow variants, installed editable into the shared venv (which has PyJWT for the jwt one)."""
    python = venv_bin(python_project_venv, "python")
    for key in SLOW_VARIANTS:
        run([python, "-m", "pip", "install", "-q", "-e", rendered[key]])
    return {key: rendered[key] for key in SLOW_VARIANTS}


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared so that later projects do not type-check FastAPI and pydantic again."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.slow
@pytest.mark.parametrize("key", SLOW_VARIANTS)
def test_rendered_project_passes_its_own_checks(
    installed: dict[str, Path], python_project_venv: Path, mypy_cache: Path, key: str
) -> None:
    project = installed[key]
    python = venv_bin(python_project_venv, "python")

    tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert re.search(r"\b\d{2,} passed\b", tests.stdout), tests.stdout
    assert "failed" not in tests.stdout and "skipped" not in tests.stdout, tests.stdout
    run([venv_bin(python_project_venv, "ruff"), "check", "."], cwd=project)
    run([venv_bin(python_project_venv, "ruff"), "format", "--check", "."], cwd=project)
    # The contract, byte for byte: `make openapi` on a fresh render changes nothing.
    printed = run([python, "-m", f"{package_of(project)}.openapi"], cwd=project)
    assert printed.stdout == (project / "openapi.json").read_text(encoding="utf-8")
    # mypy from this environment, resolving the project's imports in the shared venv.
    run([sys.executable, "-m", "mypy", "--cache-dir", mypy_cache, "--python-executable", python], cwd=project)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["shop", "ledger"])
def test_the_write_tests_fail_when_a_write_leaves_its_checks_outside_the_lock(
    installed: dict[str, Path], python_project_venv: Path, key: str
) -> None:
    # The race they guard against shows only under load: the generated tests must fail at once
    # when an endpoint runs its checks outside `writing()` (memory and SQLite storage).
    project = installed[key]
    routers = project / "src" / package_of(project) / "routers.py"
    kept = routers.read_text(encoding="utf-8")
    locked = "        with every.writing():\n            resource.check(body, records, None, every)\n"
    assert locked in kept
    routers.write_text(
        kept.replace(locked, "        if True:\n            resource.check(body, records, None, every)\n")
    )
    try:
        python = venv_bin(python_project_venv, "python")
        argv: list[str | Path] = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_writes.py"]
        tests = subprocess.run(argv, cwd=project, capture_output=True, text=True, check=False)
    finally:
        routers.write_text(kept, encoding="utf-8")
    assert tests.returncode == 1, tests.stdout
    assert "a create ran while another was between its checks and its write" in tests.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(port: int, method: str, path: str, body: object = None, key: str | None = None) -> tuple[int, str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Content-Type": "application/json", **({"X-API-Key": key} if key else {})}
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), json.loads(response.read() or b"null")
    finally:
        connection.close()


@pytest.mark.slow
def test_rendered_api_serves_crud_with_problems_and_auth(installed: dict[str, Path], python_project_venv: Path) -> None:
    port = free_port()
    env = {**os.environ, "SHOP_PORT": str(port), "SHOP_API_KEY": "k3y"}
    # The console script, as the container runs it.
    server = subprocess.Popen(
        [venv_bin(python_project_venv, "shop")],
        cwd=installed["shop"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: call(port, "GET", "/healthz")[0] == 200, "the API to answer /healthz")

        status, _, created = call(port, "POST", "/orders", {"name": "First"}, key="k3y")
        assert (status, created["name"]) == (201, "First")
        assert call(port, "GET", f"/orders/{created['id']}", key="k3y")[2] == created
        assert call(port, "GET", "/orders", key="k3y")[2]["total"] == 1
        status, media_type, problem = call(port, "GET", "/orders")
        assert (status, media_type, problem["title"]) == (401, "application/problem+json", "Unauthorized")
        status, media_type, problem = call(port, "GET", "/customers/1", key="k3y")
        assert (status, media_type, problem["status"]) == (404, "application/problem+json", 404)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
