"""The repository root is a Copier template repository in scaffold's layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.template.source import load_repo_config
from tests.helpers import REPO_ROOT

TEMPLATES = sorted(p.name for p in (REPO_ROOT / "templates").iterdir() if p.is_dir())


def _questions_file(template: str) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((REPO_ROOT / "templates" / template / "questions.yml").read_text()) or {}
    assert isinstance(data, dict)
    return data


def test_template_choices_are_the_template_folders() -> None:
    config = load_repo_config(REPO_ROOT)
    assert TEMPLATES == ["api", "infra", "script", "service"]
    choices = config.data["template"]["choices"]
    assert sorted(choices.values()) == TEMPLATES
    assert next(name for name in config.data if not name.startswith("_")) == "template"
    assert config.data["_subdirectory"] == "templates/{{ template }}"
    assert all(info.description for info in config.templates)


def test_root_includes_every_questions_file() -> None:
    text = (REPO_ROOT / "copier.yml").read_text()
    assert "!include templates/*/questions.yml" in text


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_has_gated_questions_and_an_answers_file(template: str) -> None:
    folder = REPO_ROOT / "templates" / template
    assert (folder / "{{_copier_conf.answers_file}}.jinja").read_text().startswith("{{ _copier_answers|to_nice_yaml")
    for name, spec in _questions_file(template).items():
        assert isinstance(spec, dict), name
        gated = spec.get("when") in (f"{{{{ template == '{template}' }}}}", False)  # False: computed, never asked
        assert gated, f"{template}/{name} is not gated on the template"
        assert "default" in spec, f"{template}/{name} needs a default so --defaults works"
    questions = load_repo_config(REPO_ROOT).questions(template)
    assert {"project_name", "description", "owner"} <= set(questions)


def test_question_names_are_unique_across_templates_and_root() -> None:
    seen: dict[str, str] = {}
    root_docs = [doc for doc in yaml.safe_load_all(_root_without_include()) if isinstance(doc, dict)]
    for doc in root_docs:
        for name in doc:
            seen[name] = "copier.yml"
    for template in TEMPLATES:
        for name in _questions_file(template):
            assert name not in seen, f"{name} in {template} also defined in {seen[name]}"
            seen[name] = template


def _root_without_include() -> str:
    return (REPO_ROOT / "copier.yml").read_text().replace("!include templates/*/questions.yml", "{}")


def test_region_macro_lives_outside_every_render_root() -> None:
    macro = REPO_ROOT / "includes" / "regions.jinja"
    assert macro.is_file()
    assert not any(Path(REPO_ROOT / "templates").rglob("regions.jinja"))
