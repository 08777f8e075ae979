"""Every endpoint of every resource, through HTTP: the happy paths and the error cases.

Bodies come from tests/factories.py, so these tests hold whatever fields the models declare;
they rely only on `name`.
"""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import new_body

PROBLEM = "application/problem+json"
# Resource -> the path parameter of its item endpoints.
ID_PARAMS = {
    "products": "product_id",
}

pytestmark = pytest.mark.parametrize("resource", list(ID_PARAMS))


def create(client: TestClient, resource: str, name: str) -> dict[str, Any]:
    response = client.post(f"/{resource}", json=new_body(client, resource, name=name))
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == "about:blank"
    assert problem["title"]
    assert problem["instance"] == response.request.url.path
    return problem


def test_create_returns_201_the_record_and_its_location(client: TestClient, resource: str) -> None:
    body = new_body(client, resource, name="  First  ")

    response = client.post(f"/{resource}", json=body)

    assert response.status_code == 201, response.text
    record = response.json()
    assert record["name"] == "First"  # surrounding whitespace is stripped
    assert set(body) <= set(record)  # every field sent is stored and returned
    assert isinstance(record["id"], int)
    assert record["created_at"] == record["updated_at"]
    assert response.headers["location"] == f"http://testserver/{resource}/{record['id']}"
    assert client.get(response.headers["location"]).json() == record


def test_list_returns_records_in_id_order(client: TestClient, resource: str) -> None:
    first = create(client, resource, "First")
    second = create(client, resource, "Second")

    response = client.get(f"/{resource}")

    assert response.status_code == 200
    assert response.json()["items"] == [first, second]


def test_get_returns_the_record(client: TestClient, resource: str) -> None:
    record = create(client, resource, "First")

    response = client.get(f"/{resource}/{record['id']}")

    assert response.status_code == 200
    assert response.json() == record


def test_get_unknown_id_is_a_404_problem(client: TestClient, resource: str) -> None:
    problem = assert_problem(client.get(f"/{resource}/999"), 404)

    assert problem["title"] == "Not Found"
    assert "999" in problem["detail"]


def test_replace_changes_every_field(client: TestClient, resource: str) -> None:
    record = create(client, resource, "First")

    body = new_body(client, resource, name="Renamed")

    response = client.put(f"/{resource}/{record['id']}", json=body)

    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["id"] == record["id"]
    assert replaced["name"] == "Renamed"
    assert replaced["created_at"] == record["created_at"]
    assert datetime.fromisoformat(replaced["updated_at"]) >= datetime.fromisoformat(
        record["updated_at"]
    )
    assert client.get(f"/{resource}/{record['id']}").json() == replaced


def test_replace_unknown_id_is_a_404_problem(client: TestClient, resource: str) -> None:
    assert_problem(client.put(f"/{resource}/999", json=new_body(client, resource)), 404)


def test_replace_with_invalid_body_is_a_422_problem(client: TestClient, resource: str) -> None:
    record = create(client, resource, "First")

    body = {**new_body(client, resource), "name": ""}

    problem = assert_problem(client.put(f"/{resource}/{record['id']}", json=body), 422)

    assert [error["pointer"] for error in problem["errors"]] == ["#/name"]


def test_delete_removes_the_record(client: TestClient, resource: str) -> None:
    record = create(client, resource, "First")

    response = client.delete(f"/{resource}/{record['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get(f"/{resource}/{record['id']}"), 404)


def test_delete_unknown_id_is_a_404_problem(client: TestClient, resource: str) -> None:
    assert_problem(client.delete(f"/{resource}/999"), 404)


def test_ids_are_not_reused(client: TestClient, resource: str) -> None:
    first = create(client, resource, "First")
    assert client.delete(f"/{resource}/{first['id']}").status_code == 204

    second = create(client, resource, "Second")

    assert second["id"] > first["id"]


def test_missing_name_is_a_422_problem_pointing_at_it(client: TestClient, resource: str) -> None:
    body = new_body(client, resource)
    del body["name"]

    problem = assert_problem(client.post(f"/{resource}", json=body), 422)

    assert problem["errors"] == [{"detail": "Field required", "pointer": "#/name"}]


def test_unknown_fields_are_rejected(client: TestClient, resource: str) -> None:
    response = client.post(f"/{resource}", json={**new_body(client, resource), "no_such_field": 1})

    problem = assert_problem(response, 422)
    assert [error["pointer"] for error in problem["errors"]] == ["#/no_such_field"]


def test_malformed_json_is_a_422_problem(client: TestClient, resource: str) -> None:
    response = client.post(
        f"/{resource}", content=b"{not json", headers={"content-type": "application/json"}
    )

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["pointer"].startswith("#")


def test_non_integer_id_is_a_422_problem_naming_the_parameter(
    client: TestClient, resource: str
) -> None:
    problem = assert_problem(client.get(f"/{resource}/abc"), 422)

    assert [error["parameter"] for error in problem["errors"]] == [ID_PARAMS[resource]]
