"""The longest names the questionnaire accepts render projects that pass their own lint and format checks.

A 64-character project name (copier.yml's limit) becomes the package name in every import of the package,
and the api's resource names (30 characters each, 20 of them) become URL paths, model classes and test
names. Lines that fit with `shop` must still be formatted as `ruff format` formats them at that length, and
the template text must be the same for short names: a parenthesised import with a magic trailing comma stays
split whatever its length, where one without it is joined back onto one line when it fits.

Each variant is rendered in-process (no AI, no git) and checked with ruff under the project's own
pyproject.toml, the checks of its `make lint`; the Python templates are the ones whose `make check` runs ruff.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import generator
from generator.errors import UsageError
from tests.helpers import REPO_ROOT

# copier.yml: a lowercase letter first, single '-' or '_' between runs of a-z0-9, at most 64 characters.
LONGEST_NAME = "longest-project-name-the-questionnaire-takes-is-sixty-four-chars"
# templates/api/questions.yml: up to 20 distinct plural snake_case nouns of at most 30 characters each, with
# distinct singular forms (one per singularisation rule, so the longest class names of each kind show up).
LONGEST_RESOURCES = [
    "purchase_order_line_item_lists",
    "warehouse_stock_level_entries",
    "shipping_container_box_batches",
    "customer_account_ledger_boxes",
    "customer_support_ticket_wishes",
    *(f"regional_distribution_hub{n:02d}s" for n in range(15)),
]

# name -> (template, answers). The api's options each change the imports of several modules.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "service": ("service", {}),
    "script-python": ("script", {"language": "python"}),
    "script-python-no-dry-run": ("script", {"language": "python", "dry_run": False}),
    "api-jwt-sqlite-cursor-3.11": (
        "api",
        {"auth": "jwt", "storage": "sqlite", "pagination": "cursor", "python_version": "3.11"},
    ),
    "api-key-memory-offset-3.13": (
        "api",
        {"auth": "api-key", "storage": "memory", "pagination": "offset", "python_version": "3.13"},
    ),
    "api-none-sqlite-offset-3.12": (
        "api",
        {"auth": "none", "storage": "sqlite", "pagination": "offset", "python_version": "3.12"},
    ),
}

API = "api-key-memory-offset-3.13"


def test_the_names_are_the_longest_the_questionnaire_accepts(templates: Path, tmp_path: Path) -> None:
    assert len(LONGEST_NAME) == 64 and max(map(len, LONGEST_RESOURCES)) == 30 and len(LONGEST_RESOURCES) == 20
    with pytest.raises(UsageError, match="at most 64 characters"):
        render(templates, "service", tmp_path / "one-more", name=LONGEST_NAME + "x")
    with pytest.raises(UsageError, match="1 to 20 distinct plural nouns"):
        render(templates, API, tmp_path / "api", name="api", resources=[*LONGEST_RESOURCES, "others"])
    with pytest.raises(UsageError, match="rejected: purchase_order_line_item_listss"):
        render(templates, API, tmp_path / "api", name="api", resources=["purchase_order_line_item_listss"])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("length", ["longest", "short"])
def test_a_render_passes_ruff_check_and_format(templates: Path, tmp_path: Path, variant: str, length: str) -> None:
    # The short render holds the template text to the form that ruff keeps at both lengths.
    long = length == "longest"
    project = render(
        templates,
        variant,
        tmp_path / "project",
        name=LONGEST_NAME if long else "shop",
        resources=LONGEST_RESOURCES if long else ["orders", "customers"],
    )
    for command in (["check", "--no-cache", "."], ["format", "--check", "--diff", "--no-cache", "."]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def render(templates: Path, variant: str, dest: Path, *, name: str, resources: list[str] | None = None) -> Path:
    template, answers = VARIANTS[variant]
    data = dict(answers)
    if template == "api":
        data["resources"] = ",".join(resources or LONGEST_RESOURCES)
    generator.new_project(template, name, dest=dest, data=data, defaults=True, git=False, templates=templates)
    return dest


def test_the_variants_cover_every_api_option() -> None:
    questions = yaml.safe_load((REPO_ROOT / "templates/api/questions.yml").read_text(encoding="utf-8"))
    for option in ("auth", "storage", "pagination"):
        used = {answers[option] for template, answers in VARIANTS.values() if template == "api"}
        assert used == set(questions[option]["choices"].values()), option
