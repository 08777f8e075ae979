"""Errors outside the resources' own cases are RFC 9457 problems too; health is open."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shop.app import create_app
from shop.settings import Settings
from tests.factories import new_body

PROBLEM = "application/problem+json"
RESOURCE = "orders"
PATH = f"/{RESOURCE}"


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "instance": "/no-such-thing",
    }


def test_unsupported_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.patch(PATH, json={})

    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Method Not Allowed"
    assert "GET" in response.headers["allow"]


def test_every_validation_error_is_listed(client: TestClient) -> None:
    body = {**new_body(client, RESOURCE), "name": "", "no_such_field": 1}

    response = client.post(PATH, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["detail"] == "The request parameters or body are invalid."
    assert sorted(error["pointer"] for error in problem["errors"]) == ["#/name", "#/no_such_field"]


def test_unexpected_errors_are_500_problems_without_internals(settings: Settings) -> None:
    app: FastAPI = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/boom",
    }


def test_health_needs_no_credentials(anonymous: TestClient) -> None:
    response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
