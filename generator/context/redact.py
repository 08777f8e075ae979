"""Secrets never leave the machine: find likely secrets in the chosen text and redact them.

Detection is detect-secrets' default plugins and filters, as `detect-secrets scan` runs them
on a markdown file (AWS, Azure, GitHub, GitLab, Slack, Stripe, Twilio, npm... keys and
tokens, private keys, JWTs, passwords in URLs, quoted high-entropy strings and quoted values
assigned to secret-like names), plus scaffold's own rules for what its markdown rules miss
(`generator.context.secret_rules`: unquoted values, command lines, SQL, values on the next line,
random-looking tokens...).
Each finding is replaced by `[REDACTED: <kind>]`, up to the end of the token it starts (a
JWT's signature goes too); a private key goes from its BEGIN line to its END line. Every
finding is reported as file:line and kind.

Scanning costs about a millisecond a line and importing detect-secrets 50 ms (twice that with
`requests`, which it is imported without: `_import_detect_secrets`), so the spans found in a
piece of text are cached by the text's digest (never the secret values) under the user cache
dir, and only lines that could hold a finding are scanned at all: lines that one of the
regular-expression plugins' patterns matches (copied from detect-secrets into the cache the
first time it is imported), that hold a keyword the keyword plugin looks for (`key`, `pass`,
`pwd`, `secret`, ...) with a quote, `:` or `=` to take a value after (and the indented lines
continuing that value), or a quoted run long enough to pass an entropy limit. A warm run whose
new sections have no such line does not import detect-secrets at all, and one that finds every
section in the cache compiles no pattern, scaffold's own (`secret_rules`) included.
"""

from __future__ import annotations

import bisect
import builtins
import contextlib
import hashlib
import importlib
import itertools
import json
import locale
import os
import re
import sys
import threading
import types
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.context import regexes
from generator.context.sections import Piece as Piece  # re-exported: what callers hand a Redactor
from generator.context.sections import name_form
from generator.plumbing import cachefile

# Bump when the cache's format changes; a change to the scanning code or the rules needs none (`_RULES_DIGEST`).
CACHE_VERSION = 3
CACHE_LIMIT = 50_000
# And at most this many bytes, the newest entries kept: every run reads the whole file (a text dense
# with secrets has a span for each, and one such text could otherwise slow every later run).
CACHE_BYTES = 8_000_000
GLOBAL_MIN_LENGTH = 6
PRIVATE_KEY = "Private Key"
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9+/=_\-.~]*")
# Where a URL's authority ends: at its path, query, fragment or a blank.
_AUTHORITY_END = re.compile(r"[\s/?#]")
_UP_TO_AT = re.compile(r"([^\s@]*)@")
# Up to the next `@` in a URL, what reads as a host and a path: a `.` or a `:` (a port) in it, or
# a host name in lower case, a `/`, and then the `@` or a query or fragment before it. (A `?`, a
# `#` or a `/@` in a password without those is its own: `P@ss#2024x@db`, `Kp9@xT2/@db`.)
_HOST_THEN_PATH = re.compile(r"[.:]|^[a-z0-9\-]+/(?:$|[^@]*[?#])")
_KEY_END = re.compile(r"-----END [A-Za-z0-9 ]*-----|---- END SSH2 ENCRYPTED PRIVATE KEY ----")
# Every word of the keyword plugin's denylist (api_?key, db_?pass, passwd, pwd, secret,
# contraseña...) contains one of these.
_KEYWORDS = re.compile(r"key|pass|pwd|secret|contrase", re.IGNORECASE)
# A name (a document's title) that may name a secret: those words, and the others scaffold's own
# rules take for one. Its document may give the value away (`# Admin password (...)` over `password: ...`).
NAMES_A_SECRET = re.compile(rf"{_KEYWORDS.pattern}|token|credential|psk", re.IGNORECASE)
# And the plugin finds a value only after a quote (its rules for a markdown file require one),
# or after `:` or `=` (it also reads the file as ini, quoting each `name = value` itself): a
# line of prose that merely says "key" needs no scan.
_KEYWORD_VALUE = re.compile(r"""['"`:=]""")
# The entropy plugins only look at quoted strings of their charset, and a string of n
# characters has at most log2(n) bits of entropy: the hex limit (3.0) needs 9 or more.
_QUOTED_RUN = re.compile(r"""(['"])[^'"\s]{9,}\1""")
LONG_BLANKS = 32
_LONG_BLANKS = re.compile(rf"[ \t]{{{LONG_BLANKS + 1},}}")
# What may end a line for detect-secrets besides "\n": a CR where it reads lines (universal newlines), and
# every other line boundary of `str.splitlines()` where it reads an ini value. A line of ours holding one
# was two of its, its line numbers no longer ours, and what it found after one went unredacted: it is
# given a blank instead (`_as_given`).
_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BREAKS_AS_BLANKS = str.maketrans(dict.fromkeys(_BREAKS, " "))
# A line whose value continues below it: `name =`, `name:`, `name: |`, `name: >-`.
_OPENS_VALUE = re.compile(r"[=:]\s*(?:[|>][-+]?)?\s*$")

# A span is (line index in the piece, start column, end column or -1 for the whole line, kind,
# whether it is reported): a private key's body lines are redacted but reported once.
Span = tuple[int, int, int, str, bool]


@dataclass(frozen=True)
class Finding:
    """A likely secret: where it was and what detect-secrets called it."""

    path: str
    line: int
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "kind": self.kind}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


@dataclass(frozen=True)
class Redacted:
    """A piece's text with its secrets replaced, and what was replaced.

    `values` are the secrets themselves with their kinds, for replacing them in what is shown
    beside the text (a heading path, a file name: `Shown`); never written or printed.
    """

    text: str
    findings: tuple[Finding, ...]
    values: tuple[tuple[str, str], ...] = field(default=(), repr=False)


