"""Request and response models: one family per resource.

`<Name>Fields` holds what clients write, `<Name>Create` / `<Name>Update` are the
POST / PUT bodies, `<Name>Read` adds what the server assigns, `<Name>Page` is a page
of the collection. Changing a model changes the HTTP contract: run `make openapi`
(or `make generated`) afterwards and commit the new openapi.json.
"""

# scaffold:fill imports Imports the fields below need (typing.Literal, datetime.date, enum, ...). Keep datetime, BaseModel,
# | ConfigDict, Field and Page: code outside the regions uses them.
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shop.pagination import Page

# scaffold:end imports


class _Strict(BaseModel):
    # Unknown members are rejected, not silently dropped: typos surface as 422s.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- orders ---


class OrderFields(_Strict):
    """Writable fields of the order resource."""

    # scaffold:fill fields-orders The fields clients write for orders in this API (Orders and customers of the shop.): the body of OrderFields, pydantic v2.
    # | Declare what this domain records for each order, each as `field: type = Field(...)` with a description, the constraints
    # | that make invalid values a 422 (min_length/max_length, gt/ge/le, pattern; Literal[...] for fixed choices) and examples=[...].
    # | Keep `name: str` (1-200 chars) first: the name-uniqueness rule in rules.py, listings and the generic tests rely on it.
    # | Types must read back from JSON as the same value: str, int, float, bool, Literal[...] of str, date, datetime, lists of these.
    # | If each order belongs to a record of another resource, it refers to it by a field named exactly so (removal rules find it
    # | by that name), checked in rules.py: `customer_id: int = Field(gt=0)` for customers. Only the side that belongs refers: an order has customer_id,
    # | a customer no order_id.
    # | Fields without a default are required in every POST and PUT; inherited: extra="forbid", str_strip_whitespace=True.
    # | Changing these fields changes openapi.json: scaffold regenerates it after the fill (make generated).
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Display name of the order",
    )
    description: str = Field(default="", max_length=2000, description="Free-form notes")
    # scaffold:end fields-orders


class OrderCreate(OrderFields):
    """Body of POST /orders."""


class OrderUpdate(OrderFields):
    """Body of PUT /orders/{order_id}: replaces every writable field."""


class OrderRead(OrderFields):
    """Stored order, with the fields the server assigns."""

    # Stored records may carry members a later model no longer has; reads ignore them.
    model_config = ConfigDict(extra="ignore")

    id: int = Field(description="Assigned by the server, never reused")
    created_at: datetime
    updated_at: datetime


class OrderPage(Page[OrderRead]):
    """One page of orders."""


# --- customers ---


class CustomerFields(_Strict):
    """Writable fields of the customer resource."""

    # scaffold:fill fields-customers The fields clients write for customers in this API (Orders and customers of the shop.): the body of CustomerFields, pydantic v2.
    # | Declare what this domain records for each customer, each as `field: type = Field(...)` with a description, the constraints
    # | that make invalid values a 422 (min_length/max_length, gt/ge/le, pattern; Literal[...] for fixed choices) and examples=[...].
    # | Keep `name: str` (1-200 chars) first: the name-uniqueness rule in rules.py, listings and the generic tests rely on it.
    # | Types must read back from JSON as the same value: str, int, float, bool, Literal[...] of str, date, datetime, lists of these.
    # | If each customer belongs to a record of another resource, it refers to it by a field named exactly so (removal rules find it
    # | by that name), checked in rules.py: `order_id: int = Field(gt=0)` for orders. Only the side that belongs refers: an order has customer_id,
    # | a customer no order_id.
    # | Fields without a default are required in every POST and PUT; inherited: extra="forbid", str_strip_whitespace=True.
    # | Changing these fields changes openapi.json: scaffold regenerates it after the fill (make generated).
    name: str = Field(
        min_length=1,
        max_length=200,
        description="Display name of the customer",
    )
    description: str = Field(default="", max_length=2000, description="Free-form notes")
    # scaffold:end fields-customers


class CustomerCreate(CustomerFields):
    """Body of POST /customers."""


class CustomerUpdate(CustomerFields):
    """Body of PUT /customers/{customer_id}: replaces every writable field."""


class CustomerRead(CustomerFields):
    """Stored customer, with the fields the server assigns."""

    # Stored records may carry members a later model no longer has; reads ignore them.
    model_config = ConfigDict(extra="ignore")

    id: int = Field(description="Assigned by the server, never reused")
    created_at: datetime
    updated_at: datetime


class CustomerPage(Page[CustomerRead]):
    """One page of customers."""
