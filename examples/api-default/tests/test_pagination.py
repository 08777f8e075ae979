"""Offset pagination, exercised on /orders (every resource shares the code)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from shop.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
)
from tests.factories import new_body

RESOURCE = "orders"
PATH = f"/{RESOURCE}"


def seed(client: TestClient, count: int, first: int = 0) -> list[int]:
    ids = []
    for n in range(first, first + count):
        body = new_body(client, RESOURCE, name=f"order {n}")
        response = client.post(PATH, json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_first_page_has_total_and_next_link(client: TestClient) -> None:
    ids = seed(client, 5)

    page = client.get(PATH, params={"limit": 2}).json()

    assert [item["id"] for item in page["items"]] == ids[:2]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 0)
    assert page["links"] == {"next": f"http://testserver{PATH}?limit=2&offset=2", "prev": None}


def test_last_page_has_prev_link_and_no_next(client: TestClient) -> None:
    ids = seed(client, 5)

    page = client.get(PATH, params={"limit": 2, "offset": 4}).json()

    assert [item["id"] for item in page["items"]] == ids[4:]
    assert page["links"] == {"next": None, "prev": f"http://testserver{PATH}?limit=2&offset=2"}


def test_following_next_links_visits_every_record_once(client: TestClient) -> None:
    ids = seed(client, 7)
    seen: list[int] = []
    url: str | None = f"{PATH}?limit=3"

    while url:
        page: dict[str, Any] = client.get(url).json()
        seen.extend(item["id"] for item in page["items"])
        url = page["links"]["next"]

    assert seen == ids


def test_defaults_apply_without_parameters(client: TestClient) -> None:
    page = client.get(PATH).json()

    assert page == {
        "items": [],
        "total": 0,
        "limit": DEFAULT_LIMIT,
        "offset": 0,
        "links": {"next": None, "prev": None},
    }


def test_offset_past_the_end_is_an_empty_page(client: TestClient) -> None:
    seed(client, 2)

    page = client.get(PATH, params={"offset": 10}).json()

    assert page["items"] == []
    assert page["total"] == 2


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_out_of_range_parameters_are_422_problems(
    client: TestClient, params: dict[str, Any], parameter: str
) -> None:
    response = client.get(PATH, params=params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["parameter"] for error in response.json()["errors"]] == [parameter]
