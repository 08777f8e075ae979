"""A knowledge home's files on disk: found, read, split into sections.

A section starts at a heading of level 1 to 3 outside fenced code (ATX, `## Steps`, or setext:
a paragraph of up to three lines underlined with `===` or `---`) and runs to the next one; deeper headings stay
inside their parent, so a runbook step keeps its sub-steps. Text before the first heading is
the preamble. A section longer than `MAX_SECTION_BYTES` is cut into parts at a blank line
(else a line end, else a character boundary), so a budget can be filled to within one part
and a long document is truncated instead of dropped. Of a file over `MAX_DOCUMENT_BYTES` (a
log or an export saved as markdown) only that much is read. Unedited stubs from `scaffold
new-decision|new-incident|new-runbook` are recognised here too (`StubPatterns`). What is
found is indexed by `generator.context.index`.
"""

from __future__ import annotations

import bisect
import codecs
import errno
import functools
import hashlib
import operator
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from generator.context.tokens import estimate_tokens
from generator.errors import UNSHOWABLE

SPLIT_LEVEL = 3
MAX_SECTION_BYTES = 8_000
# Larger than any document people write (Node.js's changelogs, the largest markdown on our
# machines, are under 1 MB each); read whole, a 115 MB pager export saved as `.md` took a cold run
# 22.5 s and 970 MB (`bench/large_document.py`).
MAX_DOCUMENT_BYTES = 1_000_000
MARKDOWN_SUFFIXES = frozenset({"md", "markdown"})
PREAMBLE = "(preamble)"
TRAIL_SEPARATOR = " > "

# A document's YAML front matter: `---` on its first line, up to `---` or `...` on a line of its own.
_FRONT_MATTER = re.compile(rb"---[ \t]*\r?\n(?:.*?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(rb"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\r?$")
_FENCE = re.compile(rb"^ {0,3}(`{3,}|~{3,})")
# Only lines starting (after up to three spaces) with '#', '`' or '~' can open or close a fence
# or be an ATX heading, and only a line of '=' or of '-' alone can underline a setext heading (a
# list item cannot). Past the first line such a line is found as the newline before it: a
# pattern that begins with a literal is searched for with memchr, where `^` in MULTILINE mode is
# tried at every byte (six times slower on a 50 MB home).
_FIRST_CANDIDATE = re.compile(rb" {0,3}([#`~])")
_CANDIDATE = re.compile(rb"\n {0,3}([#`~]|=+[ \t]*\r?(?=\n|\Z)|-+[ \t]*\r?(?=\n|\Z))")
# Above a setext heading's text: a line a paragraph may start after (blank, an ATX heading, a
# fence, a rule or another underline)...
_BEFORE_PARAGRAPH = re.compile(
    rb"[ \t]*\r?$| {0,3}(?:#{1,6}(?:[ \t]|\r?$)|`{3,}|~{3,}|(?:[-*_][ \t]*){3,}\r?$|=+[ \t]*\r?$|-+[ \t]*\r?$)"
)
# ...or one that makes the text no paragraph of its own, so the underline a rule: a list item
# or a quote (the text is their lazy continuation), indented code, a table's row (any line with
# a `|`), HTML, a link's definition (`[id]: https://...`).
_NOT_PARAGRAPH = re.compile(
    rb" {4}|\t| {0,3}(?:[><]|\[[^\]\n]+\]:|[-*+](?:[ \t]|\r?$)|[0-9]{1,9}[.)](?:[ \t]|\r?$))|[^|\n]*\|"
)
# A setext heading's text is at most this many lines and bytes: CommonMark takes any paragraph,
# but a long one over `---` (a log pasted above a rule) is no heading, and as one it would be
# copied into every part's heading and trail (a 2 MB paragraph took 1 GB).
SETEXT_MAX_LINES = 3
SETEXT_MAX_BYTES = 300
# What `_parts` adds to the heading and trail of each part of a long section.
_PART_LABEL = re.compile(r" \(part (\d+)\)$")


@dataclass(frozen=True, slots=True)
class Section:
    """One selectable piece of a document.

    `ordinal` is the section's position in its document, so `key` identifies it in a home;
    `trail` is the heading path from the document title down ("Deploy > Roll back");
    `line` is 1-based; `start`/`end` are byte offsets into the file; `tokens` is the
    estimate for the text alone; `digest` the SHA-256 of the bytes the document was split
    from (`DocumentBytes.digest`), which the offsets are only good for.
    """

    path: str
    ordinal: int
    heading: str
    trail: str
    line: int
    start: int
    end: int
    tokens: int
    digest: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.path, self.ordinal)

    @property
    def folder(self) -> str:
        """The top-level folder of the document ("" at the root of context/)."""
        return folder_of(self.path)

    @property
    def opens_with_heading(self) -> bool:
        """Whether the text starts with the section's heading: not a preamble, nor a long section's
        second part or later (`_parts`), where a `---` rule is no setext underline."""
        heading, part = split_part(self.heading)
        return heading != PREAMBLE and part in (None, 1)


