"""Liveness, readiness through the service's lifecycle, and readiness checks."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {{ cookiecutter.__package_name }}.app import create_app
from {{ cookiecutter.__package_name }}.health import (
    Phase,
    Readiness,
    ReadinessCheck,
)
from {{ cookiecutter.__package_name }}.settings import Settings


async def passing() -> bool:
    return True


async def failing() -> bool:
    return False


async def raising() -> bool:
    raise ConnectionError("database unreachable")


async def hanging() -> bool:
    await asyncio.sleep(30)
    return True


def test_healthz_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_once_started(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "phase": "ready", "checks": {}}


def test_not_ready_while_starting(app: FastAPI) -> None:
    # Outside a `with` block TestClient never runs the lifespan: the app is still starting.
    client = TestClient(app)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "not_ready", "phase": "starting", "checks": {}}
    assert client.get("/healthz").status_code == 200


def test_not_ready_while_stopping_but_still_alive(app: FastAPI, client: TestClient) -> None:
    app.state.readiness.mark_stopping()

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["phase"] == "stopping"
    assert client.get("/healthz").status_code == 200


def test_shutdown_marks_not_ready(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200

    assert app.state.readiness.phase is Phase.STOPPING


def test_passing_checks_are_reported(settings: Settings) -> None:
    app = create_app(settings, readiness_checks={"database": passing, "cache": passing})

    with TestClient(app) as client:
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


@pytest.mark.parametrize(
    ("check", "result"),
    [(failing, "failing"), (raising, "error"), (hanging, "timeout")],
)
def test_one_bad_check_makes_the_service_not_ready(
    settings: Settings, check: ReadinessCheck, result: str
) -> None:
    quick = settings.model_copy(update={"readiness_timeout_seconds": 0.05})
    app = create_app(quick, readiness_checks={"database": passing, "queue": check})

    with TestClient(app) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "phase": "ready",
        "checks": {"database": "ok", "queue": result},
    }


def test_check_names_are_unique() -> None:
    readiness = Readiness()
    readiness.add_check("database", passing)

    with pytest.raises(ValueError, match="already registered"):
        readiness.add_check("database", failing)
