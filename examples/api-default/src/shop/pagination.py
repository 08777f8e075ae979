"""Offset pagination: `limit` and `offset` query parameters, a `total`, and page links."""

from typing import Annotated, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

ItemT = TypeVar("ItemT", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Maximum number of items to return")]
Offset = Annotated[int, Query(ge=0, description="Number of items to skip")]


class PageLinks(BaseModel):
    """Absolute URLs of the neighbouring pages."""

    next: str | None = Field(description="The next page; null on the last page")
    prev: str | None = Field(description="The previous page; null on the first page")


class Page(BaseModel, Generic[ItemT]):
    """One page of a collection, in id order."""

    items: list[ItemT]
    total: int = Field(description="Number of items in the whole collection")
    limit: int
    offset: int
    links: PageLinks


def page_links(request: Request, *, limit: int, offset: int, total: int) -> PageLinks:
    def link(to: int) -> str:
        return str(request.url.include_query_params(limit=limit, offset=to))

    return PageLinks(
        next=link(offset + limit) if offset + limit < total else None,
        prev=link(max(offset - limit, 0)) if offset > 0 else None,
    )
