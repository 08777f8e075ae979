"""References between documents: links, file names, and ADRs and incidents named by number.

Postmortems end with "became ADR 0004"; anti-patterns say "(incident 0005)"; project
contexts name `decisions/0011-money.md`; wikis link `[rollback](../runbooks/rollback.md)`.
Selection follows them both ways from the best document (see `select._related`): a
reference is what its author thought belonged with it.

Nothing is stored when the index is built (scanning every file for references would add
seconds to a cold run on a large home). A document's own references are read from its text
when it is the best one; the documents referring to it are found by the full-text index
(`phrases_naming` gives the phrases a reference to it contains) and confirmed by reading
them. Pure: nothing here reads a file.

A document can also say that it no longer holds ("Status: Superseded by ADR 0015"): `retirement`
reads that from its head, and what the status line names is its successor (see
`select._Retirements`).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from generator.context.sections import is_readme, paths_under

__all__ = [
    "MAX_TEXT",
    "STATUS_WITHIN",
    "Catalogue",
    "Retired",
    "is_rejected",
    "phrases_naming",
    "reference_keys",
    "retirement",
    "status_of",
]

# A document's text is read for references up to this many characters.
MAX_TEXT = 200_000
# A document's status is looked for in this much of its head (its title section and a "Status" one).
STATUS_WITHIN = 4_000
# A document's status line, the first in its head: "Status: X", "* Status: X", "**Status:** X",
# "| Status | X |", `status: X` in front matter, "## Status: X", or a "## Status" heading over X.
_STATUS = re.compile(
    r"^[ \t>|*_-]*status[*_ \t]*[:|][ \t*_]*(?P<inline>[^\n]*)$"
    r"|^\#{1,6}[ \t]*status[ \t]*:?[ \t]*(?P<heading>[^\n]*)\n(?:[ \t]*\n)*(?P<under>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
# Front matter naming the successor itself (`superseded_by: 0015`).
_SUPERSEDED_BY = re.compile(r"^[ \t]*superseded[_-]by[ \t]*:[ \t]*(?P<value>[^\n]+)$", re.IGNORECASE | re.MULTILINE)
# A status that says the document no longer holds: its first word, then nothing more about it
# ("Superseded by ADR 0015", "Deprecated (2024-05)", "Superceded by", as adr-tools spells it).
# "Accepted (supersedes ADR 0007)" is the successor; "Deprecated practice: never ..." an
# anti-pattern's subject, not its status.
_RETIRED = re.compile(
    r"(?P<word>superseded|superceded|replaced|deprecated)\b"
    r"(?=[ \t]*(?:$|[.,;:()\[\]|\u2013\u2014-]|by\b|in[ \t]+favou?r\b|since\b|as[ \t]+of\b|on\b|\d))",
    re.IGNORECASE,
)
# A status saying a document was never adopted: it succeeds nothing.
_NEVER_ADOPTED = re.compile(r"(?:rejected|withdrawn|abandoned|declined)\b", re.IGNORECASE)
# Fenced code in a document's head (a YAML example with `status: deprecated`) says nothing of it.
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
# "Superseded by 0015", as the bundled ADR 0001 says to write it (also "by #15", "by 0015 and 0016"):
# numbers of the document's own folder.
_BY_NUMBER = re.compile(
    r"(?:superseded|superceded|replaced)[ \t]+by[ \t]+((?:#?\d{1,6}(?![\w.-]?\d)[ \t]*(?:,|and|&)?[ \t]*)+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Retired:
    """A document that says it no longer holds: how ("superseded" or "deprecated"), the documents its
    status names that hold in its place (its successors), and whether it named any at all."""

    status: str
    successors: tuple[str, ...] = ()
    names_some: bool = False


# [text](target) and [text](<target> "title"): a relative markdown target, its anchor dropped. A target
# holds no bracket: with them, each "](" of "[x](" repeated read on to the text's end (20,000: 7 s).
_LINK = re.compile(r"\]\(\s*<?([^()\[\]\s#>]+\.(?:md|markdown))(?:#[^)\s>]*)?>?(?:\s+\"[^\"]*\")?\s*\)", re.IGNORECASE)
# A path or file name written out ends in .md; what precedes it is found by looking back.
_SUFFIX = re.compile(r"\.(?:md|markdown)(?![\w-])", re.IGNORECASE)
_PATH_CHARS = frozenset("._/-")
# "ADR 0004", "ADR-4", "ADR #12", "decision 0004", "incident 7", "INC-0002", "postmortem 0002",
# matched on lowercased text at the places str.find finds their first letters (far faster on
# megabytes of text than one case-insensitive regular expression). Singular words only ("two
# decisions 2 weeks ago" is not ADR 2), and not a date or a version ("incident 2024-05-02").
# Not a number a time, a version, a date or a code goes on from: "02:00 UTC", "1.2", "0800Z", "0x7b",
# "09h30" (a letter and a digit, or a Z). A letter alone may follow: "ADR 4a", "ADR 0004を参照".
_NUMBERED = re.compile(
    r"(adr|decision|incident|inc|postmortem|post-mortem)[ \t\n#:-]{0,3}(\d{1,6})"
    r"(?![\d.,/:-]?\d)(?![a-z]\d)(?!z(?![a-z]))"
)
_STARTS = ("adr", "decision", "inc", "post")
# A month after a one- or two-digit number makes it a day ("incident 05 May"): `meant_as_reference`.
# "May" only as written for the month, or with a year after it: "ADR 5 may apply", "ADR 5 MAY apply"
# (RFC 2119) are references, "incident 05 may 2024" a day.
_MONTH_AFTER = re.compile(
    r"[ \t]+(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|(?-i:May)|may(?=,?[ \t]+(?:19|20)\d\d(?!\d))"
    r"|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![^\W\d_])",
    re.IGNORECASE,
)
_NUMBERED_ANY_CASE = re.compile(_NUMBERED.pattern, re.IGNORECASE)
# The folders a word can mean, in order: the first one the home has is taken.
_FOLDERS = {
    "adr": ("decisions", "adr", "adrs"),
    "decision": ("decisions", "adr", "adrs"),
    "incident": ("incidents", "postmortems", "post-mortems"),
    "inc": ("incidents", "postmortems", "post-mortems"),
    "postmortem": ("postmortems", "incidents", "post-mortems"),
    "post-mortem": ("post-mortems", "postmortems", "incidents"),
}
# A numbered document's file name: "0005-cursor-pagination.md", "0003-12-factor-config.md". A date
# is no number: a year, then a month, a week, a quarter or a half ("2024-05-02-outage.md",
# "2024-5-3-x.md", "2024_05_02_x.md", "2024.07.01-x.md", "2024-W18-x.md", "2024w18-x.md",
# "2024-Q2-review.md", "2024-H1-review.md", "2024-may-outage.md", "2024-05-checkout.md"), or day,
# month and year in any order of two parts and a year ("12-03-2024-db.md", "24-05-02-outage.md");
# nor is a number longer than a reference writes ("20240502-outage.md"; `_NUMBERED`: six digits).
# The price: an ADR numbered 1900 to 2099 whose name goes on with a digit ("2001-3-tier.md") is a
# date. A year then another word ("2024-retro.md", "2024-marketing.md") is still the number 2024,
# and a week is the only part read without a separator ("2024W18"; "2024Q2-review.md" is 2024).
_LEADING_NUMBER = re.compile(
    r"^(?!(?:19|20)\d\d(?:[-_.](?:\d|[WQH]\d"
    r"|(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![^\W_]))"
    r"|W\d)|\d{1,2}(?P<sep>[-_.])\d{1,2}(?P=sep)\d{2,4}(?!\d))"
    r"(?P<number>\d{1,6})(?!\d)(?:\D|$)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W_]+")
# File names looked up one by one, each in one pass over the home's paths (a run asks about one or two);
# past this many, all the names are worked out at once: a task that pasted a listing of 2,600 names took
# 3.4 s on 10,000 documents.
NAMES_ONE_BY_ONE = 8


def reference_keys(path: str, text: str, *, in_task: bool = False, roots: Sequence[str] = ()) -> list[str]:
    """What the document at `path` refers to, as keys (`path:`, `name:`, `num:`; see `Catalogue.resolve`),
    each once, in the order the text has them.

    `in_task`: `text` is a task (`Library.named_in`), whose absolute paths count too (`abs:`, which
    only a task, run on the machine they are of, can mean), and whose `../` is from some folder of
    the home (a link pasted from a document). `roots` are folders (each ending in `/`) that a path may be
    written after even where the scan back from `.md` cannot read them whole (one holding a space,
    or `~/...`): such a path's key is `abs:` and the root and the path after it."""
    text = text[:MAX_TEXT]
    here = posixpath.dirname(path)
    keys: dict[str, None] = {}
    for match in _LINK.finditer(text):
        _add_path(keys, here, match.group(1), in_task)
    last_end, last_begin = -1, 0
    for match in _SUFFIX.finditer(text):
        # Back from ".md" over the path's characters, at most 300 (a regular expression searching
        # backwards would try every start in the window). Back at the last name's ".md", what lies
        # before was looked at for that name: ".md" after ".md" costs each character once.
        begin = end = match.start()
        while begin > 0 and end - begin < 300 and _in_path(text[begin - 1]):
            begin -= 1
            if begin == last_end:
                begin = max(last_begin, end - 300)
                break
        last_end, last_begin = end, begin
        if begin == end:
            continue
        if in_task and (under := _under_root(text, begin, match.end(), roots)) is not None:
            keys[f"abs:{under}"] = None
            continue
        if text[max(0, begin - 2) : begin] == "\\ ":
            continue  # the end of a name with a space escaped in it (`payments\ deploy.md`): names nothing
        written = text[begin : match.end()]
        if "/" in written:
            _add_path(keys, here, written, in_task)
            _add_path(keys, "", written, in_task)  # written from the home's root, as people do
        else:
            keys[f"name:{written.casefold()}"] = None
    lower = text.casefold()
    for start in _STARTS:
        position = lower.find(start)
        while position != -1:
            if position == 0 or not lower[position - 1].isalnum():
                numbered = _NUMBERED.match(lower, position)
                if numbered:
                    keys[f"num:{numbered.group(1)}:{int(numbered.group(2))}"] = None
            position = lower.find(start, position + 1)
    return list(keys)