class Redactor:
    """Redacts pieces of text, scanning only those its cache has not seen; `save()` keeps the cache."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache = _Cache(cache_file)

    def redact(self, pieces: Sequence[Piece], spread: bool = True) -> list[Redacted]:
        """`pieces` with their secrets replaced; with `spread`, each value found in one is replaced in all."""
        if not pieces:
            return []
        scanned = [piece.before + piece.text + piece.after for piece in pieces]
        keys = [hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] for text in scanned]
        unseen = {key: text for key, text in zip(keys, scanned, strict=True) if not self.cache.has(key)}
        if unseen:
            # Scanned without the CR of CRLF line ends, which the rules' `$` would not match (a
            # Kubernetes `value:` line, a header's end); only line ends go, so the spans hold for the text.
            texts = [text.replace("\r\n", "\n") for text in unseen.values()]
            _distrust_cache_if_rules_changed()
            from generator.context import secret_rules as rules

            triggers = self.cache.triggers
            if triggers is None:
                # Once per cache: the plugins' patterns cost importing detect-secrets, which a scan needs anyway.
                triggers = _plugin_patterns()
                self.cache.set_triggers(triggers)
            lines = [line for text in texts for line in text.split("\n")]
            # Neither detect-secrets (by its triggers) nor scaffold's own patterns could find anything: skip the scan.
            logical = lines + [joined for text in texts for _, joined, _ in rules.continued(text.split("\n"))]
            if not any(_suspect(line, triggers) for line in lines) and not any(map(rules.own_suspect, logical)):
                results: list[list[Span]] = [[] for _ in texts]
            else:
                results = _scan(texts, triggers)
            for key, spans in zip(unseen, results, strict=True):
                self.cache.put(key, spans)
        # The lines of each text scanned, split once for all its parts (a part's key is its whole text's).
        split = {key: text.split("\n") for key, text in dict(zip(keys, scanned, strict=True)).items()}
        mapped = [_within(piece, self.cache.get(key), split[key]) for piece, key in zip(pieces, keys, strict=True)]
        found = [spans for spans, _, _ in mapped]
        cached = _everywhere(pieces, found, [reaching for _, reaching, _ in mapped]) if spread else found
        return [
            _apply(piece, spans, [*values, *_values(piece.text.split("\n"), spans[len(own) :])])
            for piece, spans, own, (_, _, values) in zip(pieces, cached, found, mapped, strict=True)
        ]

    def save(self) -> None:
        self.cache.save()
        if self.cache.path is not None:  # a redactor that keeps nothing keeps no patterns either
            regexes.save()  # those this run compiled, for the next (`generator.context.regexes`)


def _within(
    piece: Piece, spans: list[Span], scanned: list[str]
) -> tuple[list[Span], list[tuple[str, str]], list[tuple[str, str]]]:
    """`spans` found in the piece's text with its `before` and `after` (`scanned`, their lines), as spans
    of its text; the values of those spans, to look for in the other pieces; the values the piece
    gives away, to hide in its document's names.

    The spans are those that reach into the text, cut at its ends: a secret its cut splits is redacted
    on both sides, each part its half. A kind redacted here with no finding reported here (its report
    fell outside: a private key's BEGIN line) reports its first place here. Values are the scan's
    whole, never a cut value's half (which would be replaced wherever else it appears). Those looked
    for elsewhere are only the ones this text holds: a part of a long section does not spread a value
    of a part not chosen (a false positive there would hit the task and other documents); its names
    lose all its section's (its heading, which every part repeats, may quote one)."""
    if not (piece.before or piece.after):
        values = list(_values(scanned, spans))  # `scanned` is the text's own lines
        return spans, values, values
    skipped = piece.before.count("\n")
    shift = len(piece.before) - (piece.before.rfind("\n") + 1)  # where the text starts on its first line
    lengths = [len(line) for line in piece.text.split("\n")]
    within: list[Span] = []
    reaching: list[Span] = []
    for span in spans:
        index, start, end, kind, reported = span
        line = index - skipped
        if not 0 <= line < len(lengths):
            continue
        offset = shift if line == 0 else 0
        start = max(start - offset, 0)
        if end != -1:  # -1: the whole line (a private key's)
            end = min(end - offset, lengths[line])
            if end <= start:
                continue
        within.append((line, start, end, kind, reported))
        reaching.append(span)
    reported_kinds = {span[3] for span in within if span[4]}
    for position, (line, start, end, kind, _) in enumerate(within):
        if kind not in reported_kinds:
            within[position] = (line, start, end, kind, True)
            reported_kinds.add(kind)
    return within, list(_values(scanned, reaching)), list(_values(scanned, spans))


def _everywhere(
    pieces: Sequence[Piece], spans: list[list[Span]], given: Sequence[Sequence[tuple[str, str]]]
) -> list[list[Span]]:
    """`spans` plus every other place in `pieces` where a value one gives away (`given`, of
    `GLOBAL_MIN_LENGTH` or more) appears, appended after each piece's own.

    A scan redacts a value wherever it appears in the texts scanned together, but the cache
    holds spans per text: a runbook cached earlier that repeats a password found today in
    another must lose it too, as it would if both were scanned afresh.
    """
    values: dict[str, str] = {}
    for pairs in given:
        for value, kind in pairs:
            values.setdefault(value, kind)
    if not values:
        return spans
    sought = _Sought(values)
    result = []
    for piece, found in zip(pieces, spans, strict=True):
        more = list(found)
        lines = piece.text.split("\n")
        for value, indexes in _Holding(lines).lines_of(sought).items():
            kind = values[value]
            for index in indexes:
                more += [(index, start, end, kind, True) for start, end in _spans(lines[index], value, [])]
        result.append(more)
    return result


class _Sought:
    """Values to look for (`_Holding.lines_of`), those of `GLOBAL_MIN_LENGTH` or more; past
    `_Holding.ONE_PASS_VALUES` of them, indexed by their first characters, then length and the first
    `_Holding.WINDOW` characters: a place is looked up once per length its first characters begin
    (4,000 values generated from one prefix, each compared at every place that prefix appears, took
    1.0 s), and copies no more than `WINDOW` characters of it (values of 200 KB sharing a prefix and a
    length took 19 s). Built once for all the texts of a request: 50 parts of a section of 20,000
    values took 3.6 s indexing them again for each."""

    def __init__(self, values: Iterable[str]) -> None:
        self.wanted = list(dict.fromkeys(value for value in values if len(value) >= GLOBAL_MIN_LENGTH))
        self.by_prefix: dict[str, dict[int, dict[str, list[str]]]] | None = None
        if len(self.wanted) > _Holding.ONE_PASS_VALUES:
            self.by_prefix = {}
            for value in self.wanted:
                windows = self.by_prefix.setdefault(value[:GLOBAL_MIN_LENGTH], {}).setdefault(len(value), {})
                windows.setdefault(value[: _Holding.WINDOW], []).append(value)


class _Holding:
    """Which of `lines` hold a value: one search of the text joined, not one per line (a text with
    thousands of lines and of values found took minutes)."""

    # Past this many values, one pass over the text looking up each place's first characters
    # beats one search per value (0.1 s a MB against 0.4 ms a MB per value: a document of 30,000
    # passwords took 30 s, most of it searching each in the whole text).
    ONE_PASS_VALUES = 300
    WINDOW = 32

    def __init__(self, lines: list[str]) -> None:
        self.text = "\n".join(lines)
        self.starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))

    def lines_of(self, values: Iterable[str] | _Sought) -> dict[str, list[int]]:
        """The indexes of the lines holding each of `values` (of `GLOBAL_MIN_LENGTH` or more), in order:
        only those some line holds. `_Sought` values are indexed once for many texts."""
        sought = values if isinstance(values, _Sought) else _Sought(values)
        if sought.by_prefix is None:
            return {value: lines for value in sought.wanted if (lines := self(value))}
        by_prefix = sought.by_prefix
        found: dict[str, list[int]] = {}
        text = self.text
        for at in range(len(text) - GLOBAL_MIN_LENGTH + 1):
            lengths = by_prefix.get(text[at : at + GLOBAL_MIN_LENGTH])
            if lengths is None:
                continue
            for length, windows in lengths.items():
                for value in windows.get(text[at : at + min(length, self.WINDOW)], ()):
                    if text.startswith(value, at):
                        index = bisect.bisect_right(self.starts, at) - 1
                        holding = found.setdefault(value, [])
                        if not holding or holding[-1] != index:
                            holding.append(index)
        return found

    def __call__(self, value: str) -> list[int]:
        """The indexes of the lines holding `value`, in order."""
        found: list[int] = []
        at = self.text.find(value) if value else -1
        while at != -1:
            index = bisect.bisect_right(self.starts, at) - 1
            found.append(index)
            following = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
            at = self.text.find(value, following)
        return found


