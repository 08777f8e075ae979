"""The knowledge home on disk: markdown documents, split into sections, indexed and cached.

A section starts at an ATX heading of level 1 to 3 outside fenced code and runs to the next
one; deeper headings stay inside their parent, so a runbook step keeps its sub-steps. Text
before the first heading is the preamble. A section longer than `MAX_SECTION_BYTES` is cut
into parts at a blank line (else a line end, else a character boundary), so a budget can be
filled to within one part and an enormous file is truncated instead of dropped.

The index is cached under the user cache dir, keyed by every file's path, size, mtime and
ctime (ctime moves when permissions change, so a file made readable is picked up): a
manifest, each document's sections (byte offsets, token estimates), the BM25 ranker over
the ranked folders, and recent queries' results. A warm run stats the files, reads the
manifest and loads only the documents it selects; a repeated task skips BM25 entirely.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from generator.context.tokens import estimate_tokens
from generator.errors import HomeError, UsageError
from generator.plumbing.atomic import write_atomic

INDEX_VERSION = 1
SPLIT_LEVEL = 3
MAX_SECTION_BYTES = 8_000
MARKDOWN_SUFFIXES = frozenset({"md", "markdown"})
PREAMBLE = "(preamble)"
TRAIL_SEPARATOR = " > "

_HEADING = re.compile(rb"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$")
_FENCE = re.compile(rb"^ {0,3}(`{3,}|~{3,})")


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
        return folder_of(self.path)


def folder_of(path: str) -> str:
    """The top-level folder of a document's path in `context/` ("" for a document at its root)."""
    head, sep, _ = path.partition("/")
    return head if sep else ""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A markdown file found in the home, with the stat data the cache is keyed by."""

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


def _walk(folder: str, prefix: str, seen: set[tuple[int, int]], entries: list[FileEntry], warnings: list[str]) -> None:
    try:
        with os.scandir(folder) as listing:
            children = sorted(listing, key=lambda child: child.name)
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


def fingerprint(entries: Iterable[FileEntry]) -> str:
    """A digest of the file list and every file's size, mtime and ctime."""
    digest = hashlib.sha256(f"v{INDEX_VERSION}:{SPLIT_LEVEL}:{MAX_SECTION_BYTES}\n".encode())
    for entry in entries:
        digest.update(f"{entry.path}\0{entry.size}\0{entry.mtime_ns}\0{entry.ctime_ns}\n".encode())
    return digest.hexdigest()


# --- splitting a document into sections ----------------------------------------------------


def split_sections(path: str, data: bytes) -> list[_RawSection]:
    """Cut a UTF-8 markdown document into sections (see the module docstring)."""
    base = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    title, titled = Path(path).stem, False
    boundaries: list[tuple[int, int, int, str]] = []
    fence: bytes | None = None
    offset = base
    for number, raw in enumerate(data[base:].split(b"\n"), start=1):
        start, offset = offset, offset + len(raw) + 1
        indent = len(raw) - len(raw.lstrip(b" "))
        if indent > 3:
            continue
        first = raw[indent : indent + 1]
        if fence is not None:
            if first == fence[:1] and raw.strip().startswith(fence) and not raw.strip().strip(fence[:1]):
                fence = None
            continue
        if first in (b"`", b"~"):
            match = _FENCE.match(raw)
            if match:
                fence = match.group(1)
            continue
        if first != b"#":
            continue
        heading = _HEADING.match(raw)
        if heading is None:
            continue
        level = len(heading.group(1))
        if level > SPLIT_LEVEL:
            continue
        text = (heading.group(2) or b"").decode("utf-8").strip() or "(untitled)"
        boundaries.append((start, number, level, text))
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


