"""Regular expressions compiled once per Python build rather than once per run: the secret rules'.

A new task's sections are scanned for secrets with about 160 patterns (113 in `secret_rules` and
`secret_values`, 46 detect-secrets triggers kept by `redact`), and `re` compiles a pattern in
Python: 45 ms of a warm new task's 0.3 s on a large home, only its SQLite ranking costs more. What
`re.compile` makes is a list of codes for the `_sre` engine, then one call that builds the
pattern from them. This keeps each pattern's codes in a file in scaffold's cache folder, keyed by
the pattern and its flags, and builds the pattern from them with that same call (`_sre.compile`),
which takes microseconds: all of them in about 3 ms, reading the file included.

Why it can be trusted:
- the codes depend on the interpreter alone, so the file is one per interpreter, named by a digest
  of its exact version and engine (`sys.version`, `_sre.MAGIC`, `_sre.CODESIZE`), which it also holds;
- codes are kept only once a pattern built from them compares equal to the one `re.compile`
  gave (two patterns are equal when their source, flags and every code are), with the same groups;
- the file holds a digest of its contents, checked before anything in it is read: damage (a disk's,
  a bit's) means the file is not used. This matters: the engine's own check of codes is not
  complete, and codes off by one value can crash the interpreter or match what they should not;
  `marshal` itself is not safe against damaged data;
- anything else that goes wrong (an unreadable file, codes refused, an interpreter whose `re`
  internals differ, not CPython) means compiling as usual, as a cold run does, and the next save
  replaces the file.

The digest guards against damage, not against someone who means harm: whoever can write the
user's cache folder can turn redaction off with this file (as with the redaction cache, a
little more work), and could as well edit scaffold's own code in the user's environment.

A run keeps what it compiled anew when its redaction cache is saved (`Redactor.save`): a command
that must write nothing (`scaffold doctor`) never saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import marshal
import re
import sys
import threading
from pathlib import Path
from typing import Any

# Bump when what the file holds changes shape.
FORMAT = 1
# Patterns kept at most: those of the rules of a few scaffold versions (about 160 each), with room to spare.
LIMIT = 500
# A file larger than this is not read: `LIMIT` patterns take about 1 MB (160 take 0.37 MB).
MAX_BYTES = 8 * 1024 * 1024
_DIGEST = hashlib.sha256().digest_size

_Key = tuple[str, int]
# What `_sre.compile` takes after the pattern: its flags as compiled, codes, groups, group names both ways.
_Codes = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]


class _Table:
    """The codes read from this interpreter's file, and the patterns this process compiled anew."""

    def __init__(self, codes: dict[_Key, _Codes]) -> None:
        self.codes = codes
        self.new: dict[_Key, re.Pattern[str]] = {}


_LOCK = threading.Lock()  # the MCP server scans from several threads
_SAVE = threading.Lock()  # one save at a time: two would each write what it alone had
_table: _Table | None = None
# Only CPython's `re` has these internals; elsewhere every pattern is compiled as usual and nothing is kept.
_ENABLED = sys.implementation.name == "cpython"