@dataclass(frozen=True)
class Piece:
    """Text to scan for secrets (`generator.context.redact`): `path` and `line` (of its first line) are
    what findings report.

    `before` and `after` are the text around it where it was cut from a longer one (a part of a long
    section: `documents.Library.piece`): scanned with it, never shown, so that a secret the cut splits,
    or a value below the cut whose name is above it, is found as in the whole (`redact._within`)."""

    path: str
    line: int
    text: str
    before: str = ""
    after: str = ""


def split_part(name: str) -> tuple[str, int | None]:
    """A heading or trail without the label `_parts` gives a long section's parts, and the part's
    number (None for a whole section). A heading of the user's own ending so is taken for one."""
    part = _PART_LABEL.search(name)
    return (name[: part.start()], int(part.group(1))) if part else (name, None)


def names_heading(trail: str, wanted: str) -> bool:
    """Whether `file.md#wanted` in context.yml names the section whose heading path is `trail`: one of its
    headings, in any case ("Python"); its last headings as `--explain` and `--json` show a path ("Runbook >
    Steps"); or a heading as a link's anchor spells it ("before-you-start", as GitHub makes them)."""
    names = [split_part(name)[0].casefold() for name in trail.split(TRAIL_SEPARATOR)]
    asked = wanted.casefold().strip()
    if asked in names:  # first: a heading may hold " > " or ">" itself ("Upgrade 1.x -> 2.x")
        return True
    if TRAIL_SEPARATOR in asked:
        steps = [step.strip() for step in asked.split(TRAIL_SEPARATOR)]
        return len(steps) <= len(names) and names[-len(steps) :] == steps
    return bool(_ANCHOR.fullmatch(asked)) and any(name_form(name) == asked for name in names)


# A heading as a link's anchor writes it: lowercase words joined by `-`, nothing else.
_ANCHOR = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


def title_of(section: Section) -> str:
    """The title of the document `section` is part of: the first heading of its trail, less any part label."""
    return split_part(section.trail.split(TRAIL_SEPARATOR)[0])[0]


def without_front_matter(text: str) -> str:
    """`text` (a document's first section) less the YAML front matter it opens with, if any."""
    data = text.encode("utf-8")
    front = _FRONT_MATTER.match(data)
    return data[front.end() :].decode("utf-8") if front else text


class FileEntry(NamedTuple):
    """A markdown file found in the home, with the stat data the cache is keyed by.

    A named tuple: a warm run makes one per file, and a tuple is made several times faster
    than a frozen dataclass.
    """

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    # The file's inode (its target's, for a symlink): a link pointed at another file of the same
    # size, saved within the same tick of a coarse clock, keeps every other stamp.
    inode: int = 0

    @property
    def stamps(self) -> tuple[int, int, int, int]:
        """What tells that the file changed (`stamps_of`), as the index's `files` rows keep it."""
        return self.size, self.mtime_ns, self.ctime_ns, self.inode


def stamps_of(info: os.stat_result) -> tuple[int, int, int, int]:
    """A file's size, mtime, ctime and inode: `FileEntry.stamps` of the file `info` is of."""
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino


@dataclass(frozen=True, slots=True)
class RawSection:
    heading: str
    trail: str
    line: int
    start: int
    end: int


def read_bytes(root: Path, path: str, seen: FileEntry | None = None, limit: int = -1, *, hidden: bool = False) -> bytes:
    """A file of `root` whole, or its first `limit` bytes, checked as `open_inside` does (a seam
    so tests can make a file unreadable even as root)."""
    with open_inside(root, path, seen, hidden=hidden) as handle:
        if limit < 0:
            return handle.read()
        # Python makes a buffer of the size asked for, whatever the file's: for a 5 KB document,
        # asking for the 1 MB limit took 26-28 µs against 10-12 µs (0.17 s more for 10,000 of
        # them). One byte past the size it has now tells a file that grew since: read on to `limit`.
        first = min(limit, _size_now(handle) + 1)
        data = handle.read(first)
        grew = len(data) == first and first < limit
        return data + handle.read(limit - first) if grew else data


def _size_now(handle: BinaryIO) -> int:
    """The size of an open file (a seam for the tests of a file growing while it is read)."""
    return os.fstat(handle.fileno()).st_size


