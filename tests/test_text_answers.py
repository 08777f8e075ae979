"""Text answers land intact in every file type: any description or owner renders a project that parses and lints.

The free-text answers (`description`, `owner`) reach TOML, Python strings, docstrings and comments, JSON,
YAML, Bash, HCL comments and Markdown. Each variant is rendered in-process (no AI, no git) with arbitrary
Unicode, then given the fast checks: every file parses, ruff and shellcheck pass, and the answer reads back
unchanged from pyproject.toml, openapi.json, the Python literal, the Bash script's output and the rendered
Markdown. Text the questionnaire refuses must be refused with one clean line and nothing written.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import generator
from generator.errors import UsageError
from generator.fill.regions import find_regions
from tests.helpers import markdown_texts

VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "service": ("service", {}),
    "api": ("api", {"resources": "orders,customers"}),
    "infra": ("infra", {"cloud": "aws"}),
    "script-python": ("script", {"language": "python"}),
    "script-bash": ("script", {"language": "bash"}),
}

# Pieces that meant something to one of the file types, mixed at random with arbitrary text below.
PIECES = [
    '"',
    "'",
    "\\",
    "$",
    "$HOME",
    "$(id)",
    "`",
    "${x}",
    "%{y}",
    "#",
    "|",
    "{{ x }}",
    "{% if %}",
    "}}",
    "-->",
    "<!--",
    ">>>",
    "```python",
    "~~~",
    "*a*",
    "_b_",
    "[l](u)",
    "<b>",
    "&amp;",
    "1. ",
    "- ",
    "+",
    "=",
    "!",
    ":",
    "'''",
    '"""',
    "\\n",
    "\\x3e",
    " ",
    "  ",
    "🚀",
    "👩‍👩‍👧",
    "❤️",
    "עברית",
    "العربية",
    "\u202e",
    "\u200f",
    "中文字",
    "\u2013",
    "\u03a1",
    "\u00d7",
    "\u00e9",
    "e\u0301",
    "\ufeff",
    "\u200b",
    "\U0010fffd",
    "word",
    "x",
]
# Mostly text the questionnaire accepts (a render each), sometimes anything (a refusal is cheap).
PIECEWISE = st.lists(st.sampled_from(PIECES), min_size=1, max_size=25).map("".join)
DESCRIPTIONS = st.one_of(PIECEWISE.map(lambda text: text.strip() or "x"), PIECEWISE, st.text(min_size=1, max_size=120))
OWNER_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@/-]{0,63}")
OWNERS = st.one_of(st.just("platform-team"), st.from_regex(OWNER_RULE, fullmatch=True), st.text(max_size=70))


def description_accepted(text: str) -> bool:
    """The rule docs/templates.md states: one line of printable text, plain spaces, no edge spaces, <= 300."""
    refused = {"Cc", "Cs", "Zl", "Zp"}
    special = any(unicodedata.category(c) in refused or (unicodedata.category(c) == "Zs" and c != " ") for c in text)
    markers = "scaffold:fill" in text or "scaffold:end" in text
    return bool(text.strip()) and text == text.strip() and len(text) <= 300 and not special and not markers


def owner_accepted(text: str) -> bool:
    return OWNER_RULE.fullmatch(text) is not None


def render(templates: Path, variant: str, dest: Path, description: str, owner: str = "platform-team") -> Path:
    template, answers = VARIANTS[variant]
    data = {**answers, "description": description, "owner": owner}
    generator.new_project(template, dest.name, dest=dest, data=data, defaults=True, git=False, templates=templates)
    return dest


# --- what broke before, each exiting 0 with a project that failed its own checks ---------------------------------


def test_an_emoji_in_the_api_description_is_valid_toml(templates: Path, tmp_path: Path) -> None:
    project = render(templates, "api", tmp_path / "shop", "Sells tickets 🎟️ and merch 🚀")
    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"].endswith("🚀")


def test_a_trailing_backslash_keeps_the_api_app_compiling(templates: Path, tmp_path: Path) -> None:
    project = render(templates, "api", tmp_path / "shop", "Paths like C:\\data\\")
    app = (project / "src/shop/app.py").read_text()
    assert literal_keyword(app, "description") == "Paths like C:\\data\\"


def test_dollars_and_backticks_keep_the_bash_script_shellcheck_clean(templates: Path, tmp_path: Path) -> None:
    project = render(templates, "script-bash", tmp_path / "tool", "Costs $5, prints `date` and ${HOME}")
    shell_checks(project, "Costs $5, prints `date` and ${HOME}")


@pytest.mark.parametrize(
    ("description", "owner", "message"),
    [
        ("ok", "team\n", "invalid answer for 'owner'"),  # passed the rule's '$', then put a '.' command in Bash
        ("two\nlines", "team", "must be a single line"),
        ("carriage\rreturn", "team", "must be a single line"),
        ("tab\there", "team", "must be a single line"),
        ("line\u2028separator", "team", "must be a single line"),
        ("no\u00a0break", "team", "plain spaces only"),
        ("bad \ud800 half", "team", "lone surrogate"),
        (" leading", "team", "must not start or end with a space"),
        ("x" * 301, "team", "at most 300 characters"),
        # Wrapped into a docstring, it would start a line with a region marker: no fill or check could run.
        ("word " * 16 + "# scaffold:end domain", "team", "must not contain 'scaffold:fill' or 'scaffold:end'"),
    ],
)
def test_text_no_file_type_could_hold_is_refused_in_one_line(
    templates: Path, tmp_path: Path, description: str, owner: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message) as refused:
        render(templates, "script-bash", tmp_path / "tool", description, owner)
    assert refused.value.exit_code == 2 and "\n" not in str(refused.value)
    assert not (tmp_path / "tool").exists()
    assert not description_accepted(description) or not owner_accepted(owner)


