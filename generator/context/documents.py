"""The knowledge home as selection sees it: a `Library` of sections over the home's index.

`load_library` finds the files (`generator.context.sections`), brings the SQLite index up to
date (`generator.context.index`) and answers selection's questions: which documents there are,
their sections, the best sections for a query, which documents refer to which. A section's
text is read from its file only when it is selected.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import re
import sqlite3
from collections import OrderedDict
from collections.abc import Collection, Sequence
from pathlib import Path

from generator.context import parallel
from generator.context import sections as home_files
from generator.context.index import SectionIndex, StoredValueError, damaged, remove_database, stamps_digest
from generator.context.links import (
    MAX_TEXT,
    Catalogue,
    Retired,
    is_rejected,
    meant_as_reference,
    numbered_references,
    phrases_naming,
    reference_keys,
    retirement,
    status_of,
    written_as,
)
from generator.context.sections import FileEntry, Piece, Section, StubPatterns, scan_files
from generator.errors import DocumentChangedError, IndexBehindError

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
# What bash's completion puts a backslash before in a file name (its filename quote characters, less
# `~`, which it leaves as it is inside a path: `~/x~y\ z/`).
_SHELL_SPECIAL = re.compile(r"[ \t\n\\\"'@<>=;|&()#$`?*\[!:{]")
# A task is a sentence or a project's answers: a few dozen words. Ranking scores every section
# holding any of them, so a pasted page of 1,200 words took 6 s a new task; the first 100 words
# (and 100 pairs) rank it in well under a second.
MAX_QUERY_WORDS = 100
# The documents a task names are looked for in its first and last this many characters: a long task
# is a pasted log or diff with the question before or after it.
NAMED_WITHIN = 10_000
# Warnings about references by number that name no one document, at most (the last says how many more).
MAX_REFERENCE_WARNINGS = 5
# How many documents a `Library` keeps once read for their sections: a prompt takes a few sections
# of each document it draws on, in turn; at most a megabyte each.
KEPT_DOCUMENTS = 8


class Library:
    """The sections of one knowledge home's `context/` folder, ready to select from.

    Built by `load_library` over an SQLite database (see `SectionIndex`). A ranking reads the
    sections it names; a document's whole list is read when first asked for, so a warm run
    touches only the rows it ranks and the documents it selects.
    """

    def __init__(
        self,
        root: Path,
        index: SectionIndex,
        warnings: list[str],
        stubs: list[str],
        behind: _Scan | None = None,
        cache_warnings: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.stubs = stubs
        self._warnings = warnings
        # About scaffold's own cache, in its own words: shown as they are (the cache's path is
        # scaffold's, and no secret a home's names could hold; scanned, its hashed name read as one).
        self.cache_warnings = tuple(cache_warnings)
        self._index = index
        # Loaded with `speculate`: the look at the files still going on (see `confirm`).
        self._behind = behind
        self._sections: dict[str, list[Section]] = {}
        # Sections rankings named, of documents not loaded whole (`rank`).
        self._ranked: dict[tuple[str, int], Section] = {}
        self._paths: list[str] | None = None
        self._catalogue: Catalogue | None = None
        self._last_keys: tuple[str, list[str]] | None = None  # `_task_keys`
        # The last documents `read` read, with the digest they were checked against.
        self._documents: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    @property
    def index_path(self) -> Path | None:
        """The index's file, None for one in memory."""
        return self._index.path

    @property
    def warnings(self) -> list[str]:
        """Files skipped, and why (`confirm`s first: the look at the files finds some of them)."""
        self.confirm()
        return self._warnings

    def confirm(self) -> None:
        """For a library loaded with `speculate`: wait for the look at the files, and raise
        `IndexBehindError` if the index does not have them as they are. Whoever loads one must
        call this before using what it found (`generator.context.api` does)."""
        if self._behind is None:
            return
        warnings = self._behind.warnings_if_unchanged()
        if warnings is None:
            raise IndexBehindError(f"{self.root}: a file changed since the context index was last brought up to date")
        self._behind = None
        self._warnings = warnings + self._warnings

    def _confirm_if_known(self) -> None:
        """`confirm` if the look at the files is done: a changed file stops the work at once."""
        if self._behind is not None and self._behind.done():
            self.confirm()

    def release(self) -> None:
        """Done with this library, whatever came of it: end the look at the files if it still runs
        (an error, Ctrl-C), and close the index."""
        if self._behind is not None:
            self._behind.close()
        self._index.close()

    def paths(self) -> list[str]:
        """Every document with at least one section, sorted."""
        if self._paths is None:
            self._paths = self._index.paths()
        return self._paths

    def absent_because(self, path: str) -> str | None:
        """Why a file of the home has no section ("is empty", "could not be read ..."), or None when
        there is no such file: told apart so that a document left empty is not called missing."""
        skipped = self._index.without_sections(path)
        if skipped is None:
            return None
        return "could not be read (see the warning about it)" if skipped else "is empty"

    def sections_of(self, path: str) -> list[Section] | None:
        """The sections of one document in file order, or None if it is not indexed."""
        if path not in self._sections:
            sections = self._index.sections_of(path)
            if not sections:
                return None
            self._sections[path] = sections
        return self._sections[path]

    def section(self, key: tuple[str, int]) -> Section | None:
        """One section: as a ranking read it, unless its document is loaded whole (`sections_of`)."""
        sections = self._sections.get(key[0])
        if sections is None:
            ranked = self._ranked.get(key)
            if ranked is not None:
                return ranked
            sections = self.sections_of(key[0])
        return sections[key[1]] if sections is not None and key[1] < len(sections) else None

    def read(self, section: Section) -> str:
        """The text of a section, read from disk.

        The index knows where a section starts and ends in the document it split; the file may have
        changed since (an editor saving, a `git pull` while `scaffold mcp` runs), and the same offsets
        would cut the new text anywhere. So the document is read as the index read it (a megabyte at
        most) and must be what it split, by digest (`Section.digest`); else, or if it can no longer
        be read, `DocumentChangedError`, which names the file for the next update to read again. The
        last few documents read are kept: their sections then come from the same bytes, and a
        document of a thousand sections is not read a thousand times.
        """
        return self._section_text(section, self._read_data(section))

    def peek(self, section: Section) -> str:
        """`read`, but a document not kept yet is not kept for this: selection looks at a status,
        or shows a re-rank a document's start, before choosing, and the prompt reads what it chose
        as it is then (a save in between is a change `read` catches, not old bytes served)."""
        return self._section_text(section, self._data_of(section, keep=False))

    def piece(self, section: Section, *, peek: bool = False) -> Piece:
        """The section's text as `read` reads it (or `peek`), as redaction takes it: a part of a long
        section with the rest of that section around it, which redaction scans with it and never
        shows. A secret the cut splits, a value below the cut whose name or table header is above it,
        are found as in the whole section; every part of it is the same text to scan, scanned once
        and cached."""
        data = self._data_of(section, keep=False) if peek else self._read_data(section)
        text = self._section_text(section, data)
        whole = self._whole_section(section)
        if whole is None:
            return Piece(section.path, section.line, text)
        before, after = _as_text(data[whole[0] : section.start]), _as_text(data[section.end : whole[1]])
        return Piece(section.path, section.line, text, before, after)

    def _whole_section(self, part: Section) -> tuple[int, int] | None:
        """Where the long section `part` is a part of starts and ends in its document; None for a
        section that is whole. (Two sections of one document with the same heading path: both.)"""
        if home_files.split_part(part.heading)[1] is None:
            return None
        trail = home_files.split_part(part.trail)[0]
        siblings = [
            section
            for section in self.sections_of(part.path) or [part]
            if home_files.split_part(section.heading)[1] is not None
            and home_files.split_part(section.trail)[0] == trail
        ]
        return min(section.start for section in siblings), max(section.end for section in siblings)

    @staticmethod
    def _section_text(section: Section, data: bytes) -> str:
        # Lines end as in the prompt around it: a document saved on Windows put CRs into the prompt.
        return _as_text(data[section.start : section.end])

    def _read_data(self, section: Section) -> bytes:
        self._confirm_if_known()
        return self._data_of(section, keep=True)

    def _data_of(self, section: Section, keep: bool) -> bytes:
        kept = self._documents.get(section.path)
        if kept is not None and kept[0] == section.digest:
            self._documents.move_to_end(section.path)
            return kept[1]
        return self._read_document(section, keep)

    def _read_document(self, section: Section, keep: bool = True) -> bytes:
        path = self.root / section.path
        try:
            data, digest = home_files.read_raw(self.root, section.path)
        except OSError as error:
            # Deleted, or become a link out, since the index update: the next update knows.
            message = f"cannot read {path}: {error.strerror or error}; run again"
            raise DocumentChangedError(message, section.path) from None
        if section.digest is None or digest != section.digest:
            raise DocumentChangedError(f"{path} changed while scaffold read it; run again", section.path)
        if not keep:
            return data
        self._documents[section.path] = (section.digest, data)
        if len(self._documents) > KEPT_DOCUMENTS:
            self._documents.popitem(last=False)
        return data

    def neighbours(self, path: str, among: Collection[str]) -> list[str]:
        """The documents of `among` that `path` refers to, then those referring to it (see `links`).

        `among` are the documents selection would take (those the task scores high enough): only
        they are read, so a home full of references costs a warm run nothing. The full-text index
        tells which of them may refer to `path` (they contain its file name, or its number after
        "ADR"); reading each confirms it.
        """
        catalogue = self._catalogue_of()
        wanted = [candidate for candidate in among if candidate != path]

        def refers_to(source: str) -> set[str]:
            return set(self._resolved(reference_keys(source, self._text(source))))

        named = refers_to(path)
        neighbours = [candidate for candidate in wanted if candidate in named]
        suspects = self._index.containing(phrases_naming(path, catalogue), wanted)
        neighbours += [source for source in suspects if source not in named and path in refers_to(source)]
        return neighbours

    def named_in(self, text: str) -> list[str]:
        """The documents `text` (a task) names as documents refer to each other (`links`: "ADR 8",
        "incident 12", a path or file name, a markdown link), each once; unedited stubs left out."""
        keys = self._task_keys(text)
        if not keys:
            return []  # most tasks: no catalogue of the home's names to build (10-20 ms on 10,000 documents)
        named = (self._task_resolved(key) for key in keys)
        return [path for path in dict.fromkeys(named) if path is not None]

    def _task_resolved(self, key: str) -> str | None:
        """The document a task's key names (`Catalogue.resolve_typed`), unedited stubs left out first: a
        stub `new-decision` made on one branch shares its number with the decision of another."""
        catalogue = self._catalogue_of()
        found = catalogue.resolve_typed(key)
        if found is None:
            meanings = [path for path in catalogue.meanings(key) if path not in self.stubs]
            return meanings[0] if len(meanings) == 1 else None
        return found if found not in self.stubs else None

    def names_document(self, key: str) -> bool:
        """Whether a reference's key (`num:adr:2`) names a document of the home, a stub or not."""
        return bool(self._catalogue_of().meanings(key))

    def unresolved_in(self, text: str) -> list[str]:
        """Warnings, a line each, for the task's references by number that name no one document.

        A number two documents or more have names neither (two branches that each ran `new-decision`,
        merged): each is said as a reference writes it, with those documents, unedited stubs left out.
        A reference that can only mean a document ("ADR 7", "incident 0042": `meant_as_reference`) to a
        number its folder lacks names nothing (a typo, a branch not merged) and the task is answered
        without it. Not names: every home has two README.md files, and a task saying "the README" means
        its project's."""
        numbers = [key for key in self._task_keys(text) if key.startswith("num:")]
        if not numbers:
            return []
        catalogue = self._catalogue_of()
        shared: dict[tuple[str, ...], str] = {}
        for key in numbers:  # two or more but stubs: `_task_resolved` names none of them
            meanings = tuple(path for path in catalogue.meanings(key) if path not in self.stubs)
            if len(meanings) > 1:
                shared.setdefault(meanings, written_as(key))  # "ADR 11" and "decision 11": one warning
        warnings = [
            f'"{written}" in the task fits {len(paths)} documents ({", ".join(paths)}), so it names none of them; '
            "name the one you mean by its path, or renumber all but one (scaffold doctor)"
            for paths, written in shared.items()
        ]
        # By folder and number: "ADR 7" and "decision 0007" are one warning, as first written.
        missing: dict[tuple[str, int], str] = {}
        for match, key in numbered_references(self._named_within(text)):
            if not meant_as_reference(match) or (lacking := catalogue.missing(key)) is None:
                continue
            folder, last = lacking
            number = int(match.group(2))
            written = " ".join(match.group(0).split())  # "ADR\n7" across a line break is said on one line
            missing.setdefault(
                (folder, number),
                f'"{written}" in the task names no document: {folder}/ has no number {number} (its last is {last}); '
                "check the number, or pull the branch that adds it",
            )
        said = warnings + list(missing.values())
        if len(said) > MAX_REFERENCE_WARNINGS:  # a pasted listing must not bury the prompt in warnings
            more = len(said) - MAX_REFERENCE_WARNINGS + 1
            said = [*said[: MAX_REFERENCE_WARNINGS - 1], f"{more} more references in the task name no one document"]
        return said

    @staticmethod
    def _named_within(text: str) -> str:
        """Where a task names documents: all of it, or a long one's start and end (a pasted log with
        the question before or after it: names are asked for there, not mid-log)."""
        # Four line breaks between: more than a reference may hold, so none is stitched across the cut.
        return f"{text[:NAMED_WITHIN]}\n\n\n\n{text[-NAMED_WITHIN:]}" if len(text) > 2 * NAMED_WITHIN else text

    def _task_keys(self, text: str) -> list[str]:
        """The keys a task's text names documents by (`named_in`), each with the forms it may stand for,
        in the task's order (the first named first); the last text's kept, as both callers ask."""
        if self._last_keys is not None and self._last_keys[0] == text:
            return self._last_keys[1]
        shortened = self._named_within(text)
        forms = _written_forms(self.root)
        roots = tuple(f"abs:{form}" for form in forms)
        keys: list[str] = []
        for key in reference_keys("", shortened, in_task=True, roots=forms):
            keys.append(key)
            # Written from the home repository's root, as a teammate would copy it: `context/runbooks/x.md`.
            if key.startswith("path:context/"):
                keys.append(f"path:{key.removeprefix('path:context/')}")
            # Pasted from an editor or a terminal: a file of this home by its absolute path.
            keys += [f"path:{key.removeprefix(root)}" for root in roots if key.startswith(root)]
        self._last_keys = (text, keys)
        return keys

    def words_in(self, paths: Sequence[str], words: Sequence[str], enough: int | None = None) -> dict[str, set[str]]:
        """Which of `words` each of `paths` holds in some section (stemmed as ranking stems them).

        With `enough`, a document holding that many is looked at no further: its set may be short.
        """
        return self._index.words_in(paths, words, enough)

    def retired(self, path: str) -> Retired | None:
        """Whether a document says it is superseded or deprecated (`links.retirement`), with the
        home's documents its status names: its successors. None if it holds, and also if every
        successor it names is an unedited stub (`new-decision` run, nothing written yet) or was
        rejected: until one is written and not rejected, the old one is what holds.

        Read from its title section and a "Status" section, checked against the index as the
        prompt's reads are (`peek`), not from a later section.
        """
        found = retirement(path, self._head(path))
        if found is None:
            return None
        status, keys = found
        named = [target for target in self._resolved(keys) if target != path]
        # An unedited stub, or a decision that was rejected, replaces nothing.
        successors = tuple(
            target for target in named if target not in self.stubs and not is_rejected(status_of(self._head(target)))
        )
        return None if named and not successors else Retired(status, successors, bool(keys))

    def _head(self, path: str) -> str:
        """A document's title section and its "Status" section, where its status is written."""
        sections = self.sections_of(path) or []
        head = [section for section in sections if section.ordinal == 0 or section.heading.casefold() == "status"]
        return "\n".join(self.peek(section) for section in head[:2])

    def _resolved(self, keys: Sequence[str]) -> list[str]:
        """The documents references' `keys` name (`links.reference_keys`), each once (a task's:
        `_task_resolved`)."""
        catalogue = self._catalogue_of()
        return [target for target in dict.fromkeys(catalogue.resolve(key) for key in keys) if target is not None]

    def _catalogue_of(self) -> Catalogue:
        if self._catalogue is None:
            self._catalogue = Catalogue(self.paths())
        return self._catalogue

    def _text(self, path: str) -> str:
        """A document's text for its references (the start of it); nothing if it cannot be read."""
        try:
            # Called on the module, where the tests patch it.
            data = home_files.read_bytes(self.root, path, limit=MAX_TEXT * 4)
        except OSError:
            return ""  # selection goes on without its references, as it does without the file
        return data.decode("utf-8", errors="replace")

    def rank(self, query: str, folders: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        """The best `limit` sections in `folders` for `query` by BM25, best first, score > 0.

        Unedited stubs (see `is_stub`) are never ranked.
        """
        self._confirm_if_known()
        terms = _ranking_terms(query)
        if limit <= 0 or not terms or not folders:
            return []
        return self._sections_scored(self._index.rank(terms, folders, limit))

    def rank_among(self, query: str, paths: Sequence[str], limit: int) -> list[tuple[Section, float]]:
        """`rank` among the sections of `paths` alone (the documents a task names): their best for the
        task, scored as the whole home's ranking scores them."""
        self._confirm_if_known()
        terms = _ranking_terms(query)
        if limit <= 0 or not terms or not paths:
            return []
        return self._sections_scored(self._index.rank_among(terms, paths, limit))

    def _sections_scored(self, hits: list[tuple[str, int, float]]) -> list[tuple[Section, float]]:
        """The sections a ranking's `hits` (path, ordinal, score) name, with their scores, those above 0."""
        ranked = []
        # The hits in one query, not one each: a ranking names a few hundred sections.
        keys = ((path, ordinal) for path, ordinal, _ in hits)
        self._ranked.update(
            self._index.sections_at([key for key in keys if key[0] not in self._sections and key not in self._ranked])
        )
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
    terms: dict[str, None] = {}
    for match in _QUERY_WORD.finditer(text.lower()):  # to the words needed, not through a pasted log
        if match.group() not in _STOPWORDS:
            terms.setdefault(match.group())
            if len(terms) == MAX_QUERY_WORDS:
                break
    return list(terms)


def _ranking_terms(query: str) -> list[str]:
    """What a ranking looks for: the query's words, then its pairs of neighbouring words as phrases."""
    return query_terms(query) + [" ".join(pair) for pair in query_pairs(query)]


def query_pairs(text: str) -> list[tuple[str, str]]:
    """Neighbouring words of `text` (no stop word between them): phrases a query also looks for.

    A section holding "visibility timeout" as a phrase is about it; one holding both words
    apart may not be.
    """
    pairs: dict[tuple[str, str], None] = {}
    for line in text.splitlines():
        words = _QUERY_WORD.findall(line.lower())  # as `query_terms`
        for first, second in itertools.pairwise(words):
            if first not in _STOPWORDS and second not in _STOPWORDS:
                pairs.setdefault((first, second))
                if len(pairs) == MAX_QUERY_WORDS:
                    return list(pairs)
    return list(pairs)


# --- building and caching ------------------------------------------------------------------


def cache_root() -> Path:
    """Where indexes and redaction results are cached (under the user cache dir)."""
    from generator.settings import user_cache_dir

    return user_cache_dir() / "context-index"


def redaction_cache() -> Path:
    """Where redaction results are cached: every text scanned once, by its digest (`redact._Cache`)."""
    return cache_root() / "redactions.json"


def index_path(root: Path) -> Path:
    """The SQLite database that indexes the home whose context/ folder is `root`."""
    return cache_root() / f"{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]}.sqlite3"


def load_library(root: Path, use_cache: bool = True, reread: Collection[str] = (), speculate: bool = False) -> Library:
    """The index of `root` (a `context/` folder), brought up to date with the files.

    Only files whose size, mtime, ctime or inode changed are read again, and those `reread` names (see
    `DocumentChangedError`). A database that is corrupt or from another version of scaffold is
    rebuilt; one that cannot be opened or written (a read-only cache, a lock held too long) is
    replaced by one in memory.

    With `speculate`, the library is the index as the last update left it, while a forked
    process looks at the files: the caller works meanwhile, and must call `Library.confirm`
    before it uses what it found, which raises `IndexBehindError` if a file changed (the caller
    then loads again without). Statting the files is most of what a warm run waits for before
    it can rank (0.05 s for 10,000 documents), and in most runs nothing changed.
    """
    stubs = StubPatterns.load(root)
    path = index_path(root) if use_cache else None
    if speculate and path is not None and not reread and parallel.can_fork():
        library = _as_last_updated(root, path, stubs)
        if library is not None:
            return library
    entries, warnings = scan_files(root)
    cache_warnings: list[str] = []
    try:
        index = SectionIndex.open(path)
        index.refresh(root, entries, stubs, reread)
    except (sqlite3.DatabaseError, OSError, StoredValueError) as error:
        if path is None:
            raise
        if damaged(error):
            remove_database(path)  # corrupt: start again
            try:
                index = SectionIndex.open(path)
                index.refresh(root, entries, stubs, reread)
            except (sqlite3.DatabaseError, OSError) as again:
                index, cache_warnings = _in_memory(root, entries, stubs, reread, path, again)
        else:
            # Locked, read-only, full, a cache folder that cannot be made (HOME is a file, or not
            # writable) or that another user can write: the index is only a cache, so work in
            # memory this time.
            index, cache_warnings = _in_memory(root, entries, stubs, reread, path, error)
    file_warnings, stub_paths = index.file_notes()
    return Library(root, index, warnings + file_warnings, stub_paths, cache_warnings=cache_warnings)


def _as_text(data: bytes) -> str:
    """A document's bytes as a prompt carries them: UTF-8 (a byte that is not shows as U+FFFD), its
    lines ending in LF alone."""
    return lf_lines(data.decode("utf-8", errors="replace"))


def lf_lines(text: str) -> str:
    """`text` with its lines ending in LF alone, as a prompt carries a document ("\r\r\n" too, in one pass)."""
    return _CRS_BEFORE_LF.sub("\n", text) if "\r" in text else text


_CRS_BEFORE_LF = re.compile(r"\r+\n")


def _written_forms(root: Path) -> list[str]:
    """How a task may write the folder `root` before a document's path, each form ending in `/`: as
    given, resolved, and both from the user's home folder (`~/team-home/context/`) when inside it;
    each also as a shell completes it, with a backslash before its spaces and the characters the
    shell reads (`~/team\\ docs/context/`, `~/Ann\\'s\\ docs\\ \\(2024\\)/context/`)."""
    forms = [str(root), str(root.resolve())]
    try:
        homes = [Path.home(), Path.home().resolve()]
    except (RuntimeError, KeyError):  # no HOME, and no entry in the password database
        homes = []
    for home, form in itertools.product(homes, list(forms)):
        with contextlib.suppress(ValueError):
            below = Path(form).relative_to(home).as_posix()
            forms.append("~" if below == "." else f"~/{below}")
    forms += [_SHELL_SPECIAL.sub(r"\\\g<0>", form) for form in forms if _SHELL_SPECIAL.search(form)]
    return [f"{form.rstrip('/')}/" for form in dict.fromkeys(forms)]


def _in_memory(
    root: Path, entries: list[FileEntry], stubs: StubPatterns, reread: Collection[str], path: Path, error: Exception
) -> tuple[SectionIndex, list[str]]:
    """An index built in memory for this run, the one at `path` being unusable (`error`), and a
    warning saying so: a large home pays a cold build on every run until it is fixed, or this once
    when another scaffold process held the index too long."""
    index = SectionIndex.open(None)
    index.refresh(root, entries, stubs, reread)
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    if "locked" in reason or "busy" in reason:
        said = f"the index {path} is in use by another scaffold run ({reason}); it was built in memory this time"
    else:
        # A folder others can write says its own fix; deleting it would not help (it is made again there).
        how = (
            ""
            if isinstance(error, PermissionError) and error.errno == errno.EPERM
            else " (check the cache folder, or delete it)"
        )
        said = (
            f"cannot use the index {path} ({reason}); it was built in memory for this run, and will be on every "
            f"run until that is fixed{how}"
        )
    return index, [said]


def _as_last_updated(root: Path, path: Path, stubs: StubPatterns) -> Library | None:
    """The library over the index at `path` as it is, its files looked at in a forked process (`_Scan`);
    None when that index needs an update whatever the files say (none yet: a cold run, another
    schema, other stub templates), cannot be opened, or no process can be forked: `load_library`
    then goes the usual way."""
    try:
        index = SectionIndex.open_current(path)
        stamps = index.stamps_if_current(stubs) if index is not None else None
    except (sqlite3.DatabaseError, OSError):
        return None
    if index is None or stamps is None:
        if index is not None:
            index.close()
        return None
    file_warnings, stub_paths = index.file_notes()
    # Forked only now: a cold run would wait for a look at the files whose answer it cannot use,
    # and an error above leaves no child behind.
    scan = _Scan.start(root, stamps)
    if scan is None:
        index.close()
        return None
    return Library(root, index, file_warnings, stub_paths, behind=scan)


class _Scan:
    """The look at the files `load_library`'s `speculate` does beside the caller: `scan_files` in a
    forked process, which sends back only the digest of the stamps and the warnings."""

    def __init__(self, call: parallel.Call, stamps: str) -> None:
        self._call = call
        self._stamps = stamps

    @classmethod
    def start(cls, root: Path, stamps: str) -> _Scan | None:
        """The look at the files of `root`, which the index has as `stamps` (`stamps_digest`); None
        where no process can be forked."""
        call = parallel.Call.start(lambda: _stamps_and_warnings(root))
        return cls(call, stamps) if call is not None else None

    def done(self) -> bool:
        return self._call.done()

    def warnings_if_unchanged(self) -> list[str] | None:
        """The files' warnings if their stamps are the index's; None if not, or if the look failed."""
        found = self._call.result()
        if found is None or found[0] != self._stamps:
            return None
        return [str(warning) for warning in found[1]]

    def close(self) -> None:
        self._call.close()


def _stamps_and_warnings(root: Path) -> tuple[str, list[str]]:
    # Called on the module, where the tests patch it.
    entries, warnings = home_files.scan_files(root)
    return stamps_digest(entries), warnings
