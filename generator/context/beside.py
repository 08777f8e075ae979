"""Queries on a second connection to the index, in a thread, while the first connection works.

A large home's full-text index is two tables (`SectionIndex._build`'s slots), and ranking scores
every row that matches in each: about 30 ms per table on 10,000 documents. SQLite releases
Python's lock while it works, so on a machine with two cores the second table ranked on a
connection of its own, in a thread, halves what a new task waits for its two rankings.

The two connections each read in a transaction of their own, so another process updating the
index between the two could give them different states. The second one's results are used only
if it saw the state the first one sees (`state`); otherwise, or if it fails, the caller runs
those queries itself, as it would with no second connection at all.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

_T = TypeVar("_T")

# What changes whenever an update changes what the full-text tables hold: every update that adds
# rows raises `next_id` (ids are never reused), one that only removes files changes `stamps`, and
# a rebuild in slots, or of another schema, changes the schema. Compared between the connections.
_STATE = "SELECT (SELECT group_concat(key || '=' || value, ';') FROM meta WHERE key IN ('next_id', 'stamps', 'dead'))"


def state(db: sqlite3.Connection) -> tuple[object, ...]:
    """What a connection's read transaction sees of the index's state (see `_STATE`)."""
    (schema,) = db.execute("PRAGMA schema_version").fetchone()
    (values,) = db.execute(_STATE).fetchone()
    return schema, values


class SecondReader:
    """A connection of its own to the database at `path`, for queries run beside the first one's.

    Opened on first use; used by one thread at a time (`Pending.result` waits for the thread).
    """

    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None]) -> None:
        self._path = path
        self._setup = setup
        self._db: sqlite3.Connection | None = None

    def start(self, expected: tuple[object, ...], work: Callable[[sqlite3.Connection], _T]) -> Pending[_T]:
        """Run `work` on this connection in a thread, in a read transaction that must see `expected`."""
        pending: Pending[_T] = Pending()

        def run() -> None:
            try:
                db = self._connection()
                db.execute("BEGIN")
                try:
                    if state(db) == expected:
                        pending.value = work(db)
                finally:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the caller runs the queries itself, and meets the error if it is the database's

        # A daemon: Ctrl-C in the main thread does not wait for a ranking nobody will read.
        pending.thread = threading.Thread(target=run, name="scaffold-index-reader", daemon=True)
        pending.thread.start()
        return pending

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            # `mode=rw`: a database removed meanwhile (found damaged) is not created again here, empty.
            uri = f"{self._path.as_uri()}?mode=rw"
            db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self._setup(db)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class Pending(Generic[_T]):
    """What `SecondReader.start` runs: its value once the thread is done, None if it gave none."""

    def __init__(self) -> None:
        self.value: _T | None = None
        self.thread: threading.Thread | None = None

    def result(self) -> _T | None:
        if self.thread is not None:
            self.thread.join()
        return self.value
