"""The business rules of rules.py, through HTTP: each resource lists cases, one test runs them."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests import factories

PROBLEM = "application/problem+json"
# A body as JSON, or a function of the client that builds it: it can then create the records it
# refers to first, e.g. `lambda c: factories.new_order(c, total=0)`.
Body = dict[str, Any] | Callable[[TestClient], dict[str, Any]]


@dataclass(frozen=True)
class RuleCase:
    """POST `body` (or PUT it onto `existing[replace]`) after creating the `existing` records.

    `status` is the expected answer: 201/200 when the rules accept the body, 409/422 when
    they refuse it; then `detail`, if given, must occur in the problem's detail or errors.
    """

    name: str
    body: Body
    status: int
    existing: list[Body] = field(default_factory=list)
    replace: int | None = None
    detail: str | None = None


@dataclass(frozen=True)
class RemovalCase:
    """DELETE the record `setup` returns the id of, after whatever else it creates.

    `status` is 204 when the removal rules allow it, 409 when they refuse; then `detail`,
    if given, must occur in the problem's detail.
    """

    name: str
    setup: Callable[[TestClient], int]
    status: int
    detail: str | None = None


def order_cases() -> list[RuleCase]:
    """Cases for check_order in rules.py."""

    # scaffold:fill rules-tests-orders Cases for the business rules of orders (check_order in rules.py) in this API (Orders and customers of the shop.).
    # | Return a list of RuleCase: for every rule at least one body it accepts and one it refuses, with the expected status and a detail fragment.
    # | Build bodies (and `existing` records, which must be accepted) as `lambda c: factories.new_order(c, field=value, ...)`: the factory of
    # | tests/factories.py makes every other field of models.OrderCreate valid and creates the records it refers to.
    # | Keep the name-uniqueness cases below; case names are short sentences, unique in this list.
    return [
        RuleCase(
            "distinct names are accepted",
            lambda c: factories.new_order(c, name="B"),
            201,
            existing=[lambda c: factories.new_order(c, name="A")],
        ),
        RuleCase(
            "a taken name is refused",
            lambda c: factories.new_order(c, name="A"),
            409,
            existing=[lambda c: factories.new_order(c, name="A")],
            detail="already has this name",
        ),
        RuleCase(
            "replacing may keep the own name",
            lambda c: factories.new_order(c, name="A"),
            200,
            existing=[lambda c: factories.new_order(c, name="A")],
            replace=0,
        ),
        RuleCase(
            "replacing may not take another's name",
            lambda c: factories.new_order(c, name="A"),
            409,
            existing=[
                lambda c: factories.new_order(c, name="A"),
                lambda c: factories.new_order(c, name="B"),
            ],
            replace=1,
            detail="already has this name",
        ),
    ]
    # scaffold:end rules-tests-orders


def order_removal_cases() -> list[RemovalCase]:
    """Cases for check_order_removal in rules.py."""

    # scaffold:fill removal-tests-orders Cases for the removal rules of orders (check_order_removal in rules.py) in this API (Orders and customers of the shop.).
    # | Return a list of RemovalCase: for every rule the removal-rules-orders region adds, one order it lets go (204) and one it keeps
    # | (409, with a detail fragment). test_a_referenced_record_is_kept below covers refuse_while_referenced: it needs no case here.
    # | `setup` creates what the case needs and returns the id to delete: `lambda c: factories.create(c, "orders", field=value)["id"]`
    # | (factories.create posts a valid models.OrderCreate body with the overrides given, and returns the stored record).
    # | Keep the case below; case names are short sentences, unique in this list.
    return [
        RemovalCase(
            "one nothing refers to can be deleted",
            lambda c: factories.create(c, "orders")["id"],
            204,
        ),
    ]
    # scaffold:end removal-tests-orders


def customer_cases() -> list[RuleCase]:
    """Cases for check_customer in rules.py."""

    # scaffold:fill rules-tests-customers Cases for the business rules of customers (check_customer in rules.py) in this API (Orders and customers of the shop.).
    # | Return a list of RuleCase: for every rule at least one body it accepts and one it refuses, with the expected status and a detail fragment.
    # | Build bodies (and `existing` records, which must be accepted) as `lambda c: factories.new_customer(c, field=value, ...)`: the factory of
    # | tests/factories.py makes every other field of models.CustomerCreate valid and creates the records it refers to.
    # | Keep the name-uniqueness cases below; case names are short sentences, unique in this list.
    return [
        RuleCase(
            "distinct names are accepted",
            lambda c: factories.new_customer(c, name="B"),
            201,
            existing=[lambda c: factories.new_customer(c, name="A")],
        ),
        RuleCase(
            "a taken name is refused",
            lambda c: factories.new_customer(c, name="A"),
            409,
            existing=[lambda c: factories.new_customer(c, name="A")],
            detail="already has this name",
        ),
        RuleCase(
            "replacing may keep the own name",
            lambda c: factories.new_customer(c, name="A"),
            200,
            existing=[lambda c: factories.new_customer(c, name="A")],
            replace=0,
        ),
        RuleCase(
            "replacing may not take another's name",
            lambda c: factories.new_customer(c, name="A"),
            409,
            existing=[
                lambda c: factories.new_customer(c, name="A"),
                lambda c: factories.new_customer(c, name="B"),
            ],
            replace=1,
            detail="already has this name",
        ),
    ]
    # scaffold:end rules-tests-customers


def customer_removal_cases() -> list[RemovalCase]:
    """Cases for check_customer_removal in rules.py."""

    # scaffold:fill removal-tests-customers Cases for the removal rules of customers (check_customer_removal in rules.py) in this API (Orders and customers of the shop.).
    # | Return a list of RemovalCase: for every rule the removal-rules-customers region adds, one customer it lets go (204) and one it keeps
    # | (409, with a detail fragment). test_a_referenced_record_is_kept below covers refuse_while_referenced: it needs no case here.
    # | `setup` creates what the case needs and returns the id to delete: `lambda c: factories.create(c, "customers", field=value)["id"]`
    # | (factories.create posts a valid models.CustomerCreate body with the overrides given, and returns the stored record).
    # | Keep the case below; case names are short sentences, unique in this list.
    return [
        RemovalCase(
            "one nothing refers to can be deleted",
            lambda c: factories.create(c, "customers")["id"],
            204,
        ),
    ]
    # scaffold:end removal-tests-customers


def params(resource: str, cases: list[RuleCase] | list[RemovalCase]) -> list[Any]:
    return [pytest.param(resource, case, id=f"{resource}: {case.name}") for case in cases]


CASES = [
    *params("orders", order_cases()),
    *params("customers", customer_cases()),
]
REMOVAL_CASES = [
    *params("orders", order_removal_cases()),
    *params("customers", customer_removal_cases()),
]
# Resource -> the field by which a record of another resource refers to one of it.
REFERENCES: dict[str, str] = {
    "orders": "order_id",
    "customers": "customer_id",
}


def build(client: TestClient, body: Body) -> dict[str, Any]:
    return body(client) if callable(body) else body


@pytest.mark.parametrize(("resource", "case"), CASES)
def test_rule(client: TestClient, resource: str, case: RuleCase) -> None:
    created = []
    for body in case.existing:
        response = client.post(f"/{resource}", json=build(client, body))
        assert response.status_code == 201, f"setup record refused: {response.text}"
        created.append(response.json())

    body = build(client, case.body)
    if case.replace is None:
        response = client.post(f"/{resource}", json=body)
    else:
        response = client.put(f"/{resource}/{created[case.replace]['id']}", json=body)

    assert response.status_code == case.status, response.text
    if case.status >= 400:
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        details = [problem.get("detail", "")] + [e["detail"] for e in problem.get("errors", [])]
        if case.detail is not None:
            assert any(case.detail in detail for detail in details), details


@pytest.mark.parametrize(("resource", "case"), REMOVAL_CASES)
def test_removal_rule(client: TestClient, resource: str, case: RemovalCase) -> None:
    record_id = case.setup(client)

    response = client.delete(f"/{resource}/{record_id}")

    assert response.status_code == case.status, response.text
    if case.status >= 400:
        assert response.headers["content-type"] == PROBLEM
        if case.detail is not None:
            assert case.detail in response.json()["detail"]
        assert client.get(f"/{resource}/{record_id}").status_code == 200  # still there


@pytest.mark.parametrize("resource", list(REFERENCES))
def test_a_referenced_record_is_kept(client: TestClient, resource: str) -> None:
    record = factories.create(client, resource)
    # A record of another resource (of its own, in an API of one) that refers to it, stored
    # directly, not posted: the models need not declare a reference to this resource.
    other = next((name for name in REFERENCES if name != resource), resource)
    app = client.app
    assert isinstance(app, FastAPI)
    referrers = app.state.repositories[other]
    referrer = referrers.add({"name": "Referrer", REFERENCES[resource]: record["id"]})

    refused = client.delete(f"/{resource}/{record['id']}")

    assert refused.status_code == 409, refused.text
    assert "still refer to this" in refused.json()["detail"]
    referrers.delete(referrer.id)
    assert client.delete(f"/{resource}/{record['id']}").status_code == 204