def _apply(piece: Piece, spans: list[Span], given: Iterable[tuple[str, str]]) -> Redacted:
    """`piece` with `spans` replaced; `given` are the values it gives away (`Redacted.values`): a part of
    a long section gives away its section's, which its heading repeats, whatever this part holds."""
    values = tuple(dict(given).items())
    if not spans:
        return Redacted(piece.text, (), values)
    lines = piece.text.split("\n")
    by_line: dict[int, list[Span]] = {}
    for span in spans:
        by_line.setdefault(span[0], []).append(span)
    findings: dict[tuple[int, str], None] = {}
    for index, line_spans in by_line.items():
        if index >= len(lines):
            continue
        lines[index] = _replace(lines[index], line_spans)
        for _, _, _, kind, reported in line_spans:
            if reported:
                findings[(piece.line + index, kind)] = None
    found = tuple(Finding(piece.path, line, kind) for line, kind in findings)
    return Redacted("\n".join(lines), found, values)


def _values(lines: list[str], spans: list[Span]) -> Iterator[tuple[str, str]]:
    """The values `spans` cover in `lines`, with their kinds: those long enough to look for elsewhere."""
    for index, start, end, kind, _ in spans:
        if end != -1 and index < len(lines) and end - start >= GLOBAL_MIN_LENGTH:
            yield lines[index][start:end], kind


# Where a piece that is the task (or a search's query), or a name shown beside the texts, is reported from.
TASK = "<task>"
QUERY = "<query>"
NAMES = "<headings and file names>"


class Shown:
    """The names a result shows beside its redacted texts (headings, file names, messages), redacted too.

    A secret in a heading (`## Password for the vpn: password=...`) is redacted in the section's
    text, but the heading also goes into the prompt's `section="..."` attribute, `--json` and
    `--explain`; a file may be named after a token. `add` scans names, each on its own (cached as
    any text is). Calling the object on a string gives it redacted: as its own scan found it if it
    was added, and with every value found in an added name replaced, and those given to `also`
    (the task's: ranking reasons quote its words lowercased), and for a string about one document
    those its texts gave away (`document`: `## Admin password (Winter2024Temp9)` over
    `password: Winter2024Temp9`); another such document's path in it goes as that document's own
    name does. A value found in one document's text does not spread to other names: a false
    positive there (`password: "architecture"`) would rename `architecture.md`.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.values: dict[str, str] = {}
        self._own: dict[str, str] = {}
        self._found: dict[str, str] = {}
        self._by_document: dict[str, dict[str, str]] = {}
        self._patterns: dict[str | None, re.Pattern[str]] = {}
        self._documents_named: re.Pattern[str] | None = None  # the paths of `_by_document` with values

    def add(self, names: Iterable[str]) -> None:
        fresh = [name for name in dict.fromkeys(names) if name and name not in self._own]
        # Each on its own: a value found in one name is replaced in the others by pattern, below, in
        # time linear in the names (spreading it the way texts do took 14 s for 3,000 named files).
        for name, result in zip(
            fresh, self.redactor.redact([Piece(NAMES, 0, n) for n in fresh], spread=False), strict=True
        ):
            self._own[name] = result.text
            for value, kind in result.values:
                self._found.setdefault(value, kind)
                self.values.setdefault(value, kind)
        self._patterns.clear()

    def also(self, values: Iterable[tuple[str, str]], words: Callable[[str], Iterable[str]]) -> None:
        """Replace `values` (the task's) too, lowercased, and those of their `words` (as ranking
        quotes the task) that hold a digit: a passphrase's plain words (`correct-horse-battery-2024`)
        would otherwise be cut out of every heading."""
        for value, kind in values:
            quoted = [word for word in words(value) if any(char.isdigit() for char in word)]
            for form in (value, value.lower(), *quoted):
                if len(form) >= GLOBAL_MIN_LENGTH:
                    self.values.setdefault(form, kind)
        self._patterns.clear()

    def document(self, path: str, values: Iterable[tuple[str, str]]) -> None:
        known = self._by_document.setdefault(path, {})
        had_values = bool(known)
        for value, kind in values:
            known[value] = kind
            # Also as a file is named after a title with it (`new-decision` did so, editors do):
            # lowercased, `_` and other marks as `-`; `ghp_R7mK...` is `ghp-r7mk...` in the path. Only a
            # value of letters and digits, as generated ones are: a name taken for one (`password_env:
            # POSTGRES_PASSWORD`) would take `rotate-postgres-password.md` out of the warning saying where
            # to look. (A name cut short keeps the start of a value cut there: a part is not looked for.)
            if any(map(str.isdigit, value)) and any(map(str.isalpha, value)):
                for form in (value.lower(), name_form(value)):
                    if len(form) >= GLOBAL_MIN_LENGTH:
                        known.setdefault(form, kind)
        self._patterns.pop(path, None)
        if known and not had_values:
            self._documents_named = None  # a path to look for in names: compiled again when next asked

    def own(self, name: str) -> str:
        """`name` as its own scan redacted it (names not added come back as they are)."""
        return self._own.get(name, name)

    def __call__(self, text: str, document: str | None = None) -> str:
        text = self._own.get(text, text)
        if self._documents_named is None:
            # One pattern for every call: a result of thousands of sections asks this of each name.
            paths = sorted((path for path, values in self._by_document.items() if values), key=len, reverse=True)
            self._documents_named = re.compile("|".join(map(re.escape, paths)) if paths else r"(?!)")
        named = set(self._documents_named.findall(text)) - {document}
        if not named:
            return self._shown(text, document)
        # A string about one document that names another ("related to the best document (PATH)"),
        # whose texts gave values away: that name is shown as its own document's lines show it.
        # Found leftmost, so `archive/decisions/x.md` is not cut to `decisions/x.md`; the longest
        # first where one path begins another.
        split = re.compile("|".join(map(re.escape, sorted(named, key=len, reverse=True))))
        parts = split.split(text)
        shown = [self._shown(parts[0], document)]
        for name, part in zip(split.findall(text), parts[1:], strict=True):
            shown += [self._shown(name, name), self._shown(part, document)]
        return "".join(shown)

    def _shown(self, text: str, document: str | None) -> str:
        text = self._replace(text, None, self.values)
        if document is not None and document in self._by_document:
            text = self._replace(text, document, self._by_document[document])
        return text

    def _replace(self, text: str, key: str | None, values: Mapping[str, str]) -> str:
        if not values:
            return text
        pattern = self._patterns.get(key)
        if pattern is None:
            # One pass, longest first: a value inside a longer one goes with it, and no value is
            # looked for again inside a `[REDACTED: ...]` just written.
            pattern = self._patterns[key] = re.compile("|".join(map(re.escape, sorted(values, key=len, reverse=True))))
        return pattern.sub(lambda match: f"[REDACTED: {values[match.group(0)]}]", text)

    def findings(self, reported: Iterable[tuple[str, str]]) -> list[Finding]:
        """One `NAMES` finding per kind of secret found in names that no text's finding covers already."""
        known = {value for value, _ in reported}
        kinds = dict.fromkeys(kind for value, kind in self._found.items() if value not in known)
        return [Finding(NAMES, 0, kind) for kind in kinds]