# --- the property ------------------------------------------------------------------------------------------------


# Accepted text that broke some file type before, rendered with every variant on top of the random draws.
NASTY = [
    ("Say \"hi\" \\ to 'them' for $5 `now` # not | a {{ var }} {% tag %} --> >>> ```x``` ~~~", "ops"),
    ("# Ünïcödé \u2013 \u03a1 \u00d7 🚀 👩‍👩‍👧 עברית \u202eevil\u202c 中文字 e\u0301 ends with \\", "a b.c_d@e/f-g"),
    ("- [ ] <b>&amp;</b> *x* _y_ 1. item | cell | 10) \"\"\" ''' https://example.com/" + "a" * 90, "team"),
]


def with_nasty_examples(test: Any) -> Any:
    for variant in VARIANTS:
        for description, owner in NASTY:
            test = example(variant=variant, description=description, owner=owner)(test)
    return test


# Copier takes ~1.5 s a render: 15 random draws (spread over the variants, the same on every run) plus the
# 15 explicit ones keep this under a minute, too long for the quick set: it runs with the slow tests (CI runs
# them all). The fixed cases above stay quick.
@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@with_nasty_examples
@given(variant=st.sampled_from(sorted(VARIANTS)), description=DESCRIPTIONS, owner=OWNERS)
def test_any_text_answer_renders_a_project_that_passes_the_fast_checks(
    templates: Path, variant: str, description: str, owner: str
) -> None:
    # A folder per example: pytest's tmp_path is one per test function, which hypothesis runs many times.
    with tempfile.TemporaryDirectory() as folder:
        render_and_check(templates, variant, Path(folder) / "proj", description, owner)


def render_and_check(templates: Path, variant: str, dest: Path, description: str, owner: str) -> None:
    accepted = description_accepted(description) and owner_accepted(owner)
    event("accepted" if accepted else "refused")  # pytest --hypothesis-show-statistics shows the mix
    if not accepted:
        with pytest.raises(UsageError) as refused:
            render(templates, variant, dest, description, owner)
        assert refused.value.exit_code == 2 and "\n" not in str(refused.value)
        assert not dest.exists()
        return
    project = render(templates, variant, dest, description, owner)
    parse_every_file(project)
    assert answers_file(project) == (description, owner)
    markdown_round_trips(project, description)
    regions_keep_the_description(project, description)
    if variant in {"service", "api", "script-python"}:
        python_checks(project, variant, description, owner)
    if variant == "api":
        assert json.loads((project / "openapi.json").read_text())["info"]["description"] == description
    if variant == "script-bash":
        shell_checks(project, description)


# --- the checks --------------------------------------------------------------------------------------------------


def parse_every_file(project: Path) -> None:
    for path in project.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix in {".tf", ".hcl"}:
            hcl2.loads(text)


def answers_file(project: Path) -> tuple[str, str]:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return answers["description"], answers["owner"]


def markdown_round_trips(project: Path, description: str) -> None:
    for name in ("README.md", "AGENTS.md"):
        assert description in markdown_texts((project / name).read_text(encoding="utf-8")), name


def regions_keep_the_description(project: Path, description: str) -> None:
    # In an HTML comment, '-->' is broken up so that the marker ends where it should.
    shown = re.sub(r"--(!?>)", r"- -\1", description)
    [notes] = [region for region in find_regions(project) if region.key == "AGENTS.md#notes"]
    assert " ".join(shown.split()) in " ".join(notes.instruction.split())


def python_checks(project: Path, variant: str, description: str, owner: str) -> None:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert (pyproject["description"], pyproject["authors"]) == (description, [{"name": owner}])
    package = project / "src" / project.name
    if variant == "service":  # DESCRIPTION is the package docstring's words
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")), clean=False)
        assert " ".join((doc or "").split()) == " ".join(description.split())
    elif variant == "api":
        assert literal_keyword((package / "app.py").read_text(encoding="utf-8"), "description") == description
    else:
        assert literal_assignment((package / "cli.py").read_text(encoding="utf-8"), "DESCRIPTION") == description
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def shell_checks(project: Path, description: str) -> None:
    script = project / "bin" / project.name
    shellcheck = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(Path(sys.executable).parent))
    check = [shellcheck, str(script)] if shellcheck else ["bash", "-n", str(script)]
    result = subprocess.run(check, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, check=True).stdout
    assert description in shown.splitlines()


def literal_keyword(source: str, name: str) -> Any:
    [value] = [
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.keyword) and node.arg == name and isinstance(node.value, ast.Constant)
    ]
    return value


def literal_assignment(source: str, name: str) -> Any:
    values: Mapping[str, Any] = {
        target.id: node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return values[name]
