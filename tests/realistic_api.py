"""A realistic answer for the api `shop` (resources orders, customers), as a strong model writes it.

The description is "orders must reference an existing customer and totals must be positive":
the fields carry the domain (a customer reference, a positive total, a currency, a status), the
rules look the customer up through the other resource's repository, and the factories create a
customer before an order. Keys are the regions' `path#id`; bodies are the exact text between the
markers, as the fill request's schema asks.
"""

from __future__ import annotations

DESCRIPTION = "orders must reference an existing customer and totals must be positive"

_IMPORTS = """\
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shop.pagination import Page

"""

_ORDER_FIELDS = """\
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Order reference shown to staff and on the customer's invoice",
        examples=["SO-2026-0042"],
    )
    customer_id: int = Field(
        gt=0, description="Id of the customer who placed the order", examples=[17]
    )
    total: float = Field(
        gt=0,
        le=1_000_000,
        description="Amount due for the order in `currency`, taxes included; always positive",
        examples=[149.9],
    )
    currency: str = Field(
        default="EUR",
        pattern="^[A-Z]{3}$",
        description="ISO 4217 code of the total's currency",
        examples=["EUR"],
    )
    status: Literal["pending", "paid", "shipped", "cancelled"] = Field(
        default="pending", description="Where the order is in its lifecycle", examples=["paid"]
    )
"""

_CUSTOMER_FIELDS = """\
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Full name of the person or company",
        examples=["Ada Lovelace"],
    )
    email: str = Field(
        max_length=254,
        pattern=r"^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
        description="Address for order confirmations and invoices; one customer per address",
        examples=["ada@example.com"],
    )
    country: str = Field(
        default="DE",
        pattern="^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code of the billing country",
        examples=["GB"],
    )
"""

_ORDER_RULES = """\
    require_unique(records, "name", candidate.name, current_id, "order")
    # An order is billed to its customer: one that does not exist could never be invoiced.
    if stores["customers"].get(candidate.customer_id) is None:
        raise problems.Unprocessable(
            f"There is no customer with id {candidate.customer_id}.", pointer="#/customer_id"
        )
"""

_CUSTOMER_RULES = """\
    require_unique(records, "name", candidate.name, current_id, "customer")
    # Confirmations go by email: two customers sharing an address would see each other's orders.
    require_unique(records, "email", candidate.email, current_id, "customer")
"""

_ORDER_FACTORY = """\
    customer = create(client, "customers")
    return {
        "name": unique("Order"),
        "customer_id": customer["id"],
        "total": 149.9,
        "currency": "EUR",
        "status": "pending",
        **overrides,
    }
"""

_CUSTOMER_FACTORY = """\
    email = unique("customer").replace(" ", "-") + "@example.com"
    return {"name": unique("Customer"), "email": email, "country": "GB", **overrides}
"""


def _name_cases(factory: str) -> str:
    """The template's name-uniqueness cases, which the instruction says to keep."""
    return f"""\
        RuleCase(
            "distinct names are accepted",
            lambda c: factories.{factory}(c, name="B"),
            201,
            existing=[lambda c: factories.{factory}(c, name="A")],
        ),
        RuleCase(
            "a taken name is refused",
            lambda c: factories.{factory}(c, name="A"),
            409,
            existing=[lambda c: factories.{factory}(c, name="A")],
            detail="already has this name",
        ),
        RuleCase(
            "replacing may keep the own name",
            lambda c: factories.{factory}(c, name="A"),
            200,
            existing=[lambda c: factories.{factory}(c, name="A")],
            replace=0,
        ),
        RuleCase(
            "replacing may not take another's name",
            lambda c: factories.{factory}(c, name="A"),
            409,
            existing=[lambda c: factories.{factory}(c, name="A"), lambda c: factories.{factory}(c, name="B")],
            replace=1,
            detail="already has this name",
        ),
"""


_ORDER_CASES = f"""\
    return [
{_name_cases("new_order")}\
        RuleCase("an order for an existing customer is accepted", lambda c: factories.new_order(c), 201),
        RuleCase(
            "an order for an unknown customer is refused",
            lambda c: factories.new_order(c, customer_id=9999),
            422,
            detail="no customer with id 9999",
        ),
        RuleCase(
            "replacing may not move an order to an unknown customer",
            lambda c: factories.new_order(c, customer_id=9999),
            422,
            existing=[lambda c: factories.new_order(c)],
            replace=0,
            detail="no customer with id 9999",
        ),
        RuleCase(
            "a zero total is refused",
            lambda c: factories.new_order(c, total=0),
            422,
            detail="greater than 0",
        ),
        RuleCase(
            "a negative total is refused",
            lambda c: factories.new_order(c, total=-12.5),
            422,
            detail="greater than 0",
        ),
        RuleCase("a small positive total is accepted", lambda c: factories.new_order(c, total=0.01), 201),
    ]
"""

_CUSTOMER_CASES = f"""\
    return [
{_name_cases("new_customer")}\
        RuleCase(
            "a taken email is refused",
            lambda c: factories.new_customer(c, email="ada@example.com"),
            409,
            existing=[lambda c: factories.new_customer(c, email="ada@example.com")],
            detail="already has this email",
        ),
        RuleCase(
            "an address without a domain is refused",
            lambda c: factories.new_customer(c, email="ada"),
            422,
        ),
    ]
"""

_NOTES = """\
- An order belongs to exactly one customer (`customer_id`); rules.py refuses an order whose
  customer does not exist, on create and on replace. Deleting a customer does not touch its orders.
- Totals are positive amounts in the order's `currency` (ISO 4217); there is no currency conversion.
- Customer emails are unique: confirmations and invoices are sent by email.
"""

ANSWERS = {
    "AGENTS.md#notes": _NOTES,
    "src/shop/models.py#imports": _IMPORTS,
    "src/shop/models.py#fields-orders": _ORDER_FIELDS,
    "src/shop/models.py#fields-customers": _CUSTOMER_FIELDS,
    "src/shop/rules.py#rules-orders": _ORDER_RULES,
    "src/shop/rules.py#rules-customers": _CUSTOMER_RULES,
    "tests/factories.py#factory-orders": _ORDER_FACTORY,
    "tests/factories.py#factory-customers": _CUSTOMER_FACTORY,
    "tests/test_rules.py#rules-tests-orders": _ORDER_CASES,
    "tests/test_rules.py#rules-tests-customers": _CUSTOMER_CASES,
}
