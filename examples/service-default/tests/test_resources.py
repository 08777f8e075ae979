"""The app opens its resources before it is ready and closes them after it stops, or uses the
ones it is given."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import pytest
from fastapi.testclient import TestClient

from payments import app as app_module
from payments.app import create_app
from payments.resources import Resources, open_resources
from payments.settings import Settings


def test_the_resources_open_and_close_without_a_network(settings: Settings) -> None:
    # Startup must not depend on a downstream being reachable (readiness checks say whether it is).
    async def open_and_close() -> Resources:
        async with open_resources(settings) as resources:
            return resources

    assert isinstance(asyncio.run(open_and_close()), Resources)


def test_the_app_opens_its_resources_for_its_lifetime(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    opened = cast(Resources, object())

    @asynccontextmanager
    async def recording(given: Settings) -> AsyncIterator[Resources]:
        assert given is settings
        events.append("opened")
        yield opened
        events.append("closed")

    monkeypatch.setattr(app_module, "open_resources", recording)
    app = create_app(settings)

    with TestClient(app) as client:
        assert events == ["opened"]
        assert app.state.resources is opened
        assert client.get("/readyz").status_code == 200
    assert events == ["opened", "closed"]


def test_resources_given_to_the_app_are_used_as_they_are(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(given: Settings) -> None:
        raise AssertionError("the app opened resources of its own")

    monkeypatch.setattr(app_module, "open_resources", refuse)
    fakes = cast(Resources, object())
    app = create_app(settings, resources=fakes)

    with TestClient(app):
        assert app.state.resources is fakes
