"""The committed openapi.json is the API contract; the app must serve exactly that."""

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from shop.app import create_app
from shop.openapi import render
from shop.routers import RESOURCES

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "openapi.json"
REGENERATE = "openapi.json is out of date: run `make openapi` and commit the result"


def committed() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


def test_app_matches_the_committed_contract() -> None:
    assert create_app().openapi() == committed(), REGENERATE


def test_committed_file_is_in_canonical_form() -> None:
    # Hand edits that keep the meaning but not the layout would make noisy diffs later.
    assert OPENAPI_FILE.read_text(encoding="utf-8") == render(committed()), REGENERATE


def test_served_document_is_the_contract(anonymous: TestClient) -> None:
    response = anonymous.get("/openapi.json")

    assert response.status_code == 200
    assert response.json() == committed()


def test_every_error_response_is_documented_as_a_problem() -> None:
    for path, operations in committed()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (
                        f"{method.upper()} {path} {status}"
                    )


def test_every_operation_on_the_store_documents_the_busy_503() -> None:
    # A store too busy to wait for answers 503 with Retry-After (problems.py); clients generated
    # from the contract retry only what it lists. The resources' operations (tagged with their
    # name) all use the store; endpoints of your own that do not (`/healthz`) need not list it.
    resources = {resource.name for resource in RESOURCES}
    for path, operations in committed()["paths"].items():
        for method, operation in operations.items():
            if not resources & set(operation.get("tags", [])):
                continue
            busy = operation["responses"].get("503")
            assert busy is not None, (
                f"{method.upper()} {path} does not document its 503: add 503 to its "
                "problem_responses(...) in routers.py, then `make openapi`"
            )
            assert busy["headers"]["Retry-After"]["schema"] == {"type": "integer"}, (
                f"{method.upper()} {path}"
            )
