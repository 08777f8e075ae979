"""What the service opens at startup and closes at shutdown (downstream clients, pools), and how an
endpoint gets them."""

from __future__ import annotations

# scaffold:fill resources Resources opened at startup; the service is described as:
# | Takes card payments and reports their status. The region is the whole module body after
# | `from __future__ import annotations`: imports at its top. Keep these three, with these
# | signatures (app.py, the endpoints and tests/test_resources.py use them): `Resources`, a
# | frozen dataclass of what the endpoints need (an `httpx.AsyncClient` per downstream,
# | ...); `open_resources(settings: Settings) -> AsyncIterator[Resources]`, an
# | `@asynccontextmanager` that opens them and closes them after its `yield`; and
# | `get_resources(request: Request) -> Resources` as below (endpoints take
# | `Depends(get_resources)`). Open nothing that connects or blocks at startup (an httpx
# | client connects on its first request): the service and its tests start without a
# | network. Every client gets an explicit timeout and base URL from Settings
# | (src/payments/settings.py#settings declares them); a package imported here is declared
# | in pyproject.toml#dependencies with a version range. Nothing to open: leave the example
# | as it is. Full type hints (mypy --strict), ruff-clean, lines <= 100 characters.
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request

from .settings import Settings


@dataclass(frozen=True)
class Resources:
    """What the service opened at startup for its endpoints: nothing yet."""


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Open the service's clients and pools; they are closed when the block ends."""
    yield Resources()


def get_resources(request: Request) -> Resources:
    """What the app opened at startup, for an endpoint: `Depends(get_resources)`."""
    resources: Resources = request.app.state.resources
    return resources


# scaffold:end resources
