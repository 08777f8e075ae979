"""API-key authentication: every resource operation needs the key, health does not."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from shop.app import create_app
from shop.settings import ENV_PREFIX

PATH = "/orders"
CHALLENGE = 'ApiKey header="X-API-Key"'
SCHEME = "ApiKey"


def assert_unauthorized(response: Any, challenge: str = CHALLENGE) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == challenge
    assert response.json()["title"] == "Unauthorized"


def test_missing_key_is_a_401_problem(anonymous: TestClient) -> None:
    assert_unauthorized(anonymous.get(PATH))


@pytest.mark.parametrize("key", ["wrong", "", "test-key-0123456789-more", "TEST-KEY-0123456789"])
def test_wrong_key_is_a_401_problem(anonymous: TestClient, key: str) -> None:
    assert_unauthorized(anonymous.get(PATH, headers={"X-API-Key": key}))


def test_valid_key_is_accepted(client: TestClient) -> None:
    assert client.get(PATH).status_code == 200


def test_every_resource_operation_is_protected(anonymous: TestClient) -> None:
    checked = 0
    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            if path == "/healthz":
                assert "security" not in operation
                continue
            assert operation["security"] == [{SCHEME: []}]
            url = "/".join("1" if part.startswith("{") else part for part in path.split("/"))
            assert_unauthorized(anonymous.request(method, url, json={"name": "x"}))
            checked += 1
    assert checked == 5 * 2


def test_app_refuses_to_start_without_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(f"{ENV_PREFIX}API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # away from any .env file

    with pytest.raises(ValidationError, match=f"{ENV_PREFIX}API_KEY"), TestClient(create_app()):
        pass
