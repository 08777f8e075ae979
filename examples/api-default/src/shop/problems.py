"""Every error as an RFC 9457 problem details document (`application/problem+json`).

Handlers turn Starlette's HTTP errors, FastAPI's request validation errors, the
`ProblemError` raised by this package, a store too busy to take a write and
unexpected exceptions into one shape, so clients parse a single error format.
"""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shop.repository import StoreBusy

PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


class InvalidParam(BaseModel):
    """One reason a request was rejected, and where: a body member or a parameter."""

    detail: str = Field(description="What is wrong with the value")
    pointer: str | None = Field(
        default=None, description="JSON Pointer (as a URI fragment) to the offending body member"
    )
    parameter: str | None = Field(default=None, description="Name of the offending parameter")


class Problem(BaseModel):
    """An error response as defined by RFC 9457."""

    type: str = Field(default="about:blank", description="URI identifying the problem type")
    title: str = Field(description="Short summary of the problem type")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(default=None, description="Explanation of this occurrence")
    instance: str | None = Field(default=None, description="URI reference of the failed request")
    errors: list[InvalidParam] | None = Field(
        default=None, description="Individual validation failures (422 only)"
    )


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class ProblemError(Exception):
    """Raised anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: Sequence[InvalidParam] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


class Conflict(ProblemError):
    """The request clashes with stored data (409), e.g. a duplicate unique value."""

    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.CONFLICT, detail)


class Unprocessable(ProblemError):
    """The body is well-formed but breaks a business rule (422) at `pointer`, e.g. "#/name"."""

    def __init__(self, detail: str, pointer: str) -> None:
        super().__init__(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "The request body breaks a business rule.",
            errors=[InvalidParam(detail=detail, pointer=pointer)],
        )


# Documented on every operation that can answer with them; the schema is added to
# the OpenAPI components by the app (see app.py), hence the plain $ref.
PROBLEM_DESCRIPTIONS = {
    401: "Missing or invalid credentials",
    404: "No record with this id",
    409: "Conflicts with a stored record",
    422: "Invalid parameters or body",
    503: "The store is busy; nothing was changed: send the request again after Retry-After",
}

# Seconds a client waits before sending a request the busy store turned away again.
RETRY_AFTER_SECONDS = 1
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again",
        "schema": {"type": "integer"},
    }
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        responses[status] = {
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            responses[status]["headers"] = RETRY_AFTER_HEADER
    return responses


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    errors: Sequence[InvalidParam] = (),
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    title = HTTPStatus(status).phrase
    problem = Problem(
        title=title,
        status=status,
        # Starlette's default detail just repeats the title; omit it then.
        detail=detail if detail and detail != title else None,
        instance=request.url.path,
        errors=list(errors) or None,
    )
    return ProblemResponse(
        problem.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers
    )


def _json_pointer(location: Sequence[int | str]) -> str:
    # RFC 6901 escaping, written as a URI fragment like RFC 9457's examples.
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in location)
    return "#" + "".join(f"/{part}" for part in escaped)


def _invalid_params(error: RequestValidationError) -> list[InvalidParam]:
    params = []
    for item in error.errors():
        source, *location = item["loc"]
        if source == "body":
            params.append(InvalidParam(detail=item["msg"], pointer=_json_pointer(location)))
        else:
            params.append(InvalidParam(detail=item["msg"], parameter=".".join(map(str, location))))
    return params


async def _on_http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(request, exc.status_code, exc.detail, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        request,
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "The request parameters or body are invalid.",
        errors=_invalid_params(exc),
    )


async def _on_problem(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers)


async def _on_busy(request: Request, exc: Exception) -> ProblemResponse:
    # Other writes held the store past its timeout: the request did nothing and may be sent again.
    assert isinstance(exc, StoreBusy)
    logger.warning("store busy on %s %s: %s", request.method, request.url.path, exc)
    detail = "Other writes are keeping the store busy; send the request again shortly."
    return problem_response(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        detail,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, HTTPStatus.INTERNAL_SERVER_ERROR)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StoreBusy, _on_busy)
    app.add_exception_handler(Exception, _on_unexpected)
