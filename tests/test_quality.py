"""The code base itself: ruff (lint + format) and mypy --strict are clean."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, run


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; install the test extra: pip install -e '.[test]'")
    return path


def test_ruff_lint() -> None:
    run([_tool("ruff"), "check", "generator", "tests", "bench", "examples/render.py", "hatch_build.py"], cwd=REPO_ROOT)


def test_ruff_format() -> None:
    run(
        [_tool("ruff"), "format", "--check", "generator", "tests", "bench", "examples/render.py", "hatch_build.py"],
        cwd=REPO_ROOT,
    )


def test_mypy_strict() -> None:
    run([_tool("mypy")], cwd=REPO_ROOT)  # the files pyproject.toml lists: generator, tests, bench, ...
