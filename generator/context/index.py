"""The index of a knowledge home: one SQLite database per home under the user cache dir.

It holds every file's path, size, mtime, ctime (ctime moves when permissions change, so a
file made readable is picked up) and inode (a symlink pointed at another file), each
document's sections (byte offsets, token estimates), and an FTS5 full-text index of the
sections (Porter stemming, BM25 ranking). A run stats the files and re-reads only those whose
stat changed (or that a reading found changed: `reread`); the text itself is read from the
files, only for the sections selected (`generator.context.documents`), and checked against the
digest each file's row keeps. A large build is split by files between processes, one
full-text table each (`generator.context.parallel`), and a ranking searches the second table
on a second connection (`generator.context.beside`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import glob
import hashlib
import heapq
import itertools
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from generator.context import beside, parallel
from generator.context import sections as home_files
from generator.context.sections import FileEntry, Section, StubPatterns
from generator.errors import IndexDamagedError, one_line
from generator.plumbing import cachefile

# The schema version (SQLite's user_version): a database with any other is rebuilt. Also raised
# when files are split differently (6: front matter joins the first section; 7: setext headings; 8: a
# setext heading's text stripped as an ATX heading's is; 9: only a document's first megabyte, and no
# file holding NUL bytes; 10: a CRLF blank line is a cut point), so that no index keeps the old split
# of files that did not change. 11: each file's digest is kept; 12-14: the warning for a file in
# another encoding says how to convert it (the index keeps warnings); 15: each file's inode is a
# stamp (a symlink pointed at another file of the same size and times).
INDEX_VERSION = 15

# Ranking weights of the columns: a query word in a document's title counts four times, in a
# section's headings twice, in its text once.
RANK_WEIGHTS = (4.0, 2.0, 1.0)
# Waiting for another scaffold process that is writing the index.
BUSY_TIMEOUT_SECONDS = 30.0
# Rows of edited or removed files stay in the full-text index, hidden, until they are this
# share of it; then it is rebuilt from the files.
MAX_DEAD_SHARE = 0.25
# Hidden rows still count in BM25's statistics (a contentless FTS5 table cannot delete a row
# without its old text), so a home edited here ranks a little differently from the same files
# indexed afresh on a teammate's machine: one appended line flipped a document at the cutoff.
# A home of at most this many files and bytes is rebuilt instead whenever a file was edited or
# removed, and ranks alike everywhere. It costs re-reading every file, against the issue's
# "only changed files re-read", for a home where that is quick: 289 files (1.5 MB) rebuilt in
# 0.09 s, where re-reading the one edited file took 0.004 s.
SMALL_HOME_FILES = 300
SMALL_HOME_BYTES = 2_000_000
# SQLite's page cache while indexing: enough to keep FTS5's merges in memory.
CACHE_KIB = 16_000
# FTS5's in-memory index before it is written out (see `SectionIndex.create`); it bounds the
# memory a build adds.
FTS_HASH_BYTES = 16_000_000
# Rankings of recent queries are kept until the files change.
QUERY_CACHE = 256
# A build is split into slots of this many files at least (see `SectionIndex._build`): below it a
# slot's word counts, which rank its sections, could stray from the whole home's; and a home
# of fewer files builds in about a second anyway.
FILES_PER_SLOT = 1000
# And into two at most, whatever the machine: the file count alone decides, so that a home is
# ranked alike on a laptop, on CI and under `scaffold mcp`. Two met the cold target on 2 cores.
MAX_SLOTS = 2
# Folders holding at most this many sections are ranked by their row ids (`SectionIndex._rank_few`):
# the project contexts, a small home's folders. Not tuned: ranges pay off for a small folder in a
# large home, while for a large folder they read about what filtering by folder reads.
FEW_SECTIONS = 500
# A range bridges gaps of up to this many other rows (the other slot's, a file of another folder
# indexed in between): a few more rows read, fewer queries.
RUN_GAP = 64
# More ranges than this (rows scattered by edits, each file renumbered at the end), and one query
# filtering by folder costs less than a query per range.
MAX_RUNS = 40
# Once its own slots are done, the caller waits WORKER_GRACE times what they took, at least
# WORKER_MIN_WAIT_SECONDS; a worker still running then is killed and its slot indexed here. The
# slots are equal halves, so a worker that far behind is stuck, for whatever reason: a safety
# net, so that it cannot hang scaffold.
WORKER_GRACE = 3.0
WORKER_MIN_WAIT_SECONDS = 10.0
# Values bound in one `IN (...)` list: SQLite before 3.32 takes at most 999 parameters in a statement.
IN_CHUNK = 500
_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER,
    warning TEXT, stub INTEGER NOT NULL DEFAULT 0, sections INTEGER NOT NULL DEFAULT 0, digest TEXT
);
CREATE TABLE sections(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, folder TEXT NOT NULL, ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL, trail TEXT NOT NULL, line INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, tokens INTEGER NOT NULL, stub INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE queries(key TEXT PRIMARY KEY, hits TEXT NOT NULL, used INTEGER NOT NULL);
"""
_SECTIONS_BY_PATH = "CREATE INDEX sections_by_path ON sections(path, ordinal)"
# The columns a `Section` is made of, in its fields' order (its digest is its document's, in `files`).
_SECTION_COLUMNS = 'path, ordinal, heading, trail, line, start, "end", tokens'
# The full-text index: `fts`, and `fts1`, `fts2`, ... when a build was split into slots (see
# `SectionIndex._build`). Contentless: the text stays in the files.
_FTS_TABLE = "CREATE VIRTUAL TABLE {name} USING fts5(title, headings, body, content='', tokenize='porter unicode61')"
_FTS_NAME = re.compile(r"fts[0-9]*")
# An FTS5 table's own tables (a contentless one has no `_content`): a slot's table is copied through them.
_FTS_SHADOWS = ("data", "idx", "docsize", "config")


