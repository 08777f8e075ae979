"""The sqlite repository on its own: ordering, id allocation, concurrency, durability."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from catalog.repository import (
    Repository,
    SqliteRepository,
)


@pytest.fixture
def repository(tmp_path: Path) -> SqliteRepository:
    return SqliteRepository(tmp_path / "data" / "test.sqlite3", "things")


def test_add_then_get_round_trips(repository: Repository) -> None:
    added = repository.add({"name": "a", "tags": ["x", "y"], "size": 3})

    assert repository.get(added.id) == added
    assert added.data == {"name": "a", "tags": ["x", "y"], "size": 3}
    assert repository.get(added.id + 1) is None


def test_replace_keeps_created_at_and_moves_updated_at(repository: Repository) -> None:
    added = repository.add({"name": "a"})

    replaced = repository.replace(added.id, {"name": "b"})

    assert replaced is not None
    assert replaced.data == {"name": "b"}
    assert replaced.created_at == added.created_at
    assert replaced.updated_at >= added.updated_at
    assert repository.replace(added.id + 1, {"name": "c"}) is None


def test_ids_are_never_reused_even_after_deleting_the_newest(repository: Repository) -> None:
    first = repository.add({"name": "a"})
    assert repository.delete(first.id)
    assert not repository.delete(first.id)

    assert repository.add({"name": "b"}).id > first.id


def test_exists_can_exclude_one_record(repository: Repository) -> None:
    record = repository.add({"name": "a"})

    assert repository.exists("name", "a")
    assert not repository.exists("name", "b")
    assert not repository.exists("name", "a", exclude_id=record.id)


def test_any_declared_field_round_trips_and_can_be_looked_up(repository: Repository) -> None:
    # The models own the fields (a fill may declare any): storage keeps whatever JSON they dump.
    data = {
        "name": "SO-1",
        "customer_id": 7,
        "total": 149.9,
        "paid": True,
        "placed_on": "2026-01-31",
        "lines": [{"sku": "A-1", "quantity": 2}],
    }
    added = repository.add(data)

    stored = repository.get(added.id)
    assert stored is not None
    assert stored.data == data
    assert repository.exists("customer_id", 7)
    assert not repository.exists("customer_id", 8)
    assert repository.exists("total", 149.9)
    assert repository.exists("paid", True)
    assert not repository.exists("paid", False)
    assert repository.exists("placed_on", "2026-01-31")
    assert not repository.exists("no_such_field", "SO-1")


def test_pages_follow_id_order(repository: Repository) -> None:
    ids = [repository.add({"n": n}).id for n in range(5)]

    assert [r.id for r in repository.list_after(None, limit=2)] == ids[:2]
    assert [r.id for r in repository.list_after(ids[1], limit=10)] == ids[2:]


def test_concurrent_writers_get_distinct_ids(repository: Repository) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        records = list(pool.map(lambda n: repository.add({"n": n}), range(64)))

    assert len({record.id for record in records}) == 64
    stored = [repository.get(record.id) for record in records]
    assert sorted(s.data["n"] for s in stored if s is not None) == list(range(64))


def test_records_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "test.sqlite3"
    added = SqliteRepository(path, "things").add({"name": "kept"})

    assert SqliteRepository(path, "things").get(added.id) == added


def test_resources_do_not_share_tables(tmp_path: Path) -> None:
    path = tmp_path / "test.sqlite3"
    SqliteRepository(path, "things").add({"name": "a"})

    assert SqliteRepository(path, "others").get(1) is None


def test_unusable_table_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="table name"):
        SqliteRepository(tmp_path / "test.sqlite3", 'x"; DROP TABLE things; --')
