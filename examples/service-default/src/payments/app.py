"""The application factory: wires settings, health, middleware and the service's routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from . import DESCRIPTION, __version__, health, routes
from .errors import DomainError
from .health import Readiness, ReadinessCheck
from .middleware import RequestContextMiddleware
from .resources import Resources, open_resources
from .resources import readiness_checks as checks_on
from .settings import Settings, get_settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    readiness: Readiness = app.state.readiness
    given: Resources | None = app.state.given_resources
    # Clients and pools open before the service is ready and close after it stops; resources
    # given to create_app (a test's fakes) are the caller's to close.
    opening: AbstractAsyncContextManager[Resources] = (
        nullcontext(given) if given is not None else open_resources(app.state.settings)
    )
    async with opening as resources:
        app.state.resources = resources
        # Checks on what was opened, for this start only: an app started again opens anew.
        checks = checks_on(resources)
        for name, check in checks.items():
            readiness.add_check(name, check)
        readiness.mark_ready()
        logger.info("service ready", extra={"version": __version__})
        try:
            yield
        finally:
            # Normally already set by the SIGTERM drain; also covers in-process servers and tests.
            readiness.mark_stopping()
            for name in checks:
                readiness.remove_check(name)
    # Closed: an endpoint asking for them now is told the app is not running.
    app.state.resources = None
    logger.info("service stopped")


def create_app(
    settings: Settings | None = None,
    *,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
    resources: Resources | None = None,
) -> FastAPI:
    """Build the ASGI app; `readiness_checks` gate `/readyz` (name -> async check). The app opens
    its `Resources` at startup (`open_resources`) unless given them (tests pass fakes)."""
    settings = settings or get_settings()
    readiness = Readiness(check_timeout=settings.readiness_timeout_seconds)
    for name, check in (readiness_checks or {}).items():
        readiness.add_check(name, check)

    app = FastAPI(
        title="payments",
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.readiness = readiness
    app.state.given_resources = resources
    app.add_middleware(RequestContextMiddleware)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        # 422 like FastAPI's own validation errors: the request is well-formed but unacceptable.
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    app.include_router(health.router)
    app.include_router(routes.router)
    return app
