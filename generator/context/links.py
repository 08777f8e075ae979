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
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

__all__ = ["MAX_TEXT", "Catalogue", "phrases_naming", "reference_keys"]

# A document's text is read for references up to this many characters.
MAX_TEXT = 200_000
# [text](target) and [text](<target> "title"): a relative markdown target, its anchor dropped.
_LINK = re.compile(r"\]\(\s*<?([^)\s#>]+\.(?:md|markdown))(?:#[^)\s>]*)?>?(?:\s+\"[^\"]*\")?\s*\)", re.IGNORECASE)
# A path or file name written out ends in .md; what precedes it is found by looking back.
_SUFFIX = re.compile(r"\.(?:md|markdown)(?![\w-])", re.IGNORECASE)
_WRITTEN = re.compile(r"[\w./-]+\Z")
# "ADR 0004", "ADR-4", "ADR #12", "decision 0004", "incident 7", "INC-0002", "postmortem 0002",
# matched on lowercased text at the places str.find finds their first letters (far faster on
# megabytes of text than one case-insensitive regular expression).
_NUMBERED = re.compile(r"(adrs?|decisions?|incidents?|inc|postmortems?|post-mortems?)[ \t\n#:-]{0,3}(\d{1,5})(?!\d)")
_STARTS = ("adr", "decision", "inc", "post")
# The folders a word can mean, in order: the first one the home has is taken.
_FOLDERS = {
    "adr": ("decisions", "adr", "adrs"),
    "decision": ("decisions", "adr", "adrs"),
    "incident": ("incidents", "postmortems", "post-mortems"),
    "inc": ("incidents", "postmortems", "post-mortems"),
    "postmortem": ("postmortems", "incidents", "post-mortems"),
    "post-mortem": ("post-mortems", "postmortems", "incidents"),
}
_LEADING_NUMBER = re.compile(r"^(\d+)(?:\D|$)")
_TOKEN = re.compile(r"[^\W_]+")


def reference_keys(path: str, text: str) -> list[str]:
    """What the document at `path` refers to, as keys (`path:`, `name:`, `num:`), each once."""
    text = text[:MAX_TEXT]
    here = posixpath.dirname(path)
    keys: dict[str, None] = {}
    for match in _LINK.finditer(text):
        _add_path(keys, here, match.group(1))
    for match in _SUFFIX.finditer(text):
        before = _WRITTEN.search(text, max(0, match.start() - 300), match.start())
        if before is None:
            continue
        written = before.group(0) + match.group(0)
        if "/" in written:
            _add_path(keys, here, written)
            _add_path(keys, "", written)  # written from the home's root, as people do
        else:
            keys[f"name:{written.casefold()}"] = None
    lower = text.casefold()
    for start in _STARTS:
        position = lower.find(start)
        while position != -1:
            if position == 0 or not lower[position - 1].isalnum():
                numbered = _NUMBERED.match(lower, position)
                if numbered:
                    keys[f"num:{_word(numbered.group(1))}:{int(numbered.group(2))}"] = None
            position = lower.find(start, position + 1)
    return list(keys)


class Catalogue:
    """The home's documents, looked up by path, file name and number: what keys are matched against."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = set(paths)
        self._names: dict[str, list[str]] = {}
        self._numbered: dict[tuple[str, int], str] = {}
        for path in sorted(self.paths):
            folder, _, name = path.partition("/")
            self._names.setdefault(posixpath.basename(path).casefold(), []).append(path)
            number = _LEADING_NUMBER.match(name)
            if number and "/" not in name:
                self._numbered.setdefault((folder, int(number.group(1))), path)  # the first, if two share it
        self._folders = {path.partition("/")[0] for path in self.paths if "/" in path}

    def resolve(self, key: str) -> str | None:
        """The document a key names, or None."""
        kind, _, value = key.partition(":")
        if kind == "path":
            return value if value in self.paths else None
        if kind == "name":
            named = self._names.get(value, [])
            return named[0] if len(named) == 1 else None
        if kind == "num":
            word, _, number = value.partition(":")
            folder = self._folder_for(word)
            return self._numbered.get((folder, int(number))) if folder and number.isdigit() else None
        return None

    def keys_naming(self, target: str) -> list[str]:
        """Every key that `resolve` turns into `target`."""
        keys = [f"path:{target}"]
        name = posixpath.basename(target).casefold()
        if len(self._names.get(name, [])) == 1:
            keys.append(f"name:{name}")
        folder, _, rest = target.partition("/")
        number = _LEADING_NUMBER.match(rest)
        if number and self._numbered.get((folder, int(number.group(1)))) == target:
            keys += [f"num:{word}:{int(number.group(1))}" for word in _FOLDERS if self._folder_for(word) == folder]
        return keys

    def _folder_for(self, word: str) -> str | None:
        return next((folder for folder in _FOLDERS.get(word, ()) if folder in self._folders), None)


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
            for digits in dict.fromkeys(number.zfill(width) for width in range(len(number), 5)):
                phrases[" ".join([*_TOKEN.findall(word), digits])] = None
    return [phrase for phrase in phrases if phrase]


def _add_path(keys: dict[str, None], here: str, written: str) -> None:
    if written.startswith("/") or "://" in written:
        return
    joined = posixpath.normpath(posixpath.join(here, written))
    if not joined.startswith("..") and not joined.startswith("/"):
        keys[f"path:{joined}"] = None


def _word(word: str) -> str:
    return word[:-1] if word.endswith("s") and word[:-1] in _FOLDERS else word
