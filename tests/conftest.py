"""Fixtures: an isolated HOME/config for every test, shared venvs for generated projects."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run, venv_bin

# Everything a generated Python project (service, api, script) needs, installed once per session.
GENERATED_PYTHON_DEPS = [
    "fastapi>=0.110,<1",
    "uvicorn[standard]>=0.29,<1",
    "pydantic>=2.6,<3",
    "pydantic-settings>=2.2,<3",
    "httpx>=0.27,<1",
    "httpx2>=2,<3",
    "PyJWT>=2.8,<3",
    "pytest>=8,<10",
    "ruff>=0.6",
]


@pytest.fixture(autouse=True)
def isolated_user_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, XDG dirs and scaffold's variables at a fresh folder; no git identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        if var.startswith(("SCAFFOLD_", "ANTHROPIC_", "GIT_")) or var in ("COPIER_TEMPLATE",):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    return home


@pytest.fixture(scope="session")
def python_project_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv holding every dependency of the generated Python projects, shared by their checks."""
    venv = tmp_path_factory.mktemp("generated-venv") / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv_bin(venv, "python"), "-m", "pip", "install", "-q", *GENERATED_PYTHON_DEPS])
    yield venv
