"""The Cookiecutter port of the service template (bench/generate.py's third side) stays equivalent.

The benchmark compares the two renders only when it runs; this keeps a template change that
was not ported from going unnoticed until then. The golden example is the reference, because
tests/test_examples.py already ties it to the Copier template.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "service-default"
ANSWER_FILES = {".copier-answers.yml", ".cookiecutter.json"}


def files(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and path.name not in ANSWER_FILES
    }


def test_cookiecutter_port_renders_the_service_example_byte_for_byte(tmp_path: Path) -> None:
    from cookiecutter.main import cookiecutter

    answers = yaml.safe_load((EXAMPLE / ".copier-answers.yml").read_text(encoding="utf-8"))
    context = {key: value for key, value in answers.items() if not key.startswith("_") and key != "template"}
    out = cookiecutter(
        str(REPO_ROOT / "bench" / "cookiecutter-template"),
        no_input=True,
        extra_context=context,
        output_dir=str(tmp_path),
    )

    ported, example = files(Path(out)), files(EXAMPLE)
    assert sorted(ported) == sorted(example)
    assert [name for name in sorted(example) if ported[name] != example[name]] == []