def names_shown(names: Iterable[str], cache_file: Path | None, *, save: bool = True) -> Shown:
    """A `Shown` for names alone (titles, file names, messages that name files): each scanned on
    its own, as `build_context` scans the names beside its texts, through the cache in `cache_file`,
    which `save` keeps (a check that must write nothing, `scaffold doctor`, reads it only)."""
    redactor = Redactor(cache_file)
    shown = Shown(redactor)
    shown.add(names)
    if save:
        redactor.save()
    return shown


def cut_secrets(title: str, text: str) -> tuple[str, tuple[str, ...]]:
    """`title` (a file is named after it) with the secrets found in `text` (the document written with
    it: its heading, and what its sections say) cut out, and the kinds of those it held. Scanned as a
    prompt scans the document, not as a name alone: a password given in a section is found in the
    title too, and "Password: use 12 characters" is a heading, not an assignment. No cache is kept."""
    [found] = Redactor(None).redact([Piece("<new document>", 1, text)])
    kinds: dict[str, None] = {}
    for value, kind in sorted(found.values, key=lambda item: -len(item[0])):  # a value inside a longer one goes with it
        cut = re.sub(re.escape(value), " ", title, flags=re.IGNORECASE)
        if cut != title:
            title, kinds[kind] = cut, None
    return title, tuple(kinds)


def redacted_messages(messages: Sequence[str]) -> list[str]:
    """Messages that quote a home's own words (a document's name, a kind's, a key of context.yml),
    redacted as `scaffold context` redacts file names: they go to terminals, doctor's report and CI
    logs. The redaction cache is read, never saved: doctor changes nothing, and only a home with
    something to say pays for the scan."""
    from generator.context.documents import redaction_cache

    shown = names_shown(messages, redaction_cache(), save=False)
    return [shown(message) for message in messages]


def _replace(line: str, spans: list[Span]) -> str:
    whole = [span for span in spans if span[2] == -1]
    if whole:
        return f"[REDACTED: {whole[0][3]}]"
    merged: list[list[Any]] = []
    for _, start, end, kind, _ in sorted(spans, key=lambda span: (span[1], -span[2])):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, kind])
    for start, end, kind in reversed(merged):
        line = line[:start] + f"[REDACTED: {kind}]" + line[end:]
    return line


# --- scanning with detect-secrets ----------------------------------------------------------


def _suspect(line: str, triggers: list[re.Pattern[str]]) -> bool:
    """Whether a line could hold something detect-secrets finds (see the module docstring)."""
    if (_KEYWORDS.search(line) and _KEYWORD_VALUE.search(line)) or _QUOTED_RUN.search(line):
        return True
    line = _as_given(line)
    return any(pattern.search(line) for pattern in triggers if _required_text(pattern) in line)


def _required_text(pattern: re.Pattern[str]) -> str:
    """Text every match of `pattern` holds ("" if none is known): its longest run of plain characters
    at the top level, of a case-sensitive pattern. Looked for first, as a plain search: the npm plugin's
    `//.+/:_authToken=` tried from every `//` of a line to its end (a 280 KB line of URLs: 15 s)."""
    required = _REQUIRED.get(pattern)
    if required is None:
        required = ""
        if not pattern.flags & re.IGNORECASE:  # (ignoring case, a dotless i matches i: no plain search)
            with contextlib.suppress(Exception):  # a private module of `re`: no shortcut if it changed
                from re import _parser

                runs = itertools.groupby(_parser.parse(pattern.pattern, pattern.flags), lambda item: item[0])
                literals = ["".join(chr(value) for _, value in run) for op, run in runs if op is _parser.LITERAL]
                required = max(literals, key=len, default="")
        _REQUIRED[pattern] = required
    return required


_REQUIRED: dict[re.Pattern[str], str] = {}


def _as_given(line: str) -> str:
    """`line` as detect-secrets is given it (by `_suspect` and `_scan`): each character that could end a
    line for it a blank (`_BREAKS`), then runs of blanks cut short, as one of its patterns grows with the
    cube of a run after a name (`password` and 1,000 blanks: 3.5 s; 4,000: 230 s). scaffold's own rules
    read lines whole; `_Given` maps a value back."""
    return _LONG_BLANKS.sub(" " * LONG_BLANKS, line.translate(_BREAKS_AS_BLANKS))


