"""Shared fixtures: settings isolated from the environment, and clients with and without credentials."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from shop.app import create_app
from shop.settings import Settings

API_KEY = "test-key-0123456789"


@pytest.fixture
def settings() -> Settings:
    # No .env file and explicit values: a developer's environment must not change results.
    return Settings(
        _env_file=None,
        api_key=API_KEY,
    )


@pytest.fixture
def anonymous(settings: Settings) -> Iterator[TestClient]:
    """A client that sends no credentials."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client that sends valid credentials."""
    headers = {"X-API-Key": API_KEY}
    with TestClient(create_app(settings), headers=headers) as client:
        yield client
