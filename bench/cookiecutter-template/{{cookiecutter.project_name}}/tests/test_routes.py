{% from "includes/regions.jinja" import region %}
"""Tests of the service's HTTP endpoints, through a started app."""

from __future__ import annotations

{% set details = [
    cookiecutter.description ~ ("" if cookiecutter.description.rstrip()[-1:] in ".!?" else "."),
    'The endpoints are in src/' ~ cookiecutter.__package_name ~ '/routes.py. The region is the whole test module body after `from __future__ import annotations`: imports at its top.',
    "Use the `client` fixture from tests/conftest.py (a started `fastapi.testclient.TestClient`; annotate it so).",
    "Assert status codes and JSON bodies for each endpoint's success path, 422 for payloads pydantic rejects, and 422 with the message for each DomainError an endpoint can surface.",
    "Where an endpoint calls a downstream, build the app with fakes instead: `create_app(settings, resources=Resources(...))` (the `settings` fixture; an `httpx.MockTransport` behind an `httpx.AsyncClient`), started with `with TestClient(app) as client:`.",
    "Leave /healthz and /readyz to tests/test_health.py. Plain test functions annotated `-> None`; no network.",
    "Full type hints (mypy --strict), ruff-clean, lines <= 100 characters.",
] | join(' ') %}
{% call region("route-tests", ["Write pytest tests for the HTTP endpoints of this service, described as:"] + (details | wordwrap(88, break_on_hyphens=False)).split("\n")) %}
import pytest
from fastapi.testclient import TestClient


def test_create_quote(client: TestClient) -> None:
    response = client.post(
        "/v1/quotes",
        json={
            "items": [
                {"sku": "apple", "unit_price_cents": 120, "quantity": 3},
                {"sku": "pear", "unit_price_cents": 95, "quantity": 2},
            ],
            "discount_percent": 10,
        },
    )

    assert response.status_code == 200
    assert response.json() == {"subtotal_cents": 550, "discount_cents": 55, "total_cents": 495}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": []},
        {"items": [{"sku": "", "unit_price_cents": 1, "quantity": 1}]},
        {"items": [{"sku": "apple", "unit_price_cents": -5, "quantity": 1}]},
        {
            "items": [{"sku": "apple", "unit_price_cents": 1, "quantity": 1}],
            "discount_percent": 101,
        },
    ],
)
def test_malformed_requests_are_rejected(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/v1/quotes", json=body)

    assert response.status_code == 422


def test_business_rule_violations_answer_422_with_the_reason(client: TestClient) -> None:
    line = {"sku": "apple", "unit_price_cents": 120, "quantity": 1}

    response = client.post("/v1/quotes", json={"items": [line, line]})

    assert response.status_code == 422
    assert response.json() == {"detail": "each sku may appear only once; merge their quantities"}


{% endcall %}
