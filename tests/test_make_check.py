"""Every main variant's `make check` passes on a fresh render with nothing installed beforehand.

`make check` is the generated project's whole CI (its workflow runs exactly that command), and it
builds the project's own .venv first. Each variant of examples/render.py is rendered into a temporary
folder and checked with a fresh HOME; one pip/uv cache under the session's temp dir is shared by the
variants, so each package is downloaded once. Where a check cannot run here (no terraform, no tflint,
no network for the providers), the Makefile prints a `make check: skipped ...` line and goes on: the
test requires that Terraform's own format check and the HCL parse ran whenever terraform is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from generator.cli import main
from tests.helpers import REPO_ROOT, run


def _variants() -> dict[str, tuple[str, str, dict[str, str]]]:
    """examples/render.py's variants (a script, not a module of the package)."""
    spec = importlib.util.spec_from_file_location("examples_render", REPO_ROOT / "examples" / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    variants: dict[str, tuple[str, str, dict[str, str]]] = module.VARIANTS
    return variants


VARIANTS = _variants()
# These renders get the same `make check`, from nothing installed, as the baseline the fill gate runs before
# any model call in tests/test_fill_realistic.py (which then checks the filled project too): not run twice.
CHECKED_BY_THE_FILL_GATE = {"service-default", "api-default", "infra-aws", "script-python", "script-bash"}


@pytest.fixture(scope="session")
def package_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("package-cache")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("variant", sorted(set(VARIANTS) - CHECKED_BY_THE_FILL_GATE))
def test_make_check_passes_on_a_fresh_render(
    variant: str, tmp_path: Path, package_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template, name, answers = VARIANTS[variant]
    project = tmp_path / name
    data = [arg for key, value in answers.items() for arg in ("-d", f"{key}={value}")]
    assert main(["new", template, name, "--dest", str(project), "--defaults", "--no-ai", "--no-git", *data]) == 0
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PIP_CACHE_DIR": str(package_cache / "pip"),
        "UV_CACHE_DIR": str(package_cache / "uv"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    started = time.monotonic()
    result = run(["make", "check"], cwd=project, env=env)
    with capsys.disabled():
        print(f"\n{variant}: make check {time.monotonic() - started:.1f} s")
    skipped = [line for line in result.stdout.splitlines() if line.startswith("make check: skipped")]
    assert (project / ".venv/.installed").is_file()
    if template != "infra":
        assert skipped == []
    elif shutil.which("terraform"):
        assert "terraform fmt -check" not in "\n".join(skipped)
        assert "parsed " in result.stdout


def test_the_variants_left_to_the_fill_gate_have_a_realistic_answer_set() -> None:
    # If an answer set goes, its variant must come back here.
    commands = [
        json.loads(path.read_text(encoding="utf-8"))["command"]
        for path in (REPO_ROOT / "tests" / "answers").glob("*.json")
    ]
    for variant in CHECKED_BY_THE_FILL_GATE:
        template, _name, answers = VARIANTS[variant]
        language = answers.get("language", "python")
        assert any(
            command[0] == f"new-{template}" and (template != "script" or f"language={language}" in command)
            for command in commands
        ), variant
