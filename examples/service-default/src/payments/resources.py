"""What the service opens at startup and closes at shutdown (downstream clients, pools), and how an
endpoint gets them."""

from __future__ import annotations

# scaffold:fill resources Resources opened at startup; the service is described as:
# | Takes card payments and reports their status. The region is the whole module body after
# | `from __future__ import annotations`: imports at its top. Keep these four, with these
# | signatures (app.py, the endpoints and tests/test_resources.py use them): `Resources`, a
# | frozen dataclass of what the endpoints need: an `httpx.AsyncClient` per downstream, and
# | the settings values they use (a signing key, limits), since endpoints read them here
# | (`get_settings()` ignores the Settings given to create_app); `open_resources(settings:
# | Settings) -> AsyncIterator[Resources]`, an `@asynccontextmanager` that opens them and
# | closes them after its `yield`; `readiness_checks(resources: Resources) -> dict[str,
# | ReadinessCheck]`, what /readyz checks on them (name -> async check, run only when
# | /readyz is asked): only what the service can answer no request without, such as its
# | database; not every service it calls, whose outage would take this one out of rotation
# | too; and `get_resources(request: Request) -> Resources` as below (endpoints take
# | `Annotated[Resources, Depends(get_resources)]`). Open nothing that connects or blocks at
# | startup (an httpx client connects on its first request): tests/test_resources.py enters
# | `open_resources` with the default Settings and no network (it never builds a Resources
# | itself). Every client gets an explicit timeout from Settings, and a base URL from
# | Settings when it calls one service (src/payments/settings.py#settings declares them); a
# | package imported here is declared in pyproject.toml#dependencies with a version range
# | (the dev extra is not installed in production). Nothing to open: leave the example as it
# | is. Full type hints (mypy --strict), ruff-clean, lines <= 100 characters.
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request

from .health import ReadinessCheck
from .settings import Settings


@dataclass(frozen=True)
class Resources:
    """What the service opened at startup for its endpoints: nothing yet."""


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Open the service's clients and pools; they are closed when the block ends."""
    yield Resources()


def readiness_checks(resources: Resources) -> dict[str, ReadinessCheck]:
    """What /readyz checks on what was opened (name -> async check): nothing yet."""
    return {}


def get_resources(request: Request) -> Resources:
    """What the app opened at startup, for an endpoint: `Depends(get_resources)`."""
    resources: Resources | None = getattr(request.app.state, "resources", None)
    if resources is None:
        raise RuntimeError("the app is not running: start it (`with TestClient(app) as client:`)")
    return resources


# scaffold:end resources
