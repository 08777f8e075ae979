"""Cursor pagination, exercised on /products (every resource shares the code)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    encode_cursor,
)
from tests.factories import new_body

RESOURCE = "products"
PATH = f"/{RESOURCE}"


def seed(client: TestClient, count: int, first: int = 0) -> list[int]:
    ids = []
    for n in range(first, first + count):
        body = new_body(client, RESOURCE, name=f"product {n}")
        response = client.post(PATH, json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def walk(client: TestClient, limit: int) -> list[int]:
    seen: list[int] = []
    url: str | None = f"{PATH}?limit={limit}"
    while url:
        page: dict[str, Any] = client.get(url).json()
        seen.extend(item["id"] for item in page["items"])
        url = page["links"]["next"]
    return seen


def test_first_page_has_a_cursor_to_the_next(client: TestClient) -> None:
    ids = seed(client, 5)

    page = client.get(PATH, params={"limit": 2}).json()

    assert [item["id"] for item in page["items"]] == ids[:2]
    assert page["next_cursor"]
    assert page["links"]["next"] == f"http://testserver{PATH}?limit=2&cursor={page['next_cursor']}"


def test_following_cursors_visits_every_record_once(client: TestClient) -> None:
    ids = seed(client, 7)

    assert walk(client, limit=3) == ids
    assert walk(client, limit=7) == ids


def test_last_page_has_no_cursor(client: TestClient) -> None:
    seed(client, 2)

    page = client.get(PATH, params={"limit": 2}).json()

    assert len(page["items"]) == 2
    assert page["next_cursor"] is None
    assert page["links"] == {"next": None}


def test_empty_collection(client: TestClient) -> None:
    assert client.get(PATH).json() == {"items": [], "next_cursor": None, "links": {"next": None}}


def test_records_added_or_removed_between_pages_are_not_skipped(client: TestClient) -> None:
    ids = seed(client, 4)
    page = client.get(PATH, params={"limit": 2}).json()
    # Delete the last record the client has seen.
    assert client.delete(f"{PATH}/{ids[1]}").status_code == 204
    added = seed(client, 1, first=4)

    rest = client.get(PATH, params={"limit": DEFAULT_LIMIT, "cursor": page["next_cursor"]}).json()

    assert [item["id"] for item in rest["items"]] == ids[2:] + added


@pytest.mark.parametrize("cursor", ["not-a-cursor", "%%%", encode_cursor(1)[:-2], ""])
def test_cursors_not_made_by_the_api_are_422_problems(client: TestClient, cursor: str) -> None:
    response = client.get(PATH, params={"cursor": cursor})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"detail": "Not a cursor returned by this API", "parameter": "cursor"}
    ]


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1])
def test_limit_out_of_range_is_a_422_problem(client: TestClient, limit: int) -> None:
    response = client.get(PATH, params={"limit": limit})

    assert response.status_code == 422
    assert [error["parameter"] for error in response.json()["errors"]] == ["limit"]
