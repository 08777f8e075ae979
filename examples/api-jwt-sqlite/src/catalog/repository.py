"""Storage: one `Repository` per resource, holding records as JSON-compatible dicts.

Records are schemaless here on purpose: the pydantic models own the fields, so adding
a field to a model needs no migration; SQLite keeps each record as a JSON document.

Every write the routers make runs inside `Repositories.writing()` with the rule checks
before it: two requests cannot both pass a check that only one may (two records with one
name, an order stored for a customer being deleted). `writing()` belongs to one thread in
sync code, and to the request it serves: a `def` endpoint's body or a job's thread, not an
`async def` endpoint, nor a yield dependency (FastAPI may run its two halves, and the
endpoint between them, on different threads).
"""

import asyncio
import gc
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from catalog.settings import Settings


@dataclass(frozen=True, slots=True)
class Record:
    id: int
    data: Mapping[str, Any]
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The record as the `<Name>Read` models expect it."""
        return {
            **self.data,
            "id": self.id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class Repository(Protocol):
    """The storage operations the routers use, in id order."""

    def list_after(self, after: int | None, *, limit: int) -> list[Record]: ...

    def get(self, record_id: int) -> Record | None: ...

    def add(self, data: Mapping[str, Any]) -> Record: ...

    def replace(self, record_id: int, data: Mapping[str, Any]) -> Record | None: ...

    def delete(self, record_id: int) -> bool: ...

    def exists(self, field: str, value: object, *, exclude_id: int | None = None) -> bool:
        """Whether any record other than `exclude_id` has `data[field] == value`."""
        ...


# Every resource's repository by resource name (`stores["customers"]`): how a rule looks up
# records of another resource.
Stores = Mapping[str, Repository]


# How long a write waits for another before it gives up (`StoreBusy`) rather than hang.
BUSY_TIMEOUT = 10


class StoreBusy(TimeoutError):
    """A call waited `BUSY_TIMEOUT` for writes to finish and did nothing: load, not a fault
    (a 503 to send again)."""


def _now() -> datetime:
    return datetime.now(UTC)


# Which request the code running now serves: FastAPI copies it into each thread it runs that
# request's code in. A write step is its thread's and its request's: a step a yield
# dependency wrongly holds stays on a thread FastAPI goes on to run other requests on, and
# they must wait for it like any other, not go through it as if they were inside it.
_request_mark: ContextVar[object | None] = ContextVar("request_mark", default=None)


@contextmanager
def serving_a_request() -> Iterator[None]:
    """Mark what runs in the block as one request's. app.py's middleware enters it for every
    HTTP request."""
    mark = _request_mark.set(object())
    try:
        yield
    finally:
        _request_mark.reset(mark)


def this_request() -> object | None:
    """The mark of the request the code running now serves (`serving_a_request`), or None."""
    return _request_mark.get()


def _refuse_on_event_loop() -> None:
    """`writing()` holds a thread's connection: coroutines on the event loop's one thread (of one
    request, or of none) would share it and pass a check only one may, and a wait would stall
    every other request the loop serves."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError("Repositories.writing() is for sync code: a def endpoint, not an async one")


# A block ended on another thread than the one that began it (a yield dependency's end, or a
# job's code handing it over) frees the store (its transaction rolled back), and fails: it was
# not the one step it was meant to be.
_ENDED_ELSEWHERE = (
    "Repositories.writing() ended on another thread than it began: hold it in a def "
    "endpoint's body, not in a yield dependency"
)


