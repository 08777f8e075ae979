"""Request and response models: one family per resource.

`<Name>Fields` holds what clients write, `<Name>Create` / `<Name>Update` are the
POST / PUT bodies, `<Name>Read` adds what the server assigns, `<Name>Page` is a page
of the collection. Changing a model changes the HTTP contract: run `make openapi`
afterwards and commit the new openapi.json.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shop.pagination import Page


class _Strict(BaseModel):
    # Unknown members are rejected, not silently dropped: typos surface as 422s.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- orders ---


class OrderFields(_Strict):
    """Writable fields of the order resource."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Display name of the order",
    )
    description: str = Field(default="", max_length=2000, description="Free-form notes")


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

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Display name of the customer",
    )
    description: str = Field(default="", max_length=2000, description="Free-form notes")


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