class Library:
    """The sections of one knowledge home's `context/` folder, ready to select from.

    Built by `load_library`. Sections are loaded per document, on first use, so a warm run
    touches only the documents it selects.
    """

    def __init__(
        self, root: Path, files: dict[str, dict[str, Any]], warnings: list[str], digest: str, store: _Store
    ) -> None:
        self.root = root
        self.files = files
        self.warnings = warnings
        self.fingerprint = digest
        self._store = store
        self._sections: dict[str, list[Section]] = {}
        self._rankers: dict[tuple[str, ...], _Ranker | None] = {}

    def paths(self) -> list[str]:
        """Every document with at least one section, sorted."""
        return sorted(path for path, info in self.files.items() if info.get("n"))

    def sections_of(self, path: str) -> list[Section] | None:
        """The sections of one document in file order, or None if it is not indexed."""
        info = self.files.get(path)
        if info is None or not info.get("n"):
            return None
        if path not in self._sections:
            rows = self._store.sections(info["doc"])
            if rows is None:
                _, fresh = _parse_file(self.root, path)
                rows = fresh
            self._sections[path] = [Section(path, ordinal, *row) for ordinal, row in enumerate(rows)]
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

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        """The best `limit` sections in `folders` for `query` by BM25, best first, score > 0."""
        if limit <= 0:
            return []
        key = tuple(sorted(folders))
        query_key = hashlib.sha256(f"{key}\0{limit}\0{query}".encode()).hexdigest()[:24]
        hits = self._store.query(self.fingerprint, query_key)
        if hits is None:
            if key not in self._rankers:
                self._rankers[key] = self._load_or_build_ranker(key)
            ranker = self._rankers[key]
            hits = ranker.top(query, limit) if ranker else []
            self._store.remember_query(self.fingerprint, query_key, hits)
        ranked = []
        for path, ordinal, score in hits:
            section = self.section((path, ordinal))
            if section is not None:
                ranked.append((section, score))
        return ranked

    def _load_or_build_ranker(self, folders: tuple[str, ...]) -> _Ranker | None:
        name = "bm25-" + hashlib.sha256("\0".join(folders).encode()).hexdigest()[:12]
        ranker = self._store.ranker(name, self.fingerprint)
        if ranker is not None:
            return ranker
        rows: list[tuple[str, int]] = []
        texts: list[str] = []
        for path in self.paths():
            if folder_of(path) not in folders:
                continue
            try:
                data = (self.root / path).read_bytes()
            except OSError:
                continue  # removed since the scan; the next run re-indexes
            for section in self.sections_of(path) or []:
                rows.append(section.key)
                texts.append(section.trail + "\n" + data[section.start : section.end].decode("utf-8", "replace"))
        if not rows:
            return None
        ranker = _Ranker.build(texts, rows)
        self._store.save_ranker(name, self.fingerprint, ranker)
        return ranker