class SqliteRepository:
    """One table per resource in a SQLite file, each record a JSON document.

    Every call opens its own connection, so the repository is safe to share between
    the threads FastAPI runs sync endpoints in; SQLite serialises the writers. Inside
    `Repositories.writing()`, the calls of that thread, for the request it serves, use its
    transaction instead.
    """

    def __init__(self, path: Path, table: str) -> None:
        if not table.isidentifier():
            raise ValueError(f"not a usable table name: {table!r}")
        self._path = path
        self._held_key = path.resolve()
        # Table names come from the resource names fixed at generation time, never
        # from requests, so formatting them into SQL is safe.
        self._table = f'"{table}"'
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                # AUTOINCREMENT: ids are never reused, even after the newest row is deleted.
                " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " data TEXT NOT NULL,"
                " created_at TEXT NOT NULL,"
                " updated_at TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        key = (this_request(), self._held_key)
        held = _held_connections().get(key)
        if held is not None:  # inside `writing()`: its transaction commits or rolls back whole
            try:
                yield held
            finally:
                if _held_connections().get(key) is not held:
                    # Its block was ended on another thread meanwhile, which may not touch it and
                    # left it to this one: closed, it rolls back and unlocks the file now.
                    held.close()
            return
        connect = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT)
        with _busy_is_store_busy(), closing(connect) as connection, connection:
            yield connection

    @staticmethod
    def _record(row: tuple[int, str, str, str]) -> Record:
        record_id, data, created_at, updated_at = row
        return Record(
            record_id,
            json.loads(data),
            created_at=datetime.fromisoformat(created_at),
            updated_at=datetime.fromisoformat(updated_at),
        )

    def list_after(self, after: int | None, *, limit: int) -> list[Record]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id, data, created_at, updated_at FROM {self._table}"
                " WHERE id > ? ORDER BY id LIMIT ?",
                (after or 0, limit),
            ).fetchall()
        return [self._record(row) for row in rows]

    def get(self, record_id: int) -> Record | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT id, data, created_at, updated_at FROM {self._table} WHERE id = ?",
                (record_id,),
            ).fetchone()
        return None if row is None else self._record(row)

    def add(self, data: Mapping[str, Any]) -> Record:
        now = _now()
        with self._connect() as db:
            cursor = db.execute(
                f"INSERT INTO {self._table} (data, created_at, updated_at) VALUES (?, ?, ?)",
                (json.dumps(data), now.isoformat(), now.isoformat()),
            )
        if cursor.lastrowid is None:
            raise sqlite3.DatabaseError(f"INSERT into {self._table} returned no row id")
        return Record(cursor.lastrowid, dict(data), created_at=now, updated_at=now)

    def replace(self, record_id: int, data: Mapping[str, Any]) -> Record | None:
        with self._connect() as db:
            cursor = db.execute(
                f"UPDATE {self._table} SET data = ?, updated_at = ? WHERE id = ?",
                (json.dumps(data), _now().isoformat(), record_id),
            )
            if cursor.rowcount == 0:
                return None
        return self.get(record_id)

    def delete(self, record_id: int) -> bool:
        with self._connect() as db:
            cursor = db.execute(f"DELETE FROM {self._table} WHERE id = ?", (record_id,))
            return cursor.rowcount > 0

    def exists(self, field: str, value: object, *, exclude_id: int | None = None) -> bool:
        with self._connect() as db:
            row = db.execute(
                f"SELECT 1 FROM {self._table}"
                " WHERE json_extract(data, ?) = ? AND id IS NOT ? LIMIT 1",
                (f'$."{field}"', value, exclude_id),
            ).fetchone()
        return row is not None


@contextmanager
def _busy_is_store_busy() -> Iterator[None]:
    """SQLite's "database is locked" once `BUSY_TIMEOUT` is out, as `StoreBusy`: SQLITE_BUSY and
    its extended codes only. SQLITE_LOCKED comes from within one connection: a bug, not load."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        raise StoreBusy(f"the database stayed locked for {BUSY_TIMEOUT} s") from error


# The write transaction each thread holds (`Repositories.writing`), by the request it serves
# and the database file, its path resolved. Every repository on that file uses it meanwhile,
# whoever made the repository: a connection of its own would wait for the lock this very
# thread holds. Another request run on the thread meanwhile has a connection of its own, and
# waits.
_held = threading.local()


# The request a transaction serves (`_request_mark`), or None, and its database file.
_HeldKey = tuple[object | None, Path]


def _held_connections() -> dict[_HeldKey, sqlite3.Connection]:
    connections: dict[_HeldKey, sqlite3.Connection] = _held.__dict__.setdefault("connections", {})
    return connections


class Repositories(dict[str, Repository]):
    """Every resource's repository by name, and the transaction that makes a write one step."""

    def __init__(self, path: Path, names: Iterable[str]) -> None:
        self._path = path
        self._held_key = path.resolve()
        super().__init__((name, SqliteRepository(path, name)) for name in names)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One write transaction for the block, begun at once (BEGIN IMMEDIATE): other writes,
        in this process or another on the same file, wait until it ends (reads only while it
        commits), so the checks run in it still hold when its write is made. An exception
        rolls it back. The block belongs to the thread that began it, which must end it: see
        the module docstring."""
        _refuse_on_event_loop()
        held = _held_connections()
        key = (this_request(), self._held_key)
        if key in held:
            yield
            return
        began_on = threading.get_ident()
        connection = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            with closing(connection):
                with _busy_is_store_busy():
                    connection.execute("BEGIN IMMEDIATE")
                held[key] = connection
                try:
                    yield
                except BaseException:
                    # SQLite may have rolled back already (a full disk).
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
                else:
                    # COMMIT waits for readers to finish (the rollback journal): busy, nothing is
                    # written, and closing the connection rolls back.
                    with _busy_is_store_busy():
                        connection.execute("COMMIT")
                finally:
                    del held[key]
        except sqlite3.ProgrammingError:
            if threading.get_ident() == began_on:
                raise
        else:
            return
        # Ended on another thread (a yield dependency's end): sqlite3 refused the connection here,
        # as using it while its thread may still be inside a call can crash the process. Freed,
        # it rolls the transaction back and unlocks the file: at once, or, when its thread is
        # still inside a call, as that call ends (`SqliteRepository._connect` closes it there);
        # left to Python's own collection, that could take minutes.
        del connection
        gc.collect()
        raise RuntimeError(_ENDED_ELSEWHERE)


def open_repositories(settings: Settings, names: Iterable[str]) -> Repositories:
    """A repository per resource, all in the database file named by the settings."""
    return Repositories(settings.database_path, names)