class _Given:
    """One line as detect-secrets read it (`_as_given`, then through the scratch file's encoding, where a
    character it lacks is a `?`), with where each of its characters is in the line: a value it found is
    the line's slice at the same place, found by position (a search for it in the line could match
    another place, where a `?` or a blank was one; and was quadratic on a long line)."""

    def __init__(self, line: str, encoding: str) -> None:
        self.line = line
        translated = line.translate(_BREAKS_AS_BLANKS)
        origins: list[int] = []
        done = 0
        for run in _LONG_BLANKS.finditer(translated):  # each cut to LONG_BLANKS blanks
            origins += range(done, run.start() + LONG_BLANKS)
            done = run.end()
        origins += range(done, len(line) + 1)  # and the line's end, where a value ending there stops
        self.origins = origins
        self.text = _as_given(line).encode(encoding, "replace").decode(encoding)

    def values(self, value: str) -> list[str]:
        """The line's slices where detect-secrets' `value` stands in what it read, first to last (the
        value itself when that is the line as it is)."""
        if self.text == self.line or not value:
            return [value]
        slices: list[str] = []
        at = self.text.find(value)
        while at != -1:
            end = at + len(value)
            # A value ending in a cut run takes the run whole, as the next character's origin is after it.
            slices.append(self.line[self.origins[at] : self.origins[end]])
            at = self.text.find(value, end)
        return list(dict.fromkeys(slices)) or [value]


def _lines_to_scan(lines: list[str], triggers: list[re.Pattern[str]] | None) -> list[int | None]:
    """Which of one text's lines to scan, in order, with None for the empty line between two runs."""
    if triggers is None:
        return list(range(len(lines)))
    wanted: set[int] = set()
    for index, line in enumerate(lines):
        if _suspect(line, triggers):
            wanted.update((index - 1, index) if index else (index,))
            if _OPENS_VALUE.search(line):
                # `password =` (ini) or `password: >` (YAML) continues its value on the indented lines
                # below, and detect-secrets reads them together: they go with it.
                follow = index + 1
                while follow < len(lines) and lines[follow][:1] in (" ", "\t") and lines[follow].strip():
                    wanted.add(follow)
                    follow += 1
    scanned: list[int | None] = []
    for index in sorted(wanted):
        if scanned and scanned[-1] != index - 1:
            scanned.append(None)
        scanned.append(index)
    return scanned


class _RequestsStandIn(types.ModuleType):
    """What detect-secrets' modules get for `import requests` (`_import_detect_secrets`).

    Any name looked up on it is looked up on the real `requests`, imported then (its plugins
    only use it to verify a secret with its vendor, which scaffold never asks). The one
    exception: a verifier's return annotation (`-> requests.Response`), evaluated when
    detect-secrets defines it, gets a placeholder while `requests` is not imported.
    """

    class _Unused:
        """What detect-secrets' annotations name instead of `requests.Response`."""

    def __getattr__(self, name: str) -> Any:
        caller = str(sys._getframe(1).f_globals.get("__name__", ""))
        if name == "Response" and caller.startswith("detect_secrets.") and "requests" not in sys.modules:
            return self._Unused
        return getattr(importlib.import_module("requests"), name)


def _import_detect_secrets() -> None:
    """Import detect-secrets, its plugins included, without importing `requests` (half its import time).

    Only a scan needs detect-secrets, and importing `requests` with it doubled what the first
    scan of a run costs (about 50 ms more). While it is imported, `__import__` hands its modules'
    `import requests` a `_RequestsStandIn`; nothing else changes: `sys.modules` never holds the
    stand-in, so every other import, in another thread too, and `import requests.exceptions`
    by detect-secrets itself, get the real modules. Drop this if detect-secrets stops
    importing `requests` at module level.
    """
    with _DETECT_SECRETS_IMPORT:  # two threads' first scans would each install the hook
        if "detect_secrets.filters.common" in sys.modules or "requests" in sys.modules:
            return
        stand_in = _RequestsStandIn("requests")
        original = builtins.__import__
        window = True

        def importing(
            name: str,
            globals: Mapping[str, object] | None = None,
            locals: Mapping[str, object] | None = None,
            fromlist: Sequence[str] | None = (),
            level: int = 0,
        ) -> types.ModuleType:
            caller = str((globals or {}).get("__name__", ""))
            if window and name == "requests" and level == 0 and caller.startswith("detect_secrets."):
                return stand_in
            return original(name, globals, locals, fromlist, level)

        builtins.__import__ = importing
        try:
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

            get_mapping_from_secret_type_to_class()  # imports every plugin
            # The one other module of detect-secrets that imports `requests`; a scan loads it as a filter.
            import detect_secrets.filters.common  # noqa: F401
        finally:
            window = False  # left installed (another hook wrapped it meanwhile), it only passes imports on
            if builtins.__import__ is importing:
                builtins.__import__ = original


_DETECT_SECRETS_IMPORT = threading.Lock()
_DETECT_SECRETS_SETTINGS = threading.Lock()


def _plugin_patterns() -> list[re.Pattern[str]]:
    """The patterns of detect-secrets' regular-expression plugins."""
    _import_detect_secrets()
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return [pattern for kind in get_mapping_from_secret_type_to_class() for pattern in _denylist(kind)]


def _scan(texts: list[str], triggers: list[re.Pattern[str]] | None = None) -> list[list[Span]]:
    """The spans to redact in each text, from one detect-secrets scan of each text (its own file) and
    scaffold's own rules.

    With `triggers`, only the lines `_suspect` picks are given to detect-secrets, each with
    the line before it (an allowlist pragma for the next line must stay next to it) and runs
    of them apart by an empty line; a value it finds is still redacted on every line. Without,
    every line is. The two find the same on the tests' corpus, not always: detect-secrets reads
    what it is given as ini when all of it parses as ini, and a value of plain words (`password =
    correct-horse-battery`) is found as ini only. `Redactor` always has the triggers.
    """
    _import_detect_secrets()

    from generator.context import secret_rules as rules  # `Redactor.redact` checked the rules' files first
    from generator.context.secret_values import stands_for_one

    lines: list[str] = []
    owner: list[tuple[int, int]] = []
    for number, text in enumerate(texts):
        for index, line in enumerate(text.split("\n")):
            lines.append(line)
            owner.append((number, index))

    found = _detect_secrets_findings(texts, lines, triggers)
    # Each text on its own: a command continued at one text's end does not go on in the next.
    offset = 0
    for text in texts:
        text_lines = text.split("\n")
        found.extend((kind, value, offset + at) for kind, value, at in rules.pattern_findings(text_lines))
        offset += len(text_lines)
    # A URL's password whole (every rule's stops at its first `@`): `password@2024x` is redacted
    # wherever it appears, not the word `password`. One that only stands for a password is an
    # example (`postgres://app:password@db`): redacted, the word would go from every text.
    # Each place on the line the value stops at an `@` is widened: the first may be an example's
    # (`://app:password@db` and `://app:password@2024x@db` on one line).
    found = [
        (kind, whole, at)
        # Each finding once: a line of a thousand URLs reports the same password a thousand times, and each
        # widening looks along the whole line (3,000 such URLs took 20 s).
        for kind, value, at in dict.fromkeys(found)
        for whole in (
            _url_passwords(lines[at], value) if kind == rules.BASIC_AUTH and 0 <= at < len(lines) else [value]
        )
        if not (kind == rules.BASIC_AUTH and stands_for_one(whole))
    ]
    # A URL's password alone: its plugin's match runs from `://` through the user to the `@`, and
    # widened to it with the host after, `postgres://app:PW@db.internal:5432` lost all but the port.
    patterns = {kind: [] if kind == rules.BASIC_AUTH else _denylist(kind) for kind, _, _ in found}

    result: list[list[Span]] = [[] for _ in texts]
    # Each kind's plugin patterns run once over each line a value of that kind is on (`_spans`).
    matches: dict[tuple[int, str], _Matches] = {}
    holding = _Holding(lines)
    holders = holding.lines_of({value for _, value, _ in found})
    everywhere: set[tuple[str, str]] = set()
    key_starts: dict[int, set[int]] = {}  # each text's private key BEGIN lines, made into blocks once at the end
    for kind, value, reported in found:
        # detect-secrets reports a value once; a long one is redacted wherever it appears (once: the
        # same value found on many lines is looked for once), a very short one only where it was
        # found, so that it cannot eat ordinary words.
        if len(value) >= GLOBAL_MIN_LENGTH:
            if (kind, value) in everywhere:
                continue
            everywhere.add((kind, value))
        positions = [reported] if 0 <= reported < len(lines) and value in lines[reported] else []
        if len(value) >= GLOBAL_MIN_LENGTH:
            positions = holders.get(value, [])
        elif not positions:
            positions = holding(value)
        for position in positions:
            line = lines[position]
            number, index = owner[position]
            if kind == PRIVATE_KEY:
                key_starts.setdefault(number, set()).add(index)
            else:
                if (position, kind) not in matches:
                    matches[position, kind] = _matches_of(line, patterns[kind])
                result[number].extend(
                    (index, start, end, kind, True) for start, end in _spans(line, value, matches[position, kind])
                )
    for number, starts in key_starts.items():
        result[number].extend(_key_blocks(texts[number].split("\n"), starts))
    return result