def status_of(head: str) -> str | None:
    """A document's status, as written (its first status line in `head`, its title section and a
    "Status" section; `superseded_by:` in front matter counts as "superseded by ..."), or None."""
    text = _FENCE.sub("", head.replace("\r\n", "\n").replace("\r", "\n")[:STATUS_WITHIN])
    successor = _SUPERSEDED_BY.search(text)
    status = _STATUS.search(text)
    if successor is not None and (status is None or successor.start() < status.start()):
        return f"superseded by {successor.group('value')}"
    if status is None:
        return None
    value = status.group("inline") if status.group("inline") is not None else status.group("heading")
    value = value.strip(" \t#") or (status.group("under") or "")
    return re.sub(r"~~.*?~~", "", value).replace("**", "").replace("__", "").strip(" \t>|*_[-")


def is_rejected(status: str | None) -> bool:
    """Whether a status says the document was never adopted ("Rejected", "Withdrawn"): no successor."""
    return status is not None and _NEVER_ADOPTED.match(status) is not None


def retirement(path: str, head: str) -> tuple[str, list[str]] | None:
    """Whether the document at `path` says in its `head` (`status_of`) that it is superseded or
    deprecated: "superseded" or "deprecated", and the keys of what its status names
    (`reference_keys`, and bare numbers of its own folder: its successors)."""
    value = status_of(head)
    retired = _RETIRED.match(value) if value is not None else None
    if value is None or retired is None:
        return None
    keys = reference_keys(path, value)
    folder = posixpath.dirname(path)
    for numbers in _BY_NUMBER.finditer(value):
        keys += [f"in:{folder}:{int(number)}" for number in re.findall(r"\d+", numbers.group(1))]
    word = retired.group("word").casefold()
    return ("deprecated" if word == "deprecated" else "superseded"), list(dict.fromkeys(keys))