# Why `open_inside` refuses a file (an OSError's strerror, which callers may tell from others).
LEADS_OUT = "a symlink that leads out of the context folder"
# A link to what the scan never reads as knowledge: `notes.md -> .env`, `config.md -> .git/config`.
LEADS_HIDDEN = "a symlink to a hidden file or folder, whose name starts with '.'"


def why_unreadable(error: OSError, leads_out_of: str) -> str:
    """Why `read_bytes` or `open_inside` could not read a file, for a message: a link out says what it
    leads out of and that a copy would do."""
    if error.strerror == LEADS_OUT:
        return f"a symlink that leads out of {leads_out_of}; copy the file in instead"
    if error.strerror == LEADS_HIDDEN:
        return f"{LEADS_HIDDEN}, which is never knowledge (.env, .git); remove the link"
    return error.strerror or str(error)


# (Windows has neither flag, nor FIFOs to open.)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def open_inside(root: Path, path: str, seen: FileEntry | None = None, *, hidden: bool = False) -> BinaryIO:
    """`root / path` opened to read; an OSError if what was opened is not a regular file inside `root`,
    or (unless `hidden`) one reached through a name starting with "." below it (`LEADS_HIDDEN`).

    `scan_files` skips a symlink that leads out of `root`, but a file can become one after the
    scan (a `git pull` while `scaffold mcp` runs), and so can a folder the scan listed, which
    no stamps tell: what is opened is checked again. On Linux, by the path the kernel knows for
    the very file opened (`/proc/self/fd`: a microsecond a file). Elsewhere a file with the size
    and times the scan `seen` is taken for the file it checked, and any other must resolve
    inside `root` to the file opened, which a link swapped back and forth between the open and
    the resolution could still pass.
    """
    # Not blocking: a file swapped for a FIFO would hang the open until something writes to it.
    handle = os.fdopen(os.open(root / path, os.O_RDONLY | _NONBLOCK | _CLOEXEC), "rb")
    try:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EACCES, "not a regular file")
        try:
            # A file removed since it was opened is still the file that was at that path.
            # (os.readlink: 1 µs; Path.readlink builds two paths, 8 µs, 0.07 s of a cold build.)
            real: str | None = os.readlink(f"/proc/self/fd/{handle.fileno()}").removesuffix(" (deleted)")  # noqa: PTH115
        except OSError:
            real = None
        if real is not None:
            inside = _inside(root)
            if not real.startswith(inside):
                inside = _inside(root, fresh=True)
                if not real.startswith(inside):
                    raise OSError(errno.EACCES, LEADS_OUT)
            if not hidden and hidden_below(real, inside):
                raise OSError(errno.EACCES, LEADS_HIDDEN)
        elif seen is None or stamps_of(info) != seen.stamps:
            real = os.path.realpath(root / path)
            inside = _inside(root)
            if not real.startswith(inside):
                raise OSError(errno.EACCES, LEADS_OUT)
            if not hidden and hidden_below(real, inside):
                raise OSError(errno.EACCES, LEADS_HIDDEN)
            there = Path(real).stat()
            if (there.st_dev, there.st_ino) != (info.st_dev, info.st_ino):
                raise OSError(errno.EAGAIN, "it changed while being read; run again")
    except BaseException:
        handle.close()
        raise
    return handle


def hidden_below(real: str, inside: str) -> bool:
    """Whether the resolved path `real` passes through a name starting with "." below the folder
    `inside` (as `_inside` gives it: resolved, ending in a separator; a ValueError if `real` is not
    under it): the scan skips such names, and a link must not reach them either. The names above
    `inside` do not count: a home may live in `~/.config/`."""
    below = real + os.sep  # `inside` itself is no hidden name below it
    if not below.startswith(inside):
        raise ValueError(f"{real} is not inside {inside}")
    return (os.sep + below[len(inside) :]).find(os.sep + ".") != -1


def _inside(root: Path, *, fresh: bool = False) -> str:
    """`root` resolved, with a trailing separator: what the paths of files inside it start with.

    Resolving it for each of 10,000 files cost a cold build 0.05 s, so the last resolution is
    kept, and used while it still names the very folder `root` does (two `stat`s): a prefix that
    names `root`'s own folder is right however it was found. `fresh` resolves again (a folder
    renamed, with a link at its old name, keeps its inode and no longer its path)."""
    key = str(root)
    prefix = None if fresh else _RESOLVED.get(key)
    if prefix is not None:
        try:
            if os.path.samestat(os.stat(prefix), root.stat()):  # noqa: PTH116 (a str, as realpath gives)
                return prefix
        except OSError:
            pass
    prefix = os.path.realpath(root).rstrip(os.sep) + os.sep
    if len(_RESOLVED) > 16:
        _RESOLVED.clear()
    _RESOLVED[key] = prefix
    return prefix