# Each table's columns and the types its rows must have (`damage_found`): NULL too where the schema allows it.
_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "meta": {"key": ("text",), "value": ("text",)},
    "files": {"path": ("text",), "warning": ("text", "null"), "sections": ("integer",), "digest": ("text", "null")},
    "sections": {
        "path": ("text",), "folder": ("text",), "ordinal": ("integer",), "heading": ("text",), "trail": ("text",),
        "line": ("integer",), "start": ("integer",), '"end"': ("integer",), "tokens": ("integer",),
    },
    "queries": {"hits": ("text",)},
}  # fmt: skip


def damage_found(path: Path) -> str | None:
    """What is damaged in the index at `path`, looked for after an error its use may have caused (a text
    turned into a blob by one flipped bit breaks selection far from where it was read); None when
    nothing is, and the error was scaffold's own: raised, not hidden by a rebuild on every run. Opened
    read-only, on its own connection: SQLite's quick check, every table of the schema and of the
    full-text index there, and each column's type in every row (a few milliseconds per thousand
    documents, only on that error's way out)."""
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as error:
        return str(error)
    try:
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            return f"quick check: {check[0] if check else 'no answer'}"
        names = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        wanted = {*_TYPES, "fts", *(f"fts_{shadow}" for shadow in _FTS_SHADOWS)}
        if missing := sorted(wanted - names):
            return f"no such table: {', '.join(missing)}"
        for table, columns in _TYPES.items():
            for column, types in columns.items():
                allowed = ", ".join(f"'{kind}'" for kind in types)
                query = f"SELECT 1 FROM {table} WHERE typeof({column}) NOT IN ({allowed}) LIMIT 1"
                if db.execute(query).fetchone() is not None:
                    return f"a value of {table}.{column} of another type"
    except sqlite3.Error as error:
        return str(error)
    finally:
        db.close()
    return None


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink()


_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


# What SQLite says of a table or column of its own schema that is not there, or a text it cannot decode:
# a file damaged where its checks do not look (the schema version is intact).
_DAMAGE = re.compile(r"no such (?:table|column)|could not decode|malformed|invalid fts5 file format", re.IGNORECASE)


class StoredValueError(ValueError):
    """A value scaffold stored in the index that no longer parses (`_stored`)."""


def _stored(parse: Callable[[], _Result]) -> _Result:
    """`parse()` of what the index holds (a count, the cached hits' JSON); StoredValueError if it fails,
    which `damaged` takes for damage. Only here: a ValueError of scaffold's own code is a bug, not a
    reason to delete the user's index on every run."""
    try:
        return parse()
    except (ValueError, TypeError) as error:
        raise StoredValueError(str(error)) from error


def damaged(error: BaseException) -> bool:
    """Whether `error`, raised reading the index, says the file is damaged rather than busy or read-only:
    SQLite's corrupt or not-a-database codes, a table or column of the schema missing, a text not UTF-8;
    or a value scaffold stored that no longer parses (`StoredValueError`)."""
    if isinstance(error, StoredValueError):
        return True
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or bool(_DAMAGE.search(str(error)))


