"""Storage: one `Repository` per resource, holding records as JSON-compatible dicts.

Records are schemaless here on purpose: the pydantic models own the fields, so adding
a field to a model needs no migration.

Every write the routers make runs inside `Repositories.writing()` with the rule checks
before it: two requests cannot both pass a check that only one may (two records with one
name, an order stored for a customer being deleted). `writing()` belongs to one thread in
sync code, and to the request it serves: a `def` endpoint's body or a job's thread, not an
`async def` endpoint, nor a yield dependency (FastAPI may run its two halves, and the
endpoint between them, on different threads).
"""

import asyncio
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol


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

    def count(self) -> int: ...

    def list_page(self, *, limit: int, offset: int) -> list[Record]: ...

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
    """`writing()` holds a thread's lock: coroutines on the event loop's one thread (of one
    request, or of none) would share it and pass a check only one may, and a wait would stall
    every other request the loop serves."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError("Repositories.writing() is for sync code: a def endpoint, not an async one")


# A block ended on another thread than the one that began it (a yield dependency's end, or a
# job's code handing it over) frees the store (what it wrote stays), and fails: it was
# not the one step it was meant to be.
_ENDED_ELSEWHERE = (
    "Repositories.writing() ended on another thread than it began: hold it in a def "
    "endpoint's body, not in a yield dependency"
)


# A thread's ident, and the request it serves (`_request_mark`) or None.
_Holder = tuple[int, object | None]


def _holder() -> _Holder:
    """Whose a write step begun here is: this thread's, serving this request (or none). A
    thread, not a request: threads of one request side by side (gathered `run_in_threadpool`
    calls) must not share a step."""
    return threading.get_ident(), this_request()


_NOT_BEGUN = "Repositories.writing() ended more often than it began"


class StoreLock:
    """The lock every store of an app shares (`Repositories`).

    Held by a thread serving a request, or none (`_holder`), and reentrant for it, as the calls
    made inside `writing()` take it again. Waiting longer than `BUSY_TIMEOUT` is `StoreBusy`,
    not a hang. A `writing()` block ended on another thread (`_Step`) releases the hold it
    began, with an error: kept, the lock would stop every store until a restart.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._books = threading.Lock()  # guards the three below, never held while waiting
        self._owner: _Holder | None = None
        self._depth = 0
        # Holders whose block another thread ended while they were nested inside it, and how
        # many levels each has yet to leave: those exits fail too, and must not release the lock
        # a later owner has taken since. An entry whose levels are never left stays (keeping its
        # request's mark alive); only that holder's next misuse reads it.
        self._cut_short: dict[_Holder, int] = {}

    def __enter__(self) -> None:
        me = _holder()
        with self._books:
            if self._owner == me:
                self._depth += 1
                return
        if not self._lock.acquire(timeout=BUSY_TIMEOUT):
            raise StoreBusy(f"the store stayed locked for {BUSY_TIMEOUT} s")
        with self._books:
            self._owner, self._depth = me, 1

    def __exit__(self, *exc_info: object) -> None:
        self.leave(began=None)

    def leave(self, began: _Holder | None) -> None:
        """Leave a level: the caller's own or, from another thread, the hold of the block that
        `began` began (`_Step`), if the lock is still that hold."""
        me = _holder()
        with self._books:
            if self._owner == me:  # its own level: the last one frees the lock
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._lock.release()
                return
            left = self._cut_short.pop(me, 0)
            if left > 1:
                self._cut_short[me] = left - 1
            if left:  # a level of a block another thread ended for it
                raise RuntimeError(_ENDED_ELSEWHERE)
            if self._owner is None:
                raise RuntimeError(_NOT_BEGUN)
            if began != self._owner:  # that hold was ended already: the lock is another's now
                raise RuntimeError(_ENDED_ELSEWHERE)
            # The block's own hold, ended on another thread: freed, or every store would stay
            # locked until a restart.
            cut, nested = self._owner, self._depth - 1
            if nested:
                self._cut_short[cut] = self._cut_short.get(cut, 0) + nested
            self._owner, self._depth = None, 0
            self._lock.release()
        raise RuntimeError(_ENDED_ELSEWHERE)


class _Step:
    """One `writing()` block: its end leaves the hold its beginning took, on whichever thread it
    comes (a yield dependency's end, a generator Python finalises), and never a hold another
    has taken since."""

    def __init__(self, lock: StoreLock) -> None:
        self._lock = lock
        self._began: _Holder | None = None

    def __enter__(self) -> None:
        self._lock.__enter__()
        self._began = _holder()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.leave(self._began)


class MemoryRepository:
    """Records in a dict behind a lock: FastAPI runs the sync endpoints in a thread pool.

    Data lives as long as the process; use it for tests, demos and prototypes.
    """

    def __init__(self, lock: StoreLock | None = None) -> None:
        self._lock = lock if lock is not None else StoreLock()
        self._records: dict[int, Record] = {}
        self._last_id = 0

    def count(self) -> int:
        with self._lock:
            return len(self._records)

    def list_page(self, *, limit: int, offset: int) -> list[Record]:
        with self._lock:
            # Ids only grow and dicts keep insertion order, so this is id order.
            return list(self._records.values())[offset : offset + limit]

    def get(self, record_id: int) -> Record | None:
        with self._lock:
            return self._records.get(record_id)

    def add(self, data: Mapping[str, Any]) -> Record:
        now = _now()
        with self._lock:
            self._last_id += 1
            record = Record(self._last_id, dict(data), created_at=now, updated_at=now)
            self._records[record.id] = record
            return record

    def replace(self, record_id: int, data: Mapping[str, Any]) -> Record | None:
        with self._lock:
            current = self._records.get(record_id)
            if current is None:
                return None
            record = replace(current, data=dict(data), updated_at=_now())
            self._records[record_id] = record
            return record

    def delete(self, record_id: int) -> bool:
        with self._lock:
            return self._records.pop(record_id, None) is not None

    def exists(self, field: str, value: object, *, exclude_id: int | None = None) -> bool:
        with self._lock:
            return any(
                r.data.get(field) == value and r.id != exclude_id for r in self._records.values()
            )


class Repositories(dict[str, Repository]):
    """Every resource's repository by name, and the lock that makes a write one step."""

    def __init__(self, names: Iterable[str]) -> None:
        self._lock = StoreLock()
        super().__init__((name, MemoryRepository(self._lock)) for name in names)

    def writing(self) -> _Step:
        """Hold every store: no other request reads or writes until the block ends, so the
        checks run in it still hold when its write is made. A lock, not a transaction: what
        the block wrote before an exception stays."""
        _refuse_on_event_loop()
        return _Step(self._lock)


def open_repositories(names: Iterable[str]) -> Repositories:
    """A fresh, empty repository per resource."""
    return Repositories(names)
