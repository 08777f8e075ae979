"""Fixtures of the fill-step tests: a rendered service copied per test, and the fake Messages API.

Registered for the whole suite by `pytest_plugins` in conftest.py; a test module that needs
other fixtures of these names (test_update's `project`) defines its own, which wins.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cli import main
from tests.fakeapi import FakeAnthropic
from tests.fillfakes import KEY


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, render_home: None) -> Path:
    """A service generated without the AI step (render committed), copied by each test."""
    root = tmp_path_factory.mktemp("rendered")
    assert main(["new-service", "payments", "--defaults", "--no-ai", "--dest", str(root / "payments")]) == 0
    return root / "payments"


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "payments"
    shutil.copytree(rendered, copy, symlinks=True)
    return copy


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        for name, value in server.env(KEY).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SCAFFOLD_AI_RETRIES", "0")
        # The fills' gate is the project's `make check` (a real install); tests that are not about it pass this.
        monkeypatch.setenv("SCAFFOLD_VERIFY_COMMAND", "true")
        yield server