def _detect_secrets_findings(
    texts: list[str], lines: list[str], triggers: list[re.Pattern[str]] | None
) -> list[tuple[str, str, int]]:
    """(kind, value, line) for each value detect-secrets finds in `texts` (`lines` are theirs in a row),
    each text given it as a file of its own (see `_scan`)."""
    import tempfile

    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    from generator.context import secret_rules as rules

    found: list[tuple[str, str, int]] = []
    with tempfile.TemporaryDirectory(prefix="scaffold-redact-") as folder:
        # Each text a file of its own: detect-secrets reads a file as ini, YAML or prose by all of it (and
        # reads it again as ini only when it found nothing), so one text's findings depended on the texts
        # scanned with it, and the cache kept whatever the first request decided. A markdown name selects
        # its rules for prose (keyword values quoted). Written in the encoding detect-secrets reads it with
        # (what `open` takes by default: the locale's, or UTF-8 in UTF-8 mode), characters that encoding
        # lacks as `?`: undecodable, it skipped a file whole.
        encoding = locale.getpreferredencoding(False)
        scratches: dict[str, tuple[int, list[int | None]]] = {}
        pragmas: set[str] = set()
        offset = 0
        for number, text in enumerate(texts):
            text_lines = text.split("\n")
            scanned = _lines_to_scan(text_lines, triggers)
            if scanned:
                scratch = f"{number}.md"
                given = "\n".join("" if i is None else _as_given(text_lines[i]) for i in scanned) + "\n"
                (Path(folder) / scratch).write_text(given, encoding=encoding, errors="replace")
                scratches[scratch] = (offset, scanned)
                if _needs_allowlist(given):
                    pragmas.add(scratch)
            offset += len(text_lines)
        # detect-secrets' settings belong to the process: a scan sets them and puts back what was there when
        # done, so two threads scanning at once (a program using the library from several threads; `scaffold
        # mcp` runs one tool at a time) would undo each other's, one left scanning with no plugins.
        with _DETECT_SECRETS_SETTINGS, default_settings() as settings:
            # Named from `folder`, so that the results are keyed by the names given (it rewrites a path).
            collection = SecretsCollection(root=folder)

            def scan(scratch: str) -> None:
                collection.scan_file(scratch)
                # A file where detect-secrets found something is not read again as ini, which alone finds an
                # unquoted value of plain words: `DB_PASSWORD=fzlcdgGBUGCcfS` beside an AWS key id was shown
                # in clear. So it is scanned once more with the lines it found on blanked (the numbering
                # kept): that finds nothing at first, and then it reads the rest as ini.
                numbers = {secret.line_number for secret in collection.data.get(scratch, ())}
                if not numbers:
                    return
                again = f"again-{scratch}"
                lines_given = (Path(folder) / scratch).read_text(encoding=encoding).split("\n")
                blanked = ("" if n in numbers else line for n, line in enumerate(lines_given, start=1))
                (Path(folder) / again).write_text("\n".join(blanked), encoding=encoding)
                scratches[again] = scratches[scratch]
                collection.scan_file(again)

            for scratch in sorted(pragmas):
                scan(scratch)
            settings.disable_filters(_ALLOWLIST_FILTER)  # for the scan: `_needs_allowlist`
            for scratch in list(scratches):
                if scratch not in pragmas:
                    scan(scratch)
        given_lines: dict[int, _Given] = {}
        for scratch, secret in collection:
            offset, scanned = scratches[scratch]
            local = scanned[secret.line_number - 1] if 0 < secret.line_number <= len(scanned) else None
            if local is None or not secret.secret_value:
                continue
            at = offset + local
            if at not in given_lines:
                given_lines[at] = _Given(lines[at], encoding)
            for as_read in given_lines[at].values(secret.secret_value):
                value = _unquoted_word(as_read, lines[at]) if secret.type == rules.KEYWORD else as_read
                # Its keyword rule takes any quoted value (`API_KEY_HEADER = "X-API-Key"`): fill requests carry
                # code, and redacting names would cost the model the code's meaning.
                if value and (secret.type != rules.KEYWORD or _plausible(value, lines[at])):
                    if secret.type == rules.KEYWORD:
                        start = lines[at].find(value)
                        following = lines[at][start + len(value) :][:1] if start >= 0 else "?"
                        value = rules.without_closing_punctuation(value, following)
                    found.append((secret.type, value, at))
    return found


