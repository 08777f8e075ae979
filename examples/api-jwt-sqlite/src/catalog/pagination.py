"""Cursor pagination: an opaque `cursor` names the last item seen, so inserts and
deletes between requests neither skip nor repeat items."""

import base64
from http import HTTPStatus
from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from catalog.problems import (
    InvalidParam,
    ProblemError,
)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_PREFIX = "after:"

ItemT = TypeVar("ItemT", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Maximum number of items to return")]
Cursor = Annotated[
    str | None,
    Query(max_length=200, description="The previous page's `next_cursor`; omit for the first"),
]


class PageLinks(BaseModel):
    """Absolute URL of the next page."""

    next: str | None = Field(description="The next page; null on the last page")


class Page(BaseModel, Generic[ItemT]):
    """One page of a collection, in id order."""

    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )
    links: PageLinks


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id after which the page starts; a 422 problem if the cursor was not made by us."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:  # bad padding (binascii.Error) or non-ASCII input
        raw = b""
    text = raw.decode("ascii", errors="replace")
    if text.startswith(_PREFIX) and text[len(_PREFIX) :].isdigit():
        return int(text[len(_PREFIX) :])
    raise ProblemError(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "The request parameters or body are invalid.",
        errors=[InvalidParam(detail="Not a cursor returned by this API", parameter="cursor")],
    )


def next_cursor(request: Request, *, last_id: int | None) -> tuple[str | None, PageLinks]:
    if last_id is None:
        return None, PageLinks(next=None)
    cursor = encode_cursor(last_id)
    return cursor, PageLinks(next=str(request.url.include_query_params(cursor=cursor)))
