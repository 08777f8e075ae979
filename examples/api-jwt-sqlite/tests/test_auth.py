"""JWT authentication: every resource operation needs a valid HS256 bearer token."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from catalog.app import create_app
from catalog.settings import (
    ENV_PREFIX,
    Settings,
)
from tests.tokens import TEST_SECRET, make_token

PATH = "/products"
CHALLENGE = "Bearer"
SCHEME = "BearerJWT"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(response: Any, challenge: str = CHALLENGE) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == challenge
    assert response.json()["title"] == "Unauthorized"


def test_missing_token_is_a_401_problem(anonymous: TestClient) -> None:
    assert_unauthorized(anonymous.get(PATH))


def test_other_schemes_are_a_401_problem(anonymous: TestClient) -> None:
    assert_unauthorized(anonymous.get(PATH, headers={"Authorization": "Basic dXNlcjpwYXNz"}))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not-a-jwt", id="malformed"),
        pytest.param(make_token(TEST_SECRET, lifetime=timedelta(minutes=-5)), id="expired"),
        pytest.param(make_token("another-secret-0123456789abcdef-0123"), id="wrong-secret"),
        pytest.param(make_token(TEST_SECRET, sub=None), id="no-subject"),
        pytest.param(jwt.encode({"sub": "x", "exp": 4102444800}, None, "none"), id="unsigned"),
    ],
)
def test_invalid_tokens_are_401_problems(anonymous: TestClient, token: str) -> None:
    assert_unauthorized(anonymous.get(PATH, headers=bearer(token)), 'Bearer error="invalid_token"')


def test_valid_token_is_accepted(anonymous: TestClient) -> None:
    assert anonymous.get(PATH, headers=bearer(make_token(TEST_SECRET))).status_code == 200


def test_audience_and_issuer_are_enforced_when_configured() -> None:
    settings = Settings(
        _env_file=None, jwt_secret=TEST_SECRET, jwt_audience="our-api", jwt_issuer="our-issuer"
    )
    good = make_token(TEST_SECRET, aud="our-api", iss="our-issuer")
    wrong_audience = make_token(TEST_SECRET, aud="other-api", iss="our-issuer")
    no_issuer = make_token(TEST_SECRET, aud="our-api")

    with TestClient(create_app(settings)) as client:
        assert client.get(PATH, headers=bearer(good)).status_code == 200
        assert client.get(PATH, headers=bearer(wrong_audience)).status_code == 401
        assert client.get(PATH, headers=bearer(no_issuer)).status_code == 401


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
    assert checked == 5 * 1


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_app_refuses_to_start_without_a_strong_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str | None
) -> None:
    monkeypatch.delenv(f"{ENV_PREFIX}JWT_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)  # away from any .env file

    with pytest.raises(ValidationError, match=f"{ENV_PREFIX}JWT_SECRET"):
        Settings(jwt_secret=secret)