# detect-secrets' filter for its `pragma: allowlist secret` comments searches the whole line (and the
# one before) again for every value found on it: a line of 2,000 URLs with passwords (0.11 MB) took
# 17 s, 1.2 s without it. Each of its patterns holds `pragma: allowlist` or `pragma: whitelist` (the
# space optional, in lower case: any case is looked for here). A pragma of another kind (SQLite's,
# C's `#pragma once`) leaves it off.
_ALLOWLIST_FILTER = "detect_secrets.filters.allowlist.is_line_allowlisted"
_ALLOWLIST_PRAGMA = re.compile(r"pragma: ?(?:allow|white)list", re.IGNORECASE)


def _needs_allowlist(given: str) -> bool:
    """Whether detect-secrets' allowlist filter could drop something found in `given`, the text it scans:
    without, it is turned off, and the scan finds the same."""
    return _ALLOWLIST_PRAGMA.search(given) is not None


def _unquoted_word(value: str, line: str) -> str:
    """A keyword value joined to its `=` (shell style: `NAME=VALUE`, `--password=VALUE`) up to its first space.

    detect-secrets reads a line as ini, where a value runs to the line's end: in
    `PGPASSWORD=Vb00mQ7tRz psql -h db -U app` it is the password and the command after it,
    and redacting all of it would cost the model the command. In shell a value ends at a
    space; after `key = ` or `key: ` (ini, YAML) it may hold spaces, and all of it stays redacted.
    """
    start = line.find(value)
    if start <= 0 or line[start - 1] != "=" or not value.strip():
        return value
    return value.split(maxsplit=1)[0]


def _plausible(value: str, line: str) -> bool:
    """A value by a secret-like name that could be a secret: `looks_secret`, or a long word without
    spaces; and not one given to a name that refers to a secret (`secret_rules.names_a_reference`)."""
    from generator.context.secret_rules import names_a_reference
    from generator.context.secret_values import PLACEHOLDER, looks_secret

    if names_a_reference(line, value):
        return False
    if looks_secret(value, ""):
        return True
    return len(value) >= 12 and not any(c.isspace() for c in value) and not PLACEHOLDER.search(value)


def _denylist(kind: str) -> list[re.Pattern[str]]:
    """A regex-based plugin's regular expressions, to redact its whole match (callers import detect-secrets)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    plugin: Any = get_mapping_from_secret_type_to_class().get(kind)
    patterns = getattr(plugin, "denylist", None)
    if not isinstance(patterns, list | tuple):
        return []
    return [pattern for pattern in patterns if isinstance(pattern, re.Pattern)]


# Where each of a plugin's patterns matches a line: its matches' (start, end) in order, and their ends.
_Matches = list[tuple[list[tuple[int, int]], list[int]]]


def _matches_of(line: str, patterns: list[re.Pattern[str]]) -> _Matches:
    """Where each of a plugin's `patterns` matches `line`, for `_spans`."""
    found = [[(match.start(), match.end()) for match in pattern.finditer(line)] for pattern in patterns]
    return [(spans, [end for _, end in spans]) for spans in found]


def _spans(line: str, value: str, matches: _Matches) -> list[tuple[int, int]]:
    """Where `value` sits in `line`, widened to its plugin's whole match and token tail (a URL's
    password to the last `@` before its host); `matches` are its plugin's patterns' (`_matches_of`).

    The matches are found once per line and looked up by position: run again for every place a value
    is, a line repeating one key 8,000 times took 32 s, and for every value, a line of 4,000 AWS keys
    (80 KB) took 9 s."""
    spans = []
    start = line.find(value)
    while start != -1:
        end = start + len(value)
        for found, stops in matches:
            # One pattern's matches do not overlap: those overlapping [start, end) are a run, the
            # first one ending after `start`.
            index = bisect.bisect_right(stops, start)
            while index < len(found) and found[index][0] < end:
                start, end = min(start, found[index][0]), max(end, found[index][1])
                index += 1
        tail = _TOKEN_TAIL.match(line, end)
        end = tail.end() if tail else end
        if line[end : end + 1] == "@" and line[start - 1 : start] == ":":
            end = _password_end(line, end)
        spans.append((start, end))
        start = line.find(value, end)
    return spans


def _url_passwords(line: str, value: str) -> list[str]:
    """A URL's password found up to its first `@` in `line`, whole (see `_password_end`), once for each
    place it stands before an `@`: the rules report a value, not where it was."""
    wholes = [
        line[start : _password_end(line, start + len(value))]
        for start in (match.start() for match in re.finditer(re.escape(value + "@"), line))
    ]
    return list(dict.fromkeys(wholes)) or [value]


def _password_end(line: str, at: int) -> int:
    """Where a URL's password found up to the `@` at `at` really ends: at the `@` before its host.

    Every rule's password, and detect-secrets', stops at the first `@`, but a raw `@` in it is
    common and the host follows the last one: `://app:Kp9@mQ7@db` kept `mQ7`. Up to the next `@`
    is the password's too when no `/`, `?` or `#` comes first (a host has no `@`), or when what
    comes first reads as no host and path (`://app:Kp9@xT2/mQ7@db`). A host and path stay when
    the host has a `.` or a port (`@github.com/org/repo@v1.2`), or the `@` opens a path's part
    (`@localhost/@scope/pkg`) or comes after a query (`@mailhost/?to=oncall@corp`). The price: a
    host without a dot or a port before a path holding an `@` mid-part (`@rabbit/vhost@x`) is
    redacted with the password, and a password holding `@`, then `.` and `/`
    (`Kp9@x.T2/mQ7@db.internal`) keeps what follows its first `@`.
    """
    while following := _UP_TO_AT.match(line, at + 1):
        between = following.group(1)
        if _AUTHORITY_END.search(between) and _HOST_THEN_PATH.search(between):
            break
        at = following.end() - 1
    return at


def _key_blocks(lines: list[str], starts: Collection[int]) -> list[Span]:
    """The private keys that start at the BEGIN lines `starts`, each from there to its END line (or
    the end of the text), whole lines, reported at its first.

    A BEGIN line inside a block found already adds nothing: its block ends at the same END. Each line
    is looked at once, so a text of a thousand BEGIN lines and no END (a pasted log, or a trap) costs
    as much as one, not a block each to the end (a million spans, kept in the cache)."""
    spans: list[Span] = []
    covered = -1  # the last line of the blocks made so far
    for first in sorted(starts):
        if first <= covered:
            continue
        last = len(lines) - 1
        for index in range(first, len(lines)):
            if _KEY_END.search(lines[index]):
                last = index
                break
        spans += [(index, 0, -1, PRIVATE_KEY, index == first) for index in range(first, last + 1)]
        covered = last
    return spans


# --- the cache -----------------------------------------------------------------------------


def _span(stored: list[Any]) -> Span:
    line, start, end, kind, reported = stored
    return (int(line), int(start), int(end), str(kind), bool(reported))