_RESOLVED: dict[str, str] = {}


# --- finding the files ---------------------------------------------------------------------


def scan_files(root: Path) -> tuple[list[FileEntry], list[str]]:
    """Every markdown file under `root`, sorted, plus a warning for each one skipped.

    Folders and files whose names start with "." or "_" are not knowledge (`.git`,
    `_templates`). Symlinks are followed within `root`, but a folder already visited (a loop,
    or a second link to it) is skipped with a warning, and so is a link that leads out of
    `root`: a committed `notes.md -> ~/.bash_history` would put whatever that file holds into
    prompts (`read_document` refuses such a link too), and a link to a hidden name inside it
    (`env.md -> .env`), which the names alone no longer tell.
    """
    entries: list[FileEntry] = []
    warnings: list[str] = []
    try:
        root_stat = root.stat()
    except OSError as error:
        return [], [f"cannot read the context folder {root}: {error.strerror or error}"]
    # Each folder walked (device and inode), with the name its files are indexed under.
    seen: dict[tuple[int, int], str] = {(root_stat.st_dev, root_stat.st_ino): ""}
    inside = _inside(root, fresh=True)
    # Folders reached through a symlink are walked after every real one: a link that sorts first
    # (`aaa/rb -> ../runbooks`) would otherwise take the real folder's files, under its own name.
    linked: list[tuple[str, str, tuple[int, int]]] = []
    _walk(str(root), "", seen, entries, warnings, inside, linked)
    for link, rel, key in linked:  # grows as the linked folders hold links of their own
        if key in seen:
            warnings.append(f"skipped {rel}/: {_walked_already(rel, seen[key])}")
            continue
        target = _still_inside(link, key, inside)
        if target is None:
            warnings.append(f"skipped {rel}/: the symlink changed while the folder was read; run again")
            continue
        seen[key] = rel
        _walk(target, rel + "/", seen, entries, warnings, inside, linked)
    entries.sort(key=lambda entry: entry.path)
    return entries, warnings


def _still_inside(link: str, key: tuple[int, int], inside: str) -> str | None:
    """The folder a link `_walk` put aside leads to, resolved, if it still is the one it checked (the
    same inode, inside the home, through no hidden name); else None. The rest of the walk passed
    in between: a link re-pointed meanwhile (at `/`, at `.git`) must not be walked. Walked by its
    resolved path, the link re-pointed during that walk changes nothing; a folder below swapped for
    a link is the gap every folder has, and its files are checked when read (`open_inside`)."""
    try:
        target = os.path.realpath(link)
        info = os.stat(target)  # noqa: PTH116 (a str, as realpath gives)
        if (info.st_dev, info.st_ino) != key or not stat.S_ISDIR(info.st_mode):
            return None
        return None if hidden_below(target, inside) else target
    except (OSError, ValueError):  # gone, or (ValueError) not inside the home
        return None


def _walked_already(rel: str, indexed: str) -> str:
    """Why the link at `rel` is skipped, its folder walked as `indexed` (names the scan gave, which it
    shows): a loop when that folder holds the link, else one more way to a folder indexed already."""
    if indexed == "" or rel.startswith(indexed + "/"):
        return "a symlink loop (that folder is already indexed)"
    return f"a second link to {indexed}/, which is indexed under that name"


_name = operator.attrgetter("name")