def compile(pattern: str | re.Pattern[str], flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, built from the codes kept for it when there are some."""
    if isinstance(pattern, re.Pattern):
        # Compiled already: itself, as `re.compile` gives it (which refuses flags with it).
        return re.compile(pattern, flags) if flags else pattern
    if not _ENABLED:
        return re.compile(pattern, flags)
    key = (pattern, int(flags))
    table = _loaded()
    codes = table.codes.get(key)
    if codes is not None:
        built = _built(pattern, codes)
        if built is not None:
            return built
    compiled = re.compile(pattern, flags)
    with _LOCK:
        table.new[key] = compiled
    return compiled


def save() -> None:
    """Keep the codes of the patterns this process compiled anew (nothing to do when there are none)."""
    with _SAVE:
        with _LOCK:
            table = _table
            if table is None or not table.new:
                return
            new, table.new = table.new, {}
        # Outside `_LOCK`, so that other threads compile meanwhile: the codes are compiled again to be
        # checked (about 45 ms for the rules, once).
        added = {key: found for key, compiled in new.items() if (found := _codes_of(key, compiled)) is not None}
        if not added:
            return
        with _LOCK:
            # Those compiled now, then those kept before in the order they were first kept, up to `LIMIT`: the
            # patterns of older rules go first (one still in use that goes is compiled and kept again).
            order = [*added, *(key for key in table.codes if key not in added)]
            table.codes = kept = {key: added.get(key) or table.codes[key] for key in order[:LIMIT]}
        # A cache not written only costs speed.
        with contextlib.suppress(Exception):
            from generator.plumbing import cachefile

            payload = marshal.dumps((FORMAT, _interpreter(), list(kept.items())))
            cachefile.write(_path(), hashlib.sha256(payload).digest() + payload)


def forget() -> None:
    """Drop what this process read and compiled (for tests: the next `compile` reads the file again)."""
    global _table
    with _LOCK:
        _table = None


def _loaded() -> _Table:
    """The table, read from this interpreter's file on first use (empty if it cannot be used)."""
    global _table
    table = _table
    if table is None:
        # Read outside the lock: finding the cache folder imports modules, which could compile patterns.
        codes = _read()
        with _LOCK:
            if _table is None:
                _table = _Table(codes)
            table = _table
    return table


def _read() -> dict[_Key, _Codes]:
    """The codes in this interpreter's file; none if there is no such file or it cannot be used."""
    if not _ENABLED:
        return {}
    try:
        from generator.plumbing import cachefile

        data = cachefile.read(_path(), MAX_BYTES)
        if data is None:
            return {}
        payload = data[_DIGEST:]
        # Before `marshal` reads a byte of it: damaged data can make it take gigabytes, or give codes that crash.
        if len(data) <= _DIGEST or hashlib.sha256(payload).digest() != data[:_DIGEST]:
            return {}
        version, interpreter, items = marshal.loads(payload)
        if version != FORMAT or interpreter != _interpreter():
            return {}
        return {(pattern, int(flags)): codes for (pattern, flags), codes in items if isinstance(pattern, str)}
    except Exception:  # whatever is wrong with it, the patterns are compiled as usual
        return {}


def _path() -> Path:
    """This interpreter's file: two builds of one Python version (a system's and pyenv's) each have theirs.

    A build no longer used leaves its file (about 0.4 MB) until the cache folder is cleared."""
    from generator.settings import user_cache_dir

    build = hashlib.sha256(repr(_interpreter()).encode()).hexdigest()[:12]
    return user_cache_dir() / f"patterns-{sys.implementation.cache_tag}-{build}.marshal"


def _interpreter() -> tuple[str, int, int]:
    """What the codes depend on: the interpreter's exact version and its engine's."""
    _sre = _engine()
    return sys.version, int(_sre.MAGIC), int(_sre.CODESIZE)


def _built(pattern: str, codes: _Codes) -> re.Pattern[str] | None:
    """The pattern built from `codes`, or None if they cannot be used."""
    _sre = _engine()
    try:
        flags, code, groups, groupindex, indexgroup = codes
        built: Any = _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)
    except Exception:  # codes the engine refuses, a file of the wrong shape, another `_sre`
        return None
    return built if isinstance(built, re.Pattern) else None


def _engine() -> Any:
    """`re`'s engine, the C module `_sre` (which has no type stubs)."""
    return importlib.import_module("_sre")


def _codes_of(key: _Key, compiled: re.Pattern[str]) -> _Codes | None:
    """The codes `re` compiles `key` to, checked to build a pattern equal to `compiled`; None if they do not."""
    pattern, flags = key
    try:
        # The steps of `re._compiler.compile`, stopping before the pattern is built, to keep the codes.
        from re import _compiler, _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(pattern, flags)
        code = [int(op) for op in _compiler._code(parsed, flags)]
        groupindex = {str(name): int(index) for name, index in parsed.state.groupdict.items()}
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        codes: _Codes = (int(flags | parsed.state.flags), code, parsed.state.groups - 1, groupindex, tuple(indexgroup))
    except Exception:  # an interpreter whose `re` internals are not these
        return None
    built = _built(pattern, codes)
    if built is None or built != compiled:
        return None
    # `==` compares source, flags and codes, not the groups: those are checked too.
    return codes if (built.groups, built.groupindex) == (compiled.groups, compiled.groupindex) else None
