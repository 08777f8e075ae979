{% from "includes/regions.jinja" import region %}
"""The service's HTTP endpoints: translate between JSON and the domain; what they call elsewhere
goes through the clients resources.py opens."""

from __future__ import annotations

{% set details = [
    cookiecutter.description ~ ("" if cookiecutter.description.rstrip()[-1:] in ".!?" else "."),
    'The region is the whole module body after `from __future__ import annotations`: imports at its top, then `router = APIRouter(prefix="/v1", ...)` (keep the name `router`: app.py mounts it), then pydantic request/response models and `async def` endpoints with resource-style paths.',
    'Endpoints only convert between the models and the dataclasses and functions of `.domain` (src/' ~ cookiecutter.__package_name ~ '/domain.py); no business logic here.',
    "Let `DomainError` propagate: app.py answers 422 with its message. Use pydantic `Field` constraints for shape checks.",
    "No I/O the description does not call for; what it does call for goes through the clients src/" ~ cookiecutter.__package_name ~ "/resources.py#resources opens, taken as `resources: Annotated[Resources, Depends(get_resources)]`: the endpoint makes the calls, and the domain decides what they mean (whether to retry, what a reply says). /healthz and /readyz belong to health.py.",
    "Full type hints (mypy --strict), ruff-clean, lines <= 100 characters.",
] | join(' ') %}
{% call region("routes", ["Expose the domain logic over HTTP; the service is described as:"] + (details | wordwrap(88, break_on_hyphens=False)).split("\n")) %}
from fastapi import APIRouter
from pydantic import BaseModel, Field

from . import domain

router = APIRouter(prefix="/v1", tags=["quotes"])


class LineItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64, examples=["SKU-123"])
    unit_price_cents: int = Field(ge=0, examples=[1999])
    quantity: int = Field(ge=1, examples=[2])


class QuoteRequest(BaseModel):
    items: list[LineItemIn] = Field(min_length=1, max_length=100)
    discount_percent: int = Field(default=0, ge=0, le=100)


class QuoteResponse(BaseModel):
    subtotal_cents: int
    discount_cents: int
    total_cents: int


@router.post("/quotes")
async def create_quote(request: QuoteRequest) -> QuoteResponse:
    """Price a basket of line items; business-rule violations answer 422."""
    items = [
        domain.LineItem(
            sku=item.sku, unit_price_cents=item.unit_price_cents, quantity=item.quantity
        )
        for item in request.items
    ]
    result = domain.quote(items, request.discount_percent)
    return QuoteResponse(
        subtotal_cents=result.subtotal_cents,
        discount_cents=result.discount_cents,
        total_cents=result.total_cents,
    )


{% endcall %}