def _walk(
    folder: str,
    prefix: str,
    seen: dict[tuple[int, int], str],
    entries: list[FileEntry],
    warnings: list[str],
    inside: str,
    linked: list[tuple[str, str, tuple[int, int]]],
) -> None:
    try:
        with os.scandir(folder) as listing:
            children = sorted(listing, key=_name)
    except OSError as error:
        warnings.append(f"skipped {prefix or './'}: cannot list it ({error.strerror or error})")
        return
    for child in children:
        if child.name.startswith((".", "_")):
            continue
        rel = prefix + child.name
        if undecodable(child.name):
            # A byte that is not UTF-8 (read as a surrogate) cannot go into the index: every run failed.
            warnings.append(f"skipped {rel!r}: its name is not UTF-8; rename it")
            continue
        if UNSHOWABLE.search(child.name):
            # Shown as it is, a newline in a name writes a line of its own into the warnings (one that
            # could pose as scaffold's) and into the prompt's `path` attribute.
            warnings.append(
                f"skipped {rel!r}: its name holds a control character or a mark that reorders text "
                "(a newline, a tab, U+202E); rename it"
            )
            continue
        try:
            info = child.stat()
        except OSError as error:
            if child.is_symlink():
                reason = "a symlink loop" if error.errno == errno.ELOOP else "a broken symlink"
                warnings.append(f"skipped {rel}: {reason} ({error.strerror})")
            else:
                warnings.append(f"skipped {rel}: {error.strerror or error}")
            continue
        try:
            real = os.path.realpath(child.path) if child.is_symlink() else None
            outward = real is not None and not _leads_inside(real, info, inside)
        except (OSError, ValueError) as error:  # gone since, or a path the system refuses to resolve
            warnings.append(f"skipped {rel}: cannot resolve the symlink ({getattr(error, 'strerror', None) or error})")
            continue
        if outward:
            warnings.append(f"skipped {rel}: {LEADS_OUT}")
            continue
        if real is not None and hidden_below(real, inside):
            warnings.append(f"skipped {rel}: {LEADS_HIDDEN}")
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if real is not None:  # through a symlink: once every real folder is walked (`scan_files`)
                linked.append((child.path, rel, key))
                continue
            if key in seen:  # a folder met twice with no link on the way: a bind mount
                warnings.append(f"skipped {rel}/: {_walked_already(rel, seen[key])}")
                continue
            seen[key] = rel
            _walk(child.path, rel + "/", seen, entries, warnings, inside, linked)
        elif child.name.rpartition(".")[2].lower() in MARKDOWN_SUFFIXES:
            if not stat.S_ISREG(info.st_mode):
                warnings.append(f"skipped {rel}: not a regular file")
                continue
            entries.append(FileEntry(rel, *stamps_of(info)))


def undecodable(name: str) -> bool:
    """Whether a name holds a byte that is not UTF-8 (read as a surrogate): no document's name."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _leads_inside(real: str, info: os.stat_result, inside: str) -> bool:
    """Whether a link resolved to `real` leads inside the folder `inside` to the file `info` was taken
    from: swapped between the two, the stamps recorded would be another file's, which `open_inside`
    trusts."""
    there = Path(real).lstat()  # a link swapped in at `real` since is not the file `info` is of
    return (real + os.sep).startswith(inside) and (there.st_dev, there.st_ino) == (info.st_dev, info.st_ino)


# --- splitting a document into sections ----------------------------------------------------


def split_sections(path: str, data: bytes) -> list[RawSection]:
    """Cut a UTF-8 markdown document into sections (see the module docstring)."""
    base = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    title, titled = Path(path).stem, False
    boundaries: list[tuple[int, int, int, str]] = []
    fence: bytes | None = None
    number, counted = 1, base
    # Front matter's `# yaml-language-server: ...` is a YAML comment, not a heading: looked for after it.
    front = _FRONT_MATTER.match(data, base)
    for position, first in _line_starts(data, front.end() if front else base):
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
        if first in (b"=", b"-"):
            since = boundaries[-1][0] if boundaries else (front.end() if front else base)
            start = _setext_text(data, position, since)
            if start is None:
                continue  # a rule, or a line of `=` in a paragraph
            level = 1 if first == b"=" else 2
            text = b" ".join(line.strip() for line in data[start:position].splitlines()).decode("utf-8").strip()
            text = text or "(untitled)"  # only characters `strip` drops (`\f`, a no-break space)
            boundaries.append((start, number - data.count(b"\n", start, position), level, text))
            if level == 1 and not titled:
                title, titled = text, True
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
    sections: list[RawSection] = []
    first_start = boundaries[0][0] if boundaries else end_of_data
    if front and boundaries and not data[front.end() : first_start].strip():
        # YAML front matter (`title:`, `status: superseded`) goes with the first section, not in one of its own.
        boundaries[0] = (base, 1, *boundaries[0][2:])
    elif data[base:first_start].strip():
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


def _setext_text(data: bytes, underline: int, since: int) -> int | None:
    """Where the text a setext `underline` makes a heading starts: the paragraph right above it,
    back to `since` (where the last heading starts) at most; None when the underline is a rule."""
    start = underline
    for lines in range(SETEXT_MAX_LINES + 1):
        if start <= since:
            break  # the paragraph opens the document
        above = data.rfind(b"\n", since, start - 1) + 1 or since
        if _BEFORE_PARAGRAPH.match(data, above, start - 1):
            break
        if lines == SETEXT_MAX_LINES or _NOT_PARAGRAPH.match(data, above, start - 1):
            return None
        start = above
    return start if start < underline and underline - start <= SETEXT_MAX_BYTES else None


def _line_starts(data: bytes, base: int) -> Iterator[tuple[int, bytes]]:
    """The offset and first character of each line from `base` on that could be a heading or fence."""
    first = _FIRST_CANDIDATE.match(data, base)
    if first is not None:
        yield base, first.group(1)
    for candidate in _CANDIDATE.finditer(data, base):
        yield candidate.start() + 1, candidate.group(1)[:1]


def _parts(data: bytes, heading: str, trail: str, line: int, start: int, end: int) -> Iterator[RawSection]:
    if end - start <= MAX_SECTION_BYTES:
        yield RawSection(heading, trail, line, start, end)
        return
    part = 1
    while start < end:
        cut = _cut_point(data, start, end)
        label = f" (part {part})"  # what `split_part` takes off
        yield RawSection(heading + label, trail + label, line, start, cut)
        line += data.count(b"\n", start, cut)
        start, part = cut, part + 1


def _cut_point(data: bytes, start: int, end: int, size: int = MAX_SECTION_BYTES) -> int:
    """Where a part of at most `size` bytes starting at `start` ends: after a blank line, a line, or a character."""
    limit = start + size
    if limit >= end:
        return end
    # After the last blank line in the part's second half, its line ends LF or CRLF.
    lf = data.rfind(b"\n\n", start + size // 2, limit)
    crlf = data.rfind(b"\n\r\n", start + size // 2, limit)
    if lf != -1 or crlf != -1:
        return max(lf + 2 if lf != -1 else 0, crlf + 3 if crlf != -1 else 0)
    newline = data.rfind(b"\n", start + size // 4, limit)
    if newline != -1:
        return newline + 1
    cut = limit
    # Back to the start of a character: at most three bytes in UTF-8 (more is no UTF-8, which decoding
    # the part then says, instead of the part silently losing all of it).
    while cut > max(start, limit - 3) and data[cut] & 0xC0 == 0x80:
        cut -= 1
    return cut


def name_form(text: str) -> str:
    """`text` as a file is named after it (`home.slugify`): ASCII, lowercase, words joined by `-`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_IN_NAMES.sub("-", ascii_text.lower()).strip("-")