class _Ranker:
    """BM25 ranking by bm25s (Lucene variant, English stop words, Snowball stems).

    bm25s tokenizes the sections and computes every term's BM25 weight in every section;
    those weights are kept as postings (per term: sections and weights). A query adds up
    its terms' weights per section, exactly as bm25s's `get_scores` does, but from the
    cached postings with plain Python, so a warm run does not import numpy and bm25s (a
    third of a second). `tests/test_context_documents.py` checks the scores against bm25s.
    """

    def __init__(
        self,
        vocab: dict[str, int],
        stopwords: frozenset[str],
        postings: tuple[array[int], array[int], array[float]],
        rows: list[tuple[str, int]],
    ) -> None:
        self.vocab = vocab
        self.stopwords = stopwords
        self.indptr, self.indices, self.weights = postings
        self.rows = rows

    @classmethod
    def build(cls, texts: list[str], rows: list[tuple[str, int]]) -> _Ranker:
        import bm25s
        from bm25s.stopwords import STOPWORDS_EN

        model = bm25s.BM25(method="lucene")
        tokens = bm25s.tokenize(
            texts, token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=_stemmer(), show_progress=False
        )
        model.index(tokens, show_progress=False)
        postings = (
            _array("q", model.scores["indptr"].astype("int64").tobytes()),
            _array("i", model.scores["indices"].astype("int32").tobytes()),
            _array("f", model.scores["data"].astype("float32").tobytes()),
        )
        terms = len(postings[0]) - 1  # bm25s adds an "" entry to the vocabulary with no column
        vocab = {str(token): int(index) for token, index in model.vocab_dict.items() if int(index) < terms}
        return cls(vocab, frozenset(STOPWORDS_EN), postings, rows)

    def query_ids(self, query: str) -> list[int]:
        """The query's term ids, tokenized as bm25s tokenized the sections (repeats kept)."""
        words = [word for word in re.findall(TOKEN_PATTERN, query.lower()) if word not in self.stopwords]
        stems = _stemmer().stemWords(words) if words else []
        return [self.vocab[stem] for stem in stems if stem in self.vocab]

    def scores(self, query: str) -> dict[int, float]:
        """Each matching section's BM25 score: the sum of its weights for the query's terms."""
        totals: dict[int, float] = {}
        for term in self.query_ids(query):
            for position in range(self.indptr[term], self.indptr[term + 1]):
                row = self.indices[position]
                totals[row] = totals.get(row, 0.0) + self.weights[position]
        return totals

    def top(self, query: str, limit: int) -> list[tuple[str, int, float]]:
        totals = self.scores(query)
        best = sorted((row for row, score in totals.items() if score > 0), key=lambda row: (-totals[row], row))
        return [(*self.rows[row], totals[row]) for row in best[:limit]]

    def save(self, folder: Path, digest: str) -> None:
        (folder / "indptr.bin").write_bytes(self.indptr.tobytes())
        (folder / "indices.bin").write_bytes(self.indices.tobytes())
        (folder / "weights.bin").write_bytes(self.weights.tobytes())
        meta = {"fingerprint": digest, "rows": self.rows, "vocab": self.vocab, "stopwords": sorted(self.stopwords)}
        (folder / "ranker.json").write_text(json.dumps(meta), encoding="utf-8")

    @staticmethod
    def fingerprint_at(folder: Path) -> str | None:
        """The index fingerprint a saved ranker was built for, without loading it."""
        try:
            with (folder / "ranker.json").open(encoding="utf-8") as handle:
                match = re.search(r'"fingerprint":\s*"([0-9a-f]+)"', handle.read(200))
        except OSError:
            return None
        return match.group(1) if match else None

    @classmethod
    def load(cls, folder: Path, digest: str) -> _Ranker | None:
        try:
            meta = json.loads((folder / "ranker.json").read_text(encoding="utf-8"))
            if meta.get("fingerprint") != digest:
                return None
            postings = (
                _array("q", (folder / "indptr.bin").read_bytes()),
                _array("i", (folder / "indices.bin").read_bytes()),
                _array("f", (folder / "weights.bin").read_bytes()),
            )
            rows = [(str(path), int(ordinal)) for path, ordinal in meta["rows"]]
            ranker = cls(dict(meta["vocab"]), frozenset(meta["stopwords"]), postings, rows)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        terms = len(ranker.indptr) - 1
        if terms < 0 or ranker.indptr[-1] != len(ranker.indices) or len(ranker.indices) != len(ranker.weights):
            return None
        if any(not 0 <= index < terms for index in ranker.vocab.values()):
            return None
        return ranker


TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _array(code: str, data: bytes) -> array[Any]:
    values = array(code)
    values.frombytes(data)
    return values


@cache
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


# --- building and caching ------------------------------------------------------------------


def cache_root() -> Path:
    """Where indexes and redaction results are cached (under the user cache dir)."""
    from generator.settings import user_cache_dir

    return user_cache_dir() / "context-index"


def load_library(root: Path, use_cache: bool = True) -> Library:
    """The index of `root` (a `context/` folder), from the cache when nothing changed."""
    entries, warnings = scan_files(root)
    digest = fingerprint(entries)
    folder = cache_root() / hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    store = _Store(folder if use_cache else None)
    manifest = store.manifest()
    if manifest is None or manifest.get("fingerprint") != digest:
        manifest = _build_index(root, entries, manifest, store)
        manifest["fingerprint"] = digest
        store.save_manifest(manifest)
    files: dict[str, dict[str, Any]] = manifest["files"]
    file_warnings = [info["warning"] for info in files.values() if info.get("warning")]
    return Library(root, files, warnings + file_warnings, digest, store)


def _build_index(
    root: Path, entries: list[FileEntry], previous: dict[str, Any] | None, store: _Store
) -> dict[str, Any]:
    """Parse every file, reusing the stored sections of files whose stat did not change."""
    old_files: dict[str, Any] = previous["files"] if previous else {}
    files: dict[str, Any] = {}
    for entry in entries:
        stamp = f"{entry.path}\0{entry.size}\0{entry.mtime_ns}\0{entry.ctime_ns}"
        doc = hashlib.sha256(stamp.encode()).hexdigest()[:24]
        old = old_files.get(entry.path)
        if old is not None and old.get("doc") == doc and (old.get("warning") or store.has_sections(doc)):
            files[entry.path] = old
            continue
        warning, rows = _parse_file(root, entry.path)
        info: dict[str, Any] = {"doc": doc, "n": len(rows)}
        if warning:
            info["warning"] = warning
        else:
            store.save_sections(doc, rows)
        files[entry.path] = info
    return {"version": INDEX_VERSION, "files": files}