# The files scaffold's own rules are in: this module first (the gate, the checks), then the modules it
# imports only when it scans, by module name: the rules, and the checks a value they find must pass.
_RULES_MODULES = {
    "generator.context.secret_rules": "secret_rules.py",
    "generator.context.secret_values": "secret_values.py",
}
_RULES_FILES = (__file__, *(str(Path(__file__).with_name(file)) for file in _RULES_MODULES.values()))


def _file_digest(path: str) -> str:
    """A file's bytes, digested; random bytes' for a file that cannot be read."""
    read = getattr(sys.modules[__name__].__loader__, "get_data", None)  # this module's loader reads a zip too
    try:
        data = read(path) if read is not None else Path(path).read_bytes()
    except OSError:
        data = os.urandom(16)
    return hashlib.sha256(data).hexdigest()


# A digest of scaffold's own rules, in the cache's version: spans cached by older rules must not
# hide what new ones find. The rules' files, where the patterns are, and the checks a value must
# pass and the joining of continued lines too; not the compiled patterns, so that a run whose
# sections are all cached compiles none. A file that cannot be read gives this process a digest
# of its own: it trusts no other process's cache, and no other process its.
#
# Taken once, as this module is imported, each file read once: a long-lived process (`scaffold
# mcp`) keeps the rules it imported, and reading the files again after an upgrade would file
# what the old rules found under the new rules' digest. The rules' modules are imported later,
# for the first text not in the cache: if a file changed in between (an upgrade, a branch
# switched), the process runs rules its digest does not name, and from then on no cache is
# loaded or saved (`_distrust_cache_if_rules_changed`); one already loaded keeps serving what it
# holds. Not seen: a file changed between that check and Python reading it, and byte code
# Python runs instead of a changed source (the same size and mtime, as `tar` or `rsync -a` can
# leave them).
_RULES_FILE_DIGESTS = [_file_digest(path) for path in _RULES_FILES]
_RULES_DIGEST = hashlib.sha256("".join(_RULES_FILE_DIGESTS).encode()).hexdigest()[:12]
# False once this process has imported rules other than those `_RULES_DIGEST` names.
_rules_as_digested = True


def _distrust_cache_if_rules_changed() -> None:
    """Before the rules' modules are first imported: if a file of one not imported yet is not the one
    the digest names, no cache is loaded or saved from then on."""
    global _rules_as_digested
    for name, path, digest in zip(_RULES_MODULES, _RULES_FILES[1:], _RULES_FILE_DIGESTS[1:], strict=True):
        if name not in sys.modules and _file_digest(path) != digest:
            _rules_as_digested = False


def _scanner_version() -> str:
    """detect-secrets' version (read without importing it: the import is the slow part) and `_RULES_DIGEST`."""
    return f"{_detect_secrets_version()}/{_RULES_DIGEST}"


def _detect_secrets_version() -> str:
    from importlib.util import find_spec

    spec = find_spec("detect_secrets")
    folders = spec.submodule_search_locations if spec else None
    try:
        text = (Path(next(iter(folders or []))) / "__version__.py").read_text(encoding="utf-8")
    except (OSError, StopIteration):
        return f"{CACHE_VERSION}/unknown"
    match = re.search(r"VERSION\s*=\s*['\"]([^'\"]+)['\"]", text)
    return f"{CACHE_VERSION}/{match.group(1) if match else 'unknown'}"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


# A detect-secrets trigger as the cache keeps it: the pattern's source and flags.
_Source = tuple[str, int]
# The cache files this process has read or written, with the stat they had then: a long-lived
# process (`scaffold mcp`) parses the file once, not on every request, until another process
# changes it.
_LOADED: dict[Path, tuple[tuple[int, int], dict[str, list[Span]], list[_Source] | None]] = {}


class _Cache:
    """Spans found per text digest, in a JSON file; any trouble reading it means empty.

    It also keeps detect-secrets' trigger patterns (`_plugin_patterns`), as sources compiled
    when a text is not in the cache: a run that finds every text there compiles nothing.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.version = _scanner_version()
        self.entries: dict[str, list[Span]] = {}
        self._sources: list[_Source] | None = None
        self._triggers: list[re.Pattern[str]] | None = None
        self.dirty = False
        if path is None or not _rules_as_digested:
            return
        stamp = _stamp(path)
        loaded = _LOADED.get(path)
        if stamp is not None and loaded is not None and loaded[0] == stamp:
            self.entries, self._sources = loaded[1], loaded[2]
            return
        raw = cachefile.read(path, CACHE_BYTES)  # a larger one (an older scaffold's) is not parsed: replaced
        if raw is None:
            return
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return
        if isinstance(data, dict) and data.get("version") == self.version:
            try:
                self.entries = {key: [_span(span) for span in spans] for key, spans in data["entries"].items()}
                if data.get("triggers") is not None:
                    self._sources = [(str(source), int(flags)) for source, flags in data["triggers"]]
            except (KeyError, TypeError, ValueError, AttributeError):
                self.entries, self._sources = {}, None
        if stamp is not None:
            _LOADED[path] = (stamp, self.entries, self._sources)

    @property
    def triggers(self) -> list[re.Pattern[str]] | None:
        """The trigger patterns, compiled on first use; None if not known yet (or kept damaged)."""
        if self._triggers is None and self._sources is not None:
            try:
                self._triggers = [regexes.compile(source, flags) for source, flags in self._sources]
            except (re.error, TypeError, ValueError):
                self._sources = None  # found again from detect-secrets, and kept right
        return self._triggers

    def set_triggers(self, patterns: list[re.Pattern[str]]) -> None:
        self._triggers = patterns
        self._sources = [(pattern.pattern, pattern.flags) for pattern in patterns]
        self.dirty = True

    def has(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> list[Span]:
        return self.entries.get(key, [])

    def put(self, key: str, spans: list[Span]) -> None:
        self.entries[key] = spans
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        # Copied before the flag is read: the flag goes off before changed rules are imported, so a
        # copy taken while it is on holds nothing they found (another thread may be adding to it).
        keep = list(self.entries.items())[-CACHE_LIMIT:]
        if not _rules_as_digested:
            return
        triggers = [list(source) for source in self._sources] if self._sources is not None else None
        while True:
            data = {"version": self.version, "triggers": triggers, "entries": dict(keep)}
            text = json.dumps(data, separators=(",", ":"))
            if len(text) <= CACHE_BYTES or not keep:
                break
            keep = keep[(len(keep) + 1) // 2 :]  # the older half goes (a single entry too large: it goes too)
        if not cachefile.write(self.path, text):
            return  # a cache we cannot write (or that is a link) only costs speed
        self.dirty = False
        stamp = _stamp(self.path)
        if stamp is not None:
            _LOADED[self.path] = (stamp, dict(keep), self._sources)
