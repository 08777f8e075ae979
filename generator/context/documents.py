"""The knowledge home on disk: markdown documents, split into sections, indexed and cached.

A section starts at an ATX heading of level 1 to 3 outside fenced code and runs to the next
one; deeper headings stay inside their parent, so a runbook step keeps its sub-steps. Text
before the first heading is the preamble. A section longer than `MAX_SECTION_BYTES` is cut
into parts at a blank line (else a line end, else a character boundary), so a budget can be
filled to within one part and an enormous file is truncated instead of dropped.

The index is one SQLite database per home under the user cache dir: every file's path, size,
mtime and ctime (ctime moves when permissions change, so a file made readable is picked up),
each document's sections (byte offsets, token estimates), and an FTS5 full-text index of the
sections (Porter stemming, BM25 ranking). A run stats the files and re-reads only those whose
stat changed; the text itself is read from the files, only for the sections selected. A
large build is split by files between processes, one full-text table each
(`generator.context.parallel`).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import functools
import glob
import hashlib
import heapq
import itertools
import json
import operator
import os
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from generator.context import parallel
from generator.context.links import MAX_TEXT, Catalogue, phrases_naming, reference_keys
from generator.context.tokens import estimate_tokens
from generator.errors import HomeError

# The schema version (SQLite's user_version): a database with any other is rebuilt.
INDEX_VERSION = 5
SPLIT_LEVEL = 3
MAX_SECTION_BYTES = 8_000
MARKDOWN_SUFFIXES = frozenset({"md", "markdown"})
PREAMBLE = "(preamble)"
TRAIL_SEPARATOR = " > "

_HEADING = re.compile(rb"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$")
_FENCE = re.compile(rb"^ {0,3}(`{3,}|~{3,})")
# Only lines starting (after up to three spaces) with '#', '`' or '~' can open or close a fence
# or be a heading. Past the first line such a line is found as the newline before it: a pattern
# that begins with a literal is searched for with memchr, where `^` in MULTILINE mode is tried
# at every byte (six times slower on a 50 MB home).
_FIRST_CANDIDATE = re.compile(rb" {0,3}([#`~])")
_CANDIDATE = re.compile(rb"\n {0,3}([#`~])")


@dataclass(frozen=True, slots=True)
class Section:
    """One selectable piece of a document.

    `ordinal` is the section's position in its document, so `key` identifies it in a home;
    `trail` is the heading path from the document title down ("Deploy > Roll back");
    `line` is 1-based; `start`/`end` are byte offsets into the file; `tokens` is the
    estimate for the text alone.
    """

    path: str
    ordinal: int
    heading: str
    trail: str
    line: int
    start: int
    end: int
    tokens: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.path, self.ordinal)

    @property
    def folder(self) -> str:
        """The top-level folder of the document ("" at the root of context/)."""
        head, sep, _ = self.path.partition("/")
        return head if sep else ""


class FileEntry(NamedTuple):
    """A markdown file found in the home, with the stat data the cache is keyed by.

    A named tuple: a warm run makes one per file, and a tuple is made several times faster
    than a frozen dataclass.
    """

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int


@dataclass(frozen=True, slots=True)
class _RawSection:
    heading: str
    trail: str
    line: int
    start: int
    end: int


def _read_bytes(path: Path) -> bytes:
    """Read a whole file (a seam so tests can make a file unreadable even as root)."""
    return path.read_bytes()


# --- finding the files ---------------------------------------------------------------------


def scan_files(root: Path) -> tuple[list[FileEntry], list[str]]:
    """Every markdown file under `root`, sorted, plus a warning for each one skipped.

    Folders and files whose names start with "." or "_" are not knowledge (`.git`,
    `_templates`). Symlinks are followed, but a folder already visited (a loop, or a second
    link to it) is skipped with a warning.
    """
    entries: list[FileEntry] = []
    warnings: list[str] = []
    try:
        root_stat = root.stat()
    except OSError as error:
        return [], [f"cannot read the context folder {root}: {error.strerror or error}"]
    seen: set[tuple[int, int]] = {(root_stat.st_dev, root_stat.st_ino)}
    _walk(str(root), "", seen, entries, warnings)
    entries.sort(key=lambda entry: entry.path)
    return entries, warnings


_name = operator.attrgetter("name")


def _walk(folder: str, prefix: str, seen: set[tuple[int, int]], entries: list[FileEntry], warnings: list[str]) -> None:
    try:
        with os.scandir(folder) as listing:
            children = sorted(listing, key=_name)
    except OSError as error:
        warnings.append(f"skipped {prefix or '.'}/: cannot list it ({error.strerror or error})")
        return
    for child in children:
        if child.name.startswith((".", "_")):
            continue
        rel = prefix + child.name
        try:
            info = child.stat()
        except OSError as error:
            if child.is_symlink():
                reason = "a symlink loop" if error.errno == errno.ELOOP else "a broken symlink"
                warnings.append(f"skipped {rel}: {reason} ({error.strerror})")
            else:
                warnings.append(f"skipped {rel}: {error.strerror or error}")
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in seen:
                warnings.append(f"skipped {rel}/: a symlink loop (that folder is already indexed)")
                continue
            seen.add(key)
            _walk(child.path, rel + "/", seen, entries, warnings)
        elif child.name.rpartition(".")[2].lower() in MARKDOWN_SUFFIXES:
            if not stat.S_ISREG(info.st_mode):
                warnings.append(f"skipped {rel}: not a regular file")
                continue
            entries.append(FileEntry(rel, info.st_size, info.st_mtime_ns, info.st_ctime_ns))


# --- splitting a document into sections ----------------------------------------------------


def split_sections(path: str, data: bytes) -> list[_RawSection]:
    """Cut a UTF-8 markdown document into sections (see the module docstring)."""
    base = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    title, titled = Path(path).stem, False
    boundaries: list[tuple[int, int, int, str]] = []
    fence: bytes | None = None
    number, counted = 1, base
    for position, first in _line_starts(data, base):
        number += data.count(b"\n", counted, position)
        counted = position
        line_end = data.find(b"\n", position)
        raw = data[position : line_end if line_end != -1 else len(data)]
        if fence is not None:
            if first == fence[:1] and raw.strip().startswith(fence) and not raw.strip().strip(fence[:1]):
                fence = None
            continue
        if first in (b"`", b"~"):
            match = _FENCE.match(raw)
            if match:
                fence = match.group(1)
            continue
        heading = _HEADING.match(raw)
        if heading is None:
            continue
        level = len(heading.group(1))
        if level > SPLIT_LEVEL:
            continue
        text = (heading.group(2) or b"").decode("utf-8").strip() or "(untitled)"
        boundaries.append((position, number, level, text))
        if level == 1 and not titled:
            title, titled = text, True

    end_of_data = len(data)
    sections: list[_RawSection] = []
    first_start = boundaries[0][0] if boundaries else end_of_data
    if data[base:first_start].strip():
        sections.extend(_parts(data, PREAMBLE, title, 1, base, first_start))
    stack: list[tuple[int, str]] = []
    for index, (start, number, level, text) in enumerate(boundaries):
        end = boundaries[index + 1][0] if index + 1 < len(boundaries) else end_of_data
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
        names = [name for _, name in stack]
        if names[0] != title:
            names.insert(0, title)
        sections.extend(_parts(data, text, TRAIL_SEPARATOR.join(names), number, start, end))
    return sections


def _line_starts(data: bytes, base: int) -> Iterator[tuple[int, bytes]]:
    """The offset and first character of each line from `base` on that could be a heading or fence."""
    first = _FIRST_CANDIDATE.match(data, base)
    if first is not None:
        yield base, first.group(1)
    for candidate in _CANDIDATE.finditer(data, base):
        yield candidate.start() + 1, candidate.group(1)


def _parts(data: bytes, heading: str, trail: str, line: int, start: int, end: int) -> Iterator[_RawSection]:
    if end - start <= MAX_SECTION_BYTES:
        yield _RawSection(heading, trail, line, start, end)
        return
    part = 1
    while start < end:
        cut = _cut_point(data, start, end)
        label = f"{heading} (part {part})"
        yield _RawSection(label, f"{trail} (part {part})", line, start, cut)
        line += data.count(b"\n", start, cut)
        start, part = cut, part + 1


def _cut_point(data: bytes, start: int, end: int) -> int:
    """Where the part starting at `start` ends: after a blank line, a line, or a character."""
    limit = start + MAX_SECTION_BYTES
    if limit >= end:
        return end
    blank = data.rfind(b"\n\n", start + MAX_SECTION_BYTES // 2, limit)
    if blank != -1:
        return blank + 2
    newline = data.rfind(b"\n", start + MAX_SECTION_BYTES // 4, limit)
    if newline != -1:
        return newline + 1
    cut = limit
    while cut > start and data[cut] & 0xC0 == 0x80:
        cut -= 1
    return cut


# --- the index -----------------------------------------------------------------------------

# Ranking weights of the columns: a query word in a document's title counts four times, in a
# section's headings twice, in its text once.
RANK_WEIGHTS = (4.0, 2.0, 1.0)
# Waiting for another scaffold process that is writing the index.
BUSY_TIMEOUT_SECONDS = 30.0
# Rows of edited or removed files stay in the full-text index, hidden, until they are this
# share of it; then it is rebuilt from the files.
MAX_DEAD_SHARE = 0.25
# SQLite's page cache while indexing: enough to keep FTS5's merges in memory.
CACHE_KIB = 16_000
# FTS5's in-memory index before it is written out (see `_Index.create`); it bounds the
# memory a build adds.
FTS_HASH_BYTES = 16_000_000
# Rankings of recent queries are kept until the files change.
QUERY_CACHE = 256
# A build is split into slots of this many files at least (see `_Index._build`): below it a
# slot's word counts, which rank its sections, could stray from the whole home's; and a home
# of fewer files builds in about a second anyway.
FILES_PER_SLOT = 1000
# And into two at most, whatever the machine: the file count alone decides, so that a home is
# ranked alike on a laptop, on CI and under `scaffold mcp`. Two met the cold target on 2 cores.
MAX_SLOTS = 2
# Values bound in one `IN (...)` list: SQLite before 3.32 takes at most 999 parameters in a statement.
IN_CHUNK = 500
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves""".split()  # noqa: SIM905 - a list literal would take 30 lines
)
_QUERY_WORD = re.compile(r"[^\W_]+")
# A task is a sentence or a project's answers: a few dozen words. Ranking scores every section
# holding any of them, so a pasted page of 1,200 words took 6 s a new task; the first 100 words
# (and 100 pairs) rank it in well under a second.
MAX_QUERY_WORDS = 100
_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,
    warning TEXT, stub INTEGER NOT NULL DEFAULT 0, sections INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sections(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, folder TEXT NOT NULL, ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL, trail TEXT NOT NULL, line INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, tokens INTEGER NOT NULL, stub INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE queries(key TEXT PRIMARY KEY, hits TEXT NOT NULL, used INTEGER NOT NULL);
"""
_SECTIONS_BY_PATH = "CREATE INDEX sections_by_path ON sections(path, ordinal)"
# The full-text index: `fts`, and `fts1`, `fts2`, ... when a build was split into slots (see
# `_Index._build`). Contentless: the text stays in the files.
_FTS_TABLE = "CREATE VIRTUAL TABLE {name} USING fts5(title, headings, body, content='', tokenize='porter unicode61')"
_FTS_NAME = re.compile(r"fts[0-9]*")
# An FTS5 table's own tables (a contentless one has no `_content`): a slot's table is copied through them.
_FTS_SHADOWS = ("data", "idx", "docsize", "config")


def folder_of(path: str) -> str:
    """The top-level folder of a document's path in `context/` ("" for a document at its root)."""
    head, sep, _ = path.partition("/")
    return head if sep else ""


class Library:
    """The sections of one knowledge home's `context/` folder, ready to select from.

    Built by `load_library` over an SQLite database (see `_Index`). Sections are read per
    document on first use, so a warm run touches only the documents it selects.
    """

    def __init__(self, root: Path, index: _Index, warnings: list[str], stubs: list[str]) -> None:
        self.root = root
        self.warnings = warnings
        self.stubs = stubs
        self._index = index
        self._sections: dict[str, list[Section]] = {}
        self._paths: list[str] | None = None
        self._catalogue: Catalogue | None = None

    def paths(self) -> list[str]:
        """Every document with at least one section, sorted."""
        if self._paths is None:
            self._paths = self._index.paths()
        return self._paths

    def sections_of(self, path: str) -> list[Section] | None:
        """The sections of one document in file order, or None if it is not indexed."""
        if path not in self._sections:
            sections = self._index.sections_of(path)
            if not sections:
                return None
            self._sections[path] = sections
        return self._sections[path]

    def section(self, key: tuple[str, int]) -> Section | None:
        sections = self.sections_of(key[0])
        return sections[key[1]] if sections is not None and key[1] < len(sections) else None

    def read(self, section: Section) -> str:
        """The text of a section, read from disk."""
        try:
            with (self.root / section.path).open("rb") as handle:
                handle.seek(section.start)
                data = handle.read(section.end - section.start)
        except OSError as error:
            raise HomeError(f"cannot read {self.root / section.path}: {error.strerror or error}; run again") from None
        return data.decode("utf-8", errors="replace")

    def neighbours(self, path: str, among: Collection[str]) -> list[str]:
        """The documents of `among` that `path` refers to, then those referring to it (see `links`).

        `among` are the documents selection would take (those the task scores high enough): only
        they are read, so a home full of references costs a warm run nothing. The full-text index
        tells which of them may refer to `path` (they contain its file name, or its number after
        "ADR"); reading each confirms it.
        """
        if self._catalogue is None:
            self._catalogue = Catalogue(self.paths())
        catalogue = self._catalogue
        wanted = [candidate for candidate in among if candidate != path]

        def refers_to(source: str) -> set[str]:
            found = (catalogue.resolve(key) for key in reference_keys(source, self._text(source)))
            return {target for target in found if target is not None}

        named = refers_to(path)
        neighbours = [candidate for candidate in wanted if candidate in named]
        suspects = self._index.containing(phrases_naming(path, catalogue), wanted)
        neighbours += [source for source in suspects if source not in named and path in refers_to(source)]
        return neighbours

    def words_in(self, paths: Sequence[str], words: Sequence[str], enough: int | None = None) -> dict[str, set[str]]:
        """Which of `words` each of `paths` holds in some section (stemmed as ranking stems them).

        With `enough`, a document holding that many is looked at no further: its set may be short.
        """
        return self._index.words_in(paths, words, enough)

    def _text(self, path: str) -> str:
        """A document's text for its references (the start of it); nothing if it cannot be read."""
        try:
            data = _read_bytes(self.root / path)
        except OSError:
            return ""  # selection goes on without its references, as it does without the file
        return data[: MAX_TEXT * 4].decode("utf-8", errors="replace")

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        """The best `limit` sections in `folders` for `query` by BM25, best first, score > 0.

        Unedited stubs (see `is_stub`) are never ranked.
        """
        terms = query_terms(query)
        terms += [" ".join(pair) for pair in query_pairs(query)]
        if limit <= 0 or not terms or not folders:
            return []
        ranked = []
        hits = self._index.rank(terms, folders, limit)
        # The hits' documents in one query, not one each (a ranking names a few hundred).
        wanted = list(dict.fromkeys(path for path, _, _ in hits if path not in self._sections))
        self._sections.update(self._index.sections_of_many(wanted))
        for path, ordinal, score in hits:
            section = self.section((path, ordinal))
            if section is not None and score > 0:
                ranked.append((section, score))
        return ranked


def query_terms(text: str) -> list[str]:
    """The words of `text` a query looks for: lowercase, no stop words, each once, in order, the
    first `MAX_QUERY_WORDS` of them.

    Lowercased, not casefolded: FTS5's tokenizer folds case letter by letter, so "Straße" is
    indexed as "straße", which casefolding would turn into "strasse" and never match.
    """
    words = (word for word in _QUERY_WORD.findall(text.lower()) if word not in _STOPWORDS)
    return list(itertools.islice(dict.fromkeys(words), MAX_QUERY_WORDS))


def query_pairs(text: str) -> list[tuple[str, str]]:
    """Neighbouring words of `text` (no stop word between them): phrases a query also looks for.

    A section holding "visibility timeout" as a phrase is about it; one holding both words
    apart may not be.
    """
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        words = _QUERY_WORD.findall(line.lower())  # as `query_terms`
        for first, second in itertools.pairwise(words):
            if first not in _STOPWORDS and second not in _STOPWORDS:
                pairs.append((first, second))
    return list(itertools.islice(dict.fromkeys(pairs), MAX_QUERY_WORDS))


# --- building and caching ------------------------------------------------------------------


def cache_root() -> Path:
    """Where indexes and redaction results are cached (under the user cache dir)."""
    from generator.settings import user_cache_dir

    return user_cache_dir() / "context-index"


def index_path(root: Path) -> Path:
    """The SQLite database that indexes the home whose context/ folder is `root`."""
    return cache_root() / f"{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]}.sqlite3"


def load_library(root: Path, use_cache: bool = True) -> Library:
    """The index of `root` (a `context/` folder), brought up to date with the files.

    Only files whose size, mtime or ctime changed are read again. A database that is
    corrupt or from another version of scaffold is rebuilt; one that cannot be opened or
    written (a read-only cache, a lock held too long) is replaced by one in memory.
    """
    entries, warnings = scan_files(root)
    stubs = _StubPatterns.load(root)
    path = index_path(root) if use_cache else None
    try:
        index = _Index.open(path)
        index.refresh(root, entries, stubs)
    except (sqlite3.DatabaseError, OSError) as error:
        if path is None:
            raise
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
            _remove_database(path)  # corrupt: start again
            path_again: Path | None = path
        else:
            # Locked, read-only, full, or a cache folder that cannot be made (HOME is a file,
            # or not writable): the index is only a cache, so work in memory this time.
            path_again = None
        try:
            index = _Index.open(path_again)
            index.refresh(root, entries, stubs)
        except sqlite3.OperationalError:
            index = _Index.open(None)
            index.refresh(root, entries, stubs)
    file_warnings, stub_paths = index.file_notes()
    return Library(root, index, warnings + file_warnings, stub_paths)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink()


_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def _damage_removes(
    method: Callable[Concatenate[_Index, _Params], _Result],
) -> Callable[Concatenate[_Index, _Params], _Result]:
    """An index query that finds the database damaged removes it and says so (the next run builds it
    again): left in place, it would fail every run, as SQLite only finds damage where it reads."""

    def checked(index: _Index, /, *args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        try:
            return method(index, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            damaged = getattr(error, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
            if not damaged or index.path is None:
                raise
            index.db.close()
            _remove_database(index.path)
            raise HomeError(
                f"the context index {index.path} was damaged ({error}); it is removed: run again to build it anew"
            ) from None

    functools.update_wrapper(checked, method)
    return checked


class _Index:
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

    @classmethod
    def open(cls, path: Path | None, scratch: bool = False) -> _Index:
        """The index at `path` (in memory for None); a `scratch` one is one process's slot of a
        build, thrown away after it is copied, so it is written without a journal."""
        index = cls(cls._connect(path, scratch), path)
        if index.version() != INDEX_VERSION:
            index.create()
        return index

    @staticmethod
    def _connect(path: Path | None, scratch: bool) -> sqlite3.Connection:
        if path is None:
            connection = sqlite3.connect(":memory:", isolation_level=None)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Private to the user: the index holds the home's headings. WAL files take this mode.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            connection.execute("PRAGMA journal_mode=OFF" if scratch else "PRAGMA journal_mode=WAL")
        # Never flushed to the disk: the index is a cache of what the files say. A process that
        # dies leaves it whole (WAL); only the machine crashing right after an update could leave
        # it damaged, and one that SQLite finds damaged is rebuilt. Flushing a cold build of
        # 10,000 documents took 0.13 s of its 3.
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return connection

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

    def _stamps(self) -> dict[str, tuple[int, int, int]]:
        rows = self.db.execute("SELECT path, size, mtime_ns, ctime_ns FROM files")
        return {path: (size, mtime, ctime) for path, size, mtime, ctime in rows}

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def refresh(self, root: Path, entries: list[FileEntry], stubs: _StubPatterns) -> None:
        """Bring the index up to date with `entries`, reading only what changed."""
        if not self._stale(entries, stubs):
            return
        # `after` runs once the transaction has ended: SQLite detaches a database only then.
        with contextlib.ExitStack() as after, self.transaction():
            self._sweep_scratch()
            rebuild = self._meta("stubs") != stubs.digest  # stub rules changed: look at every file again
            known = self._stamps()
            current = {entry.path for entry in entries}
            changed = [e for e in entries if known.get(e.path) != (e.size, e.mtime_ns, e.ctime_ns)]
            gone = [path for path in known if path not in current] + [e.path for e in changed if e.path in known]
            dead = int(self._meta("dead") or 0)
            for path in gone:
                dead += self.db.execute("DELETE FROM sections WHERE path = ?", (path,)).rowcount
                self.db.execute("DELETE FROM files WHERE path = ?", (path,))
            # Half of a home large enough to split changed (a branch switch): all of it again, in its
            # slots, keeps the layout a fresh build has, and split between processes is quicker.
            most = 2 * len(changed) >= len(entries) and _slots(len(entries)) > 1
            anew = rebuild or most or dead > MAX_DEAD_SHARE * max(self._count("sections"), 1000)
            if anew:
                self.db.execute("DELETE FROM files")
                self.db.execute("DELETE FROM sections")
                for table in self._fts_tables():
                    self.db.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")
                changed, dead = entries, 0
            # Row ids are never reused: the full-text index may still hold an old row under one.
            top = self.db.execute("SELECT coalesce(max(id), 0) FROM sections").fetchone()[0]
            self._next_id = max(int(top) + 1, int(self._meta("next_id") or 0))
            copied = False
            if anew:
                copied = self._build(root, stubs, changed, after)
            else:
                self._next_id = self._add(root, stubs, changed, self._next_id, 1, "fts")
            self._set_meta("next_id", str(self._next_id))
            self.db.execute("DELETE FROM queries")
            self._set_meta("dead", str(dead))
            self._set_meta("stubs", stubs.digest)
            self._set_meta("stamps", _stamps_digest(entries))
            sizes = dict(self.db.execute("SELECT folder, count(*) FROM sections GROUP BY folder").fetchall())
            self._set_meta("folders", json.dumps(sizes))
        if copied:
            # FTS5 keeps what it read of a table's layout with the connection, and does not see
            # the tables copied under it by this same connection (another one it does): the
            # slots' tables would look empty to it.
            self.db.close()
            self.db = self._connect(self.path, scratch=False)

    def _stale(self, entries: list[FileEntry], stubs: _StubPatterns) -> bool:
        # One digest of every file's stamp, kept by the last update, spares a warm run reading
        # and comparing a row per file; the update itself still compares them one by one.
        return self._meta("stubs") != stubs.digest or self._meta("stamps") != _stamps_digest(entries)

    def _folder_sizes(self) -> dict[str, int]:
        """How many live sections each folder has, as the last update counted them."""
        stored = self._meta("folders")
        return {str(folder): int(count) for folder, count in json.loads(stored).items()} if stored else {}

    def _count(self, table: str) -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _add(
        self, root: Path, stubs: _StubPatterns, entries: Sequence[FileEntry], first: int, step: int, table: str
    ) -> int:
        """Read, split and insert files, a batch of them per statement (fewer round trips into
        SQLite), their text into full-text table `table`; their sections take the ids `first`,
        `first + step`, ... Returns the next id.
        """
        next_id = first
        for start in range(0, len(entries), 256):
            files, rows, texts = [], [], []
            for item in (_parse_file(root, stubs, entry) for entry in entries[start : start + 256]):
                files.append(item.file)
                ids = range(next_id, next_id + step * len(item.sections), step)
                rows += [(row_id, *row) for row_id, row in zip(ids, item.sections, strict=True)]
                texts += [(row_id, *text) for row_id, text in zip(ids, item.texts, strict=True)]
                next_id += step * len(item.sections)
            self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", files)
            self.db.executemany("INSERT INTO sections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany(f"INSERT INTO {table}(rowid, title, headings, body) VALUES (?, ?, ?, ?)", texts)
        return next_id

    def _build(
        self, root: Path, stubs: _StubPatterns, entries: Sequence[FileEntry], after: contextlib.ExitStack
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
            shard = _Index.open(scratch / f"{slot}.sqlite3", scratch=True)
            shard.db.execute("DROP INDEX sections_by_path")  # only copied from, whole
            with shard.transaction():
                shard._add(root, stubs, entries[slot::slots], first + slot, slots, "fts")
                shard._set_meta("slot", str(slot))  # last: the slot is all there (see `_slot_ready`)
            shard.db.close()

        copied = False
        with contextlib.closing(parallel.Forked(work, helped)) as workers:
            for slot in range(slots):
                if slot not in helped:
                    index_slot(slot)
            failed = workers.wait()
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
    def sections_of(self, path: str) -> list[Section]:
        rows = self.db.execute(
            'SELECT path, ordinal, heading, trail, line, start, "end", tokens FROM sections '
            "WHERE path = ? ORDER BY ordinal",
            (path,),
        )
        return [Section(*row) for row in rows]

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
        (a millisecond each).

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
                query = f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid IN ({marks})"
                rows = self.db.execute(query, (_match([word]), *ids))
                for (row_id,) in rows:
                    found[owners[row_id]].add(word)
            if enough is not None:
                owners = {row_id: path for row_id, path in owners.items() if len(found[path]) < enough}
                if not owners:
                    break
        return found

    @_damage_removes
    def sections_of_many(self, paths: Sequence[str]) -> dict[str, list[Section]]:
        """`sections_of` for several documents at once; those without sections are left out."""
        found: dict[str, list[Section]] = {}
        for marks, chunk in _in_chunks(paths):
            rows = self.db.execute(
                'SELECT path, ordinal, heading, trail, line, start, "end", tokens FROM sections '
                f"WHERE path IN ({marks}) ORDER BY path, ordinal",
                chunk,
            )
            for row in rows:
                found.setdefault(row[0], []).append(Section(*row))
        return found

    @_damage_removes
    def rank(self, terms: list[str], folders: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        """The best `limit` live, non-stub sections of `folders` for `terms`, from the query cache if there."""
        key = hashlib.sha256(json.dumps([terms, sorted(folders), limit]).encode()).hexdigest()[:32]
        row = self.db.execute("SELECT hits FROM queries WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return [(str(path), int(ordinal), float(score)) for path, ordinal, score in json.loads(row[0])]
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        hits = self._rank(terms, folders, limit)
        # Not kept if another process updated the index meanwhile: it may have been read half before, half after.
        if self.db.execute("PRAGMA data_version").fetchone()[0] == version:
            self._remember(key, hits)
        return hits

    def _rank(self, terms: list[str], folders: Sequence[str], limit: int) -> list[tuple[str, int, float]]:
        # SQLite computes bm25() only for the rows that pass the WHERE clause. For folders holding
        # most sections, ranking the full-text index alone and dropping the rows of other folders
        # after is cheapest; for a folder with few (the project contexts), filtering by folder in
        # the query is, since it spares scoring every other match. The first way falls back on
        # the second when other folders crowd out the rows wanted.
        match = _match(terms)
        weights = ", ".join(str(weight) for weight in RANK_WEIGHTS)
        wanted = sorted(set(folders))
        marks = ", ".join("?" for _ in wanted)
        counts = self._folder_sizes()
        hits: list[tuple[str, int, float, int]] = []
        fetch = limit * 2
        if sum(counts.get(folder, 0) for folder in wanted) * 2 >= sum(counts.values()):
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

    def _best(self, query: str, params: tuple[object, ...], count: int) -> list[Any]:
        """The best `count` rows of `query` run on each full-text table (named `{fts}` in it): by score,
        then row id, the last two columns of every row."""
        rows = (row for table in self._fts_tables() for row in self.db.execute(query.format(fts=table), params))
        return heapq.nsmallest(count, rows, key=lambda row: (-row[-2], row[-1]))

    def _remember(self, key: str, hits: list[tuple[str, int, float]]) -> None:
        """Keep a ranking for the next run; another process holding the write lock only costs that."""
        self.db.execute("PRAGMA busy_timeout = 0")
        try:
            with self.transaction():
                used = self.db.execute("SELECT coalesce(max(used), 0) + 1 FROM queries").fetchone()[0]
                self.db.execute("INSERT OR REPLACE INTO queries VALUES (?, ?, ?)", (key, json.dumps(hits), used))
                self.db.execute("DELETE FROM queries WHERE used <= ?", (int(used) - QUERY_CACHE,))
        except sqlite3.OperationalError:
            pass
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


_T = TypeVar("_T")


def _in_chunks(values: Sequence[_T]) -> Iterator[tuple[str, list[_T]]]:
    """`values` `IN_CHUNK` at a time, each slice with the `?, ?, ...` of its `IN (...)` list."""
    for start in range(0, len(values), IN_CHUNK):
        chunk = list(values[start : start + IN_CHUNK])
        yield ", ".join("?" * len(chunk)), chunk


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


def _slots(files: int) -> int:
    """How many slots a build of `files` files is split into (see `_Index._build`)."""
    return max(1, min(MAX_SLOTS, files // FILES_PER_SLOT))


def _stamps_digest(entries: list[FileEntry]) -> str:
    """A digest of the files' paths and stamps, in `scan_files` order."""
    text = "\n".join(f"{e.path}\0{e.size}\0{e.mtime_ns}\0{e.ctime_ns}" for e in entries)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _read_document(root: Path, path: str) -> tuple[str | None, bytes | None]:
    """A file's bytes, or the warning that says why it is skipped."""
    try:
        data = _read_bytes(root / path)
    except OSError as error:
        return f"skipped {path}: cannot read it ({error.strerror or error})", None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"skipped {path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "convert it, e.g. with `iconv -t UTF-8`"
        ), None
    return None, data


class _Parsed(NamedTuple):
    """What the index stores of one file, as rows of its tables less the section ids.

    `file` is the `files` row; `sections` the `sections` rows without `id`; `texts` the
    full-text rows (title, headings, body) without `rowid`, `headings` being the trail below
    the document title.
    """

    file: tuple[str, int, int, int, str | None, int, int]
    sections: list[tuple[str, str, int, str, str, int, int, int, int, int]]
    texts: list[tuple[str, str, str]]


def _parse_file(root: Path, stubs: _StubPatterns, entry: FileEntry) -> _Parsed:
    """Read and split one file (in a worker process, for a slot of a large build: see `_Index._build`)."""
    warning, data = _read_document(root, entry.path)
    stamp = (entry.path, entry.size, entry.mtime_ns, entry.ctime_ns)
    if data is None:
        return _Parsed((*stamp, warning, 0, 0), [], [])
    stub = int(stubs.matches(entry.path, data))
    raws = split_sections(entry.path, data)
    title = (raws[0].trail.split(TRAIL_SEPARATOR)[0] + " " + " ".join(Path(entry.path).stem.split("-"))) if raws else ""
    folder = folder_of(entry.path)
    sections, texts = [], []
    for ordinal, raw in enumerate(raws):
        text = data[raw.start : raw.end].decode("utf-8")
        tokens = estimate_tokens(text)
        row = (entry.path, folder, ordinal, raw.heading, raw.trail, raw.line, raw.start, raw.end, tokens, stub)
        sections.append(row)
        texts.append((title, raw.trail.partition(TRAIL_SEPARATOR)[2], text))
    return _Parsed((*stamp, warning, stub, len(sections)), sections, texts)


# --- unedited stubs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _StubPatterns:
    """What `scaffold new-decision|new-incident|new-runbook` writes before anyone edits it.

    A document that still matches its folder's template (the home's `_templates/<kind>.md`, or
    the bundled one), with any number, title and date filled in, says nothing yet: it is
    indexed but never ranked. The templates are compiled only when a file is parsed: a warm
    run needs their digest alone.
    """

    templates: dict[str, tuple[bytes, ...]]
    digest: str

    @classmethod
    def load(cls, root: Path) -> _StubPatterns:
        from generator.context.home import DOC_FOLDERS
        from generator.settings import bundled_root

        templates: dict[str, tuple[bytes, ...]] = {}
        digest = hashlib.sha256()
        for doc_kind, folder in sorted(DOC_FOLDERS.items()):
            found = []
            for base in (root, bundled_root() / "context"):
                try:
                    template = (base / "_templates" / f"{doc_kind}.md").read_bytes()
                except OSError:
                    continue
                digest.update(template + b"\0")
                found.append(template)
            templates[folder] = tuple(found)
        return cls(templates, digest.hexdigest()[:16])

    @functools.cached_property
    def patterns(self) -> dict[str, tuple[re.Pattern[bytes], ...]]:
        return {folder: tuple(map(_template_pattern, found)) for folder, found in self.templates.items()}

    def matches(self, path: str, data: bytes) -> bool:
        folder = path.partition("/")[0]
        text = data.strip()
        return any(pattern.fullmatch(text) for pattern in self.patterns.get(folder, ()))


def _template_pattern(template: bytes) -> re.Pattern[bytes]:
    pattern = re.escape(template.strip())
    for name, value in ((b"number", rb"\d+"), (b"title", rb"[^\n]*"), (b"date", rb"[^\n]*")):
        pattern = pattern.replace(re.escape(b"${" + name + b"}"), value).replace(re.escape(b"$" + name), value)
    return re.compile(pattern.replace(rb"\r\n", rb"\n"))