_NOT_IN_NAMES = re.compile(r"[^a-z0-9]+")


def is_readme(path: str) -> bool:
    """Whether a document is its folder's README (`README.md`, `readme.markdown`): it describes the folder."""
    return path.rpartition("/")[2].rpartition(".")[0].casefold() == "readme"


def folder_bounds(folder: str) -> tuple[str, str]:
    """The paths under `folder` (at any depth) are those from the first to before the second, as
    sorted strings compare: "0" is the character after "/"."""
    return folder + "/", folder + "0"


def paths_under(paths: list[str], folder: str) -> list[str]:
    """Those of sorted `paths` under `folder` (at any depth): the range `folder_bounds` gives, found
    by bisection, as a home may hold ten thousand."""
    low, high = folder_bounds(folder)
    first = bisect.bisect_left(paths, low)
    return paths[first : bisect.bisect_left(paths, high, first)]


def folder_of(path: str) -> str:
    """The top-level folder of a document's path in `context/` ("" for a document at its root)."""
    head, sep, _ = path.partition("/")
    return head if sep else ""


class NotText(ValueError):
    """A file that is no UTF-8 text: the message says why, and how to convert it."""


def read_raw(root: Path, path: str, seen: FileEntry | None = None) -> tuple[bytes, str]:
    """The bytes a document is read from, at most one past `MAX_DOCUMENT_BYTES` (whole, for any document
    people write; the extra byte tells a larger file without reading it all), checked as `open_inside`
    does, and their SHA-256: the digest the index keeps, sections carry and fill records compare."""
    data = read_bytes(root, path, seen, MAX_DOCUMENT_BYTES + 1)
    return data, hashlib.sha256(data).hexdigest()


class DocumentBytes(NamedTuple):
    """What `document_bytes` read of a document."""

    data: bytes  # the document: the whole file, or the first part of a larger one
    cut: str | None  # the warning that says it was cut, if it was
    digest: str  # the SHA-256 of the bytes read (`read_raw`), before any cut


