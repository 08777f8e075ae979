"""Valid request bodies per resource, for the tests that need a record and not a particular one.

`new_<singular>(client, **overrides)` returns a JSON body for POST /<resource> that models.py
and rules.py accept, creating through `client` first any record it refers to; every call gives
a new name, since names are unique. `overrides` replace members last. The generic tests
(CRUD, pagination, problems, rules) build their bodies here, so they hold whatever fields the
models declare.
"""

from collections.abc import Callable
from itertools import count
from typing import Any

from fastapi.testclient import TestClient

# Numbers for names: the name-uniqueness rule refuses a name taken earlier in the same test.
_numbers = count(1)


def unique(prefix: str) -> str:
    """A name no earlier call returned, e.g. "Customer 3"."""
    return f"{prefix} {next(_numbers)}"


def create(client: TestClient, resource: str, **overrides: Any) -> dict[str, Any]:
    """POST a new valid body (see `new_body`) to /<resource>; the stored record."""
    response = client.post(f"/{resource}", json=new_body(client, resource, **overrides))
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def new_product(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """A body for POST /products that models.ProductCreate and check_product accept."""

    # scaffold:fill factory-products Body of new_product: return a realistic JSON body for POST /products with every field of models.ProductFields
    # | (the fields-products region) set to a valid value, which check_product in rules.py accepts: the generic tests post it as it is.
    # | Keep `"name": unique("Product")` and `**overrides` last. Create each record it refers to first, e.g.
    # | `customer = create(client, "customers")`, and use its "id"; never hard-code another record's id. Values are JSON (dates as ISO strings).
    return {"name": unique("Product"), "description": "", **overrides}
    # scaffold:end factory-products


FACTORIES: dict[str, Callable[..., dict[str, Any]]] = {
    "products": new_product,
}


def new_body(client: TestClient, resource: str, **overrides: Any) -> dict[str, Any]:
    """A valid body for POST /<resource>, from that resource's factory."""
    return FACTORIES[resource](client, **overrides)