def _damage_removes(
    method: Callable[Concatenate[SectionIndex, _Params], _Result],
) -> Callable[Concatenate[SectionIndex, _Params], _Result]:
    """An index query that finds the database damaged removes it and says so (the next run builds it
    again): left in place, it would fail every run, as SQLite only finds damage where it reads."""

    def checked(index: SectionIndex, /, *args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        try:
            return method(index, *args, **kwargs)
        except (sqlite3.DatabaseError, StoredValueError) as error:
            if not damaged(error) or index.path is None:
                raise
            index.close()
            remove_database(index.path)
            # The context API builds it anew and runs once more (`api._again_if_changed`).
            raise IndexDamagedError(
                f"the context index {index.path} was damaged ({one_line(error)}); it is removed: run again to build it"
            ) from None

    functools.update_wrapper(checked, method)
    return checked


class SectionIndex:
    """One SQLite database: the files, their sections, and an FTS5 index of the sections.

    The full-text index is contentless (the text stays in the files), so a file that changes
    leaves its old rows behind; they are hidden by the `sections` table, which has only live
    rows, and dropped when the index is rebuilt. It is one FTS5 table, or one per slot of a
    large home (`_build`). Writers take SQLite's write lock for the whole update (`BEGIN
    IMMEDIATE`); readers are never blocked (WAL). `user_version` is the schema version: any
    other value means rebuild.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self.db = connection
        self.path = path
        self._next_id = 0
        self._fts: tuple[int, list[str]] | None = None
        # Ranks the other full-text tables while `db` ranks the first (`_best`); none in memory.
        self._reader = None if path is None else beside.SecondReader(path, self._tune)

    @classmethod
    def open(cls, path: Path | None, scratch: bool = False) -> SectionIndex:
        """The index at `path` (in memory for None); a `scratch` one is one process's slot of a
        build, thrown away after it is copied, so it is written without a journal."""
        index = cls(cls._connect(path, scratch), path)
        if index.version() != INDEX_VERSION:
            index.create()
        return index

    @classmethod
    def open_current(cls, path: Path) -> SectionIndex | None:
        """The index at `path` if it exists with this version's schema; None otherwise. Unlike `open`,
        it creates and writes nothing, so it never waits for another process's update."""
        if not path.is_file():
            return None
        index = cls(cls._connect(path, scratch=False), path)
        if index.version() != INDEX_VERSION:
            index.close()
            return None
        return index

    def close(self) -> None:
        """Close both connections (`_best`'s reader too): a dropped index holds no file open."""
        if self._reader is not None:
            self._reader.close()
        self.db.close()

    @staticmethod
    def _connect(path: Path | None, scratch: bool) -> sqlite3.Connection:
        if path is None:
            connection = sqlite3.connect(":memory:", isolation_level=None)
        else:
            # Asked first: nothing is made in a folder another user could have put files in.
            if unsafe := cachefile.not_private(path.parent):
                raise PermissionError(errno.EPERM, unsafe)  # built in memory instead (`load_library`)
            cachefile.make_folder(path.parent)
            for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
                if not cachefile.owned(file):  # put there by another user before the folder was private
                    file.unlink(missing_ok=True)
            # Private to the user: the index holds the home's headings. WAL files take this mode.
            with contextlib.suppress(FileExistsError):
                if path.is_symlink():
                    # Never ours: SQLite would follow a link, a dangling one too, and create the index
                    # where it points, with the umask's mode (one to a file that is no index is
                    # replaced as damaged later; this one must go before SQLite opens it).
                    path.unlink(missing_ok=True)  # another process may have removed it first
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            connection.execute("PRAGMA journal_mode=OFF" if scratch else "PRAGMA journal_mode=WAL")
        SectionIndex._tune(connection)
        return connection

    @staticmethod
    def _tune(connection: sqlite3.Connection) -> None:
        """The settings of every connection to an index, `_best`'s reader's too."""
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        # Never flushed to the disk: the index is a cache of what the files say. A process that
        # dies leaves it whole (WAL); only the machine crashing right after an update could leave
        # it damaged, and one that SQLite finds damaged is rebuilt. Flushing a cold build of
        # 10,000 documents took 0.13 s of its 3.
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def create(self) -> None:
        """Replace whatever the database holds with the empty current schema."""
        with self.transaction():
            if self.version() == INDEX_VERSION:
                return  # another process did it while we waited for the lock
            # Virtual tables first: each takes its own tables with it.
            for kind in ("CREATE VIRTUAL TABLE%", "%"):
                query = "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE ?"
                for (table,) in self.db.execute(query, (kind,)).fetchall():
                    self.db.execute(f'DROP TABLE IF EXISTS "{table}"')
            for statement in [*_SCHEMA.split(";"), _SECTIONS_BY_PATH]:
                if statement.strip():
                    self.db.execute(statement)
            self._create_fts("fts")
            # Tells this database from one created in its place (removed as damaged, and built again):
            # the two can be at the same schema version and generation (see `beside.state`).
            self._set_meta("database", os.urandom(8).hex())
            self.db.execute(f"PRAGMA user_version = {INDEX_VERSION}")

    def _create_fts(self, name: str) -> None:
        self.db.execute(_FTS_TABLE.format(name=name))
        self.db.execute(f"INSERT INTO {name}({name}, rank) VALUES ('automerge', 8)")
        # FTS5 writes its in-memory index to disk as a new segment whenever it grows past
        # this size, and merges segments later: with the default 1 MB a cold build of
        # 50 MB spends a quarter of its time merging. The option is not in FTS5's
        # documentation, so a library without it only builds slower.
        with contextlib.suppress(sqlite3.OperationalError):
            self.db.execute(f"INSERT INTO {name}({name}, rank) VALUES ('hashsize', ?)", (FTS_HASH_BYTES,))

    def _fts_tables(self) -> list[str]:
        """The full-text tables: `fts`, then those of a build's other slots.

        Read again whenever the schema changed: another process may have rebuilt the index in
        slots since this one looked.
        """
        version = int(self.db.execute("PRAGMA schema_version").fetchone()[0])
        if self._fts is None or self._fts[0] != version:
            rows = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")
            names = [str(name) for (name,) in rows if _FTS_NAME.fullmatch(str(name))]
            if "fts" not in names:  # `create` always makes it: gone, ranking would find nothing, unsaid
                raise sqlite3.OperationalError("no such table: fts")
            self._fts = (version, sorted(names, key=lambda name: (len(name), name)))
        return self._fts[1]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _stamps(self) -> dict[str, tuple[int, int, int, int]]:
        rows = self.db.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files")
        return {path: (size, mtime, ctime, inode) for path, size, mtime, ctime, inode in rows}

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def refresh(self, root: Path, entries: list[FileEntry], stubs: StubPatterns, reread: Collection[str] = ()) -> None:
        """Bring the index up to date with `entries`, reading only what changed, and `reread`: files a
        reading found changed whatever their stamps say (saved twice within one tick of a coarse
        clock, a file keeps its size and times)."""
        if not reread and not self._stale(entries, stubs):
            return
        # `after` runs once the transaction has ended: SQLite detaches a database only then.
        with contextlib.ExitStack() as after, self.transaction():
            self._sweep_scratch()
            rebuild = self._meta("stubs") != stubs.digest  # stub rules changed: look at every file again
            known = self._stamps()
            current = {entry.path for entry in entries}
            changed = [e for e in entries if e.path in reread or known.get(e.path) != e.stamps]
            dead = _stored(lambda: int(self._meta("dead") or 0))
            # Half the stamps changed at once or more is a checkout (a fresh one, beside a cache
            # restored in CI). An index that went through edits (hidden rows; fewer tables than a
            # build now makes) is then built again, and ranks as a fresh build does on every machine;
            # one as a build left it keeps the rows of the files whose bytes did not change, as always.
            checkout = _half(len(changed), len(entries))
            as_built = dead == 0 and len(self._fts_tables()) == _slots(len(entries))
            if not rebuild and (as_built or not checkout):
                changed = self._restamp_unchanged(root, changed, known, reread, len(entries))
            gone = [path for path in known if path not in current] + [e.path for e in changed if e.path in known]
            for path in gone:
                dead += self.db.execute("DELETE FROM sections WHERE path = ?", (path,)).rowcount
                self.db.execute("DELETE FROM files WHERE path = ?", (path,))
            most = _most_changed(len(changed), len(entries))
            small = len(entries) <= SMALL_HOME_FILES and sum(entry.size for entry in entries) <= SMALL_HOME_BYTES
            edited = dead > MAX_DEAD_SHARE * max(self._count("sections"), 1000) or (dead > 0 and small)
            anew = rebuild or most or (checkout and not as_built) or edited
            if anew:
                self.db.execute("DELETE FROM files")
                self.db.execute("DELETE FROM sections")
                for table in self._fts_tables():
                    self.db.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")
                changed, dead = entries, 0
            # Row ids are never reused: the full-text index may still hold an old row under one.
            top = self.db.execute("SELECT coalesce(max(id), 0) FROM sections").fetchone()[0]
            self._next_id = max(int(top) + 1, _stored(lambda: int(self._meta("next_id") or 0)))
            copied = False
            if anew:
                copied = self._build(root, stubs, changed, after)
            else:
                self._next_id = self._add(root, stubs, changed, self._next_id, 1, "fts")
            self._set_meta("next_id", str(self._next_id))
            if changed or gone:  # only stamps changed: the same rows, and the same rankings
                self.db.execute("DELETE FROM queries")
            # Raised by every update: `beside.state` compares it between two connections.
            self._set_meta("generation", str(_stored(lambda: int(self._meta("generation") or 0)) + 1))
            self._set_meta("dead", str(dead))
            self._set_meta("stubs", stubs.digest)
            self._set_meta("stamps", stamps_digest(entries))
            sizes = dict(self.db.execute("SELECT folder, count(*) FROM sections GROUP BY folder").fetchall())
            self._set_meta("folders", json.dumps(sizes))
        if copied:
            # FTS5 keeps what it read of a table's layout with the connection, and does not see
            # the tables copied under it by this same connection (another one it does): the
            # slots' tables would look empty to it.
            self.close()  # the reader too: it may have read the tables before they were copied
            self.db = self._connect(self.path, scratch=False)

    def _restamp_unchanged(
        self,
        root: Path,
        changed: list[FileEntry],
        known: Mapping[str, tuple[int, int, int, int]],
        reread: Collection[str],
        files: int,
    ) -> list[FileEntry]:
        """`changed` less the files whose bytes are those indexed, which only get their new stamps.

        A file touched, restored by `git stash pop` or a branch switched back, copied by a tool that
        does not keep times, a checkout beside a cache restored in CI: its stamps change, its bytes
        do not. Reading it and comparing the digest costs a fraction of splitting and indexing it
        again, and keeps the full-text tables free of dead rows. Only a file of the size indexed can
        hold the same bytes; one in `reread`, or that cannot be read now, is split again as before.
        Once so many must be split that the home of `files` files is built again whole
        (`_most_changed`), the rest are not read: the build reads them.
        """
        alike = [e for e in changed if e.path not in reread and e.path in known and known[e.path][0] == e.size]
        if not alike:
            return changed
        digests = self._digests([entry.path for entry in alike])
        same: set[str] = set()
        split = len(changed) - len(alike)
        for entry in alike:
            kept = digests.get(entry.path)  # None for a file indexed with nothing read (unreadable, not text)
            if kept is not None and kept == home_files.document_digest(root, entry.path, entry):
                same.add(entry.path)
            else:
                split += 1
                if _most_changed(split, files):
                    return changed
        self.db.executemany(
            "UPDATE files SET size = ?, mtime_ns = ?, ctime_ns = ?, inode = ? WHERE path = ?",
            [(*entry.stamps, entry.path) for entry in alike if entry.path in same],
        )
        return [entry for entry in changed if entry.path not in same]

    def stamps_if_current(self, stubs: StubPatterns) -> str | None:
        """The digest of the files' stamps (`stamps_digest`) as the last update saw them, if it split
        them with these stub templates; None if it did not, or there was none."""
        return self._meta("stamps") if self._meta("stubs") == stubs.digest else None

    def _stale(self, entries: list[FileEntry], stubs: StubPatterns) -> bool:
        # One digest of every file's stamp, kept by the last update, spares a warm run reading
        # and comparing a row per file; the update itself still compares them one by one.
        return self._meta("stubs") != stubs.digest or self._meta("stamps") != stamps_digest(entries)

    def _folder_sizes(self) -> dict[str, int]:
        """How many live sections each folder has, as the last update counted them."""
        stored = self._meta("folders")
        if not stored:
            return {}
        return _stored(lambda: {str(folder): int(count) for folder, count in json.loads(stored).items()})

    def _count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _add(
        self, root: Path, stubs: StubPatterns, entries: Sequence[FileEntry], first: int, step: int, table: str
    ) -> int:
        """Read, split and insert files, a batch of them per statement (fewer round trips into
        SQLite), their text into full-text table `table`; their sections take the ids `first`,
        `first + step`, ... Returns the next id.
        """
        next_id = first
        for start in range(0, len(entries), 256):
            stamps, rows, texts = [], [], []
            # Called on the module, where the tests patch it (a forked worker runs the patched one).
            for item in (home_files.parse_file(root, stubs, entry) for entry in entries[start : start + 256]):
                stamps.append(item.file)
                ids = range(next_id, next_id + step * len(item.sections), step)
                rows += [(row_id, *row) for row_id, row in zip(ids, item.sections, strict=True)]
                texts += [(row_id, *text) for row_id, text in zip(ids, item.texts, strict=True)]
                next_id += step * len(item.sections)
            self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", stamps)
            self.db.executemany("INSERT INTO sections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany(f"INSERT INTO {table}(rowid, title, headings, body) VALUES (?, ?, ?, ?)", texts)
        return next_id

    def _build(
        self, root: Path, stubs: StubPatterns, entries: Sequence[FileEntry], after: contextlib.ExitStack
    ) -> bool:
        """Index every file into emptied tables, in slots for a large home (`_slots`).

        Slot n holds every n-th file, its text in full-text table `fts<n>` (`fts` for slot 0),
        and its sections take the ids `first + n + k * slots`, so no two slots share one.
        Ranking searches every table (`_rank`): each scores by its own word counts, which for
        `FILES_PER_SLOT` files or more differ little from the whole home's. One connection
        writes a database at a time and tokenizing is most of a build, so forked workers
        (`parallel.Forked`) index slots 1, 2, ... into scratch databases of their own while
        this process indexes the rest; then the workers' tables are copied in, which is copying
        pages. A slot whose worker failed, or whose database cannot be copied, is done here.
        Where no worker can run, this process does every slot: the index is the same.

        Returns whether a worker's tables were copied in.
        """
        slots = _slots(len(entries))
        first = self._next_id
        tables = ["fts"] + [f"fts{slot}" for slot in range(1, slots)]
        for table in tables[1:]:
            if table not in self._fts_tables():
                self._create_fts(table)
        # Indexed by path once all rows are in: built from sorted rows, the index's pages are
        # full; kept up as the slots' rows come in, interleaved, it took twice the room (13 MB
        # of a 74 MB database on 10,000 documents), all of it written and copied.
        self.db.execute("DROP INDEX IF EXISTS sections_by_path")
        helpers = min(parallel.workers(), slots - 1) if slots > 1 else 0
        scratch = self._scratch() if helpers else None
        helped = range(1, 1 + helpers) if scratch is not None else range(0)
        if scratch is not None:
            after.callback(shutil.rmtree, scratch, ignore_errors=True)

        def index_slot(slot: int) -> None:
            self._add(root, stubs, entries[slot::slots], first + slot, slots, tables[slot])

        def work(slot: int) -> None:
            assert scratch is not None
            shard = SectionIndex.open(scratch / f"{slot}.sqlite3", scratch=True)
            shard.db.execute("DROP INDEX sections_by_path")  # only copied from, whole
            with shard.transaction():
                shard._add(root, stubs, entries[slot::slots], first + slot, slots, "fts")
                shard._set_meta("slot", str(slot))  # last: the slot is all there (see `_slot_ready`)
            shard.db.close()

        copied = False
        with contextlib.closing(parallel.Forked(work, helped)) as workers:
            started = time.monotonic()
            for slot in range(slots):
                if slot not in helped:
                    index_slot(slot)
            own = time.monotonic() - started
            failed = workers.wait(timeout=max(WORKER_GRACE * own, WORKER_MIN_WAIT_SECONDS))
        for slot in helped:
            assert scratch is not None
            if slot not in failed and self._take_slot(scratch / f"{slot}.sqlite3", tables[slot], after):
                copied = True
            else:
                index_slot(slot)
        self.db.execute(_SECTIONS_BY_PATH)
        # Every id a slot gave is a section's: the next one is past the highest.
        top = self.db.execute("SELECT coalesce(max(id), 0) FROM sections").fetchone()[0]
        self._next_id = max(first, int(top) + 1)
        return copied

    def _scratch(self) -> Path | None:
        """A new folder beside the index for the workers' databases; None for an index in memory,
        or a cache folder that takes no more files (the build then needs no workers)."""
        if self.path is None:
            return None
        try:
            return Path(tempfile.mkdtemp(prefix=self._scratch_prefix(), dir=self.path.parent))
        except OSError:
            return None

    def _sweep_scratch(self) -> None:
        """Remove the scratch folders of this index's builds: one found while this process holds
        the index's write lock is left by a build that was killed."""
        if self.path is not None:
            for old in self.path.parent.glob(f"{glob.escape(self._scratch_prefix())}*"):
                shutil.rmtree(old, ignore_errors=True)

    def _scratch_prefix(self) -> str:
        assert self.path is not None
        return f".{self.path.name}.build-"

    def _take_slot(self, path: Path, table: str, after: contextlib.ExitStack) -> bool:
        """Copy one worker's database in, its full-text table as `table`; False if it cannot be.

        A database that fails to attach, or is damaged once attached, costs more than its slot:
        a failed ATTACH resets the connection's schema, and FTS5 with it, which then loses the
        row counts of this update it keeps in memory (the counts BM25 ranks by); a damaged one
        attached fails every statement after it. So the worker's database is checked first on a
        connection of its own, and FTS5 writes its counts out (a savepoint) before the ATTACH.
        """
        if not _slot_ready(path):
            return False
        schema = f"{table}_slot"
        self.db.execute("SAVEPOINT counts")
        self.db.execute("RELEASE counts")
        try:
            self.db.execute(f"ATTACH DATABASE ? AS {schema}", (str(path),))
        except sqlite3.Error:
            return False
        after.callback(self._detach, schema)
        self.db.execute(f"SAVEPOINT {schema}")
        try:
            self.db.execute(f"INSERT INTO files SELECT * FROM {schema}.files")
            self.db.execute(f"INSERT INTO sections SELECT * FROM {schema}.sections")
            for shadow in _FTS_SHADOWS:
                self.db.execute(f"DELETE FROM {table}_{shadow}")
                self.db.execute(f"INSERT INTO {table}_{shadow} SELECT * FROM {schema}.fts_{shadow}")
        except sqlite3.Error:
            if not self.db.in_transaction:
                raise  # the disk is full or failing: SQLite rolled the whole update back
            # A shadow table that cannot be written (SQLite's defensive mode), or a damaged database.
            self.db.execute(f"ROLLBACK TO {schema}")
            self.db.execute(f"RELEASE {schema}")
            return False
        self.db.execute(f"RELEASE {schema}")
        with contextlib.suppress(OSError):
            path.unlink()  # at once: a signal between the commit and the sweep would leave 30 MB behind
        return True

    def _detach(self, schema: str) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.execute(f"DETACH DATABASE {schema}")

    @_damage_removes
    def file_notes(self) -> tuple[list[str], list[str]]:
        """Warnings about skipped files, and the unedited stubs."""
        warnings = [
            row[0] for row in self.db.execute("SELECT warning FROM files WHERE warning IS NOT NULL ORDER BY path")
        ]
        stubs = [row[0] for row in self.db.execute("SELECT path FROM files WHERE stub = 1 ORDER BY path")]
        return warnings, stubs

    @_damage_removes
    def paths(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM files WHERE sections > 0 ORDER BY path")]

    @_damage_removes
    def without_sections(self, path: str) -> bool | None:
        """For a file of the home with no section: True if it was skipped (it has a warning), False if
        it holds no text; None if there is no such file or it has sections."""
        row = self.db.execute("SELECT warning FROM files WHERE path = ? AND sections = 0", (path,)).fetchone()
        return None if row is None else row[0] is not None

    @_damage_removes
    def sections_of(self, path: str) -> list[Section]:
        return self.sections_of_many([path]).get(path, [])

    @_damage_removes
    def containing(self, phrases: Sequence[str], paths: Sequence[str]) -> list[str]:
        """Those of `paths` (not stubs) holding one of `phrases`, in the order given."""
        if not phrases or not paths:
            return []
        found: set[str] = set()
        for table in self._fts_tables():
            for marks, chunk in _in_chunks(paths):
                rows = self.db.execute(
                    f"SELECT DISTINCT sections.path FROM {table} JOIN sections ON sections.id = {table}.rowid "
                    f"WHERE {table} MATCH ? AND sections.stub = 0 AND sections.path IN ({marks})",
                    (_match(phrases), *chunk),
                )
                found.update(str(row[0]) for row in rows)
        return [path for path in paths if path in found]

    @_damage_removes
    def words_in(self, paths: Sequence[str], words: Sequence[str], enough: int | None) -> dict[str, set[str]]:
        """See `Library.words_in`: a lookup per word and full-text table, among the documents' own rows
        (per word, 0.02 ms for a rare one, 1.5-2 ms for one in most sections of a 10,000-document home).

        A task of a thousand words would make a thousand lookups; with `enough`, those of the
        documents that hold enough stop, and most do after a few words.
        """
        owners: dict[int, str] = {}
        for marks, chunk in _in_chunks(paths):
            rows = self.db.execute(f"SELECT id, path FROM sections WHERE path IN ({marks}) AND stub = 0", chunk)
            owners.update((int(row_id), str(path)) for row_id, path in rows)
        found: dict[str, set[str]] = {path: set() for path in paths}
        for word in words:
            for table, (marks, ids) in itertools.product(self._fts_tables(), _in_chunks(list(owners))):
                # `+rowid`: the word's matches filtered as they come. Given `rowid IN (...)` itself, the
                # table runs the MATCH once per id (323 ids: 1.2 ms for a word matching nothing, 4-9 ms
                # for a common one, against 0.05-2 ms). Reading every match into Python instead cost
                # more for a common word (4.6 ms against 1.5 ms on two tables, 20-400 ids).
                query = f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND +rowid IN ({marks})"
                rows = self.db.execute(query, (_match([word]), *ids))
                for (row_id,) in rows:
                    found[owners[row_id]].add(word)
            if enough is not None:
                owners = {row_id: path for row_id, path in owners.items() if len(found[path]) < enough}
                if not owners:
                    break
        return found

    @_damage_removes
    def sections_at(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Section]:
        """The sections at `keys` (path, ordinal), with their documents' digests as `sections_of_many`
        gives them; keys the index lacks are left out.

        A ranking names a few hundred sections of a few hundred documents: these alone are read,
        not every section of those documents (ten times as many rows on a large home).
        """
        found: dict[tuple[str, int], Section] = {}
        with self._snapshot():
            for _, chunk in _in_chunks(list(dict.fromkeys(keys)), max(IN_CHUNK // 2, 1)):  # two values a key
                digests = self._digests(list(dict.fromkeys(path for path, _ in chunk)))
                pairs = ", ".join("(?, ?)" for _ in chunk)
                rows = self.db.execute(
                    f"SELECT {_SECTION_COLUMNS} FROM (VALUES {pairs}) AS wanted JOIN sections "
                    "ON path = wanted.column1 AND ordinal = wanted.column2",
                    [value for key in chunk for value in key],
                )
                found.update((section.key, section) for section in (_section(row, digests) for row in rows))
        return found

    @_damage_removes
    def sections_of_many(self, paths: Sequence[str]) -> dict[str, list[Section]]:
        """`sections_of` for several documents at once; those without sections are left out.

        Each section carries its document's digest, read in the same read transaction: another
        process updating the index in between cannot give offsets of one split and the digest of
        another. The digests are read first, so that were the two statements ever to see two states,
        the digest would be the older one, which the reading takes for a change and tries again:
        never a section cut from the wrong bytes.
        """
        found: dict[str, list[Section]] = {}
        with self._snapshot():
            for marks, chunk in _in_chunks(paths):
                digests = self._digests(chunk)
                rows = self.db.execute(
                    f"SELECT {_SECTION_COLUMNS} FROM sections WHERE path IN ({marks}) ORDER BY path, ordinal", chunk
                )
                for row in rows:
                    section = _section(row, digests)
                    found.setdefault(section.path, []).append(section)
        return found

    def _digests(self, paths: Sequence[str]) -> dict[str, str]:
        """The documents' digests (read first, in the caller's read transaction: see `sections_of_many`)."""
        digests: dict[str, str] = {}
        for marks, chunk in _in_chunks(paths):
            digests.update(self.db.execute(f"SELECT path, digest FROM files WHERE path IN ({marks})", chunk))
        return digests

    @_damage_removes
    def rank(self, terms: list[str], folders: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        """The best `limit` live, non-stub sections of `folders` for `terms`, from the query cache if there."""
        key = hashlib.sha256(json.dumps([terms, sorted(folders), limit]).encode()).hexdigest()[:32]
        row = self.db.execute("SELECT hits FROM queries WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return _stored(
                lambda: [(str(path), int(ordinal), float(score)) for path, ordinal, score in json.loads(row[0])]
            )
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        with self._snapshot():
            hits = self._rank(terms, folders, limit)
        self._remember(key, hits, version)
        return hits

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: the statements inside see the index as one state, however many
        (a ranking reads the folders' rows, then each full-text table), while another process
        rebuilds it."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")  # nothing was written

    def _rank(self, terms: list[str], folders: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        # SQLite computes bm25() only for the rows that pass the WHERE clause. For folders holding
        # most sections, ranking the full-text index alone and dropping the rows of other folders
        # after is cheapest; for folders with few sections (the project contexts), scoring only
        # theirs is (`_rank_few`); in between, filtering by folder in the query, which still
        # reads every match. The first way falls back on the last when other folders crowd out
        # the rows wanted.
        match = _match(terms)
        weights = ", ".join(str(weight) for weight in RANK_WEIGHTS)
        wanted = sorted(set(folders))
        marks = ", ".join("?" for _ in wanted)
        counts = self._folder_sizes()
        hits: list[tuple[str, int, float, int]] = []
        fetch = limit * 2
        size = sum(counts.get(folder, 0) for folder in wanted)
        # Documents at the root ("") have no folder prefix for `_rank_few` to find them by.
        if size <= FEW_SECTIONS and "" not in wanted:
            few = self._rank_few(match, weights, wanted, limit)
            if few is not None:
                return few
        if size * 2 >= sum(counts.values()):
            rows = self._best(
                f"SELECT -bm25({{fts}}, {weights}) AS score, rowid FROM {{fts}} WHERE {{fts}} MATCH ? "
                "ORDER BY score DESC, rowid LIMIT ?",
                (match, fetch),
                fetch,
            )
            scores = {rowid: score for score, rowid in rows}
            found = []
            for id_marks, ids in _in_chunks([rowid for _, rowid in rows]):
                found += self.db.execute(
                    f"SELECT id, path, ordinal, folder FROM sections WHERE id IN ({id_marks}) AND stub = 0", ids
                ).fetchall()
            hits = sorted(
                ((path, ordinal, scores[rowid], rowid) for rowid, path, ordinal, folder in found if folder in wanted),
                key=lambda hit: (-hit[2], hit[3]),
            )
            if len(hits) >= limit or len(rows) < fetch:
                return [(str(path), int(ordinal), float(score)) for path, ordinal, score, _ in hits[:limit]]
        hits = self._best(
            f"SELECT sections.path, sections.ordinal, -bm25({{fts}}, {weights}) AS score, {{fts}}.rowid "
            "FROM {fts} JOIN sections ON sections.id = {fts}.rowid "
            f"WHERE {{fts}} MATCH ? AND sections.stub = 0 AND sections.folder IN ({marks}) "
            "ORDER BY score DESC, {fts}.rowid LIMIT ?",
            (match, *wanted, limit),
            limit,
        )
        return [(str(path), int(ordinal), float(score)) for path, ordinal, score, _ in hits]

    def _rank_few(
        self, match: str, weights: str, folders: list[str], limit: int
    ) -> list[tuple[str, int, float]] | None:
        """`_rank` for folders of few sections: each full-text table scores only the row ids of theirs.

        A folder's documents are found by the path index, and their row ids, close together
        (a document's sections are numbered in a row), are asked for as a few ranges: FTS5 then
        seeks to each range in every word's list instead of reading it all (see "Run 9" in
        docs/benchmarks.md). BM25 still counts over the whole table, so the scores are those the
        other ways give. None when the ids are scattered over more than `MAX_RUNS` ranges.
        """
        owners: dict[int, tuple[str, int]] = {}
        for folder in folders:
            rows = self.db.execute(
                "SELECT id, path, ordinal FROM sections WHERE path >= ? AND path < ? AND stub = 0",
                home_files.folder_bounds(folder),
            )
            owners.update((int(row_id), (str(path), int(ordinal))) for row_id, path, ordinal in rows)
        if len(_runs(sorted(owners))) > MAX_RUNS:
            return None
        return self._scored(match, weights, owners, limit)

    @_damage_removes
    def rank_among(self, terms: list[str], paths: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        """The best `limit` non-stub sections of the documents `paths` for `terms`, scored as a ranking of
        the whole home scores them (a few documents' row ids, as `_rank_few` reads a folder's)."""
        owners: dict[int, tuple[str, int]] = {}
        with self._snapshot():
            for marks, chunk in _in_chunks(list(dict.fromkeys(paths))):
                rows = self.db.execute(
                    f"SELECT id, path, ordinal FROM sections WHERE path IN ({marks}) AND stub = 0", chunk
                )
                owners.update((int(row_id), (str(path), int(ordinal))) for row_id, path, ordinal in rows)
            if not owners or not terms:
                return []
            weights = ", ".join(str(weight) for weight in RANK_WEIGHTS)
            return self._scored(_match(terms), weights, owners, limit)

    def _scored(
        self, match: str, weights: str, owners: Mapping[int, tuple[str, int]], limit: int
    ) -> list[tuple[str, int, float]]:
        """The best `limit` of the sections `owners` (row id -> path and ordinal) for `match`, by
        BM25 over each full-text table, read by ranges of their row ids."""
        runs = _runs(sorted(owners))
        scored: list[tuple[float, int]] = []
        tables = self._fts_tables()
        for first, last in runs:
            for table in tables:
                rows = self.db.execute(
                    f"SELECT -bm25({table}, {weights}), rowid FROM {table} "
                    f"WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?",
                    (match, first, last),
                )
                scored += [(float(score), int(row_id)) for score, row_id in rows if row_id in owners]
        best = heapq.nsmallest(limit, scored, key=lambda row: (-row[0], row[1]))
        return [(*owners[row_id], score) for score, row_id in best]

    def _best(self, query: str, params: tuple[object, ...], count: int) -> list[Any]:
        """The best `count` rows of `query` run on each full-text table (named `{fts}` in it): by score,
        then row id, the last two columns of every row.

        Called within a read transaction (`_snapshot`). The tables after the first are ranked on
        the second connection at the same time (see `generator.context.beside`), each to its best
        `count` rows, as the first is here.
        """
        tables = self._fts_tables()

        def best_of(db: sqlite3.Connection, names: Sequence[str]) -> list[Any]:
            rows = (row for table in names for row in db.execute(query.format(fts=table), params))
            return heapq.nsmallest(count, rows, key=lambda row: (-row[-2], row[-1]))

        if len(tables) < 2 or self._reader is None:
            return best_of(self.db, tables)
        pending = self._reader.start(beside.state(self.db), lambda db: best_of(db, tables[1:]))
        try:
            rows = best_of(self.db, tables[:1])
        finally:
            others = pending.result()  # also when this one failed: the reader is free again
        rows += others if others is not None else best_of(self.db, tables[1:])
        return heapq.nsmallest(count, rows, key=lambda row: (-row[-2], row[-1]))

    def _remember(self, key: str, hits: list[tuple[str, int, float]], version: int) -> None:
        """Keep a ranking for the next run, made from the index as it was at `data_version` `version`;
        another process holding the write lock only costs that.

        Not kept if another process updated the index since: the ranking may be of the index before
        it, and that update cleared the rankings kept. Asked inside the write transaction, which no
        other process can enter: asked before it, an update landing in between was missed, and the
        stale ranking served until some file's bytes changed (adversary)."""
        self.db.execute("PRAGMA busy_timeout = 0")
        try:
            with self.transaction():
                if self.db.execute("PRAGMA data_version").fetchone()[0] != version:
                    return
                used = self.db.execute("SELECT coalesce(max(used), 0) + 1 FROM queries").fetchone()[0]
                self.db.execute("INSERT OR REPLACE INTO queries VALUES (?, ?, ?)", (key, json.dumps(hits), used))
                self.db.execute("DELETE FROM queries WHERE used <= ?", (int(used) - QUERY_CACHE,))
        except sqlite3.OperationalError:
            pass
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


_T = TypeVar("_T")


def _section(row: Sequence[Any], digests: Mapping[str, str]) -> Section:
    """A `Section` from a row of `_SECTION_COLUMNS`, with its document's digest."""
    path, ordinal, heading, trail, line, start, end, tokens = row
    return Section(path, ordinal, heading, trail, line, start, end, tokens, digests.get(path))


def _in_chunks(values: Sequence[_T], size: int | None = None) -> Iterator[tuple[str, list[_T]]]:
    """`values` `size` (`IN_CHUNK`) at a time, each slice with the `?, ?, ...` of its `IN (...)` list."""
    size = size or IN_CHUNK
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield ", ".join("?" * len(chunk)), chunk


def _runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted row ids as ranges (first, last), a new one where the next id is more than `RUN_GAP` on."""
    runs: list[tuple[int, int]] = []
    for row_id in ids:
        if runs and row_id - runs[-1][1] <= RUN_GAP:
            runs[-1] = (runs[-1][0], row_id)
        else:
            runs.append((row_id, row_id))
    return runs


def _match(phrases: Sequence[str]) -> str:
    """An FTS5 query for any of `phrases` (each a word, or words in sequence), quoted as strings."""
    return " OR ".join('"' + phrase.replace('"', '""') + '"' for phrase in phrases)


def _slot_ready(path: Path) -> bool:
    """Whether a worker's database holds its whole slot (the worker marks it last) and SQLite finds it
    sound (`quick_check` reads it all: about 30 ms for the 30 MB of a 10,000-document home's slot)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            marked = db.execute("SELECT 1 FROM meta WHERE key = 'slot'").fetchone() is not None
            return marked and db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False


def _half(changed: int, files: int) -> bool:
    """Whether `changed` files are half of a home of `files` or more."""
    return 2 * changed >= files


def _most_changed(changed: int, files: int) -> bool:
    """Whether half of a home large enough to split changed (a branch switch): it is built again
    whole, in its slots, which keeps the layout a fresh build has and splits between processes."""
    return _half(changed, files) and _slots(files) > 1


def _slots(files: int) -> int:
    """How many slots a build of `files` files is split into (see `SectionIndex._build`)."""
    return max(1, min(MAX_SLOTS, files // FILES_PER_SLOT))


def stamps_digest(entries: list[FileEntry]) -> str:
    """A digest of the files' paths and stamps (`FileEntry.stamps`), in `scan_files` order."""
    # Formatted field by field: half the time of joining `map(str, ...)` (5 ms for 10,000 files, on every warm run).
    text = "\n".join(f"{e.path}\0{e.size}\0{e.mtime_ns}\0{e.ctime_ns}\0{e.inode}" for e in entries)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
