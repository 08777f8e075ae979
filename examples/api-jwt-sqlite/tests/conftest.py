"""Shared fixtures: settings isolated from the environment, and clients with and without credentials."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog.app import create_app
from catalog.settings import Settings
from tests.tokens import TEST_SECRET, make_token


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # No .env file and explicit values: a developer's environment must not change results.
    return Settings(
        _env_file=None,
        database_path=tmp_path / "test.sqlite3",
        jwt_secret=TEST_SECRET,
    )


@pytest.fixture
def anonymous(settings: Settings) -> Iterator[TestClient]:
    """A client that sends no credentials."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client that sends valid credentials."""
    headers = {"Authorization": f"Bearer {make_token(TEST_SECRET)}"}
    with TestClient(create_app(settings), headers=headers) as client:
        yield client