def document_bytes(root: Path, path: str, seen: FileEntry | None = None) -> DocumentBytes:
    """A document's bytes; of a file larger than a document may be, its first part and the warning
    that says so. OSError if it cannot be read (`seen`: as `open_inside`), `NotText` if it is no
    UTF-8 text."""
    data, digest = read_raw(root, path, seen)
    # Windows PowerShell 5.1's `>` writes UTF-16 with a byte-order mark; without one, UTF-16 is valid
    # UTF-8 full of NUL bytes (all but Latin, Cyrillic text too).
    encoding = "UTF-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else _utf16_without_mark(data)
    if encoding:
        raise NotText(f"UTF-16 text, not UTF-8; convert it with {_ICONV.format(encoding=encoding)}")
    cut = None
    if len(data) > MAX_DOCUMENT_BYTES:
        data = data[: _cut_point(data, 0, len(data), MAX_DOCUMENT_BYTES)]
        size = seen.size if seen is not None else _size(root, path)
        # The scan's size, unless the file grew past the limit since.
        said = f"is {size:,} bytes," if size > MAX_DOCUMENT_BYTES else "is"
        cut = (
            f"{path} {said} over the {MAX_DOCUMENT_BYTES:,} bytes a document may have: only its first "
            f"{len(data):,} are used; split it, or move it out of context/ if it is no document"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotText(
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); {_conversion(data)}"
        ) from None
    # Valid UTF-8 that no text holds (a binary file, a NUL pasted in): it would reach prompts as is.
    nul = data.find(b"\0")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise NotText(f"a NUL byte on line {line}, which no text holds; remove it, e.g. with `tr -d '\\000'`")
    return DocumentBytes(data, cut, digest)


# How to convert a file from an encoding `iconv` must be told: it writes FILE.utf8 beside it, to check
# before it replaces the file.
_ICONV = "`iconv -f {encoding} -t UTF-8 FILE > FILE.utf8`"


def _conversion(data: bytes) -> str:
    """How to convert text that is not UTF-8. `iconv` needs the encoding it reads from: without `-f`
    it takes the locale's, UTF-8 on most machines, and fails on the very byte this reports.

    Which encoding it is cannot be told from the bytes: Windows-1252 decodes nearly any of them, so
    Cyrillic or Polish text named as such converts without an error into nonsense, and `file
    --mime-encoding` calls Windows-1251 text iso-8859-1. So the hint names the likely ones by
    language, and says to check the result. Control characters other than a form feed, ESC (coloured
    logs) and Ctrl-Z (DOS's end of file) say it is no text at all."""
    if any(byte < 9 or (13 < byte < 32 and byte not in (26, 27)) for byte in data[:4096]):
        return "it looks like a binary file: move it out of context/"
    return (
        f"convert it from the encoding it was saved in, e.g. {_ICONV.format(encoding='WINDOWS-1252')} "
        "(Western European; WINDOWS-1250 Central European, WINDOWS-1251 Cyrillic, SHIFT_JIS Japanese, "
        "GBK Chinese), and check FILE.utf8 before it replaces FILE"
    )


def _utf16_without_mark(data: bytes) -> str | None:
    """The byte order of `data` if it reads as UTF-16 text without a byte-order mark ("UTF-16LE" or
    "UTF-16BE"), else None: its start holds NUL bytes nearly all at odd offsets (the high byte of each
    ASCII character, in little-endian order: a space or a line end does it even in Cyrillic text) or
    nearly all at even ones."""
    head = data[:4096]
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd + even < 4:
        return None  # no NUL, or a stray one
    if odd >= 0.9 * (odd + even):
        return "UTF-16LE"
    return "UTF-16BE" if even >= 0.9 * (odd + even) else None


def _size(root: Path, path: str) -> int:
    try:
        return (root / path).stat().st_size
    except OSError:
        return 0  # gone since: the warning says "is over" without a size


def read_document(root: Path, path: str, seen: FileEntry | None = None) -> tuple[str | None, DocumentBytes | None]:
    """`document_bytes` as the index and `scaffold doctor` take it: what was read and no warning; or
    nothing and the warning that says why it is skipped; or, of a file larger than a document may be,
    what was read and the warning that says it was cut."""
    try:
        read = document_bytes(root, path, seen)
    except OSError as error:
        return f"skipped {path}: cannot read it ({error.strerror or error})", None
    except NotText as error:
        return f"skipped {path}: {error}", None
    return read.cut, read


def document_digest(root: Path, path: str, seen: FileEntry | None = None) -> str | None:
    """The SHA-256 of a document as `document_bytes` reads it (up to one byte past `MAX_DOCUMENT_BYTES`:
    whole, for any document people write), checked as `open_inside` does; None if it cannot be read.
    `scaffold check` compares it with the digest a fill recorded, `DocumentBytes.digest` of the bytes
    its prompt's sections came from, to tell that a document has changed since; the index with the
    one it keeps, to tell a file touched from one changed (`SectionIndex._restamp_unchanged`)."""
    if Path(path).is_absolute() or ".." in Path(path).parts:
        return None  # a record edited by hand: not a document of `root`, and nothing to open
    try:
        return read_raw(root, path, seen)[1]
    except (OSError, ValueError):
        return None  # ValueError: a path the system cannot take (a NUL in it, a lone surrogate)