def _parse_file(root: Path, path: str) -> tuple[str | None, list[list[Any]]]:
    try:
        data = _read_bytes(root / path)
    except OSError as error:
        return f"skipped {path}: cannot read it ({error.strerror or error})", []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"skipped {path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "convert it, e.g. with `iconv -t UTF-8`"
        ), []
    rows = []
    for raw in split_sections(path, data):
        tokens = estimate_tokens(data[raw.start : raw.end].decode("utf-8"))
        rows.append([raw.heading, raw.trail, raw.line, raw.start, raw.end, tokens])
    return None, rows


class _Store:
    """The on-disk cache of one home: a manifest, sections per document, rankers, queries.

    Every file is written to a temporary name and renamed into place; anything unreadable
    counts as missing, and a cache that cannot be written only costs speed. Without a
    folder, everything stays in memory.
    """

    QUERY_LIMIT = 256

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.memory: dict[str, Any] = {}
        self.queries: dict[str, Any] | None = None

    def _read_json(self, name: str) -> Any:
        if self.folder is None:
            return self.memory.get(name)
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _write_json(self, name: str, data: Any) -> None:
        if self.folder is None:
            self.memory[name] = data
            return
        try:
            target = self.folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            # Private to the user: the index holds the knowledge home's headings and the tasks asked.
            write_atomic(target, json.dumps(data, separators=(",", ":")), mode=0o600)
        except (OSError, UsageError):
            pass  # a cache we cannot write (or that is a link) only costs speed

    def manifest(self) -> dict[str, Any] | None:
        data = self._read_json("manifest.json")
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return None
        return data

    def save_manifest(self, manifest: dict[str, Any]) -> None:
        self._write_json("manifest.json", manifest)
        if self.folder is not None:
            live = {f"{info['doc']}.json" for info in manifest["files"].values()}
            for stale in (self.folder / "docs").glob("*.json"):
                if stale.name not in live:
                    stale.unlink(missing_ok=True)

    def has_sections(self, doc: str) -> bool:
        if self.folder is None:
            return f"docs/{doc}.json" in self.memory
        return (self.folder / "docs" / f"{doc}.json").is_file()

    def sections(self, doc: str) -> list[list[Any]] | None:
        rows = self._read_json(f"docs/{doc}.json")
        return rows if isinstance(rows, list) else None

    def save_sections(self, doc: str, rows: list[list[Any]]) -> None:
        self._write_json(f"docs/{doc}.json", rows)

    def ranker(self, name: str, digest: str) -> _Ranker | None:
        if self.folder is None:
            ranker = self.memory.get(name)
            return ranker if isinstance(ranker, _Ranker) else None
        return _Ranker.load(self.folder / name, digest)

    def save_ranker(self, name: str, digest: str, ranker: _Ranker) -> None:
        if self.folder is None:
            self.memory[name] = ranker
            return
        # Rankers over other folder sets (selection's, search's) stay while they index the same files.
        for stale in self.folder.glob("bm25-*"):
            if stale.name != name and _Ranker.fingerprint_at(stale) != digest:
                shutil.rmtree(stale, ignore_errors=True)
        with _atomic_dir(self.folder / name) as tmp:
            ranker.save(tmp, digest)

    def query(self, digest: str, key: str) -> list[tuple[str, int, float]] | None:
        if self.queries is None:
            data = self._read_json("queries.json")
            valid = isinstance(data, dict) and data.get("fingerprint") == digest
            self.queries = data if valid else {"fingerprint": digest, "entries": {}}
        hits = self.queries["entries"].get(key)
        return [(path, ordinal, score) for path, ordinal, score in hits] if hits is not None else None

    def remember_query(self, digest: str, key: str, hits: list[tuple[str, int, float]]) -> None:
        entries = self.queries["entries"] if self.queries else {}
        entries[key] = hits
        kept = dict(list(entries.items())[-self.QUERY_LIMIT :])
        self.queries = {"fingerprint": digest, "entries": kept}
        self._write_json("queries.json", self.queries)


@contextlib.contextmanager
def _atomic_dir(target: Path) -> Iterator[Path]:
    """Write a folder next to `target` and move it into place only when complete."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    except OSError:
        with tempfile.TemporaryDirectory() as scratch:
            yield Path(scratch)
        return
    try:
        yield tmp
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    except OSError:
        pass  # another process won the race, or the cache is read-only
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
