"""Queries on a second connection to the index, in a thread, while the first connection works.

A large home's full-text index is two tables (`SectionIndex._build`'s slots), and ranking scores
every row that matches in each: 30-40 ms per table on 10,000 documents. SQLite releases
Python's lock while it works, so on a machine with two cores the second table ranked on a
connection of its own, in a thread, halves what a new task waits for its two rankings.

The two connections each read in a transaction of their own, so another process updating the
index between the two could give them different states. The second one's results are used only
if it saw the state the first one sees (`state`); otherwise, or if it fails, the caller runs
those queries itself, as it would with no second connection at all.

The two connections run fully side by side only once SQLite stops counting its memory (`allow_parallel_reads`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

_T = TypeVar("_T")

# sqlite3_config's option for SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS in sqlite3.h).
_CONFIG_MEMSTATUS = 9


def allow_parallel_reads() -> bool:
    """Turn SQLite's memory statistics off for this process; whether it was done.

    SQLite as built by default counts every allocation under one lock for the whole process, and
    the two connections that rank a large home's two tables, one in a thread, waited on each other
    there: side by side they took up to nearly as long as one after the other, against about as
    long as one table with the counting off (`bench/sqlite_threads.py`; docs/benchmarks.md, run
    18). Python's sqlite3 cannot turn it off; this does, through ctypes, on the library that
    module uses. SQLite takes the setting only between `sqlite3_shutdown` and `sqlite3_initialize`,
    which is safe only while the process holds no connection and runs no other thread: the command
    line calls this once it has parsed the arguments of a command that ranks, and the library API
    never does, as its caller may hold connections of its own. It refuses when another thread runs,
    or when SQLite holds memory (which, while it counts, means a connection is open). Where that
    library cannot be reached (a Python whose sqlite3 is linked into it, Windows's separate DLL),
    nothing changes but the speed.
    """
    if threading.active_count() > 1:
        return False
    try:
        import _sqlite3
        import ctypes

        library = ctypes.CDLL(_sqlite3.__file__)
        shutdown, configure, initialize = library.sqlite3_shutdown, library.sqlite3_config, library.sqlite3_initialize
        memory_used = library.sqlite3_memory_used
    except (ImportError, OSError, AttributeError):
        return False
    memory_used.restype = ctypes.c_int64
    if memory_used() != 0 or shutdown() != sqlite3.SQLITE_OK:
        return False
    configure.argtypes = [ctypes.c_int]  # the rest variadic, as sqlite3_config is (Apple's arm64 passes those apart)
    done: bool = configure(_CONFIG_MEMSTATUS, ctypes.c_int(0)) == sqlite3.SQLITE_OK
    initialize()  # (the first connection would also do it)
    return done


def state(db: sqlite3.Connection) -> tuple[object, ...]:
    """What a connection's read transaction sees of the index's state, compared between the two
    connections: the schema's version, which a new schema or a new slot's table changes, the
    `generation` every update raises (`SectionIndex.refresh`), and which database it is (`database`,
    set when it is created: one removed and built again starts at the same version and generation)."""
    (schema,) = db.execute("PRAGMA schema_version").fetchone()
    rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('database', 'generation')").fetchall())
    return schema, rows.get("database"), rows.get("generation")


class SecondReader:
    """A connection of its own to the database at `path`, for queries run beside the first one's.

    Opened on first use, with `setup` (the index's settings); used by one thread at a time: the
    caller waits for each `start`'s `Pending.result` before the next.
    """

    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None]) -> None:
        self._path = path
        self._setup = setup
        self._db: sqlite3.Connection | None = None

    def start(self, expected: tuple[object, ...], work: Callable[[sqlite3.Connection], _T]) -> Pending[_T]:
        """Run `work` on this connection in a thread, in a read transaction that must see `expected`."""

        def run() -> _T | None:
            try:
                db = self._connection()
                db.execute("BEGIN")
                try:
                    return work(db) if state(db) == expected else None
                finally:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
            except Exception:
                # Whatever it is, the caller runs the queries itself, and meets the error if it is the database's.
                return None

        return Pending(run)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            # `mode=rw`: a database removed meanwhile (found damaged) is not created again here, empty.
            # Absolute: a relative XDG_CACHE_HOME gives a relative path, which has no URI.
            uri = f"{self._path.absolute().as_uri()}?mode=rw"
            db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self._setup(db)
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class Pending(Generic[_T]):
    """`run()` in a thread (`SecondReader.start`): its value once the thread is done."""

    def __init__(self, run: Callable[[], _T | None]) -> None:
        self._value: _T | None = None

        def keep() -> None:
            self._value = run()

        # A daemon: Ctrl-C in the main thread does not wait for a ranking nobody will read.
        self._thread = threading.Thread(target=keep, name="scaffold-index-reader", daemon=True)
        self._thread.start()

    def result(self) -> _T | None:
        self._thread.join()
        return self._value
