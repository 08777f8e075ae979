"""The app opens its resources before it is ready and closes them after it stops, or uses the
ones it is given."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import NoReturn, cast

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from {{ cookiecutter.__package_name }} import (
    app as app_module,
)
from {{ cookiecutter.__package_name }}.app import (
    create_app,
)
from {{ cookiecutter.__package_name }}.health import (
    Phase,
    ReadinessCheck,
)
from {{ cookiecutter.__package_name }}.resources import (
    Resources,
    get_resources,
    open_resources,
)
from {{ cookiecutter.__package_name }}.settings import (
    Settings,
)


def test_the_resources_open_and_close_with_the_default_settings(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Startup must not depend on a downstream being reachable: /readyz says whether it is.
    attempts: list[tuple[object, ...]] = []

    def no_network(*args: object) -> NoReturn:
        attempts.append(args)  # counted even when the code catches the error
        raise OSError("open_resources must not connect or resolve a name at startup")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)

    async def open_and_close() -> Resources:
        async with open_resources(settings) as resources:
            return resources

    opened = asyncio.run(asyncio.wait_for(open_and_close(), timeout=10))
    assert isinstance(opened, Resources)
    assert attempts == []


def test_the_app_opens_its_resources_for_its_lifetime(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, Phase]] = []
    opened = cast(Resources, object())

    @asynccontextmanager
    async def recording(given: Settings) -> AsyncIterator[Resources]:
        assert given is settings
        events.append(("opened", app.state.readiness.phase))
        yield opened
        events.append(("closed", app.state.readiness.phase))

    async def downstream() -> bool:
        return False

    def checks(resources: Resources) -> dict[str, ReadinessCheck]:
        assert resources is opened
        return {"downstream": downstream}

    monkeypatch.setattr(app_module, "open_resources", recording)
    monkeypatch.setattr(app_module, "checks_on", checks)
    app = create_app(settings)

    with TestClient(app) as client:
        assert events == [("opened", Phase.STARTING)]
        request = cast(Request, SimpleNamespace(app=app))
        assert get_resources(request) is opened
        readyz = client.get("/readyz")
        assert readyz.status_code == 503
        assert "downstream" in readyz.text
    # Closed only once the service has stopped taking traffic.
    assert events == [("opened", Phase.STARTING), ("closed", Phase.STOPPING)]
    # Started again (a module-scoped fixture), it opens anew and registers its checks anew.
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
    assert len(events) == 4


def test_an_endpoint_of_an_app_not_running_is_told_so(settings: Settings) -> None:
    app = create_app(settings)
    with pytest.raises(RuntimeError, match="not running"):
        get_resources(cast(Request, SimpleNamespace(app=app)))


def test_resources_given_to_the_app_are_used_as_they_are(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(given: Settings) -> None:
        raise AssertionError("the app opened resources of its own")

    monkeypatch.setattr(app_module, "open_resources", refuse)
    monkeypatch.setattr(app_module, "checks_on", lambda resources: {})
    fakes = cast(Resources, object())
    app = create_app(settings, resources=fakes)

    with TestClient(app):
        assert app.state.resources is fakes
