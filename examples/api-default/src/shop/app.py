"""The FastAPI application: `create_app()` wires settings, storage, errors and routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from shop import __version__
from shop.problems import (
    Problem,
    install_problem_handlers,
)
from shop.repository import (
    open_repositories,
    serving_a_request,
)
from shop.routers import (
    RESOURCES,
    resource_routers,
)
from shop.settings import Settings

TITLE = "shop"
TAGS = [
    *(
        {"name": r.name, "description": f"The {r.name.replace('_', ' ')} collection."}
        for r in RESOURCES
    ),
    {"name": "ops", "description": "Operational endpoints."},
]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Api(FastAPI):
    def openapi(self) -> dict[str, Any]:
        """FastAPI's document plus the Problem schema that error responses refer to."""
        if not self.openapi_schema:
            document = get_openapi(
                title=self.title,
                version=self.version,
                description=self.description,
                routes=self.routes,
                tags=self.openapi_tags,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas["Problem"] = problem
            self.openapi_schema = document
        return self.openapi_schema


class MarkEachRequest:
    """Marks each HTTP request (`repository.serving_a_request`): a write step a yield dependency
    wrongly leaves on a thread is then not taken for theirs by the other requests FastAPI runs
    on it; they wait for it. HTTP only: a websocket's handlers are async, where `writing()`
    refuses to run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with serving_a_request():
            await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; settings are read from the environment at startup unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Loaded here, not at import, so `python -m shop.openapi` needs no secrets.
        app.state.settings = settings or Settings()
        names = [r.name for r in RESOURCES]
        app.state.repositories = open_repositories(names)
        yield

    app = Api(
        title=TITLE,
        version=__version__,
        description="Orders and customers of the shop.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.add_middleware(MarkEachRequest)
    install_problem_handlers(app)
    for router in resource_routers():
        app.include_router(router)

    @app.get(
        "/healthz",
        tags=["ops"],
        operation_id="health",
        summary="Liveness check",
        response_model=Health,
        response_description="The service is up",
    )
    def health() -> Health:
        return Health()

    return app