class Catalogue:
    """The home's documents, looked up by path, file name and number: what keys are matched against.

    Lookups by name and number are worked out when first asked, for that name or folder only: a
    run follows the references of one document, and a home may hold ten thousand (past
    `NAMES_ONE_BY_ONE` names, every name at once: a task may paste a listing).
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self._sorted = sorted(paths)  # the index gives them sorted: linear
        self.paths = set(self._sorted)
        self._names: dict[str, list[str]] = {}
        self._numbered: dict[str, dict[int, list[str]]] = {}
        self._by_name: dict[str, list[str]] | None = None  # every document by file name, once many are asked
        # `resolve_typed`'s documents by folded path and by folded file name, made when first asked.
        self._folded: tuple[dict[str, list[str]], dict[str, list[str]]] | None = None

    def resolve(self, key: str) -> str | None:
        """The document a key names, or None."""
        kind, _, value = key.partition(":")
        if kind == "path":
            return value if value in self.paths else None
        if kind in ("name", "num"):
            return _only(self.meanings(key))
        if kind == "in":  # a number of a given folder: "in:decisions:15"
            folder, _, number = value.rpartition(":")
            return _only(self._in_folder(folder).get(int(number), [])) if number.isdigit() else None
        return None

    def resolve_typed(self, key: str) -> str | None:
        """`resolve`, and for a path or file name no document has exactly, the one document whose
        path or name it is but for case and Unicode form: a task typed by hand (`Runbooks/Deploy.md`),
        or naming a file macOS stores decomposed (`décisions` as e + U+0301)."""
        found = self.resolve(key)
        kind, _, value = key.partition(":")
        if found is not None or kind not in ("path", "name"):
            return found
        if self._folded is None:
            self._folded = ({}, {})
            for path in self._sorted:
                self._folded[0].setdefault(_fold(path), []).append(path)
                self._folded[1].setdefault(_fold(posixpath.basename(path)), []).append(path)
        paths, names = self._folded
        return _only((paths if kind == "path" else names).get(_fold(value), []))

    def meanings(self, key: str) -> list[str]:
        """Every document a `name:` or `num:` key may mean, in path order: `resolve` takes one when it
        is the only one (two 0011s once two branches are merged: "ADR 11" names neither)."""
        kind, _, value = key.partition(":")
        if kind == "name":
            return self._named(value)
        if kind == "num":
            word, _, number = value.partition(":")
            folder = self._folder_for(word)
            return self._in_folder(folder).get(int(number), []) if folder and number.isdigit() else []
        return []

    def keys_naming(self, target: str) -> list[str]:
        """Every key that `resolve` turns into `target`."""
        keys = [f"path:{target}"]
        name = posixpath.basename(target).casefold()
        if _only(self._named(name)) == target:
            keys.append(f"name:{name}")
        folder, _, rest = target.partition("/")
        leading = _LEADING_NUMBER.match(rest)
        number = int(leading.group("number")) if leading else None
        if number is not None and _only(self._in_folder(folder).get(number, [])) == target:
            keys += [f"num:{word}:{number}" for word in _FOLDERS if self._folder_for(word) == folder]
        return keys

    def _named(self, name: str) -> list[str]:
        """The documents whose file name is `name` (casefolded), sorted."""
        if name not in self._names:
            if len(self._names) < NAMES_ONE_BY_ONE:
                ending = "/" + name
                self._names[name] = [
                    path for path in self._sorted if path.casefold().endswith(ending) or path.casefold() == name
                ]
            else:  # the same lists: a `name:` key never holds "/" (`reference_keys`)
                if self._by_name is None:
                    self._by_name = {}
                    for path in self._sorted:
                        self._by_name.setdefault(posixpath.basename(path).casefold(), []).append(path)
                self._names[name] = self._by_name.get(name, [])
        return self._names[name]

    def shared_numbers(self) -> list[tuple[str, list[str]]]:
        """Numbers that name two documents or more, as a reference writes them ("ADR 12"), each
        with the documents in path order: two branches that each ran `new-decision` give two
        0012s once merged, and then "ADR 12" refers to neither (`_only`). Only the folders
        references resolve to are looked at (`decisions/`, not a legacy `adr/` beside it)."""
        words: dict[str, str] = {}
        for word in _FOLDERS:
            folder = self._folder_for(word)
            if folder is not None:
                words.setdefault(folder, word)
        return [
            (written_as(f"num:{word}:{number}"), group)
            for folder, word in words.items()
            for number, group in sorted(self._in_folder(folder).items())
            if len(group) > 1
        ]

    def missing(self, key: str) -> tuple[str, str] | None:
        """For a `num:` key no document has, in a folder that holds numbered documents: that folder and
        its last document's file name. None for a key some document has (also in a folder references
        do not resolve to: a legacy `adr/` beside `decisions/`), or whose folder the home lacks (its
        decisions may live where scaffold does not look for them)."""
        word, _, number = key.removeprefix("num:").partition(":")
        folder = self._folder_for(word)
        if folder is None or not number.isdigit():
            return None
        if any(int(number) in self._in_folder(other) for other in _FOLDERS.get(word, ())):
            return None
        numbered = self._in_folder(folder)
        return folder, posixpath.basename(numbered[max(numbered)][-1])

    def _in_folder(self, folder: str) -> dict[int, list[str]]:
        """The numbered documents directly in `folder`, by number (worked out for that folder only:
        a run asks about one or two of them, and a home's folders hold thousands)."""
        if folder not in self._numbered:
            numbered: dict[int, list[str]] = {}
            for path in self._children(folder):
                number = _number_of(path[len(folder) + 1 :])
                if number is not None:
                    numbered.setdefault(number, []).append(path)
            self._numbered[folder] = numbered
        return self._numbered[folder]

    def _children(self, folder: str) -> list[str]:
        """The documents directly in `folder`, in path order."""
        return [path for path in paths_under(self._sorted, folder) if "/" not in path[len(folder) + 1 :]]

    def _folder_for(self, word: str) -> str | None:
        # The first folder holding numbered documents: a decisions/README.md beside adr/0001-x.md is no ADR folder.
        return next((folder for folder in _FOLDERS.get(word, ()) if self._in_folder(folder)), None)


def without_numbered_references(text: str, names: Callable[[str], bool]) -> str:
    """`text` with its references to numbered documents ("ADR 0002", "incident 3") blanked, those that
    `names` says name a document (given the reference's `num:` key). The task names that document by
    them (`Library.named_in`); as words to rank by, the number matches every document of another folder
    with that number in its title ("0002. Use FastAPI" for "incident 2"). One that names none ("incident
    500 errors", "ADR 99" where there is none) is the task's words, and stays."""
    blanked = list(text)
    for match, key in numbered_references(text):
        if names(key):
            blanked[match.start() : match.end()] = " " * (match.end() - match.start())
    return "".join(blanked)


def numbered_references(text: str) -> list[tuple[re.Match[str], str]]:
    """The references to numbered documents `text` holds ("ADR 0002", "incident 3") where it writes
    them, each with its `num:` key, in order. For a task, whose references must be cut out where they
    are written; `reference_keys` finds the same references in documents by `str.find` on the
    casefolded text, which is faster over a 200 KB document but has no positions in the text as
    written (casefolding may change its length)."""
    if not any(start in text.casefold() for start in _STARTS):
        return []  # most tasks
    found = []
    for match in _NUMBERED_ANY_CASE.finditer(text):
        if match.start() == 0 or not text[match.start() - 1].isalnum():
            found.append((match, f"num:{match.group(1).casefold()}:{int(match.group(2))}"))
    return found


def meant_as_reference(match: re.Match[str]) -> bool:
    """Whether a numbered reference (`numbered_references`) can only mean a document: "ADR 7", or a
    number written as files are numbered ("incident 0042"). "incident 500 errors" or "decision 3 weeks
    ago" may mean none, "ADR 2024 planning" is a year (as `_LEADING_NUMBER` reads a file name), "the
    incident 05 May" a day, "INC001234" another tracker's id, and no document is numbered 0."""
    word, number = match.group(1), match.group(2)
    day = len(number) <= 2 and _MONTH_AFTER.match(match.string, match.end()) is not None
    if not number.strip("0") or match.group(0)[len(word)].isdigit() or day:
        return False
    if word.casefold() == "adr":
        return not (len(number) == 4 and number[:2] in ("19", "20"))
    return number.startswith("0")


def written_as(key: str) -> str:
    """A `num:` key as a reference writes it: "ADR 11", "incident 3"."""
    word, _, number = key.removeprefix("num:").partition(":")
    return f"{'ADR' if word == 'adr' else word} {number}"


def _number_of(name: str) -> int | None:
    """The number a numbered document's file name starts with (`_LEADING_NUMBER`), or None."""
    number = _LEADING_NUMBER.match(name) if name[:1].isdigit() else None
    return int(number.group("number")) if number else None


def phrases_naming(target: str, catalogue: Catalogue) -> list[str]:
    """Phrases (space-separated words) that a document referring to `target` contains.

    For the full-text index: a link or a path ends in the file's name ("0005 cursor
    pagination md"), a number is written with or without leading zeros ("adr 5", "adr 0005").
    A document containing one may still not refer to `target`; reading it tells.
    """
    phrases: dict[str, None] = {}
    for key in catalogue.keys_naming(target):
        kind, _, value = key.partition(":")
        if kind in ("path", "name"):
            phrases[" ".join(_TOKEN.findall(posixpath.basename(value).casefold()))] = None
        elif kind == "num":
            word, _, number = value.partition(":")
            for digits in dict.fromkeys(number.zfill(width) for width in range(len(number), max(len(number), 4) + 1)):
                phrases[" ".join([*_TOKEN.findall(word), digits])] = None
    return [phrase for phrase in phrases if phrase]


def _under_root(text: str, begin: int, end: int, roots: Sequence[str]) -> str | None:
    """The path `text[begin:end]` ends, written after one of `roots`, as the root and the path (normalised):
    the root found right before it (`/srv/Team Docs/` before `Docs/runbooks/x.md`: the scan back stopped at
    the space), or where it starts (`~/` before `kb/x.md`), and not inside a longer path."""
    for root in roots:
        start = text.rfind(root, max(0, begin - len(root)), end)
        if start == -1 or start + len(root) >= end or (start > 0 and _in_path(text[start - 1])):
            continue
        written = text[start + len(root) : end]
        if all(map(_in_path, written)):
            return posixpath.normpath(root + written)
    return None


def _add_path(keys: dict[str, None], here: str, written: str, in_task: bool) -> None:
    if "://" in written:
        return
    if written.startswith("/"):
        if in_task:
            keys[f"abs:{posixpath.normpath(written)}"] = None
        return
    joined = posixpath.normpath(posixpath.join(here, written))
    if in_task:
        # A task's link pasted from a document (`[ADR](../decisions/0012-x.md)`): from a folder of the
        # home, which the task does not say, so the path after the `../` is taken from the home's root.
        while joined.startswith("../"):
            joined = joined[3:]
        if "/" not in joined and is_readme(joined):
            return  # `README.md`, `./README.md`, `../README.md`: a task's is its project's, not context/'s
    if not joined.startswith("..") and not joined.startswith("/"):
        keys[f"path:{joined}"] = None


def _in_path(character: str) -> bool:
    """Whether a path or file name written out may hold `character`: a letter or digit, `._/-`, or a
    combining mark (macOS writes `café` as e and U+0301, and a name cut there named `sume.md` for
    `résume.md`)."""
    return character.isalnum() or character in _PATH_CHARS or unicodedata.category(character)[0] == "M"


def _fold(text: str) -> str:
    """`text` as `resolve_typed` compares it: one Unicode form, one case (normalised again after
    casefolding, which can undo a normal form: `ǰ` folds to j and a combining caron)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def _only(paths: list[str]) -> str | None:
    """The one document a name or a number means; two sharing it (a merge) make it ambiguous."""
    return paths[0] if len(paths) == 1 else None
