"""The application factory: wires settings, health, middleware and the service's routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from . import DESCRIPTION, __version__, health, routes
from .errors import DomainError
from .health import Readiness, ReadinessCheck
from .middleware import RequestContextMiddleware
from .settings import Settings, get_settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    readiness: Readiness = app.state.readiness
    # Open clients and pools here, before marking ready; close them after the yield.
    readiness.mark_ready()
    logger.info("service ready", extra={"version": __version__})
    try:
        yield
    finally:
        # Normally already set by the SIGTERM drain; also covers in-process servers and tests.
        readiness.mark_stopping()
        logger.info("service stopped")


def create_app(
    settings: Settings | None = None,
    *,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """Build the ASGI app; `readiness_checks` gate `/readyz` (name -> async check)."""
    settings = settings or get_settings()
    readiness = Readiness(check_timeout=settings.readiness_timeout_seconds)
    for name, check in (readiness_checks or {}).items():
        readiness.add_check(name, check)

    app = FastAPI(
        title="{{ cookiecutter.project_name }}",
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.readiness = readiness
    app.add_middleware(RequestContextMiddleware)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        # 422 like FastAPI's own validation errors: the request is well-formed but unacceptable.
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    app.include_router(health.router)
    app.include_router(routes.router)
    return app