class Parsed(NamedTuple):
    """What the index stores of one file, as rows of its tables less the section ids.

    `file` is the `files` row; `sections` the `sections` rows without `id`; `texts` the
    full-text rows (title, headings, body) without `rowid`, `headings` being the trail below
    the document title.
    """

    file: tuple[str, int, int, int, int, str | None, int, int, str | None]
    sections: list[tuple[str, str, int, str, str, int, int, int, int, int]]
    texts: list[tuple[str, str, str]]


def parse_file(root: Path, stubs: StubPatterns, entry: FileEntry) -> Parsed:
    """Read and split one file (in a worker process, for a slot of a large build: see `SectionIndex._build`)."""
    warning, read = read_document(root, entry.path, entry)
    stamp = (entry.path, *entry.stamps)
    if read is None:
        return Parsed((*stamp, warning, 0, 0, None), [], [])
    data = read.data
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
    return Parsed((*stamp, warning, stub, len(sections), read.digest), sections, texts)


# --- unedited stubs --------------------------------------------------------------------------


# The folders `scaffold new-decision|new-incident|new-runbook` write to, by document kind.
DOC_FOLDERS = {"decision": "decisions", "incident": "incidents", "runbook": "runbooks"}


@dataclass(frozen=True)
class StubPatterns:
    """What `scaffold new-decision|new-incident|new-runbook` writes before anyone edits it.

    A document that still matches its folder's template (the home's `_templates/<kind>.md`, or
    the bundled one), with any number, title and date filled in, says nothing yet: it is
    indexed but never ranked. The templates are compiled only when a file is parsed: a warm
    run needs their digest alone.
    """

    templates: dict[str, tuple[bytes, ...]]
    digest: str

    @classmethod
    def load(cls, root: Path) -> StubPatterns:
        from generator.settings import bundled_root

        templates: dict[str, tuple[bytes, ...]] = {}
        digest = hashlib.sha256()
        for doc_kind, folder in sorted(DOC_FOLDERS.items()):
            found = []
            for base in (root, bundled_root() / "context"):
                try:
                    # Checked as a document is (not a link to /dev/zero); `read_bytes` is kept for
                    # documents, which a warm run must not read again (a template is read every run).
                    with open_inside(base, f"_templates/{doc_kind}.md") as handle:
                        template = handle.read()
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
        text = data.strip().replace(b"\r\n", b"\n")  # a stub checked out with CRLF (git autocrlf) is one still
        return any(pattern.fullmatch(text) for pattern in self.patterns.get(folder, ()))


# A doc template's placeholders: `$number`, `$title`, `$date`, or in braces (`${title}`), and not the
# start of a longer name (`$date_reviewed`); a `$$` is matched first, to stay as written (`$$title`).
_PLACEHOLDER = r"\$\$|\$(?:\{(number|title|date)\}|(number|title|date)(?![A-Za-z0-9_]))"
_PLACEHOLDER_TEXT = re.compile(_PLACEHOLDER)
_PLACEHOLDER_BYTES = re.compile(_PLACEHOLDER.encode())
# What each placeholder stands for in a stub (`_template_pattern`): a number, or any one line.
_FILLED = {b"number": rb"\d+", b"title": rb"[^\n]*", b"date": rb"[^\n]*"}


def fill_placeholders(template: str, *, number: str, title: str, date: str) -> str:
    """`template` with its placeholders filled in, as `_template_pattern` expects them, and nothing
    else changed: a `$$` (PostgreSQL's `DO $$ ... $$`) or `$HOME` in the template stays as written."""
    values = {"number": number, "title": title, "date": date}
    return _PLACEHOLDER_TEXT.sub(lambda match: values.get(match.group(1) or match.group(2), match.group(0)), template)


def _template_pattern(template: bytes) -> re.Pattern[bytes]:
    """What `fill_placeholders` makes of `template`, whatever the values: the stubs it writes."""
    text = template.strip().replace(b"\r\n", b"\n")  # lines compared as `matches` reads them
    parts, at = [], 0
    for match in _PLACEHOLDER_BYTES.finditer(text):
        name = match.group(1) or match.group(2)
        parts += [re.escape(text[at : match.start()]), _FILLED[name] if name else re.escape(match.group(0))]
        at = match.end()
    parts.append(re.escape(text[at:]))
    return re.compile(b"".join(parts))
