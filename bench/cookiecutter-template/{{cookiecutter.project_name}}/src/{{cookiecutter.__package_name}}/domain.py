{% from "includes/regions.jinja" import region %}
"""Core logic of the service: pure Python, no I/O and no web framework.

{{ cookiecutter.description | wordwrap(80, break_on_hyphens=False) | replace('\\', '\\\\') | replace('"', '\\"') }}
"""

from __future__ import annotations

{% set details = [
    cookiecutter.description ~ ("" if cookiecutter.description.rstrip()[-1:] in ".!?" else "."),
    "The region is the whole module body after `from __future__ import annotations`: put the imports it needs at its top.",
    "Standard library only: frozen dataclasses (slots=True), enums and pure functions; no I/O, no FastAPI or pydantic, no global mutable state; pass clocks, ids or randomness in as arguments.",
    "Validate every business rule and raise `DomainError` (keep `from .errors import DomainError`) with a message a client can act on.",
    'The example below (LineItem, Quote, quote) is a placeholder to replace entirely; src/' ~ cookiecutter.__package_name ~ '/routes.py#routes, tests/test_domain.py#domain-tests and tests/test_routes.py#route-tests use its names and are rewritten with this region.',
    'Python ' ~ cookiecutter.python_version ~ ', full type hints (mypy --strict), ruff-clean, lines <= 100 characters.',
] | join(' ') %}
{% call region("domain", ["Write the core domain logic of this service, described as:"] + (details | wordwrap(88, break_on_hyphens=False)).split("\n")) %}
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import DomainError

# Example domain: pricing a quote. Money is integer cents, so no float rounding creeps in.
MAX_QUANTITY = 10_000
MAX_DISCOUNT_PERCENT = 50


@dataclass(frozen=True, slots=True)
class LineItem:
    """One product on a quote."""

    sku: str
    unit_price_cents: int
    quantity: int

    def __post_init__(self) -> None:
        if not self.sku.strip():
            raise DomainError("sku must not be blank")
        if self.unit_price_cents < 0:
            raise DomainError(f"{self.sku}: unit price must not be negative")
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise DomainError(f"{self.sku}: quantity must be between 1 and {MAX_QUANTITY}")

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True, slots=True)
class Quote:
    subtotal_cents: int
    discount_cents: int
    total_cents: int


def quote(items: Sequence[LineItem], discount_percent: int = 0) -> Quote:
    """Price `items` with a percentage discount, rounded half up to the cent."""
    if not items:
        raise DomainError("a quote needs at least one line item")
    skus = [item.sku for item in items]
    if len(set(skus)) != len(skus):
        raise DomainError("each sku may appear only once; merge their quantities")
    if not 0 <= discount_percent <= MAX_DISCOUNT_PERCENT:
        raise DomainError(f"discount must be between 0 and {MAX_DISCOUNT_PERCENT} percent")
    subtotal = sum(item.total_cents for item in items)
    discount = (subtotal * discount_percent + 50) // 100
    return Quote(subtotal_cents=subtotal, discount_cents=discount, total_cents=subtotal - discount)


{% endcall %}
